/**
 * @file cp_async.cuh
 * @brief Asynchronous global -> shared copies (cp.async, sm_80+) and their group fences.
 *
 * A cp.async writes shared memory behind the thread's back: its data is visible to the issuing
 * thread only after a cp.async.wait_group / wait_all covering its commit group, and to other threads
 * only after that wait *and* a barrier (__syncthreads). Every wrapper here carries a "memory" clobber
 * so the compiler never moves ordinary shared-memory accesses across the issue or the wait.
 */
#pragma once

#include "common.cuh"

namespace tilec {

#if TILEC_ARCH_BELOW(800)

TILEC_ARCH_UNSUPPORTED(cp_async_cg_shared_global_16, "cp.async.cg.shared.global", "sm_80")
TILEC_ARCH_UNSUPPORTED(cp_async_ca_shared_global_4, "cp.async.ca.shared.global", "sm_80")
TILEC_ARCH_UNSUPPORTED(cp_async_ca_shared_global_8, "cp.async.ca.shared.global", "sm_80")
TILEC_ARCH_UNSUPPORTED(cp_async_ca_shared_global_16, "cp.async.ca.shared.global", "sm_80")
TILEC_ARCH_UNSUPPORTED(cp_async_commit_group, "cp.async.commit_group", "sm_80")
TILEC_ARCH_UNSUPPORTED(cp_async_wait_all, "cp.async.wait_all", "sm_80")
template <int N>
__device__ void cp_async_wait_group() {
    static_assert(detail::always_false_int<N>,
                  "cp.async.wait_group needs sm_80 or newer (compile with -arch=sm_80 "
                  "or a later target)");
}

#else

// The src-size operand implements zero-fill: with src_size < cp-size the remaining bytes of the
// destination are written as zeros, and with src_size == 0 nothing is read from global memory at all,
// so an out-of-range source address is harmless. Tiles at a tensor's edge use this instead of a
// branch, which keeps the copy loop uniform.

/// 16-byte copy that bypasses L1 (.cg caches in L2 only, the right policy for tiles streamed once per
/// block); writes 16 zero bytes instead when pred is false. smem and gmem must be 16-byte aligned.
TILEC_DEVICE void cp_async_cg_shared_global_16(uint32_t smem_addr, const void* gmem, bool pred = true) {
    const int src_size = pred ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr), "l"(gmem), "r"(src_size)
                 : "memory");
}
TILEC_DEVICE void cp_async_cg_shared_global_16(void* smem, const void* gmem, bool pred = true) {
    cp_async_cg_shared_global_16(smem_u32addr(smem), gmem, pred);
}

/// 4-byte copy cached in L1 and L2 (.cg allows only 16 bytes); zero-fills when pred is false.
TILEC_DEVICE void cp_async_ca_shared_global_4(uint32_t smem_addr, const void* gmem, bool pred = true) {
    const int src_size = pred ? 4 : 0;
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(smem_addr), "l"(gmem), "r"(src_size)
                 : "memory");
}
TILEC_DEVICE void cp_async_ca_shared_global_4(void* smem, const void* gmem, bool pred = true) {
    cp_async_ca_shared_global_4(smem_u32addr(smem), gmem, pred);
}

/// 8-byte copy cached in L1 and L2; zero-fills when pred is false. Both addresses 8-byte aligned.
TILEC_DEVICE void cp_async_ca_shared_global_8(uint32_t smem_addr, const void* gmem, bool pred = true) {
    const int src_size = pred ? 8 : 0;
    asm volatile("cp.async.ca.shared.global [%0], [%1], 8, %2;\n" ::"r"(smem_addr), "l"(gmem), "r"(src_size)
                 : "memory");
}
TILEC_DEVICE void cp_async_ca_shared_global_8(void* smem, const void* gmem, bool pred = true) {
    cp_async_ca_shared_global_8(smem_u32addr(smem), gmem, pred);
}

/// 16-byte copy cached in L1 and L2; zero-fills when pred is false. Both addresses 16-byte aligned.
TILEC_DEVICE void cp_async_ca_shared_global_16(uint32_t smem_addr, const void* gmem, bool pred = true) {
    const int src_size = pred ? 16 : 0;
    asm volatile("cp.async.ca.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr), "l"(gmem), "r"(src_size)
                 : "memory");
}
TILEC_DEVICE void cp_async_ca_shared_global_16(void* smem, const void* gmem, bool pred = true) {
    cp_async_ca_shared_global_16(smem_u32addr(smem), gmem, pred);
}

/// Closes the current group of this thread's cp.async operations (an empty group is allowed, which
/// keeps the group count of a software pipeline uniform in its prologue and epilogue).
TILEC_DEVICE void cp_async_commit_group() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

/// Waits until at most N of this thread's most recent commit groups are still in flight: with S
/// pipeline stages, wait_group<S - 2> frees the oldest stage while S - 2 stay in flight.
template <int N>
TILEC_DEVICE void cp_async_wait_group() {
    static_assert(N >= 0, "cp_async_wait_group<N>: N must be >= 0");
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

/// Waits for all of this thread's cp.async operations, committed or not.
TILEC_DEVICE void cp_async_wait_all() { asm volatile("cp.async.wait_all;\n" ::: "memory"); }

#endif

}  // namespace tilec
