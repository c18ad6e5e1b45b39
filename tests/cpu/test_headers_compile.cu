// Instantiates every tilec device wrapper and the sm_80 gemm shapes the code generator relies on, so
// that tests/cpu/test_headers_compile.py can check, per arch, that the headers compile and that the
// gemms keep their fragments in registers (no spills, no stack frame) and use HMMA/LDSM.
#include <tilec/tilec.cuh>

using namespace tilec;

// --- every wrapper once -----------------------------------------------------------------------------

extern "C" __global__ void __launch_bounds__(128)
    wrappers_kernel(const uint4* __restrict__ gin, uint4* __restrict__ gout, float* __restrict__ fout, int n) {
    __shared__ __align__(128) half_t smem[4 * 1024];
    const int t = threadIdx.x;
    const bool in = t < n;

    cp_async_cg_shared_global_16(smem + t * 8, gin + t, in);
    cp_async_ca_shared_global_16(smem_u32addr(smem + 1024 + t * 8), gin + t + 128, in);
    cp_async_ca_shared_global_8(smem + 2048 + t * 4, gin + t + 256, in);
    cp_async_ca_shared_global_4(smem + 3072 + t * 2, gin + t + 384, in);
    cp_async_commit_group();
    cp_async_wait_group<1>();
    cp_async_wait_all();
    __syncthreads();

    const uint32_t row = smem_u32addr(smem + (t % 32) * 8 + (t / 32) * 256);
    uint32_t r[24];
    ldmatrix_sync_aligned_m8n8_x1_shared_b16(r[0], row);
    ldmatrix_sync_aligned_m8n8_x2_shared_b16(r[1], r[2], row);
    ldmatrix_sync_aligned_m8n8_x4_shared_b16(r[3], r[4], r[5], r[6], row);
    ldmatrix_sync_aligned_m8n8_x1_trans_shared_b16(r[7], row);
    ldmatrix_sync_aligned_m8n8_x2_trans_shared_b16(r[8], r[9], row);
    ldmatrix_sync_aligned_m8n8_x4_trans_shared_b16(r[10], r[11], r[12], r[13], row);

    float c[4] = {0.f, 0.f, 0.f, 0.f};
    const uint32_t a4[4] = {r[3], r[4], r[5], r[6]};
    const uint32_t b2[2] = {r[1], r[2]};
    mma_sync_aligned_m16n8k16_row_col_f32_f16_f16_f32(c, a4, b2, c);
    mma_sync_aligned_m16n8k16_row_col_f32_bf16_bf16_f32(c, a4, b2, c);
    const uint32_t a2[2] = {r[10], r[11]};
    const uint32_t b1[1] = {r[0]};
    mma_sync_aligned_m16n8k8_row_col_f32_f16_f16_f32(c, a2, b1, c);
    mma_sync_aligned_m16n8k8_row_col_f32_bf16_bf16_f32(c, a2, b1, c);
    uint32_t h[2] = {r[7], r[8]};
    mma_sync_aligned_m16n8k16_row_col_f16_f16_f16_f16(h, a4, b2, h);
    mma_m16n8k16_f32<half_t>(c, a4, b2, c);
    mma_m16n8k16_f32<bfloat16_t>(c, a4, b2, c);
    __syncthreads();

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    stmatrix_sync_aligned_m8n8_x1_shared_b16(row, h[0]);
    stmatrix_sync_aligned_m8n8_x2_shared_b16(row, h[0], h[1]);
    stmatrix_sync_aligned_m8n8_x4_shared_b16(row, r[12], r[13], h[0], h[1]);
    stmatrix_sync_aligned_m8n8_x1_trans_shared_b16(row, h[1]);
    stmatrix_sync_aligned_m8n8_x2_trans_shared_b16(row, h[1], h[0]);
    stmatrix_sync_aligned_m8n8_x4_trans_shared_b16(row, r[9], r[10], h[1], h[0]);
    __syncthreads();
#endif

    // Reductions over a C-fragment row (lanes differing in bits 0..1) and over the warp, every op and dtype.
    float s = shfl_xor_allreduce<SumOp, 3>(c[0]) + warp_allreduce<MaxOp, float>(c[1]);
    s += warp_allreduce<MinOp>(c[2]) + shfl_xor_allreduce<AbsSumOp, 0x1c>(c[3]) + warp_allreduce<AbsMaxOp>(s);
    s += cast<float>(warp_allreduce<MaxOp>(cast<half_t>(s))) + cast<float>(warp_allreduce<SumOp>(cast<bfloat16_t>(s)));
    s += cast<float>(warp_allreduce<MinOp>(cast<int>(s))) + cast<float>(warp_allreduce<AbsMaxOp>(cast<half_t>(-s)));
    s += SumOp::identity<float>() + MaxOp::identity<float>() + cast<float>(MinOp::identity<half_t>()) +
         cast<float>(MaxOp::identity<bfloat16_t>()) + cast<float>(MaxOp::identity<int>() + 1);
    s += cast<float>(cast<half_t>(cast<bfloat16_t>(s))) + cast<float>(cast<half_t>(t)) + cast<float>(cast<int>(s));
    s += infinity<float>() * 0.f + cast<float>(infinity<half_t>()) + cast<float>(infinity<bfloat16_t>()) +
         cast<float>(lowest<int>());
    fout[t] = s;

    // Vector copies through shared memory; the .nc loads read the input only.
    uint4* sv = reinterpret_cast<uint4*>(smem);
    st_shared_v4(sv + t, ld_global_v4(gin + t));
    st_shared_v2(reinterpret_cast<uint2*>(sv + 128) + t, ld_global_nc_v2(gin + t));
    st_shared_b32(reinterpret_cast<uint32_t*>(sv + 256) + t, ld_global_b32_zfill(gin + t, in) + ld_global_nc_b32(gin));
    __syncthreads();
    uint4 v = ld_shared_v4(sv + (t ^ 1));
    const uint2 v2 = ld_shared_v2(reinterpret_cast<uint2*>(sv + 128) + (t ^ 1));
    v.x += ld_shared_b32(reinterpret_cast<uint32_t*>(sv + 256) + (t ^ 1)) + v2.x + v2.y + r[14] + h[0];
    v.y += ld_global_nc_v4(gin + t + 1).y + ld_global_v2(gin + t + 2).x + ld_global_v4_zfill(gin + t, in).z;
    v.z += ld_global_v2_zfill(gin + t, in).y + pack_half2(s, 1.f) + pack_bfloat162(s, 2.f) + pack2<half_t>(s, s);
    v.w += bit_cast<uint32_t>(s);
    st_global_v4(gout + t, v);
    st_global_v2(reinterpret_cast<uint2*>(gout + 128) + t, make_uint2(v.x, v.y));
    st_global_b32(reinterpret_cast<uint32_t*>(gout + 256) + t, v.z);
    copy_vec<16>(gout + 512 + t, sv + t);
    copy_vec<8>(reinterpret_cast<uint2*>(gout + 640) + t, sv + t);
    copy_vec<4>(reinterpret_cast<uint32_t*>(gout + 768) + t, sv + t);
    copy_vec<2>(reinterpret_cast<uint16_t*>(gout + 896) + t, sv + t);
}

// --- gemm shapes ------------------------------------------------------------------------------------

// Plain vector copy of both tiles (their layout is irrelevant here), the gemm, and the accumulator
// stored per thread, so that nothing the gemm computes is dead.
template <int M, int N, int K, int WARP_M, int WARP_N, bool TRANS_A, bool TRANS_B, class T>
__device__ __forceinline__ void gemm_ss_body(const T* __restrict__ gA, const T* __restrict__ gB,
                                             float* __restrict__ out) {
    extern __shared__ __align__(128) unsigned char smem_raw[];
    T* As = reinterpret_cast<T*>(smem_raw);
    T* Bs = As + M * K;
    for (int i = threadIdx.x * 8; i < M * K; i += blockDim.x * 8) copy_vec<16>(As + i, gA + i);
    for (int i = threadIdx.x * 8; i < N * K; i += blockDim.x * 8) copy_vec<16>(Bs + i, gB + i);
    __syncthreads();
    constexpr int kAcc = (M / WARP_M / 16) * (N / WARP_N / 8) * 4;
    float acc[kAcc];
#pragma unroll
    for (int i = 0; i < kAcc; ++i) acc[i] = 0.f;
    gemm_ss<M, N, K, WARP_M, WARP_N, TRANS_A, TRANS_B>(As, Bs, acc);
#pragma unroll
    for (int i = 0; i < kAcc; ++i) out[i * blockDim.x + threadIdx.x] = acc[i];
}

template <int M, int N, int K, int WARP_M, int WARP_N, bool TRANS_B, class T>
__device__ __forceinline__ void gemm_rs_body(const T* __restrict__ gA, const T* __restrict__ gB,
                                             float* __restrict__ out) {
    extern __shared__ __align__(128) unsigned char smem_raw[];
    T* Bs = reinterpret_cast<T*>(smem_raw);
    for (int i = threadIdx.x * 8; i < N * K; i += blockDim.x * 8) copy_vec<16>(Bs + i, gB + i);
    constexpr int kA = (M / WARP_M / 16) * (K / 8) * 4;
    T a[kA];
#pragma unroll
    for (int i = 0; i < kA; ++i) a[i] = gA[i * blockDim.x + threadIdx.x];
    __syncthreads();
    constexpr int kAcc = (M / WARP_M / 16) * (N / 8) * 4;
    float acc[kAcc];
#pragma unroll
    for (int i = 0; i < kAcc; ++i) acc[i] = 0.f;
    gemm_rs<M, N, K, WARP_M, WARP_N, TRANS_B>(a, Bs, acc);
#pragma unroll
    for (int i = 0; i < kAcc; ++i) out[i * blockDim.x + threadIdx.x] = acc[i];
}

// Kernel names are plain (extern "C") so that the ptxas report can be read without demangling:
// gemm_{ss,rs}_<dtype>_<M>x<N>x<K>_w<WARP_M>x<WARP_N>_<A><B>, t = transposed operand, n = not.
#define GEMM_SS(T, TN, M, N, K, WM, WN, TA, TB, AB)                                                  \
    extern "C" __global__ void __launch_bounds__(32 * WM * WN)                                       \
        gemm_ss_##TN##_##M##x##N##x##K##_w##WM##x##WN##_##AB(const T* gA, const T* gB, float* out) { \
        gemm_ss_body<M, N, K, WM, WN, TA, TB, T>(gA, gB, out);                                       \
    }
#define GEMM_RS(T, TN, M, N, K, WM, TB, B)                                                      \
    extern "C" __global__ void __launch_bounds__(32 * WM)                                       \
        gemm_rs_##TN##_##M##x##N##x##K##_w##WM##x1_r##B(const T* gA, const T* gB, float* out) { \
        gemm_rs_body<M, N, K, WM, 1, TB, T>(gA, gB, out);                                       \
    }

// The block tile of the plain GEMM kernels, every operand order, both dtypes.
GEMM_SS(half_t, f16, 128, 128, 32, 2, 2, false, false, nn)
GEMM_SS(half_t, f16, 128, 128, 32, 2, 2, false, true, nt)
GEMM_SS(half_t, f16, 128, 128, 32, 2, 2, true, false, tn)
GEMM_SS(half_t, f16, 128, 128, 32, 2, 2, true, true, tt)
GEMM_SS(bfloat16_t, bf16, 128, 128, 32, 2, 2, false, false, nn)
GEMM_SS(bfloat16_t, bf16, 128, 128, 32, 2, 2, false, true, nt)
// The wide tile (8 warps).
GEMM_SS(half_t, f16, 128, 256, 32, 2, 4, false, false, nn)
GEMM_SS(bfloat16_t, bf16, 128, 256, 32, 2, 4, false, true, nt)
// Attention S = Q @ K^T (K stored N x K), 4 warps stacked along M.
GEMM_SS(half_t, f16, 64, 64, 64, 4, 1, false, true, nt)
GEMM_SS(half_t, f16, 64, 64, 128, 4, 1, false, true, nt)
GEMM_SS(half_t, f16, 64, 128, 64, 4, 1, false, true, nt)
GEMM_SS(half_t, f16, 64, 128, 128, 4, 1, false, true, nt)
GEMM_SS(half_t, f16, 128, 64, 64, 4, 1, false, true, nt)
GEMM_SS(half_t, f16, 128, 64, 128, 4, 1, false, true, nt)
GEMM_SS(half_t, f16, 128, 128, 64, 4, 1, false, true, nt)
GEMM_SS(half_t, f16, 128, 128, 128, 4, 1, false, true, nt)
GEMM_SS(bfloat16_t, bf16, 128, 128, 128, 4, 1, false, true, nt)
// Attention O += P @ V with P in registers (V stored K x N).
GEMM_RS(half_t, f16, 128, 128, 64, 4, false, n)
GEMM_RS(bfloat16_t, bf16, 128, 128, 64, 4, false, n)
GEMM_RS(half_t, f16, 64, 64, 64, 4, false, n)
GEMM_RS(half_t, f16, 128, 64, 128, 4, false, n)
GEMM_RS(half_t, f16, 64, 64, 64, 4, true, t)
