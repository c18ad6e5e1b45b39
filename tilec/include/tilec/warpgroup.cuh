/**
 * @file warpgroup.cuh
 * @brief Warpgroup roles for warp-specialized kernels (sm_90+): warpgroup indices, one-lane election, named
 *        barriers among a subset of warps, and the register reallocation between warpgroups (setmaxnreg,
 *        sm_90a only).
 *
 * A warpgroup is 4 consecutive warps: warpgroup w = threads 128w .. 128w + 127 of a 1-D block. A
 * warp-specialized kernel gives one warpgroup the producer role (TMA issue, few registers) and the others the
 * consumer role (wgmma, many registers). setmaxnreg moves registers between them at run time: the kernel is
 * launched with the per-thread count its __launch_bounds__ allow (65536 / threads, rounded down to a multiple
 * of 8), then the producer warpgroup releases registers with setmaxnreg_dec and the consumers claim them with
 * setmaxnreg_inc. The counts must fit the SM's register file: e.g. with 384 threads (168 each at launch),
 * 1 producer at 40 + 2 consumers at 232 = 128 * (40 + 2 * 232) = 64512 <= 65536.
 */
#pragma once

#include "common.cuh"

namespace tilec {

/// The warpgroup index of this thread in a 1-D block, as a warp-uniform value (the shuffle tells the
/// compiler so, which keeps role branches free of divergence handling).
TILEC_DEVICE int warpgroup_index() { return __shfl_sync(0xffffffffu, static_cast<int>(threadIdx.x) / 128, 0); }

/// The thread's index inside its warpgroup, 0..127.
TILEC_DEVICE int warpgroup_thread_index() { return static_cast<int>(threadIdx.x) % 128; }

/// The warp's index inside its warpgroup, 0..3 (warp-uniform).
TILEC_DEVICE int warpgroup_warp_index() { return __shfl_sync(0xffffffffu, static_cast<int>(threadIdx.x) / 32 % 4, 0); }

/// Named barrier `id` (1..15; 0 is __syncthreads) over `num_threads` threads (a multiple of 32): the warps of
/// some warpgroups synchronize without stopping the others.
TILEC_DEVICE void bar_sync(int id, int num_threads) {
    asm volatile("bar.sync %0, %1;\n" ::"r"(id), "r"(num_threads) : "memory");
}

/// bar_sync under the name generated code uses (the consumers' __syncthreads in a warp-specialized kernel).
TILEC_DEVICE void named_barrier_sync(int id, int num_threads) { bar_sync(id, num_threads); }

/// Arrives at named barrier `id` without waiting (the producer side of a bar_sync on the same id and count).
TILEC_DEVICE void bar_arrive(int id, int num_threads) {
    asm volatile("bar.arrive %0, %1;\n" ::"r"(id), "r"(num_threads) : "memory");
}

/// Ping-pong scheduling of GROUPS consumer warpgroups (threads 0 .. 128 * GROUPS - 1) around their tensor-core
/// work: each T.gemm of a warp-specialized loop runs between pingpong_enter and pingpong_leave, and the warpgroups
/// take turns in a fixed cycle 0, 1, .., GROUPS-1, 0, .. — while one issues its wgmmas the others run their softmax
/// (CUDA cores), instead of all of them contending for the tensor cores at once. Warpgroup g waits at named barrier
/// kPingpongBarrier + g (256 threads: its own 128 and the 128 of warpgroup g - 1, which arrive when their turn
/// ends). pingpong_start lets warpgroup 0 go first. Every warpgroup must enter the same number of times.
constexpr int kPingpongBarrier = 2;  // named barriers 2 .. 2 + GROUPS - 1 (1 is the consumers' __syncthreads)

template <int GROUPS>
TILEC_DEVICE void pingpong_start() {
    if (warpgroup_index() == GROUPS - 1) bar_arrive(kPingpongBarrier, 256);
}

template <int GROUPS>
TILEC_DEVICE void pingpong_enter() {
    bar_sync(kPingpongBarrier + warpgroup_index(), 256);
}

template <int GROUPS>
TILEC_DEVICE void pingpong_leave() {
    bar_arrive(kPingpongBarrier + (warpgroup_index() + 1) % GROUPS, 256);
}

#if TILEC_ARCH_BELOW(900)

TILEC_ARCH_UNSUPPORTED(elect_one_sync, "elect.sync", "sm_90")

#else

/// True in exactly one active lane of the warp (the same lane for all callers of one call), false elsewhere;
/// all active lanes must call it together.
TILEC_DEVICE bool elect_one_sync() {
    uint32_t elected;
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        ".reg .b32 lane;\n"
        "elect.sync lane|p, 0xffffffff;\n"
        "selp.u32 %0, 1, 0, p;\n"
        "}\n"
        : "=r"(elected));
    return elected != 0;
}

#endif

#if TILEC_ARCH_NOT_SM90A

TILEC_ARCH_UNSUPPORTED_EXACT(setmaxnreg_inc_sync_aligned_u32, "setmaxnreg.inc.sync.aligned.u32", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(setmaxnreg_dec_sync_aligned_u32, "setmaxnreg.dec.sync.aligned.u32", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(setmaxnreg_inc, "setmaxnreg.inc.sync.aligned.u32", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(setmaxnreg_dec, "setmaxnreg.dec.sync.aligned.u32", "sm_90a")

#else

/// Raises this warpgroup's per-thread register limit to N (all 128 threads must execute it; blocks until the
/// registers are available, i.e. until other warpgroups have released theirs).
template <int N>
TILEC_DEVICE void setmaxnreg_inc_sync_aligned_u32() {
    static_assert(N >= 24 && N <= 256 && N % 8 == 0, "setmaxnreg: N must be a multiple of 8 in 24..256");
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(N));
}

/// Lowers this warpgroup's per-thread register limit to N, returning the rest to the SM's pool.
template <int N>
TILEC_DEVICE void setmaxnreg_dec_sync_aligned_u32() {
    static_assert(N >= 24 && N <= 256 && N % 8 == 0, "setmaxnreg: N must be a multiple of 8 in 24..256");
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(N));
}

/// Short names generated code uses.
template <int N>
TILEC_DEVICE void setmaxnreg_inc() {
    setmaxnreg_inc_sync_aligned_u32<N>();
}
template <int N>
TILEC_DEVICE void setmaxnreg_dec() {
    setmaxnreg_dec_sync_aligned_u32<N>();
}

#endif

}  // namespace tilec
