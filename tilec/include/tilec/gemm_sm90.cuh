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
 * width 64 for MN-major A; likewise n0). The contiguous dimension of every operand tile must span 32, 64 or a
 * multiple of 128 bytes (a compile error says so otherwise): for 16-bit types K in {16, 32} or K % 64 == 0 for
 * K-major tiles, TILE_M / TILE_N in {16, 32} or a multiple of 64 for MN-major tiles (pad the tile, not N). Any
 * N % 8 == 0 up to 256 is issued as chunks of the generated m64nNk16 shapes.
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
 * gemm_ss_sm90 / gemm_rs_sm90 only issue: they fence the accumulators, issue the wgmmas, and commit them as one
 * group. The caller waits (wgmma_wait_group_sync_aligned<n>() then warpgroup_fence_operand(acc)) before it reads
 * acc or lets the tiles be overwritten; the operands must be visible to the async proxy before the call (a TMA
 * load whose mbarrier phase the warpgroup observed, or st.shared followed by fence_proxy_async_shared_cta()).
 * With accumulate = 0 the old acc values are ignored by the hardware but still read by the asm: declare acc
 * once (outside the tile loop) or zero it, so that ptxas does not materialize undefined values in local memory.
 * ptxas plans one wgmma register pipeline per kernel: if its -v report says "wgmma.mma_async instructions are
 * serialized", the accumulators live at once exceed the budget (tests/cpu/test_headers_sm90_compile.py fails
 * on it for the reference kernel).
 */
#pragma once

#include "common.cuh"
#include "smem.cuh"
#include "warpgroup.cuh"
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

/// The widest generated wgmma N (kWgmmaNValues) that fits `remaining` columns. For an MN-major B every chunk
/// but the last is a multiple of 64, so that the next chunk starts on a 64-column swizzle panel.
template <bool MN_MAJOR>
TILEC_HOST_DEVICE constexpr int wgmma_chunk_n(int remaining) {
    constexpr int kCount = static_cast<int>(sizeof(kWgmmaNValues) / sizeof(kWgmmaNValues[0]));
    for (int i = kCount - 1; i >= 0; --i) {
        const int n = kWgmmaNValues[i];
        if (n <= remaining && (!MN_MAJOR || n % 64 == 0 || n == remaining)) {
            return n;
        }
    }
    return 0;
}

/// Calls f(integral_constant<N0>, integral_constant<NC>) for the chunks [N0, N0 + NC) that cover N columns.
template <int N0, int REMAINING, bool MN_MAJOR, class F>
TILEC_DEVICE void for_each_wgmma_n_chunk(F&& f) {
    if constexpr (REMAINING > 0) {
        constexpr int kChunk = wgmma_chunk_n<MN_MAJOR>(REMAINING);
        static_assert(kChunk > 0, "gemm_sm90: no generated wgmma N fits (internal error, please report)");
        f(std::integral_constant<int, N0>{}, std::integral_constant<int, kChunk>{});
        for_each_wgmma_n_chunk<N0 + kChunk, REMAINING - kChunk, MN_MAJOR>(f);
    }
}

/// Descriptor of k16 step `s` of an operand tile (K-major: ROWS x K; MN-major: K x ROWS) from step 0's (`base`):
/// one add of a compile-time offset, where encoding each step's address cost the uniform datapath an add, two masks
/// and a shift per wgmma (H200: attention d128 1.006x vs 0.976x cuDNN with this,
/// bench/results/2026-12-02-h200-attention-sm90a-jit-desc-d128.json).
template <bool K_MAJOR, int ROWS, int K>
TILEC_DEVICE uint64_t wgmma_step_desc(uint64_t base, int s) {
    if constexpr (K_MAJOR) {
        return wgmma_desc_advance(base, wgmma_k_major_step_bytes<ROWS, K, 2>(s));
    } else {
        return wgmma_desc_advance(base, wgmma_mn_major_step_bytes<K, ROWS>(s));
    }
}

/// Step 0's descriptor of an operand tile (K-major: ROWS x K; MN-major: K x ROWS), rows / columns from rc0.
template <bool K_MAJOR, int ROWS, int K>
TILEC_DEVICE uint64_t wgmma_base_desc(uint32_t tile, int rc0) {
    if constexpr (K_MAJOR) {
        return wgmma_desc_k_major<ROWS, K, 2>(tile, rc0, 0);
    } else {
        return wgmma_desc_mn_major<K, ROWS>(tile, rc0, 0);
    }
}

/// Issues (no fence, no commit) the K / 16 x N-chunk wgmmas of acc (+)= A[m0 : m0 + 64, :] @ B[:, n0 : n0 + N].
template <int TILE_M, int TILE_N, int K, int N, bool A_K_MAJOR, bool B_K_MAJOR, class T>
TILEC_DEVICE void wgmma_issue_ss(uint32_t a_tile, int m0, uint32_t b_tile, int n0, float* acc, bool accumulate) {
    const uint64_t da0 = wgmma_base_desc<A_K_MAJOR, TILE_M, K>(a_tile, m0);
#pragma unroll
    for (int s = 0; s < K / 16; ++s) {
        const uint64_t da = wgmma_step_desc<A_K_MAJOR, TILE_M, K>(da0, s);
        const int scale_d = (s > 0 || accumulate) ? 1 : 0;
        for_each_wgmma_n_chunk<0, N, !B_K_MAJOR>([&](auto c0, auto cn) {
            constexpr int kN0 = decltype(c0)::value, kNC = decltype(cn)::value;
            const uint64_t db0 = wgmma_base_desc<B_K_MAJOR, TILE_N, K>(b_tile, n0 + kN0);
            const uint64_t db = wgmma_step_desc<B_K_MAJOR, TILE_N, K>(db0, s);
            float(&d)[kNC / 2] = *reinterpret_cast<float(*)[kNC / 2]>(acc + kN0 / 2);
            wgmma_m64nNk16_ss<kNC, T, A_K_MAJOR ? 0 : 1, B_K_MAJOR ? 0 : 1>(d, da, db, scale_d);
        });
    }
}

/// As wgmma_issue_ss with A from registers: a[s] is the k16 step s fragment.
template <int TILE_N, int K, int N, bool B_K_MAJOR, class T>
TILEC_DEVICE void wgmma_issue_rs(const uint32_t (&a)[K / 16][4], uint32_t b_tile, int n0, float* acc, bool accumulate) {
#pragma unroll
    for (int s = 0; s < K / 16; ++s) {
        const int scale_d = (s > 0 || accumulate) ? 1 : 0;
        for_each_wgmma_n_chunk<0, N, !B_K_MAJOR>([&](auto c0, auto cn) {
            constexpr int kN0 = decltype(c0)::value, kNC = decltype(cn)::value;
            const uint64_t db0 = wgmma_base_desc<B_K_MAJOR, TILE_N, K>(b_tile, n0 + kN0);
            const uint64_t db = wgmma_step_desc<B_K_MAJOR, TILE_N, K>(db0, s);
            float(&d)[kNC / 2] = *reinterpret_cast<float(*)[kNC / 2]>(acc + kN0 / 2);
            wgmma_m64nNk16_rs<kNC, T, B_K_MAJOR ? 0 : 1>(d, a[s], db, scale_d);
        });
    }
}

/// Packs the register A of one m64 slab (values in the accumulator mapping over 64 x K, as T) into the wgmma A
/// fragments of its k16 steps: step s takes the 8 values from 4 * (K / 8) * slab + 8 s.
template <int K, class T>
TILEC_DEVICE void wgmma_pack_a(const T* slab_values, uint32_t (&a)[K / 16][4]) {
#pragma unroll
    for (int s = 0; s < K / 16; ++s) {
#pragma unroll
        for (int r = 0; r < 4; ++r) {
            a[s][r] = pack_b16x2(slab_values[8 * s + 2 * r], slab_values[8 * s + 2 * r + 1]);
        }
    }
}

}  // namespace detail

/// acc (+)= A[m0 : m0 + 64, :] @ B[:, n0 : n0 + N] over the whole K of the tiles, A and B in shared memory
/// (layouts in the file comment; a_tile / b_tile are 32-bit shared addresses aligned to the swizzle repeat).
/// accumulate = 0 overwrites acc (first k-block of a tile), else adds. Issues the wgmmas as one commit group
/// and returns without waiting (the caller waits; see the file comment). Any N % 8 == 0 up to 256 works: N is
/// issued as chunks of the generated m64nNk16 shapes.
template <int TILE_M, int TILE_N, int K, int N, bool A_K_MAJOR, bool B_K_MAJOR, class T>
TILEC_DEVICE void gemm_ss_sm90(uint32_t a_tile, int m0, uint32_t b_tile, int n0, float (&acc)[N / 2], int accumulate) {
    detail::gemm_sm90_check<TILE_M, TILE_N, K, N, A_K_MAJOR, B_K_MAJOR, T>();
    warpgroup_fence_operand(acc);
    wgmma_fence_sync_aligned();
    detail::wgmma_issue_ss<TILE_M, TILE_N, K, N, A_K_MAJOR, B_K_MAJOR, T>(a_tile, m0, b_tile, n0, acc, accumulate != 0);
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
    detail::wgmma_issue_rs<TILE_N, K, N, B_K_MAJOR, T>(a, b_tile, n0, acc, accumulate != 0);
    wgmma_commit_group_sync_aligned();
    warpgroup_fence_operand(acc);
}

// ---------------------------------------------------------------------------------------------------
// T.gemm as generated code calls it (tilec/transform/lower_tma.py): block-level and synchronous. GROUPS
// consumer warpgroups (threads 0 .. 128 GROUPS - 1) split the M x N tile by rows: warpgroup g owns rows
// g WM .. (g + 1) WM - 1, WM = M / GROUPS, as WM / 64 m64 slabs. The accumulator is
// tilec.layout.fragment.wgmma_acc: float acc[(WM / 64) * N / 2], slab i at acc + i * N / 2 in the contract
// above (m0 = g WM + 64 i, n0 = 0). TRANS_A / TRANS_B follow T.gemm (A is K x M / B is N x K when set); the
// tiles are SmemTile layouts as for gemm_sm80. The call waits for its wgmmas, so the stage's mbarrier may be
// released right after it (a kernel that overlaps the next k-block uses gemm_ss_sm90 and waits itself).
// ---------------------------------------------------------------------------------------------------

/// wgmma_gemm_ss with WAIT commit groups left in flight when it returns (WAIT = -1: no wait at all, the caller
/// places a wgmma_wait<n>(acc, ...) before it touches acc). A mainloop keeps one k-step of wgmmas running
/// while it releases the previous stage; a scheduled attention loop overlaps softmax with the wgmmas.
template <int M, int N, int K, int GROUPS, bool TRANS_A, bool TRANS_B, bool CLEAR, class T, int WAIT>
TILEC_DEVICE void wgmma_gemm_ss_async(const T* As, const T* Bs, float* acc, bool clear = CLEAR) {
    static_assert(GROUPS >= 1 && M % (64 * GROUPS) == 0, "wgmma_gemm_ss_async: M must be a multiple of 64 * GROUPS");
    static_assert(WAIT >= -1 && WAIT <= 7, "wgmma_gemm_ss_async: WAIT must be in -1..7");
    detail::gemm_sm90_check<M, N, K, N, !TRANS_A, TRANS_B, T>();
    constexpr int kWM = M / GROUPS;
    constexpr int kSlabs = kWM / 64;
    float(&c)[kSlabs * N / 2] = *reinterpret_cast<float(*)[kSlabs * N / 2]>(acc);
    const int m_wg = warpgroup_index() * kWM;
    const uint32_t a_tile = smem_u32addr(As);
    const uint32_t b_tile = smem_u32addr(Bs);
    warpgroup_fence_operand(c);
    wgmma_fence_sync_aligned();
#pragma unroll
    for (int i = 0; i < kSlabs; ++i) {
        detail::wgmma_issue_ss<M, N, K, N, !TRANS_A, TRANS_B, T>(a_tile, m_wg + 64 * i, b_tile, 0, c + i * (N / 2),
                                                                !clear);
    }
    wgmma_commit_group_sync_aligned();
    if constexpr (WAIT >= 0) {
        wgmma_wait_group_sync_aligned<WAIT>();
    }
    warpgroup_fence_operand(c);
}

/// acc (+)= op(A) @ op(B) for the block tile (clear, default CLEAR: acc = op(A) @ op(B), a runtime choice through
/// the wgmmas' scale-d predicate); both operands in shared memory.
template <int M, int N, int K, int GROUPS, bool TRANS_A, bool TRANS_B, bool CLEAR, class T>
TILEC_DEVICE void wgmma_gemm_ss(const T* As, const T* Bs, float* acc, bool clear = CLEAR) {
    wgmma_gemm_ss_async<M, N, K, GROUPS, TRANS_A, TRANS_B, CLEAR, T, 0>(As, Bs, acc, clear);
}

/// acc (+)= A @ op(B) with A in registers: a_frag holds the warpgroup's rows of the M x K A as T values in the
/// wgmma_acc(M, K) fragment (e.g. a softmax'd S converted to 16 bits), B in shared memory. A is packed into
/// registers of the call before the issue, so a_frag may change as soon as it returns. WAIT as for
/// wgmma_gemm_ss_async.
template <int M, int N, int K, int GROUPS, bool TRANS_B, bool CLEAR, class T, int WAIT>
TILEC_DEVICE void wgmma_gemm_rs_async(const T* a_frag, const T* Bs, float* acc, bool clear = CLEAR) {
    static_assert(GROUPS >= 1 && M % (64 * GROUPS) == 0, "wgmma_gemm_rs: M must be a multiple of 64 * GROUPS");
    static_assert(WAIT >= -1 && WAIT <= 7, "wgmma_gemm_rs_async: WAIT must be in -1..7");
    detail::gemm_sm90_check<M, N, K, N, true, TRANS_B, T>();
    constexpr int kSlabs = M / GROUPS / 64;
    float(&c)[kSlabs * N / 2] = *reinterpret_cast<float(*)[kSlabs * N / 2]>(acc);
    const uint32_t b_tile = smem_u32addr(Bs);
    // Pack first: a 16-bit value still occupies a 32-bit register until packed.
    uint32_t a[kSlabs][K / 16][4];
#pragma unroll
    for (int i = 0; i < kSlabs; ++i) {
        detail::wgmma_pack_a<K, T>(a_frag + i * (K / 2), a[i]);
    }
    warpgroup_fence_operand(c);
    wgmma_fence_sync_aligned();
#pragma unroll
    for (int i = 0; i < kSlabs; ++i) {
        detail::wgmma_issue_rs<N, K, N, TRANS_B, T>(a[i], b_tile, 0, c + i * (N / 2), !clear);
    }
    wgmma_commit_group_sync_aligned();
    if constexpr (WAIT >= 0) {
        wgmma_wait_group_sync_aligned<WAIT>();
    }
    warpgroup_fence_operand(c);
}

template <int M, int N, int K, int GROUPS, bool TRANS_B, bool CLEAR, class T>
TILEC_DEVICE void wgmma_gemm_rs(const T* a_frag, const T* Bs, float* acc, bool clear = CLEAR) {
    wgmma_gemm_rs_async<M, N, K, GROUPS, TRANS_B, CLEAR, T, 0>(a_frag, Bs, acc, clear);
}

/// Waits until at most N of this warpgroup's wgmma commit groups are in flight; the accumulators of the ones
/// that completed may then be read (the fences make the compiler see them written here, not at the issue).
template <int N, class... Acc>
TILEC_DEVICE void wgmma_wait(Acc&... acc) {
    wgmma_wait_group_sync_aligned<N>();
    (warpgroup_fence_operand(acc), ...);
}

/// Waits for every wgmma of this warpgroup; afterwards acc may be read (the fence makes the compiler see it
/// written here, not at the issue).
template <int N>
TILEC_DEVICE void wgmma_wait_all(float (&acc)[N]) {
    wgmma_wait_group_sync_aligned<0>();
    warpgroup_fence_operand(acc);
}


}  // namespace tilec
