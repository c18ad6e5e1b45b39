// Hand-written sm_90a reference GEMM on the tilec device headers only: the kernel the compiler's sm_90a lowering
// will generate (TMA + mbarrier ring, warp specialization, setmaxnreg, wgmma, persistent tiles with grouped
// rasterization, optional 2-CTA clusters multicasting B).
//
//   C[M, N] = A[M, K] @ B^T   (NT: B is N x K row-major, `x @ w.T`)   or   A[M, K] @ B   (NN: B is K x N row-major)
//
// fp16/bf16 operands, fp32 accumulation, C in the operand type. M, N, K are arbitrary (K and, for NN, N a
// multiple of 8 so the TMA row strides are 16-byte multiples): TMA zero-fills out-of-range loads and the
// epilogue bounds-checks its stores.
//
// Block = 3 warpgroups (384 threads). Warpgroup 0 is the producer: it drops to 40 registers and one elected
// thread streams 128x64 A and BNx64 B tiles into a STAGES-deep ring of shared-memory stages, each guarded by a
// `full` mbarrier (TMA bytes landed) and an `empty` mbarrier (all consumer warps, of every CTA the stage's B was
// multicast to, are done reading it). Warpgroups 1 and 2 are consumers at 232 registers: consumer c computes
// rows 64c..64c+63 of the 128xBN tile with m64nBNk16 wgmmas, keeping one k-block's wgmma group in flight while
// it releases the stage of the previous one. The grid is persistent (one CTA per SM, or one cluster per two SMs):
// CTA (cluster) i takes cluster tiles i, i + #clusters, ..., ordered so that consecutive ones sweep GROUP_M tile
// rows before moving right (L2 reuse of A and B across the CTAs running at the same time).
//
// Built by test_gemm_sm90.py and bench/gemm_sm90_reference.py through tilec.toolchain.compile_cubin for sm_90a
// and launched through tilec.runtime.driver; tests/cpu/test_headers_sm90_compile.py checks its ptxas report
// (no spills) and SASS (HGMMA, UTMALDG, SYNCS).
#include <tilec/sm90.cuh>

using namespace tilec;

namespace {

constexpr int kBM = 128;  // tile rows: two consumer warpgroups x m64
constexpr int kBK = 64;   // k-block: 64 16-bit elements = one 128-byte swizzle row
constexpr int kThreads = 384;
constexpr int kConsumerWarps = 8;
constexpr int kProducerRegs = 40;
constexpr int kConsumerRegs = 232;

template <int BN, int STAGES, bool TMA_STORE>
struct Smem {
    static constexpr uint32_t kABytes = kBM * kBK * 2;  // SmemTile<128, 64, 2>: 16 KiB
    static constexpr uint32_t kBBytes = BN * kBK * 2;   // SmemTile<BN, 64, 2> (NT) or SmemTile<64, BN, 2> (NN)
    static constexpr uint32_t kStageBytes = kABytes + kBBytes;
    // TMA-store epilogue: per consumer warpgroup two 64 x 64 staging tiles (SmemTile<64, 64, 2>, 8 KiB each).
    static constexpr uint32_t kCBytes = 64 * 64 * 2;
    static constexpr uint32_t kCOffset = STAGES * kStageBytes;
    static constexpr uint32_t kBarrierOffset = kCOffset + (TMA_STORE ? 2 * 2 * kCBytes : 0);
    // + 1024 so that the ring can start on a 1024-byte boundary (the 128B swizzle repeat) wherever the dynamic
    // shared memory window begins.
    static constexpr uint32_t kBytes = kBarrierOffset + 2 * STAGES * 8 + 1024;
    static_assert(kABytes % 1024 == 0 && kBBytes % 1024 == 0, "stages must keep 1024-byte alignment");
    static_assert(kBytes <= 227 * 1024, "the ring exceeds sm_90's 227 KiB of shared memory per block");
};

// Cluster tile `tile` -> (cluster tile row, tile column), sweeping group_m cluster rows per column step.
__device__ __forceinline__ void rasterize(int tile, int num_m_cl, int num_n, int group_m, int& mc, int& nb) {
    const int per_group = group_m * num_n;
    const int first_m = (tile / per_group) * group_m;
    const int rows = min(num_m_cl - first_m, group_m);
    const int local = tile % per_group;
    mc = first_m + local % rows;
    nb = local / rows;
}

template <class T, bool B_K_MAJOR, int BN, int STAGES, int CLUSTER_M, bool TMA_STORE>
__device__ __forceinline__ void gemm_sm90_body(const CUtensorMap* tmap_a, const CUtensorMap* tmap_b,
                                               const CUtensorMap* tmap_c, T* __restrict__ C, int M, int N, int K,
                                               int group_m) {
    static_assert(BN % 64 == 0 && BN <= 256, "BN must be 64, 128, 192 or 256");
    static_assert(CLUSTER_M == 1 || CLUSTER_M == 2, "CLUSTER_M must be 1 or 2");
    static_assert((BN / 64) % CLUSTER_M == 0, "each CTA of a cluster loads an equal share of B");
    using L = Smem<BN, STAGES, TMA_STORE>;

    extern __shared__ __align__(1024) uint8_t smem_raw[];
    const uint32_t raw = smem_u32addr(smem_raw);
    const uint32_t base = (raw + 1023u) & ~1023u;
    const uint32_t a_smem = base;                       // stage s: a_smem + s * kABytes
    const uint32_t b_smem = base + STAGES * L::kABytes;  // stage s: b_smem + s * kBBytes
    const uint32_t full_bar = base + L::kBarrierOffset;  // stage s: full_bar + 8 s
    const uint32_t empty_bar = full_bar + STAGES * 8;

    const int wg = warpgroup_index();
    const uint32_t cta_rank = CLUSTER_M > 1 ? cluster_ctarank() : 0u;

    if (threadIdx.x == 0) {
        for (int s = 0; s < STAGES; ++s) {
            mbarrier_init(full_bar + 8 * s, 1);  // the producer's arrive_expect_tx; the bytes do the rest
            mbarrier_init(empty_bar + 8 * s, kConsumerWarps * CLUSTER_M);
        }
        fence_mbarrier_init_release_cluster();
    }
    if (threadIdx.x == 32) {
        prefetch_tensormap(tmap_a);
        prefetch_tensormap(tmap_b);
    }
    // The barriers must be initialized in every CTA of the cluster before any TMA (multicast) or remote arrive.
    if constexpr (CLUSTER_M > 1) {
        cluster_sync();
    } else {
        __syncthreads();
    }

    const int num_m = (M + kBM - 1) / kBM;
    const int num_n = (N + BN - 1) / BN;
    const int num_k = (K + kBK - 1) / kBK;
    const int num_m_cl = (num_m + CLUSTER_M - 1) / CLUSTER_M;
    const int num_tiles = num_m_cl * num_n;
    const int cluster_id = static_cast<int>(blockIdx.x) / CLUSTER_M;
    const int num_clusters = static_cast<int>(gridDim.x) / CLUSTER_M;

    if (wg == 0) {
        // ---------------- producer ----------------
        setmaxnreg_dec_sync_aligned_u32<kProducerRegs>();
        if (warpgroup_warp_index() == 0 && elect_one_sync()) {
            int stage = 0;
            uint32_t phase = 0;
            for (int tile = cluster_id; tile < num_tiles; tile += num_clusters) {
                int mc, nb;
                rasterize(tile, num_m_cl, num_n, group_m, mc, nb);
                const int m0 = (mc * CLUSTER_M + static_cast<int>(cta_rank)) * kBM;
                for (int kb = 0; kb < num_k; ++kb) {
                    const uint32_t full = full_bar + 8 * stage;
                    // Round r of this stage may be written once round r - 1 was released (by every CTA the B
                    // share is multicast to); a fresh barrier passes parity 1 at once.
                    mbarrier_wait_parity(empty_bar + 8 * stage, phase ^ 1u);
                    mbarrier_arrive_expect_tx(full, L::kStageBytes);
                    cp_async_bulk_tensor_2d_shared_global(a_smem + stage * L::kABytes, tmap_a, kb * kBK, m0, full);
                    const uint32_t b_dst = b_smem + stage * L::kBBytes;
                    if constexpr (B_K_MAJOR) {
                        // SmemTile<BN, 64, 2>: row n at 128 n. This CTA loads rows [share * rank, share * (rank + 1)).
                        constexpr int kShare = BN / CLUSTER_M;
                        const uint32_t dst = b_dst + cta_rank * kShare * 128u;
                        const int n_row = nb * BN + static_cast<int>(cta_rank) * kShare;
                        if constexpr (CLUSTER_M == 1) {
                            cp_async_bulk_tensor_2d_shared_global(dst, tmap_b, kb * kBK, n_row, full);
                        } else {
                            cp_async_bulk_tensor_2d_shared_global_multicast(dst, tmap_b, kb * kBK, n_row, full,
                                                                            (1u << CLUSTER_M) - 1u);
                        }
                    } else {
                        // SmemTile<64, BN, 2>: 64-column panel p at p * 64 rows * 128 B, one 64x64 box each.
                        constexpr int kPanels = BN / 64 / CLUSTER_M;
#pragma unroll
                        for (int i = 0; i < kPanels; ++i) {
                            const int p = static_cast<int>(cta_rank) * kPanels + i;
                            const uint32_t dst = b_dst + p * (kBK * 128u);
                            if constexpr (CLUSTER_M == 1) {
                                cp_async_bulk_tensor_2d_shared_global(dst, tmap_b, nb * BN + p * 64, kb * kBK, full);
                            } else {
                                cp_async_bulk_tensor_2d_shared_global_multicast(dst, tmap_b, nb * BN + p * 64,
                                                                                kb * kBK, full, (1u << CLUSTER_M) - 1u);
                            }
                        }
                    }
                    if (++stage == STAGES) {
                        stage = 0;
                        phase ^= 1u;
                    }
                }
            }
            if constexpr (CLUSTER_M > 1) {
                // Stay alive until every stage has been released by both CTAs: the peer's consumers arrive on
                // this CTA's empty barriers, which must still exist when they do.
                for (int i = 0; i < STAGES; ++i) {
                    mbarrier_wait_parity(empty_bar + 8 * stage, phase ^ 1u);
                    if (++stage == STAGES) {
                        stage = 0;
                        phase ^= 1u;
                    }
                }
            }
        }
    } else {
        // ---------------- consumers ----------------
        setmaxnreg_inc_sync_aligned_u32<kConsumerRegs>();
        const int cw = wg - 1;  // rows 64 cw .. 64 cw + 63 of the tile
        const int lane = static_cast<int>(threadIdx.x) % 32;
        const int t = warpgroup_thread_index();
        const bool n_even = (N % 2) == 0;
        float acc[BN / 2];
        int stage = 0;
        uint32_t phase = 0;

        // Frees a stage: lane i of every consumer warp arrives on the empty barrier of cluster CTA i.
        auto release = [&](int s) {
            if constexpr (CLUSTER_M == 1) {
                if (lane == 0) {
                    mbarrier_arrive(empty_bar + 8 * s);
                }
            } else {
                if (lane < CLUSTER_M) {
                    mbarrier_arrive_cluster(empty_bar + 8 * s, static_cast<uint32_t>(lane));
                }
            }
        };

        for (int tile = cluster_id; tile < num_tiles; tile += num_clusters) {
            int mc, nb;
            rasterize(tile, num_m_cl, num_n, group_m, mc, nb);
            const int m0 = (mc * CLUSTER_M + static_cast<int>(cta_rank)) * kBM;
            int prev = -1;
            for (int kb = 0; kb < num_k; ++kb) {
                mbarrier_wait_parity(full_bar + 8 * stage, phase);
                gemm_ss_sm90<kBM, BN, kBK, BN, true, B_K_MAJOR, T>(a_smem + stage * L::kABytes, cw * 64,
                                                                   b_smem + stage * L::kBBytes, 0, acc, kb > 0);
                // Keep this k-block's group in flight; the previous one is complete, so its stage can go.
                wgmma_wait_group_sync_aligned<1>();
                if (prev >= 0) {
                    release(prev);
                }
                prev = stage;
                if (++stage == STAGES) {
                    stage = 0;
                    phase ^= 1u;
                }
            }
            wgmma_wait_group_sync_aligned<0>();
            warpgroup_fence_operand(acc);
            if (prev >= 0) {
                release(prev);
            }

            const int row0 = m0 + cw * 64;
            const int col0 = nb * BN;
            if (TMA_STORE && N % 8 == 0) {
                // Epilogue through shared memory: 64-column chunks of this warpgroup's 64 x BN slab go to one of
                // its two staging tiles (SmemTile<64, 64, 2>, the 128B-swizzled layout TMA reads; each warp's
                // 8 rows x 16 bytes land in 8 distinct bank groups), then one thread stores the chunk with TMA,
                // which skips rows/columns beyond M/N and runs while the next tile's mainloop starts.
                const uint32_t stage0 = base + L::kCOffset + cw * 2 * L::kCBytes;
                uint8_t* stage0_ptr = smem_raw + (stage0 - raw);
#pragma unroll
                for (int ch = 0; ch < BN / 64; ++ch) {
                    const int buf = ch % 2;
                    if (t == 0) {
                        cp_async_bulk_wait_group_read<1>();  // the store that last read `buf` is done with it
                    }
                    bar_sync(1 + cw, 128);
#pragma unroll
                    for (int i = ch * 32; i < ch * 32 + 32; i += 2) {
                        const int off = SmemTile<64, 64, 2>::offset(wgmma_acc_row(i, t), wgmma_acc_col(i, t) - ch * 64);
                        *reinterpret_cast<uint32_t*>(stage0_ptr + buf * L::kCBytes + 2 * off) =
                            pack2<T>(acc[i], acc[i + 1]);
                    }
                    fence_proxy_async_shared_cta();  // st.shared before the TMA (async proxy) reads them
                    bar_sync(1 + cw, 128);
                    if (t == 0) {
                        cp_async_bulk_tensor_2d_global_shared(tmap_c, col0 + ch * 64, row0, stage0 + buf * L::kCBytes);
                        cp_async_bulk_commit_group();
                    }
                }
                continue;
            }
            // Epilogue from registers: the accumulator contract of gemm_sm90.cuh, rows/columns beyond M/N skipped.
            // Pairs of adjacent columns go out as one 32-bit store when N is even (the pair is then 4-byte aligned).
#pragma unroll
            for (int i = 0; i < BN / 2; i += 2) {
                const int r = row0 + wgmma_acc_row(i, t);
                const int c = col0 + wgmma_acc_col(i, t);
                if (r < M) {
                    T* p = C + static_cast<size_t>(r) * N + c;
                    if (n_even && c + 1 < N) {
                        *reinterpret_cast<uint32_t*>(p) = pack2<T>(acc[i], acc[i + 1]);
                    } else {
                        if (c < N) {
                            p[0] = cast<T>(acc[i]);
                        }
                        if (c + 1 < N) {
                            p[1] = cast<T>(acc[i + 1]);
                        }
                    }
                }
            }
        }
        if (TMA_STORE && t == 0) {
            cp_async_bulk_wait_group<0>();  // the last stores must have read their staging tiles before exit
        }
    }
}

}  // namespace

// One entry point per variant: gemm_sm90_<dtype>_<nt|nn>_128x<BN>x64_s<STAGES>_c<CLUSTER_M>[_tma]; the _tma
// variants store C through shared memory with TMA (when N % 8 == 0, else from registers like the others).
#define TILEC_GEMM_SM90_KERNEL(T, TN, LAYOUT, B_K_MAJOR, BN, STAGES, CLUSTER_M, EPI, TMA_STORE)                 \
    extern "C" __global__ void __launch_bounds__(kThreads, 1)                                                     \
        gemm_sm90_##TN##_##LAYOUT##_128x##BN##x64_s##STAGES##_c##CLUSTER_M##EPI(                                  \
            const __grid_constant__ CUtensorMap tmap_a, const __grid_constant__ CUtensorMap tmap_b,              \
            const __grid_constant__ CUtensorMap tmap_c, T* C, int M, int N, int K, int group_m) {                 \
        gemm_sm90_body<T, B_K_MAJOR, BN, STAGES, CLUSTER_M, TMA_STORE>(&tmap_a, &tmap_b, &tmap_c, C, M, N, K,     \
                                                                        group_m);                                 \
    }

// The 128x256 variants are the performance targets; 128x128 keeps more stages in flight for small problems.
TILEC_GEMM_SM90_KERNEL(half_t, f16, nt, true, 256, 4, 1, , false)
TILEC_GEMM_SM90_KERNEL(half_t, f16, nn, false, 256, 4, 1, , false)
TILEC_GEMM_SM90_KERNEL(bfloat16_t, bf16, nt, true, 256, 4, 1, , false)
TILEC_GEMM_SM90_KERNEL(bfloat16_t, bf16, nn, false, 256, 4, 1, , false)
TILEC_GEMM_SM90_KERNEL(half_t, f16, nt, true, 256, 4, 2, , false)
TILEC_GEMM_SM90_KERNEL(half_t, f16, nn, false, 256, 4, 2, , false)
TILEC_GEMM_SM90_KERNEL(bfloat16_t, bf16, nt, true, 256, 4, 2, , false)
TILEC_GEMM_SM90_KERNEL(bfloat16_t, bf16, nn, false, 256, 4, 2, , false)
TILEC_GEMM_SM90_KERNEL(half_t, f16, nt, true, 256, 4, 1, _tma, true)
TILEC_GEMM_SM90_KERNEL(half_t, f16, nn, false, 256, 4, 1, _tma, true)
TILEC_GEMM_SM90_KERNEL(bfloat16_t, bf16, nt, true, 256, 4, 1, _tma, true)
TILEC_GEMM_SM90_KERNEL(bfloat16_t, bf16, nn, false, 256, 4, 1, _tma, true)
TILEC_GEMM_SM90_KERNEL(half_t, f16, nt, true, 256, 4, 2, _tma, true)
TILEC_GEMM_SM90_KERNEL(half_t, f16, nn, false, 256, 4, 2, _tma, true)
TILEC_GEMM_SM90_KERNEL(bfloat16_t, bf16, nt, true, 256, 4, 2, _tma, true)
TILEC_GEMM_SM90_KERNEL(bfloat16_t, bf16, nn, false, 256, 4, 2, _tma, true)
TILEC_GEMM_SM90_KERNEL(half_t, f16, nt, true, 128, 6, 1, , false)
TILEC_GEMM_SM90_KERNEL(half_t, f16, nn, false, 128, 6, 1, , false)
TILEC_GEMM_SM90_KERNEL(bfloat16_t, bf16, nt, true, 128, 6, 1, , false)
TILEC_GEMM_SM90_KERNEL(bfloat16_t, bf16, nn, false, 128, 6, 1, , false)
TILEC_GEMM_SM90_KERNEL(half_t, f16, nt, true, 128, 6, 2, , false)
TILEC_GEMM_SM90_KERNEL(half_t, f16, nn, false, 128, 6, 2, , false)
TILEC_GEMM_SM90_KERNEL(bfloat16_t, bf16, nt, true, 128, 6, 2, , false)
TILEC_GEMM_SM90_KERNEL(bfloat16_t, bf16, nn, false, 128, 6, 2, , false)
