/**
 * @file codegen_sm90.cuh
 * @brief The block-level wgmma GEMM entry points generated sm_90a code calls (lower_tma.py): T.gemm on whole
 *        shared tiles with the accumulator as the flat wgmma_acc fragment array of tilec/layout/fragment.py.
 *        (The mbarrier, TMA and setmaxnreg entry points live with their instructions, in sm90.cuh's headers.)
 */
#pragma once

#include "sm90.cuh"

namespace tilec {

/// C (M x N, the wgmma_acc fragment of tilec/layout/fragment.py) (+)= A @ B over one K tile, GROUPS consumer
/// warpgroups each owning M / GROUPS rows as 64-row slabs; waits for its wgmmas before returning, so the
/// caller may release the stage right after. A: M x K (K x M if TRANS_A), B: K x N (N x K if TRANS_B).
template <int M, int N, int K, int GROUPS, bool TRANS_A, bool TRANS_B, bool CLEAR, class T>
TILEC_DEVICE void wgmma_gemm_ss(const T* a, const T* b, float* acc) {
    constexpr int WM = M / GROUPS;
    static_assert(WM % 64 == 0, "wgmma_gemm_ss: each warpgroup needs whole 64-row slabs");
    const int g = static_cast<int>(threadIdx.x) / 128;
    const uint32_t a_addr = smem_u32addr(a), b_addr = smem_u32addr(b);
#pragma unroll
    for (int i = 0; i < WM / 64; ++i) {
        float(&slab)[N / 2] = *reinterpret_cast<float(*)[N / 2]>(acc + i * (N / 2));
        gemm_ss_sm90<M, N, K, N, !TRANS_A, TRANS_B, T>(a_addr, g * WM + i * 64, b_addr, 0, slab, CLEAR ? 0 : 1);
    }
    wgmma_wait_group_sync_aligned<0>();
#pragma unroll
    for (int i = 0; i < WM / 64; ++i) {
        float(&slab)[N / 2] = *reinterpret_cast<float(*)[N / 2]>(acc + i * (N / 2));
        warpgroup_fence_operand(slab);
    }
}

/// As wgmma_gemm_ss with A in registers: `a` is the wgmma_acc-layout M x K fragment of 16-bit values (its
/// consecutive pairs are exactly the packed registers of the wgmma A operand).
template <int M, int N, int K, int GROUPS, bool TRANS_B, bool CLEAR, class T>
TILEC_DEVICE void wgmma_gemm_rs(const T* a, const T* b, float* acc) {
    static_assert(M / GROUPS == 64, "wgmma_gemm_rs: one 64-row slab per warpgroup");
    const auto& a_regs = *reinterpret_cast<const uint32_t(*)[K / 16][4]>(a);
    float(&slab)[N / 2] = *reinterpret_cast<float(*)[N / 2]>(acc);
    gemm_rs_sm90<N, K, N, TRANS_B, T>(a_regs, smem_u32addr(b), 0, slab, CLEAR ? 0 : 1);
    wgmma_wait_group_sync_aligned<0>();
    warpgroup_fence_operand(slab);
}

}  // namespace tilec
