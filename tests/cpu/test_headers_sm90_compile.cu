// Instantiates every sm_90a wrapper of the tilec device headers (mbarrier, tma, cluster, warpgroup, wgmma,
// gemm_sm90) and the block-level wgmma gemms in the spellings generated code uses, so that
// tests/cpu/test_headers_sm90_compile.py can check that they compile for sm_90a, keep their fragments in registers
// and reach the SASS as SYNCS / UTMALDG / UTMASTG / HGMMA / USETMAXREG.
#include <tilec/sm90.cuh>

using namespace tilec;

// --- every wrapper once ----------------------------------------------------------------------------------

extern "C" __global__ void __launch_bounds__(384, 1)
    wrappers_sm90_kernel(const __grid_constant__ CUtensorMap tmap2, const __grid_constant__ CUtensorMap tmap3,
                         const __grid_constant__ CUtensorMap tmap5, float* __restrict__ out, int x) {
    extern __shared__ __align__(1024) unsigned char smem[];
    half_t* tile = reinterpret_cast<half_t*>(smem);  // 32 KiB of tiles
    uint64_t* bars = reinterpret_cast<uint64_t*>(smem + 32768);
    MBarrier& mb = *reinterpret_cast<MBarrier*>(smem + 32768 + 64);
    const uint32_t t_addr = smem_u32addr(tile);
    const uint32_t b_addr = smem_u32addr(bars);

    if (threadIdx.x == 0) {
        mbarrier_init(b_addr, 1);
        mbarrier_init(bars + 1, 128);
        mbarrier_init(mb, 256);
        fence_mbarrier_init_release_cluster();
        fence_barrier_init();
    }
    cluster_sync();
    barrier_cluster_arrive_release_aligned();
    barrier_cluster_wait_acquire_aligned();
    const uint32_t rank = cluster_ctarank() + cluster_nctarank();
    const int wg = warpgroup_index();

    if (wg == 2) {
        setmaxnreg_dec<40>();
        if (warpgroup_warp_index() == 0 && elect_one_sync()) {
            prefetch_tensormap(&tmap2);
            const uint64_t first = createpolicy_fractional_l2_evict_first();
            const uint64_t last = createpolicy_fractional_l2_evict_last();
            mbarrier_arrive_expect_tx(b_addr, 65536);
            mbarrier_expect_tx(b_addr, 64);
            cp_async_bulk_tensor_2d_shared_global(t_addr, &tmap2, x, 0, b_addr);
            cp_async_bulk_tensor_2d_shared_global(t_addr + 1024, &tmap2, x, 8, b_addr, first);
            cp_async_bulk_tensor_3d_shared_global(t_addr + 2048, &tmap3, x, 0, 1, b_addr);
            cp_async_bulk_tensor_3d_shared_global(t_addr + 3072, &tmap3, x, 0, 2, b_addr, last);
            cp_async_bulk_tensor_4d_shared_global(t_addr + 4096, &tmap5, x, 0, 1, 2, b_addr);
            cp_async_bulk_tensor_5d_shared_global(t_addr + 5120, &tmap5, x, 0, 1, 2, 3, b_addr);
            cp_async_bulk_tensor_2d_shared_global_multicast(t_addr + 6144, &tmap2, x, 16, b_addr, 0x3);
            cp_async_bulk_tensor_2d_shared_global_multicast(t_addr + 7168, &tmap2, x, 24, b_addr, 0x3, last);
            cp_async_bulk_tensor_3d_shared_global_multicast(t_addr + 8192, &tmap3, x, 0, 3, b_addr, 0x1);
            tma_load<2>(&tmap2, tile + 8192, bars, x, 32);
            tma_load<3>(&tmap3, tile + 9216, bars, x, 0, 4);
            mbarrier_wait_parity(b_addr, 0);
            mbarrier_wait(bars, 0);
            while (!mbarrier_try_wait_parity(b_addr, 0)) {
            }
            fence_proxy_async_shared_cta();
            fence_proxy_async();
            cp_async_bulk_tensor_2d_global_shared(&tmap2, x, 0, t_addr);
            cp_async_bulk_tensor_3d_global_shared(&tmap3, x, 0, 1, t_addr + 1024);
            cp_async_bulk_commit_group();
            cp_async_bulk_wait_group_read<0>();
            cp_async_bulk_wait_group<0>();
            mbarrier_arrive_cluster(b_addr + 8, rank & 1u);
        }
    } else {
        setmaxnreg_inc<232>();
        bar_sync(1, 256);
        named_barrier_sync(2, 256);
        mbarrier_wait(bars, 0);

        // One m64nNk16 per shape family: SS (K-major / MN-major operands) and RS, fp16 and bf16, wide and narrow N.
        // Each accumulator is its own array: wgmmas in flight must not share registers of different shapes.
        const uint64_t da = wgmma_desc_k_major<64, 64, 2>(t_addr, 0, 1);
        const uint64_t db = wgmma_desc_mn_major<64, 256>(t_addr + 8192, 0, 2);
        uint32_t a[4] = {static_cast<uint32_t>(x), 3u, 4u, 5u};
        float sum = 0.f;
        {
            float acc64[32] = {};
            float acc8[4] = {};
            warpgroup_fence_operand(acc64);
            warpgroup_fence_operand(acc8);
            warpgroup_arrive();
            wgmma_m64nNk16_ss<64, bfloat16_t, 0, 0>(acc64, da, wgmma_desc_k_major<64, 64, 2>(t_addr, 0, 0), 0);
            wgmma_m64nNk16_rs<64, bfloat16_t, 0>(acc64, a, da, 1);
            wgmma_m64nNk16_ss<8, bfloat16_t, 1, 1>(acc8, wgmma_desc_mn_major<32, 64>(t_addr, 0, 1),
                                                   wgmma_desc_mn_major<32, 16>(t_addr + 4096, 0, 1), 0);
            wgmma_m64nNk16_rs<8, bfloat16_t, 0>(acc8, a, da, 1);
            wgmma_commit_group_sync_aligned();
            wgmma_wait_group_sync_aligned<1>();
            wgmma_wait_group_sync_aligned<0>();
            warpgroup_fence_operand(acc64);
            warpgroup_fence_operand(acc8);
#pragma unroll
            for (int i = 0; i < 32; ++i) {
                sum += acc64[i];
            }
            sum += acc8[0] + acc8[1] + acc8[2] + acc8[3];
        }
        mbarrier_arrive_warp(bars + 1);
        if (threadIdx.x == 0) {
            mbarrier_arrive(mb);
        }
        out[threadIdx.x] = sum;
    }
}

// --- wide accumulators and the issue-only gemms, one kernel each: ptxas sizes a function's wgmma register pipeline
// for all its accumulators together, so unrelated wide blocks in one kernel would serialize and spill ----------------

extern "C" __global__ void __launch_bounds__(128, 1) wgmma_n256_kernel(float* __restrict__ out, int x) {
    extern __shared__ __align__(1024) unsigned char smem[];
    const uint32_t t_addr = smem_u32addr(smem);
    const uint64_t da = wgmma_desc_k_major<64, 64, 2>(t_addr, 0, 1);
    const uint64_t db = wgmma_desc_mn_major<64, 256>(t_addr + 8192, 0, 2);
    uint32_t a[4] = {static_cast<uint32_t>(x), 3u, 4u, 5u};
    float acc[128] = {};
    warpgroup_fence_operand(acc);
    warpgroup_fence_operand(a);
    wgmma_fence_sync_aligned();
    wgmma_m64nNk16_ss<256, half_t, 0, 1>(acc, da, db, 0);
    wgmma_m64nNk16_rs<256, half_t, 1>(acc, a, db, 1);
    wgmma_commit_group_sync_aligned();
    wgmma_wait_group_sync_aligned<0>();
    warpgroup_fence_operand(acc);
#pragma unroll
    for (int i = 0; i < 128; ++i) {
        out[i * 128 + threadIdx.x] = acc[i] * static_cast<float>(wgmma_acc_row(i, warpgroup_thread_index()));
    }
}

// N = 200 (K-major B: 192 + 8), on the second m64 slab of a 128-row A.
extern "C" __global__ void __launch_bounds__(128, 1) gemm_ss_sm90_n200_kernel(float* __restrict__ out) {
    extern __shared__ __align__(1024) unsigned char smem[];
    const uint32_t t_addr = smem_u32addr(smem);
    float c[100] = {};
    gemm_ss_sm90<128, 256, 64, 200, true, true, half_t>(t_addr, 64, t_addr + 16384, 8, c, 0);
    wgmma_wait_group_sync_aligned<0>();
    warpgroup_fence_operand(c);
#pragma unroll
    for (int i = 0; i < 100; ++i) {
        out[i * 128 + threadIdx.x] = c[i] * static_cast<float>(wgmma_acc_col(i, warpgroup_thread_index()));
    }
}

// M-major A, N-major B with N = 160 (128 + 32, chunks on 64-column panels), starting at column 64.
extern "C" __global__ void __launch_bounds__(128, 1) gemm_ss_sm90_mn_kernel(float* __restrict__ out, int acc) {
    extern __shared__ __align__(1024) unsigned char smem[];
    const uint32_t t_addr = smem_u32addr(smem);
    float c[80] = {};
    gemm_ss_sm90<64, 256, 32, 160, false, false, bfloat16_t>(t_addr, 0, t_addr + 8192, 64, c, acc);
    wgmma_wait_group_sync_aligned<0>();
    warpgroup_fence_operand(c);
#pragma unroll
    for (int i = 0; i < 80; ++i) {
        out[i * 128 + threadIdx.x] = c[i];
    }
}

// Register A (K = 32: two k16 fragments), N-major B.
extern "C" __global__ void __launch_bounds__(128, 1) gemm_rs_sm90_kernel(const uint32_t* __restrict__ in,
                                                                         float* __restrict__ out) {
    extern __shared__ __align__(1024) unsigned char smem[];
    uint32_t a[2][4];
#pragma unroll
    for (int i = 0; i < 8; ++i) {
        a[i / 4][i % 4] = in[i * 128 + threadIdx.x];
    }
    float c[32] = {};
    gemm_rs_sm90<128, 32, 64, false, half_t>(a, smem_u32addr(smem), 0, c, 0);
    wgmma_wait_group_sync_aligned<0>();
    warpgroup_fence_operand(c);
#pragma unroll
    for (int i = 0; i < 32; ++i) {
        out[i * 128 + threadIdx.x] = c[i];
    }
}

// The PTX-named register reallocation wrappers (one setmaxnreg per warpgroup and path: ptxas sizes each path's
// register budget from it).
extern "C" __global__ void __launch_bounds__(256, 1) setmaxnreg_kernel(float* __restrict__ out) {
    if (warpgroup_index() == 0) {
        setmaxnreg_dec_sync_aligned_u32<24>();
    } else {
        setmaxnreg_inc_sync_aligned_u32<240>();
        out[threadIdx.x] = static_cast<float>(warpgroup_thread_index());
    }
}

// --- the block-level gemms generated code calls (tilec::wgmma_gemm_ss / _rs) --------------------------------
// WGMMA_SS(T, tname, M, N, K, GROUPS, TRANS_A, TRANS_B) -> wgmma_ss_<tname>_<M>x<N>x<K>_g<GROUPS>_<ta><tb>

#define WGMMA_SS(T, TN, M, N, K, G, TA, TB)                                                                     \
    extern "C" __global__ void __launch_bounds__(128 * G)                                                       \
        wgmma_ss_##TN##_##M##x##N##x##K##_g##G##_##TA##TB(const T* __restrict__ g, float* __restrict__ out) {   \
        extern __shared__ __align__(1024) unsigned char smem[];                                                \
        T* As = reinterpret_cast<T*>(smem);                                                                    \
        T* Bs = As + M * K;                                                                                    \
        for (int i = threadIdx.x; i < (M + N) * K; i += blockDim.x) As[i] = g[i];                               \
        fence_proxy_async_shared_cta();                                                                         \
        __syncthreads();                                                                                       \
        constexpr int kAcc = M / G / 64 * N / 2;                                                                \
        float acc[kAcc];                                                                                       \
        wgmma_gemm_ss<M, N, K, G, TA, TB, true, T>(As, Bs, acc);                                                \
        wgmma_gemm_ss<M, N, K, G, TA, TB, false, T>(As, Bs, acc);                                               \
        _Pragma("unroll") for (int i = 0; i < kAcc; ++i) out[i * blockDim.x + threadIdx.x] = acc[i];            \
    }

#define WGMMA_RS(T, TN, M, N, K, G, TB)                                                                         \
    extern "C" __global__ void __launch_bounds__(128 * G)                                                       \
        wgmma_rs_##TN##_##M##x##N##x##K##_g##G##_##TB(const T* __restrict__ g, float* __restrict__ out) {       \
        extern __shared__ __align__(1024) unsigned char smem[];                                                \
        T* Bs = reinterpret_cast<T*>(smem);                                                                    \
        for (int i = threadIdx.x; i < N * K; i += blockDim.x) Bs[i] = g[i];                                     \
        fence_proxy_async_shared_cta();                                                                         \
        __syncthreads();                                                                                       \
        constexpr int kA = M / G / 64 * K / 2, kAcc = M / G / 64 * N / 2;                                       \
        T a[kA];                                                                                               \
        _Pragma("unroll") for (int i = 0; i < kA; ++i) a[i] = g[N * K + i * blockDim.x + threadIdx.x];          \
        float acc[kAcc];                                                                                       \
        wgmma_gemm_rs<M, N, K, G, TB, true, T>(a, Bs, acc);                                                     \
        _Pragma("unroll") for (int i = 0; i < kAcc; ++i) out[i * blockDim.x + threadIdx.x] = acc[i];            \
    }

WGMMA_SS(half_t, f16, 128, 256, 64, 2, false, true)
WGMMA_SS(half_t, f16, 128, 256, 64, 2, false, false)
WGMMA_SS(bfloat16_t, bf16, 128, 128, 64, 1, false, true)
WGMMA_SS(bfloat16_t, bf16, 64, 128, 64, 1, true, false)
WGMMA_SS(half_t, f16, 128, 64, 32, 2, false, false)
WGMMA_SS(half_t, f16, 64, 80, 16, 1, false, true)
WGMMA_SS(bfloat16_t, bf16, 64, 192, 64, 1, true, true)
WGMMA_RS(half_t, f16, 128, 128, 64, 2, false)
WGMMA_RS(bfloat16_t, bf16, 128, 64, 128, 2, true)
WGMMA_RS(half_t, f16, 64, 256, 64, 1, true)
