// GPU check of the block-level wgmma GEMMs generated code calls (tilec::wgmma_gemm_ss / _rs / _ss_async, in
// include/tilec/gemm_sm90.cuh) and, through them, of the wgmma descriptors for every swizzle width and operand
// major-ness, the chunking of odd N, and the accumulator / register-A fragment contract.
//
// Each kernel writes op(A) and op(B) into shared memory element by element at their SmemTile offsets (the layout
// TMA writes, see gemm_sm90.cuh), loads C0 into the accumulator with the documented fragment mapping, runs the
// gemm and stores the accumulator back with the same mapping: out = C0 + op(A) @ op(B) (or op(A) @ op(B) when
// CLEAR). A wrong descriptor, swizzle or mapping gives O(1) errors. Run by test_wgmma.py (sm_90a only).
#include <tilec/sm90.cuh>

using namespace tilec;

namespace {

template <int ROWS, int COLS, class T>
__device__ void store_tile(T* s, const T* g) {
    for (int idx = threadIdx.x; idx < ROWS * COLS; idx += blockDim.x) {
        s[SmemTile<ROWS, COLS, 2>::offset(idx / COLS, idx % COLS)] = g[idx];
    }
}

// (row, col) of accumulator element `v` of this thread for an M x N block tile over GROUPS warpgroups: slab
// v / (N / 2) of the thread's warpgroup, then the wgmma D fragment (tilec.layout.fragment.wgmma_acc).
template <int M, int N, int GROUPS>
__device__ void acc_coord(int v, int& row, int& col) {
    const int t = static_cast<int>(threadIdx.x) % 128, g = static_cast<int>(threadIdx.x) / 128;
    const int i = v / (N / 2), idx = v % (N / 2);
    row = g * (M / GROUPS) + 64 * i + wgmma_acc_row(idx, t);
    col = wgmma_acc_col(idx, t);
}

__device__ unsigned char* aligned_smem() {
    extern __shared__ __align__(1024) unsigned char smem_raw[];
    const uint32_t a = smem_u32addr(smem_raw);
    return smem_raw + (((a + 1023u) & ~1023u) - a);
}

// MODE 0: wgmma_gemm_ss, 1: wgmma_gemm_ss_async<..., 0> + wgmma_wait_all, 2: wgmma_gemm_rs.
template <class T, int M, int N, int K, int GROUPS, bool TRANS_A, bool TRANS_B, bool CLEAR, int MODE>
__device__ void body(const T* gA, const T* gB, const float* gC, float* gOut) {
    constexpr int kABytes = (M * K * 2 + 1023) / 1024 * 1024;
    unsigned char* smem = aligned_smem();
    T* As = reinterpret_cast<T*>(smem);
    T* Bs = reinterpret_cast<T*>(smem + kABytes);
    if constexpr (MODE != 2) {
        if constexpr (TRANS_A) {
            store_tile<K, M>(As, gA);
        } else {
            store_tile<M, K>(As, gA);
        }
    }
    if constexpr (TRANS_B) {
        store_tile<N, K>(Bs, gB);
    } else {
        store_tile<K, N>(Bs, gB);
    }
    fence_proxy_async_shared_cta();  // st.shared (generic proxy) before wgmma reads (async proxy)
    __syncthreads();

    constexpr int kAcc = M / GROUPS / 64 * N / 2;
    float acc[kAcc];
#pragma unroll
    for (int v = 0; v < kAcc; ++v) {
        int r, c;
        acc_coord<M, N, GROUPS>(v, r, c);
        acc[v] = gC[r * N + c];
    }
    if constexpr (MODE == 0) {
        wgmma_gemm_ss<M, N, K, GROUPS, TRANS_A, TRANS_B, CLEAR, T>(As, Bs, acc);
    } else if constexpr (MODE == 1) {
        wgmma_gemm_ss_async<M, N, K, GROUPS, TRANS_A, TRANS_B, CLEAR, T, 0>(As, Bs, acc);
        wgmma_wait_all(acc);
    } else {
        // Register A (M x K, row-major in gA) in the wgmma_acc(M, K) fragment.
        constexpr int kA = M / GROUPS / 64 * K / 2;
        T a[kA];
#pragma unroll
        for (int v = 0; v < kA; ++v) {
            int r, c;
            acc_coord<M, K, GROUPS>(v, r, c);
            a[v] = gA[r * K + c];
        }
        wgmma_gemm_rs<M, N, K, GROUPS, TRANS_B, CLEAR, T>(a, Bs, acc);
    }
#pragma unroll
    for (int v = 0; v < kAcc; ++v) {
        int r, c;
        acc_coord<M, N, GROUPS>(v, r, c);
        gOut[r * N + c] = acc[v];
    }
}

}  // namespace

// CASE(name, T, M, N, K, GROUPS, TRANS_A, TRANS_B, CLEAR, MODE): what each case covers is in test_wgmma.py's CASES.
#define CASE(NAME, T, M, N, K, G, TA, TB, CLEAR, MODE)                                                          \
    extern "C" __global__ void __launch_bounds__(128 * G)                                                      \
        NAME(const T* gA, const T* gB, const float* gC, float* gOut) {                                         \
        body<T, M, N, K, G, TA, TB, CLEAR, MODE>(gA, gB, gC, gOut);                                             \
    }

CASE(ss_f16_128x256x64_g2_nt, half_t, 128, 256, 64, 2, false, true, false, 0)
CASE(ss_bf16_128x256x64_g2_nn, bfloat16_t, 128, 256, 64, 2, false, false, false, 0)
CASE(ss_f16_128x128x64_g1_tn, half_t, 128, 128, 64, 1, true, false, false, 0)
CASE(ss_bf16_128x64x128_g2_tt_clear, bfloat16_t, 128, 64, 128, 2, true, true, true, 0)
CASE(ss_f16_64x80x32_g1_nt, half_t, 64, 80, 32, 1, false, true, false, 0)
CASE(ss_bf16_64x32x16_g1_nn, bfloat16_t, 64, 32, 16, 1, false, false, false, 0)
CASE(ss_f16_64x16x32_g1_tn, half_t, 64, 16, 32, 1, true, false, false, 0)
CASE(ss_f16_64x200x64_g1_nt, half_t, 64, 200, 64, 1, false, true, false, 0)
CASE(ss_bf16_64x192x64_g1_nn_clear, bfloat16_t, 64, 192, 64, 1, false, false, true, 0)
CASE(ss_async_f16_128x256x64_g2_nn, half_t, 128, 256, 64, 2, false, false, false, 1)
CASE(rs_f16_128x128x64_g2_nn, half_t, 128, 128, 64, 2, false, false, false, 2)
CASE(rs_bf16_64x256x32_g1_nt, bfloat16_t, 64, 256, 32, 1, false, true, false, 2)
CASE(rs_f16_128x96x16_g1_nt_clear, half_t, 128, 96, 16, 1, false, true, true, 2)
