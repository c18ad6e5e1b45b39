/**
 * @file gemm_sm90.cuh
 * @brief Warpgroup-level tensor-core GEMM (wgmma.mma_async, sm_90a) on TMA-written swizzled shared-memory
 *        tiles, and the layout contracts the Python code generator relies on.
 *
 * Shared tiles. An R x C tile of EB-byte elements (C * EB = 32, 64 or a multiple of 128 bytes, R a multiple
 * of 8) lives in shared memory exactly as tilec::SmemTile<R, C, EB> (smem.cuh) lays it out. In bytes, with
 * S = min(C * EB, 128) the swizzle span and swz_S(o) = o ^ (((o >> 7) & (S / 16 - 1)) << 4):
 *
 *     byte(r, c) = (c * EB / S) * (R * S) + swz_S(r * S + (c * EB) % S)        = 2 * SmemTile<R, C, 2>::offset(r, c)
 *
 * i.e. column panels S bytes wide stored one after the other, each R rows of S bytes, with the 16-byte chunk
 * index of every row XORed with the row's 128-byte line index mod S / 16 (for 128B: chunk ^= r % 8). This is
 * what TMA writes: a load with CU_TENSOR_MAP_SWIZZLE_{32B,64B,128B} (= S), box {S / EB, R}, to a destination
 * aligned to 8 * S bytes swizzles each byte address as swz_S (the CUDA guide's "index relation" with
 * offset 0), so loading the panels of a wide tile as separate boxes to base + p * R * S yields byte(r, c).
 * tests/cpu/test_tma_swizzle.py checks this against a numpy model of the TMA and the Python layout
 * (tilec.layout.swizzle.make_smem_tile_layout). The base must be aligned to 8 * S (1024 B for 128B), else
 * the hardware pattern is shifted by (base / 128) % (S / 16) lines relative to this formula.
 *
 * Operands: A is TILE_M x K (K-major, `x` of x @ w.T and of a @ b) or K x TILE_M (MN-major); B is TILE_N x K
 * (K-major, `w` of x @ w.T) or K x TILE_N (MN-major, `b` of a @ b). Each warpgroup computes 64 x N of C from
 * rows m0 .. m0 + 63 of A and columns n0 .. n0 + N - 1 of B (m0 a multiple of 8 for K-major A, of the panel
 * width 64 for MN-major A; likewise n0).
 *
 * Accumulator contract, float acc[N / 2] per thread of the warpgroup (the wgmma D fragment), with t the
 * thread's index in its warpgroup (threadIdx.x % 128), w = t / 32, g = (t % 32) / 4, q = t % 4:
 *
 *     acc[i] = C[m0 + 16 w + g + 8 ((i / 2) % 2)][n0 + 8 (i / 4) + 2 q + (i % 2)]      for 0 <= i < N / 2
 *
 * (wgmma_acc_row / wgmma_acc_col below compute it.) gemm_rs_sm90's register A, uint32_t a[K / 16][4], is the
 * same mapping per k16 step: a[s][r] packs A[m0 + 16 w + g + 8 (r % 2)][16 s + 2 q + 8 (r / 2) + {0, 1}],
 * the lower k in the low half (e.g. a previous gemm's accumulator converted with pack2).
 *
 * The calls only issue: they fence the accumulators, issue the wgmmas, and commit them as one group. The
 * caller waits (wgmma_wait_group_sync_aligned<n>() then warpgroup_fence_operand(acc)) before it reads acc or
 * lets the tiles be overwritten; the operands must be visible to the async proxy before the call (a TMA
 * load whose mbarrier phase the warpgroup observed, or st.shared followed by fence_proxy_async_shared_cta()).
 */
#pragma once

#include "common.cuh"
#include "smem.cuh"
#include "wgmma.cuh"

namespace tilec {

/// Row (within the warpgroup's 64-row slab) of accumulator element i of warpgroup thread t.
TILEC_HOST_DEVICE constexpr int wgmma_acc_row(int i, int t) { return 16 * (t / 32) + (t % 32) / 4 + 8 * ((i / 2) % 2); }

/// Column (within the warpgroup's N columns) of accumulator element i of warpgroup thread t.
TILEC_HOST_DEVICE constexpr int wgmma_acc_col(int i, int t) { return 8 * (i / 4) + 2 * (t % 4) + (i % 2); }

namespace detail {

template <int TILE_M, int TILE_N, int K, int N, bool A_K_MAJOR, bool B_K_MAJOR, class T>
TILEC_DEVICE constexpr void gemm_sm90_check() {
    static_assert(std::is_same_v<T, half_t> || std::is_same_v<T, bfloat16_t>,
                  "gemm_sm90: operands must be half_t or bfloat16_t (fp32 accumulation)");
    static_assert(K % 16 == 0, "gemm_sm90: K must be a multiple of 16 (the wgmma k-step)");
    static_assert(N % 8 == 0 && N >= 8 && N <= 256, "gemm_sm90: N must be a multiple of 8 in 8..256");
    static_assert(TILE_M % 64 == 0, "gemm_sm90: TILE_M must be a multiple of 64 (one m64 slab per warpgroup)");
    static_assert(TILE_N % 8 == 0 && N <= TILE_N, "gemm_sm90: TILE_N must be a multiple of 8 and >= N");
}

}  // namespace detail

/// acc (+)= A[m0 : m0 + 64, :] @ B[:, n0 : n0 + N] over the whole K of the tiles, A and B in shared memory
/// (layouts in the file comment; a_tile / b_tile are 32-bit shared addresses aligned to the swizzle repeat).
/// accumulate = 0 overwrites acc (first k-block of a tile), else adds. Issues K / 16 wgmmas as one commit
/// group; the caller waits.
template <int TILE_M, int TILE_N, int K, int N, bool A_K_MAJOR, bool B_K_MAJOR, class T>
TILEC_DEVICE void gemm_ss_sm90(uint32_t a_tile, int m0, uint32_t b_tile, int n0, float (&acc)[N / 2], int accumulate) {
    detail::gemm_sm90_check<TILE_M, TILE_N, K, N, A_K_MAJOR, B_K_MAJOR, T>();
    warpgroup_fence_operand(acc);
    wgmma_fence_sync_aligned();
#pragma unroll
    for (int s = 0; s < K / 16; ++s) {
        uint64_t da, db;
        if constexpr (A_K_MAJOR) {
            da = wgmma_desc_k_major<TILE_M, K, 2>(a_tile, m0, s);
        } else {
            da = wgmma_desc_mn_major<K, TILE_M>(a_tile, m0, s);
        }
        if constexpr (B_K_MAJOR) {
            db = wgmma_desc_k_major<TILE_N, K, 2>(b_tile, n0, s);
        } else {
            db = wgmma_desc_mn_major<K, TILE_N>(b_tile, n0, s);
        }
        wgmma_m64nNk16_ss<N, T, A_K_MAJOR ? 0 : 1, B_K_MAJOR ? 0 : 1>(acc, da, db, (s > 0 || accumulate) ? 1 : 0);
    }
    wgmma_commit_group_sync_aligned();
    warpgroup_fence_operand(acc);
}

/// acc (+)= A @ B[:, n0 : n0 + N] with A (64 x K) in registers (a[K / 16][4], the mapping in the file comment)
/// and B in shared memory. Same issue-only contract as gemm_ss_sm90; a must not change until the wait.
template <int TILE_N, int K, int N, bool B_K_MAJOR, class T>
TILEC_DEVICE void gemm_rs_sm90(const uint32_t (&a)[K / 16][4], uint32_t b_tile, int n0, float (&acc)[N / 2],
                               int accumulate) {
    detail::gemm_sm90_check<64, TILE_N, K, N, true, B_K_MAJOR, T>();
    warpgroup_fence_operand(acc);
    wgmma_fence_sync_aligned();
#pragma unroll
    for (int s = 0; s < K / 16; ++s) {
        uint64_t db;
        if constexpr (B_K_MAJOR) {
            db = wgmma_desc_k_major<TILE_N, K, 2>(b_tile, n0, s);
        } else {
            db = wgmma_desc_mn_major<K, TILE_N>(b_tile, n0, s);
        }
        wgmma_m64nNk16_rs<N, T, B_K_MAJOR ? 0 : 1>(acc, a[s], db, (s > 0 || accumulate) ? 1 : 0);
    }
    wgmma_commit_group_sync_aligned();
    warpgroup_fence_operand(acc);
}

}  // namespace tilec
