/**
 * @file gemm_sm80.cuh
 * @brief Block-level tensor-core GEMM on swizzled shared-memory tiles (ldmatrix + mma.sync
 *        m16n8k16), for sm_80, sm_86, sm_89, sm_90 (without wgmma) and sm_120.
 *
 * Contract shared with the Python code generator (it reads and writes the fragments element-wise):
 *
 *   Threads: WARP_M * WARP_N warps, linear id threadIdx.x. warp = tid / 32, lane = tid % 32,
 *   warp_m = warp % WARP_M, warp_n = warp / WARP_M. Each warp owns a WM x WN tile of C, WM = M / WARP_M
 *   (a multiple of 16) and WN = N / WARP_N (a multiple of 8); K is a multiple of 16.
 *
 *   Shared tiles (tilec::SmemTile layouts, 16-byte aligned base pointers):
 *     A: M x K at As[SmemTile<M, K, 2>::offset(m, k)], or K x M at SmemTile<K, M, 2>::offset(k, m) if TRANS_A
 *     B: K x N at Bs[SmemTile<K, N, 2>::offset(k, n)], or N x K at SmemTile<N, K, 2>::offset(n, k) if TRANS_B
 *
 *   Accumulator, float acc[(WM/16) * (WN/8) * 4] per thread, the m16n8 C fragment repeated over the
 *   warp tile: acc[(i * (WN/8) + j) * 4 + v] = C[row][col] with
 *     row = warp_m * WM + i * 16 + lane / 4 + 8 * (v / 2),   col = warp_n * WN + j * 8 + (lane % 4) * 2 + v % 2.
 *
 *   gemm_rs register A, TA a_frag[(WM/16) * (K/8) * 4] per thread, the same mapping over an M x K tile:
 *   a_frag[(i * (K/8) + j) * 4 + v] = A[row][k], row as above, k = j * 8 + (lane % 4) * 2 + v % 2.
 *
 * Operand fetch. Every operand goes through one ldmatrix per 8x8 block pair, reading the swizzled tile
 * directly (the swizzle moves whole 16-byte chunks, so each ldmatrix row stays one contiguous chunk):
 *   A  (M x K):  ldmatrix.x4;        lane l addresses row m0 + l % 16,            col k0 + (l / 16) * 8
 *   A^T (K x M): ldmatrix.x4.trans;  lane l addresses row k0 + l % 8 + (l/16)*8,  col m0 + ((l / 8) % 2) * 8
 *   B  (K x N):  ldmatrix.x4.trans;  lane l addresses row k0 + l % 8 + ((l/8)%2)*8, col n0 + (l / 16) * 8
 *   B^T (N x K): ldmatrix.x4;        lane l addresses row n0 + l % 8 + (l/16)*8,  col k0 + ((l / 8) % 2) * 8
 * One x4 yields a whole m16k16 A fragment, or the k16 B fragments of two adjacent n8 blocks (an odd
 * last block uses .x2). The fragments of k-step kk + 1 are loaded before the mmas of step kk (double
 * buffering) so that shared-memory latency overlaps the tensor-core work.
 */
#pragma once

#include "common.cuh"
#include "ldmatrix.cuh"
#include "mma.cuh"
#include "smem.cuh"

namespace tilec {

/// Compile-time shape checks shared by gemm_ss and gemm_rs; each failure names the violated rule.
template <int M, int N, int K, int WARP_M, int WARP_N, typename TA, typename TB>
TILEC_DEVICE constexpr void gemm_sm80_check_shapes() {
    static_assert(WARP_M >= 1 && WARP_N >= 1, "gemm_sm80: WARP_M and WARP_N must be >= 1");
    static_assert(M % (16 * WARP_M) == 0,
                  "gemm_sm80: M must be a multiple of 16 * WARP_M (each warp's rows are m16 "
                  "mma tiles)");
    static_assert(N % (8 * WARP_N) == 0,
                  "gemm_sm80: N must be a multiple of 8 * WARP_N (each warp's columns are n8 "
                  "mma tiles)");
    static_assert(K % 16 == 0, "gemm_sm80: K must be a multiple of 16 (the mma k-step)");
    static_assert(std::is_same_v<TA, TB>, "gemm_sm80: A and B must have the same element type");
    static_assert(is_b16_float<TA>, "gemm_sm80: operands must be half_t or bfloat16_t (fp32 accumulation)");
}

namespace detail {

template <int M, int N, int K, int WARP_M, int WARP_N, bool TRANS_A, bool TRANS_B, typename T>
struct GemmSm80 {
    static constexpr int kWM = M / WARP_M;
    static constexpr int kWN = N / WARP_N;
    static constexpr int kMI = kWM / 16;  ///< m16 tiles per warp
    static constexpr int kNJ = kWN / 8;   ///< n8 tiles per warp
    static constexpr int kKSteps = K / 16;
    static constexpr int kAccSize = kMI * kNJ * 4;

    using TileA = std::conditional_t<TRANS_A, SmemTile<K, M, 2>, SmemTile<M, K, 2>>;
    using TileB = std::conditional_t<TRANS_B, SmemTile<N, K, 2>, SmemTile<K, N, 2>>;

    struct FragB {
        uint32_t r[kNJ][2];
    };
    struct FragA {
        uint32_t r[kMI][4];
    };

    /// Byte address of A's m16 x k16 block (i, kk) row for this lane (see the file comment's table).
    TILEC_DEVICE static uint32_t a_addr(uint32_t base, int m0, int kk, int lane) {
        if constexpr (!TRANS_A) {
            return base + 2u * TileA::offset(m0 + lane % 16, kk * 16 + (lane / 16) * 8);
        } else {
            return base + 2u * TileA::offset(kk * 16 + lane % 8 + (lane / 16) * 8, m0 + ((lane / 8) % 2) * 8);
        }
    }

    /// Byte address of B's k16 x n16 block (k-step kk, columns n0..n0+15) row for this lane. For the
    /// .x2 tail only lanes 0..15 matter, and their addresses coincide with the x4 ones.
    TILEC_DEVICE static uint32_t b_addr(uint32_t base, int n0, int kk, int lane) {
        if constexpr (!TRANS_B) {
            return base + 2u * TileB::offset(kk * 16 + lane % 8 + ((lane / 8) % 2) * 8, n0 + (lane / 16) * 8);
        } else {
            return base + 2u * TileB::offset(n0 + lane % 8 + (lane / 16) * 8, kk * 16 + ((lane / 8) % 2) * 8);
        }
    }

    TILEC_DEVICE static void load_a(FragA& a, uint32_t base, int m_warp, int kk, int lane) {
#pragma unroll
        for (int i = 0; i < kMI; ++i) {
            const uint32_t addr = a_addr(base, m_warp + i * 16, kk, lane);
            // Matrices: 0 = (m0, k0), 1 = (m0 + 8, k0), 2 = (m0, k0 + 8), 3 = (m0 + 8, k0 + 8) = a0..a3.
            if constexpr (!TRANS_A) {
                ldmatrix_sync_aligned_m8n8_x4_shared_b16(a.r[i][0], a.r[i][1], a.r[i][2], a.r[i][3], addr);
            } else {
                ldmatrix_sync_aligned_m8n8_x4_trans_shared_b16(a.r[i][0], a.r[i][1], a.r[i][2], a.r[i][3], addr);
            }
        }
    }

    TILEC_DEVICE static void load_b(FragB& b, uint32_t base, int n_warp, int kk, int lane) {
#pragma unroll
        for (int j = 0; j + 1 < kNJ; j += 2) {
            const uint32_t addr = b_addr(base, n_warp + j * 8, kk, lane);
            // Matrices: 0 = (k0, n0), 1 = (k0 + 8, n0), 2 = (k0, n0 + 8), 3 = (k0 + 8, n0 + 8).
            if constexpr (!TRANS_B) {
                ldmatrix_sync_aligned_m8n8_x4_trans_shared_b16(b.r[j][0], b.r[j][1], b.r[j + 1][0], b.r[j + 1][1],
                                                               addr);
            } else {
                ldmatrix_sync_aligned_m8n8_x4_shared_b16(b.r[j][0], b.r[j][1], b.r[j + 1][0], b.r[j + 1][1], addr);
            }
        }
        if constexpr (kNJ % 2 == 1) {
            constexpr int j = kNJ - 1;
            const uint32_t addr = b_addr(base, n_warp + j * 8, kk, lane);
            if constexpr (!TRANS_B) {
                ldmatrix_sync_aligned_m8n8_x2_trans_shared_b16(b.r[j][0], b.r[j][1], addr);
            } else {
                ldmatrix_sync_aligned_m8n8_x2_shared_b16(b.r[j][0], b.r[j][1], addr);
            }
        }
    }

    /// One k16 step over the warp tile: kMI x kNJ mmas. The j order snakes with i so that consecutive
    /// mmas share an operand register (as CUTLASS does); it does not change any result.
    TILEC_DEVICE static void mma_step(float* acc, const FragA& a, const FragB& b) {
#pragma unroll
        for (int i = 0; i < kMI; ++i) {
#pragma unroll
            for (int jj = 0; jj < kNJ; ++jj) {
                const int j = (i % 2 == 0) ? jj : kNJ - 1 - jj;
                float(&c)[4] = *reinterpret_cast<float(*)[4]>(acc + (i * kNJ + j) * 4);
                mma_m16n8k16_f32<T>(c, a.r[i], b.r[j], c);
            }
        }
    }
};

}  // namespace detail

/// acc += op(A) @ op(B) for shared-memory tiles As and Bs (see the file comment for layouts and the
/// accumulator mapping). All threads of the block call it with the same arguments; it does not
/// synchronize (the caller's barrier must make the tiles visible before, and protect them after).
template <int M, int N, int K, int WARP_M, int WARP_N, bool TRANS_A, bool TRANS_B, typename TA, typename TB>
TILEC_DEVICE void gemm_ss(const TA* As, const TB* Bs, float* acc) {
    gemm_sm80_check_shapes<M, N, K, WARP_M, WARP_N, TA, TB>();
    using G = detail::GemmSm80<M, N, K, WARP_M, WARP_N, TRANS_A, TRANS_B, TA>;

    const int lane = threadIdx.x % 32;
    const int warp = threadIdx.x / 32;
    const int m_warp = (warp % WARP_M) * G::kWM;
    const int n_warp = (warp / WARP_M) * G::kWN;
    const uint32_t a_base = smem_u32addr(As);
    const uint32_t b_base = smem_u32addr(Bs);

    typename G::FragA a[2];
    typename G::FragB b[2];
    G::load_a(a[0], a_base, m_warp, 0, lane);
    G::load_b(b[0], b_base, n_warp, 0, lane);
#pragma unroll
    for (int kk = 0; kk < G::kKSteps; ++kk) {
        if (kk + 1 < G::kKSteps) {
            G::load_a(a[(kk + 1) % 2], a_base, m_warp, kk + 1, lane);
            G::load_b(b[(kk + 1) % 2], b_base, n_warp, kk + 1, lane);
        }
        G::mma_step(acc, a[kk % 2], b[kk % 2]);
    }
}

/// acc += A @ op(B) with A already in registers (a_frag, the accumulator mapping over an M x K tile;
/// e.g. attention's P = softmax(S) converted to 16 bits in place). WARP_N must be 1, since each warp
/// holds whole rows of A. B is read from shared memory as in gemm_ss.
template <int M, int N, int K, int WARP_M, int WARP_N, bool TRANS_B, typename TA, typename TB>
TILEC_DEVICE void gemm_rs(const TA* a_frag, const TB* Bs, float* acc) {
    static_assert(WARP_N == 1, "gemm_rs needs WARP_N == 1 (each warp must own whole rows of the register A)");
    gemm_sm80_check_shapes<M, N, K, WARP_M, WARP_N, TA, TB>();
    using G = detail::GemmSm80<M, N, K, WARP_M, WARP_N, false, TRANS_B, TA>;
    constexpr int kKB = K / 8;  // k8 column blocks of a_frag per m16 row block

    const int lane = threadIdx.x % 32;
    const uint32_t b_base = smem_u32addr(Bs);
    constexpr int n_warp = 0;

    // Pack all of A into .b16x2 registers up front: a 16-bit value still takes a whole 32-bit register,
    // so packing early halves A's register footprint for the rest of the gemm. The mma A fragment of
    // (i, kk) is then the 8 consecutive values from (i * kKB + 2 * kk) * 4: {(row, k), (row, k+1)} = a0,
    // {(row+8, k), (row+8, k+1)} = a1, and the same at k + 8 = a2, a3.
    typename G::FragA a[G::kKSteps];
#pragma unroll
    for (int kk = 0; kk < G::kKSteps; ++kk) {
#pragma unroll
        for (int i = 0; i < G::kMI; ++i) {
            const TA* f = a_frag + (i * kKB + 2 * kk) * 4;
#pragma unroll
            for (int r = 0; r < 4; ++r) {
                a[kk].r[i][r] = pack_b16x2(f[2 * r], f[2 * r + 1]);
            }
        }
    }

    typename G::FragB b[2];
    G::load_b(b[0], b_base, n_warp, 0, lane);
#pragma unroll
    for (int kk = 0; kk < G::kKSteps; ++kk) {
        if (kk + 1 < G::kKSteps) {
            G::load_b(b[(kk + 1) % 2], b_base, n_warp, kk + 1, lane);
        }
        G::mma_step(acc, a[kk], b[kk % 2]);
    }
}

}  // namespace tilec
