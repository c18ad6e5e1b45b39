/**
 * @file ldmatrix.cuh
 * @brief Warp-collective 8x8 b16 matrix loads from shared memory (ldmatrix, sm_75+) and stores to it
 *        (stmatrix, sm_90+).
 *
 * Fragment layout (PTX "Warp-level matrix load instruction: ldmatrix"): for .xN, lanes 8q..8q+7
 * supply the row addresses of matrix q (one 16-byte row each; for .x1/.x2 the addresses of lanes
 * 8N..31 are ignored), and lane t receives in register q the two b16 elements (row t/4, columns
 * 2*(t%4) and 2*(t%4)+1) of matrix q, the lower column in the low half. With .trans lane t receives
 * (rows 2*(t%4) and 2*(t%4)+1, column t/4) instead, i.e. the fragment of the transposed matrix.
 * That per-lane pair is exactly one mma.sync m16n8k16 operand register, which is why the gemm needs no
 * shuffles. stmatrix is the inverse mapping.
 *
 * Addresses are 32-bit shared-window addresses (tilec::smem_u32addr); each row must be 16-byte
 * aligned. The loads carry a "memory" clobber so that they stay ordered after the barrier that made the
 * tile visible, and the stores so that later shared-memory reads are not hoisted above them.
 */
#pragma once

#include "common.cuh"

namespace tilec {

#if TILEC_ARCH_BELOW(750)

TILEC_ARCH_UNSUPPORTED(ldmatrix_sync_aligned_m8n8_x1_shared_b16, "ldmatrix.sync.aligned.m8n8.x1.shared.b16", "sm_75")
TILEC_ARCH_UNSUPPORTED(ldmatrix_sync_aligned_m8n8_x2_shared_b16, "ldmatrix.sync.aligned.m8n8.x2.shared.b16", "sm_75")
TILEC_ARCH_UNSUPPORTED(ldmatrix_sync_aligned_m8n8_x4_shared_b16, "ldmatrix.sync.aligned.m8n8.x4.shared.b16", "sm_75")
TILEC_ARCH_UNSUPPORTED(ldmatrix_sync_aligned_m8n8_x1_trans_shared_b16, "ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16",
                       "sm_75")
TILEC_ARCH_UNSUPPORTED(ldmatrix_sync_aligned_m8n8_x2_trans_shared_b16, "ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16",
                       "sm_75")
TILEC_ARCH_UNSUPPORTED(ldmatrix_sync_aligned_m8n8_x4_trans_shared_b16, "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16",
                       "sm_75")

#else

// Lane t receives (row t/4, cols 2*(t%4)+{0,1}) of matrix q in dq.
TILEC_DEVICE void ldmatrix_sync_aligned_m8n8_x1_shared_b16(uint32_t& d0, uint32_t smem_addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];\n" : "=r"(d0) : "r"(smem_addr) : "memory");
}
TILEC_DEVICE void ldmatrix_sync_aligned_m8n8_x2_shared_b16(uint32_t& d0, uint32_t& d1, uint32_t smem_addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n"
                 : "=r"(d0), "=r"(d1)
                 : "r"(smem_addr)
                 : "memory");
}
TILEC_DEVICE void ldmatrix_sync_aligned_m8n8_x4_shared_b16(uint32_t& d0, uint32_t& d1, uint32_t& d2, uint32_t& d3,
                                                           uint32_t smem_addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(d0), "=r"(d1), "=r"(d2), "=r"(d3)
                 : "r"(smem_addr)
                 : "memory");
}

// .trans: lane t receives (rows 2*(t%4)+{0,1}, col t/4) of matrix q in dq, e.g. the mma B operand
// of a K x N row-major tile.
TILEC_DEVICE void ldmatrix_sync_aligned_m8n8_x1_trans_shared_b16(uint32_t& d0, uint32_t smem_addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%0}, [%1];\n" : "=r"(d0) : "r"(smem_addr) : "memory");
}
TILEC_DEVICE void ldmatrix_sync_aligned_m8n8_x2_trans_shared_b16(uint32_t& d0, uint32_t& d1, uint32_t smem_addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];\n"
                 : "=r"(d0), "=r"(d1)
                 : "r"(smem_addr)
                 : "memory");
}
TILEC_DEVICE void ldmatrix_sync_aligned_m8n8_x4_trans_shared_b16(uint32_t& d0, uint32_t& d1, uint32_t& d2, uint32_t& d3,
                                                                 uint32_t smem_addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(d0), "=r"(d1), "=r"(d2), "=r"(d3)
                 : "r"(smem_addr)
                 : "memory");
}

#endif

#if TILEC_ARCH_BELOW(900)

TILEC_ARCH_UNSUPPORTED(stmatrix_sync_aligned_m8n8_x1_shared_b16, "stmatrix.sync.aligned.m8n8.x1.shared.b16", "sm_90")
TILEC_ARCH_UNSUPPORTED(stmatrix_sync_aligned_m8n8_x2_shared_b16, "stmatrix.sync.aligned.m8n8.x2.shared.b16", "sm_90")
TILEC_ARCH_UNSUPPORTED(stmatrix_sync_aligned_m8n8_x4_shared_b16, "stmatrix.sync.aligned.m8n8.x4.shared.b16", "sm_90")
TILEC_ARCH_UNSUPPORTED(stmatrix_sync_aligned_m8n8_x1_trans_shared_b16, "stmatrix.sync.aligned.m8n8.x1.trans.shared.b16",
                       "sm_90")
TILEC_ARCH_UNSUPPORTED(stmatrix_sync_aligned_m8n8_x2_trans_shared_b16, "stmatrix.sync.aligned.m8n8.x2.trans.shared.b16",
                       "sm_90")
TILEC_ARCH_UNSUPPORTED(stmatrix_sync_aligned_m8n8_x4_trans_shared_b16, "stmatrix.sync.aligned.m8n8.x4.trans.shared.b16",
                       "sm_90")

#else

// Lane t supplies (row t/4, cols 2*(t%4)+{0,1}) of matrix q in sq, e.g. an mma C fragment pair packed
// to b16x2; lanes 8q..8q+7 give the row addresses of matrix q, as for ldmatrix.
TILEC_DEVICE void stmatrix_sync_aligned_m8n8_x1_shared_b16(uint32_t smem_addr, uint32_t s0) {
    asm volatile("stmatrix.sync.aligned.m8n8.x1.shared.b16 [%0], {%1};\n" : : "r"(smem_addr), "r"(s0) : "memory");
}
TILEC_DEVICE void stmatrix_sync_aligned_m8n8_x2_shared_b16(uint32_t smem_addr, uint32_t s0, uint32_t s1) {
    asm volatile("stmatrix.sync.aligned.m8n8.x2.shared.b16 [%0], {%1, %2};\n"
                 :
                 : "r"(smem_addr), "r"(s0), "r"(s1)
                 : "memory");
}
TILEC_DEVICE void stmatrix_sync_aligned_m8n8_x4_shared_b16(uint32_t smem_addr, uint32_t s0, uint32_t s1, uint32_t s2,
                                                           uint32_t s3) {
    asm volatile("stmatrix.sync.aligned.m8n8.x4.shared.b16 [%0], {%1, %2, %3, %4};\n"
                 :
                 : "r"(smem_addr), "r"(s0), "r"(s1), "r"(s2), "r"(s3)
                 : "memory");
}

// .trans: lane t supplies (rows 2*(t%4)+{0,1}, col t/4) of matrix q.
TILEC_DEVICE void stmatrix_sync_aligned_m8n8_x1_trans_shared_b16(uint32_t smem_addr, uint32_t s0) {
    asm volatile("stmatrix.sync.aligned.m8n8.x1.trans.shared.b16 [%0], {%1};\n" : : "r"(smem_addr), "r"(s0) : "memory");
}
TILEC_DEVICE void stmatrix_sync_aligned_m8n8_x2_trans_shared_b16(uint32_t smem_addr, uint32_t s0, uint32_t s1) {
    asm volatile("stmatrix.sync.aligned.m8n8.x2.trans.shared.b16 [%0], {%1, %2};\n"
                 :
                 : "r"(smem_addr), "r"(s0), "r"(s1)
                 : "memory");
}
TILEC_DEVICE void stmatrix_sync_aligned_m8n8_x4_trans_shared_b16(uint32_t smem_addr, uint32_t s0, uint32_t s1,
                                                                 uint32_t s2, uint32_t s3) {
    asm volatile("stmatrix.sync.aligned.m8n8.x4.trans.shared.b16 [%0], {%1, %2, %3, %4};\n"
                 :
                 : "r"(smem_addr), "r"(s0), "r"(s1), "r"(s2), "r"(s3)
                 : "memory");
}

#endif

}  // namespace tilec
