/**
 * @file wgmma.cuh
 * @brief Warpgroup-level asynchronous tensor-core products (wgmma.mma_async, sm_90a only) and the shared-memory
 *        matrix descriptors they read their operands through.
 *
 * A warpgroup is 4 consecutive warps (128 threads, warpgroup w = threads 128w..128w+127) that issue one
 * wgmma.mma_async together: D (64 x N, fp32, in registers) (+)= A (64 x 16) @ B (16 x N). B always comes
 * from shared memory through a 64-bit descriptor; A from shared memory ("SS") or from registers ("RS").
 * The instruction is asynchronous: the sequence is
 *     warpgroup_fence_operand(acc); wgmma_fence_sync_aligned();   // registers written before are visible
 *     wgmma_m64nNk16_ss<...>(acc, ...) x k-steps;  wgmma_commit_group_sync_aligned();
 *     wgmma_wait_group_sync_aligned<n>();  warpgroup_fence_operand(acc);  // at most n groups still in flight
 * and neither the accumulators nor the shared-memory operands may be touched while a group is in flight.
 *
 * Register fragments (PTX "Matrix Fragments for wgmma.mma_async.m64nNk16"), for thread t of the warpgroup,
 * w = t / 32, g = (t % 32) / 4, q = t % 4:
 *   D, float d[N/2]: d[i] = D[row][col], row = 16 w + g + 8 ((i / 2) % 2), col = 8 (i / 4) + 2 q + (i % 2).
 *     (The m16n8 mma.sync C fragment, one 16-row slab per warp, repeated over the N/8 column blocks.)
 *   A (RS form), uint32_t a[4], each two 16-bit values with the lower k in the low half:
 *     a[r] holds A[row][k], A[row][k + 1] with row = 16 w + g + 8 (r % 2), k = 2 q + 8 (r / 2).
 *
 * Shared-memory operands. Every descriptor here describes a tile laid out as tilec::SmemTile (smem.cuh), which
 * is bit for bit what a TMA load with the matching CU_TENSOR_MAP_SWIZZLE_* writes (see gemm_sm90.cuh for the
 * formula), starting at an address aligned to the swizzle's repeat (1024 B for 128B, 512 B for 64B, 256 B for
 * 32B, so the descriptor's base-offset field stays 0):
 *   K-major operand (A as M x K, or B as N x K: K contiguous), SmemTile<ROWS, K, EB> with K * EB = 32, 64 or a
 *     multiple of 128 bytes. The canonical layout ((8, m), (T, 2k)) : ((8T / 4T / 2T, SBO), (1, T)) has 8-row
 *     core groups SBO = 8 * row bytes apart (1024 B for 128B swizzle); LBO is unused (encoded 1). A k-step
 *     (32 bytes of K) advances the start address by 32 B inside a 128-byte panel, and by a whole panel
 *     (ROWS * 128 B) every 4 steps.
 *   MN-major operand (A as K x M, or B as K x N: M/N contiguous; 16-bit types only), SmemTile<K, MN, 2> with
 *     MN * 2 = 32, 64 or a multiple of 128 bytes: the canonical layout ((T, 8, m), (8, k)) :
 *     ((1, T, LBO), (8T, SBO)): LBO = the byte distance between 64-column panels (K * 128 B), SBO = 8 rows
 *     of the tile (1024 B for 128B swizzle). A k16 step advances the start address by 16 rows.
 */
#pragma once

#include "common.cuh"

namespace tilec {

// ---------------------------------------------------------------------------------------------------
// Matrix descriptors: the only place that knows the descriptor bits. __host__ __device__, so that host
// code (and the CPU tests) can build and check them.
// ---------------------------------------------------------------------------------------------------

/// Swizzle mode field (bits 62-63) of a wgmma matrix descriptor.
enum WgmmaSwizzle : uint32_t {
    kWgmmaSwizzleNone = 0,
    kWgmmaSwizzle128B = 1,
    kWgmmaSwizzle64B = 2,
    kWgmmaSwizzle32B = 3,
};

/// The 64-bit matrix descriptor (PTX "Matrix Descriptor Format"): bits 0-13 start address, 16-29 leading
/// dimension byte offset, 32-45 stride dimension byte offset (each as (x & 0x3FFFF) >> 4), 49-51 base offset
/// (0: the swizzle pattern starts on its natural boundary), 62-63 swizzle mode.
TILEC_HOST_DEVICE constexpr uint64_t wgmma_desc_encode(uint32_t smem_addr, uint32_t lbo_bytes, uint32_t sbo_bytes,
                                                       uint32_t swizzle) {
    return static_cast<uint64_t>((smem_addr & 0x3FFFFu) >> 4) |
           (static_cast<uint64_t>((lbo_bytes & 0x3FFFFu) >> 4) << 16) |
           (static_cast<uint64_t>((sbo_bytes & 0x3FFFFu) >> 4) << 32) | (static_cast<uint64_t>(swizzle & 3u) << 62);
}

/// The descriptor of the same matrix `bytes` further on (bytes a multiple of 16, staying in shared memory):
/// only the start-address field changes, and it cannot carry into the LBO field for addresses < 256 KiB.
TILEC_HOST_DEVICE constexpr uint64_t wgmma_desc_advance(uint64_t desc, uint32_t bytes) { return desc + (bytes >> 4); }

namespace detail {

/// Swizzle mode and the byte size of one swizzle row for a SmemTile whose rows are ROW_BYTES long.
template <int ROW_BYTES>
struct WgmmaTileSwizzle {
    static_assert(ROW_BYTES == 32 || ROW_BYTES == 64 || ROW_BYTES % 128 == 0,
                  "wgmma operand tile: the contiguous dimension must span 32, 64 or a multiple of 128 bytes "
                  "(the 32B/64B/128B-swizzled SmemTile layouts; plain row-major tiles are not wgmma-readable)");
    static constexpr uint32_t kMode =
        ROW_BYTES % 128 == 0 ? kWgmmaSwizzle128B : (ROW_BYTES == 64 ? kWgmmaSwizzle64B : kWgmmaSwizzle32B);
    static constexpr uint32_t kLineBytes = ROW_BYTES % 128 == 0 ? 128u : static_cast<uint32_t>(ROW_BYTES);
};

}  // namespace detail

/// Descriptor of the 32-byte k-step `kstep` (k16 for 16-bit types) of a K-major operand held as
/// SmemTile<ROWS, K, ELEM_BYTES> at shared address `tile` (the row dimension is M for A, N for B), for the
/// rows starting at `row0` (a multiple of 8; e.g. 64 * warpgroup for A split over warpgroups).
/// (wgmma_k_major_step_bytes: that step's byte offset from step 0's start, a compile-time constant for an unrolled
/// step, so that a descriptor loop can advance step 0's descriptor instead of encoding each step's address.)
template <int ROWS, int K, int ELEM_BYTES>
TILEC_HOST_DEVICE constexpr uint32_t wgmma_k_major_step_bytes(int kstep) {
    using S = detail::WgmmaTileSwizzle<K * ELEM_BYTES>;
    const uint32_t kbyte = static_cast<uint32_t>(kstep) * 32u;  // byte offset of the step along K
    const uint32_t panel = kbyte / S::kLineBytes;               // 128-byte column panel (0 unless 128B)
    return panel * (ROWS * S::kLineBytes) + kbyte % S::kLineBytes;
}

template <int ROWS, int K, int ELEM_BYTES>
TILEC_HOST_DEVICE uint64_t wgmma_desc_k_major(uint32_t tile, int row0, int kstep) {
    using S = detail::WgmmaTileSwizzle<K * ELEM_BYTES>;
    static_assert(ROWS % 8 == 0, "wgmma_desc_k_major: ROWS must be a multiple of 8 (whole core matrices)");
    const uint32_t addr = tile + static_cast<uint32_t>(row0) * S::kLineBytes +
                          wgmma_k_major_step_bytes<ROWS, K, ELEM_BYTES>(kstep);
    return wgmma_desc_encode(addr, 16u, 8u * S::kLineBytes, S::kMode);
}

/// Descriptor of the k16 step `kstep` of an MN-major operand held as SmemTile<K, MN, 2> at shared address
/// `tile` (K rows, MN contiguous; MN is M for A, N for B), for the columns starting at `mn0` (a multiple of
/// the panel width: 64 for 128B, else 0). Only 16-bit element types may be MN-major.
/// (wgmma_mn_major_step_bytes: the step's byte offset from step 0's start, as for K-major.)
template <int K, int MN>
TILEC_HOST_DEVICE constexpr uint32_t wgmma_mn_major_step_bytes(int kstep) {
    using S = detail::WgmmaTileSwizzle<MN * 2>;
    return static_cast<uint32_t>(kstep) * 16u * S::kLineBytes;
}

template <int K, int MN>
TILEC_HOST_DEVICE uint64_t wgmma_desc_mn_major(uint32_t tile, int mn0, int kstep) {
    using S = detail::WgmmaTileSwizzle<MN * 2>;
    static_assert(K % 16 == 0, "wgmma_desc_mn_major: K must be a multiple of 16 (whole k16 steps)");
    const uint32_t panel = static_cast<uint32_t>(mn0) * 2u / S::kLineBytes;
    const uint32_t addr = tile + panel * (K * S::kLineBytes) + wgmma_mn_major_step_bytes<K, MN>(kstep);
    return wgmma_desc_encode(addr, K * S::kLineBytes, 8u * S::kLineBytes, S::kMode);
}

/// Keeps the compiler from moving reads or writes of these registers across the point where it is called
/// (no instruction is emitted). Needed around the wgmma issue/wait sequence, because the asynchronous
/// accumulator updates are invisible to the C++ compiler.
template <int N>
TILEC_DEVICE void warpgroup_fence_operand(float (&r)[N]) {
#pragma unroll
    for (int i = 0; i < N; ++i) {
        asm volatile("" : "+f"(r[i])::"memory");
    }
}
template <int N>
TILEC_DEVICE void warpgroup_fence_operand(uint32_t (&r)[N]) {
#pragma unroll
    for (int i = 0; i < N; ++i) {
        asm volatile("" : "+r"(r[i])::"memory");
    }
}

// ---------------------------------------------------------------------------------------------------
// Fences and groups.
// ---------------------------------------------------------------------------------------------------

#if TILEC_ARCH_NOT_SM90A

TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_fence_sync_aligned, "wgmma.fence.sync.aligned", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_commit_group_sync_aligned, "wgmma.commit_group.sync.aligned", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_wait_group_sync_aligned, "wgmma.wait_group.sync.aligned", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(warpgroup_arrive, "wgmma.fence.sync.aligned", "sm_90a")

#else

/// Orders this warpgroup's earlier register and shared-memory writes before the wgmma.mma_async that follow
/// (required before the first wgmma, and whenever the accumulators or an RS A fragment were written since).
TILEC_DEVICE void wgmma_fence_sync_aligned() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }

/// CUTLASS's name for wgmma.fence: the warpgroup "arrives" at the point where its operands are ready.
TILEC_DEVICE void warpgroup_arrive() { wgmma_fence_sync_aligned(); }

/// Closes the group of all wgmma.mma_async issued by this warpgroup since the previous commit.
TILEC_DEVICE void wgmma_commit_group_sync_aligned() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }

/// Waits until at most N of this thread's committed wgmma groups are pending. With N = 1 the tensor core
/// keeps working on the newest group while the operands of the older ones may be released.
template <int N>
TILEC_DEVICE void wgmma_wait_group_sync_aligned() {
    static_assert(N >= 0 && N <= 7, "wgmma_wait_group_sync_aligned<N>: N must be in 0..7");
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}

#endif

// ---------------------------------------------------------------------------------------------------
// wgmma.mma_async m64nNk16 with fp32 accumulators and f16/bf16 inputs, one wrapper per instruction:
//   wgmma_mma_async_sync_aligned_m64n<N>k16_f32_<t>_<t><TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d)  (SS)
//   wgmma_mma_async_sync_aligned_m64n<N>k16_f32_<t>_<t><TRANS_B>(d, a, desc_b, scale_d)                 (RS)
// TRANS_A / TRANS_B are the imm-trans operands: 0 = K-major, 1 = MN-major. scale_d = 0 computes D = A @ B
// (the old accumulator values are ignored, so the first k-step of a tile needs no zeroing), else D += A @ B.
// ---------------------------------------------------------------------------------------------------

// BEGIN GENERATED by scripts/gen_wgmma.py: m64nNk16 wrappers. Do not edit by hand.
#if TILEC_ARCH_NOT_SM90A

TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n8k16_f32_f16_f16,
                             "wgmma.mma_async.sync.aligned.m64n8k16.f32.f16.f16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n8k16_f32_bf16_bf16,
                             "wgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n16k16_f32_f16_f16,
                             "wgmma.mma_async.sync.aligned.m64n16k16.f32.f16.f16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n16k16_f32_bf16_bf16,
                             "wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n24k16_f32_f16_f16,
                             "wgmma.mma_async.sync.aligned.m64n24k16.f32.f16.f16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n24k16_f32_bf16_bf16,
                             "wgmma.mma_async.sync.aligned.m64n24k16.f32.bf16.bf16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n32k16_f32_f16_f16,
                             "wgmma.mma_async.sync.aligned.m64n32k16.f32.f16.f16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n32k16_f32_bf16_bf16,
                             "wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n40k16_f32_f16_f16,
                             "wgmma.mma_async.sync.aligned.m64n40k16.f32.f16.f16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n40k16_f32_bf16_bf16,
                             "wgmma.mma_async.sync.aligned.m64n40k16.f32.bf16.bf16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n48k16_f32_f16_f16,
                             "wgmma.mma_async.sync.aligned.m64n48k16.f32.f16.f16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n48k16_f32_bf16_bf16,
                             "wgmma.mma_async.sync.aligned.m64n48k16.f32.bf16.bf16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n56k16_f32_f16_f16,
                             "wgmma.mma_async.sync.aligned.m64n56k16.f32.f16.f16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n56k16_f32_bf16_bf16,
                             "wgmma.mma_async.sync.aligned.m64n56k16.f32.bf16.bf16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n64k16_f32_f16_f16,
                             "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n64k16_f32_bf16_bf16,
                             "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n96k16_f32_f16_f16,
                             "wgmma.mma_async.sync.aligned.m64n96k16.f32.f16.f16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n96k16_f32_bf16_bf16,
                             "wgmma.mma_async.sync.aligned.m64n96k16.f32.bf16.bf16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n128k16_f32_f16_f16,
                             "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n128k16_f32_bf16_bf16,
                             "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n192k16_f32_f16_f16,
                             "wgmma.mma_async.sync.aligned.m64n192k16.f32.f16.f16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n192k16_f32_bf16_bf16,
                             "wgmma.mma_async.sync.aligned.m64n192k16.f32.bf16.bf16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n256k16_f32_f16_f16,
                             "wgmma.mma_async.sync.aligned.m64n256k16.f32.f16.f16", "sm_90a")
TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_mma_async_sync_aligned_m64n256k16_f32_bf16_bf16,
                             "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16", "sm_90a")

#else

template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n8k16_f32_f16_f16(
    float (&d)[4], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %4, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n8k16.f32.f16.f16 "
        "{%0, %1, %2, %3}"
        ", %5, %6, p, 1, 1, %7, %8;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n8k16_f32_f16_f16(
    float (&d)[4], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %4, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n8k16.f32.f16.f16 "
        "{%0, %1, %2, %3}"
        ", {%5, %6, %7, %8}, %9, p, 1, 1, %10;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n8k16_f32_bf16_bf16(
    float (&d)[4], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %4, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3}"
        ", %5, %6, p, 1, 1, %7, %8;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n8k16_f32_bf16_bf16(
    float (&d)[4], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %4, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3}"
        ", {%5, %6, %7, %8}, %9, p, 1, 1, %10;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n16k16_f32_f16_f16(
    float (&d)[8], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %8, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n16k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7}"
        ", %9, %10, p, 1, 1, %11, %12;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n16k16_f32_f16_f16(
    float (&d)[8], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %8, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n16k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7}"
        ", {%9, %10, %11, %12}, %13, p, 1, 1, %14;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n16k16_f32_bf16_bf16(
    float (&d)[8], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %8, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7}"
        ", %9, %10, p, 1, 1, %11, %12;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n16k16_f32_bf16_bf16(
    float (&d)[8], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %8, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7}"
        ", {%9, %10, %11, %12}, %13, p, 1, 1, %14;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n24k16_f32_f16_f16(
    float (&d)[12], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %12, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n24k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11}"
        ", %13, %14, p, 1, 1, %15, %16;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n24k16_f32_f16_f16(
    float (&d)[12], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %12, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n24k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11}"
        ", {%13, %14, %15, %16}, %17, p, 1, 1, %18;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n24k16_f32_bf16_bf16(
    float (&d)[12], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %12, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n24k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11}"
        ", %13, %14, p, 1, 1, %15, %16;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n24k16_f32_bf16_bf16(
    float (&d)[12], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %12, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n24k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11}"
        ", {%13, %14, %15, %16}, %17, p, 1, 1, %18;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n32k16_f32_f16_f16(
    float (&d)[16], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %16, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n32k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15}"
        ", %17, %18, p, 1, 1, %19, %20;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n32k16_f32_f16_f16(
    float (&d)[16], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %16, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n32k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15}"
        ", {%17, %18, %19, %20}, %21, p, 1, 1, %22;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n32k16_f32_bf16_bf16(
    float (&d)[16], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %16, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15}"
        ", %17, %18, p, 1, 1, %19, %20;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n32k16_f32_bf16_bf16(
    float (&d)[16], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %16, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15}"
        ", {%17, %18, %19, %20}, %21, p, 1, 1, %22;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n40k16_f32_f16_f16(
    float (&d)[20], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %20, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n40k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19}"
        ", %21, %22, p, 1, 1, %23, %24;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n40k16_f32_f16_f16(
    float (&d)[20], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %20, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n40k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19}"
        ", {%21, %22, %23, %24}, %25, p, 1, 1, %26;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n40k16_f32_bf16_bf16(
    float (&d)[20], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %20, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n40k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19}"
        ", %21, %22, p, 1, 1, %23, %24;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n40k16_f32_bf16_bf16(
    float (&d)[20], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %20, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n40k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19}"
        ", {%21, %22, %23, %24}, %25, p, 1, 1, %26;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n48k16_f32_f16_f16(
    float (&d)[24], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %24, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n48k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23}"
        ", %25, %26, p, 1, 1, %27, %28;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n48k16_f32_f16_f16(
    float (&d)[24], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %24, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n48k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23}"
        ", {%25, %26, %27, %28}, %29, p, 1, 1, %30;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n48k16_f32_bf16_bf16(
    float (&d)[24], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %24, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n48k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23}"
        ", %25, %26, p, 1, 1, %27, %28;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n48k16_f32_bf16_bf16(
    float (&d)[24], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %24, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n48k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23}"
        ", {%25, %26, %27, %28}, %29, p, 1, 1, %30;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n56k16_f32_f16_f16(
    float (&d)[28], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %28, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n56k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27}"
        ", %29, %30, p, 1, 1, %31, %32;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n56k16_f32_f16_f16(
    float (&d)[28], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %28, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n56k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27}"
        ", {%29, %30, %31, %32}, %33, p, 1, 1, %34;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n56k16_f32_bf16_bf16(
    float (&d)[28], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %28, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n56k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27}"
        ", %29, %30, p, 1, 1, %31, %32;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n56k16_f32_bf16_bf16(
    float (&d)[28], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %28, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n56k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27}"
        ", {%29, %30, %31, %32}, %33, p, 1, 1, %34;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n64k16_f32_f16_f16(
    float (&d)[32], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %32, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}"
        ", %33, %34, p, 1, 1, %35, %36;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
          "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n64k16_f32_f16_f16(
    float (&d)[32], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %32, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}"
        ", {%33, %34, %35, %36}, %37, p, 1, 1, %38;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
          "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n64k16_f32_bf16_bf16(
    float (&d)[32], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %32, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}"
        ", %33, %34, p, 1, 1, %35, %36;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
          "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n64k16_f32_bf16_bf16(
    float (&d)[32], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %32, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}"
        ", {%33, %34, %35, %36}, %37, p, 1, 1, %38;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
          "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n96k16_f32_f16_f16(
    float (&d)[48], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %48, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n96k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
        " %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47}"
        ", %49, %50, p, 1, 1, %51, %52;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
          "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]),
          "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
          "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n96k16_f32_f16_f16(
    float (&d)[48], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %48, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n96k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
        " %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47}"
        ", {%49, %50, %51, %52}, %53, p, 1, 1, %54;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
          "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]),
          "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
          "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n96k16_f32_bf16_bf16(
    float (&d)[48], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %48, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n96k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
        " %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47}"
        ", %49, %50, p, 1, 1, %51, %52;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
          "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]),
          "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
          "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n96k16_f32_bf16_bf16(
    float (&d)[48], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %48, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n96k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
        " %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47}"
        ", {%49, %50, %51, %52}, %53, p, 1, 1, %54;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
          "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]),
          "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
          "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n128k16_f32_f16_f16(
    float (&d)[64], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %64, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
        " %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
        " %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}"
        ", %65, %66, p, 1, 1, %67, %68;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
          "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]),
          "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
          "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]),
          "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]),
          "+f"(d[63])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n128k16_f32_f16_f16(
    float (&d)[64], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %64, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
        " %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
        " %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}"
        ", {%65, %66, %67, %68}, %69, p, 1, 1, %70;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
          "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]),
          "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
          "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]),
          "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]),
          "+f"(d[63])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n128k16_f32_bf16_bf16(
    float (&d)[64], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %64, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
        " %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
        " %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}"
        ", %65, %66, p, 1, 1, %67, %68;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
          "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]),
          "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
          "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]),
          "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]),
          "+f"(d[63])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n128k16_f32_bf16_bf16(
    float (&d)[64], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %64, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
        " %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
        " %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}"
        ", {%65, %66, %67, %68}, %69, p, 1, 1, %70;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
          "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]),
          "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
          "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]),
          "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]),
          "+f"(d[63])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n192k16_f32_f16_f16(
    float (&d)[96], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %96, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n192k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
        " %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
        " %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63,"
        " %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79,"
        " %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95}"
        ", %97, %98, p, 1, 1, %99, %100;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
          "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]),
          "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
          "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]),
          "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]),
          "+f"(d[63]), "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]),
          "+f"(d[70]), "+f"(d[71]), "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]),
          "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]),
          "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]),
          "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n192k16_f32_f16_f16(
    float (&d)[96], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %96, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n192k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
        " %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
        " %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63,"
        " %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79,"
        " %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95}"
        ", {%97, %98, %99, %100}, %101, p, 1, 1, %102;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
          "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]),
          "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
          "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]),
          "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]),
          "+f"(d[63]), "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]),
          "+f"(d[70]), "+f"(d[71]), "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]),
          "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]),
          "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]),
          "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n192k16_f32_bf16_bf16(
    float (&d)[96], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %96, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n192k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
        " %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
        " %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63,"
        " %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79,"
        " %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95}"
        ", %97, %98, p, 1, 1, %99, %100;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
          "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]),
          "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
          "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]),
          "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]),
          "+f"(d[63]), "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]),
          "+f"(d[70]), "+f"(d[71]), "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]),
          "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]),
          "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]),
          "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n192k16_f32_bf16_bf16(
    float (&d)[96], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %96, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n192k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
        " %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
        " %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63,"
        " %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79,"
        " %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95}"
        ", {%97, %98, %99, %100}, %101, p, 1, 1, %102;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
          "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]),
          "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
          "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]),
          "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]),
          "+f"(d[63]), "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]),
          "+f"(d[70]), "+f"(d[71]), "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]),
          "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]),
          "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]),
          "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n256k16_f32_f16_f16(
    float (&d)[128], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %128, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n256k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
        " %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
        " %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63,"
        " %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79,"
        " %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95,"
        " %96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111,"
        " %112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127}"
        ", %129, %130, p, 1, 1, %131, %132;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
          "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]),
          "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
          "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]),
          "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]),
          "+f"(d[63]), "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]),
          "+f"(d[70]), "+f"(d[71]), "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]),
          "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]),
          "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]),
          "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), "+f"(d[96]), "+f"(d[97]),
          "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), "+f"(d[104]),
          "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]),
          "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]),
          "+f"(d[119]), "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]),
          "+f"(d[126]), "+f"(d[127])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n256k16_f32_f16_f16(
    float (&d)[128], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %128, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n256k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
        " %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
        " %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63,"
        " %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79,"
        " %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95,"
        " %96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111,"
        " %112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127}"
        ", {%129, %130, %131, %132}, %133, p, 1, 1, %134;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
          "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]),
          "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
          "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]),
          "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]),
          "+f"(d[63]), "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]),
          "+f"(d[70]), "+f"(d[71]), "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]),
          "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]),
          "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]),
          "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), "+f"(d[96]), "+f"(d[97]),
          "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), "+f"(d[104]),
          "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]),
          "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]),
          "+f"(d[119]), "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]),
          "+f"(d[126]), "+f"(d[127])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}
template <int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n256k16_f32_bf16_bf16(
    float (&d)[128], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %128, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
        " %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
        " %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63,"
        " %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79,"
        " %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95,"
        " %96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111,"
        " %112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127}"
        ", %129, %130, p, 1, 1, %131, %132;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
          "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]),
          "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
          "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]),
          "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]),
          "+f"(d[63]), "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]),
          "+f"(d[70]), "+f"(d[71]), "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]),
          "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]),
          "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]),
          "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), "+f"(d[96]), "+f"(d[97]),
          "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), "+f"(d[104]),
          "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]),
          "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]),
          "+f"(d[119]), "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]),
          "+f"(d[126]), "+f"(d[127])
        : "r"(scale_d), "l"(desc_a), "l"(desc_b), "n"(TRANS_A), "n"(TRANS_B));
}
template <int TRANS_B>
TILEC_DEVICE void wgmma_mma_async_sync_aligned_m64n256k16_f32_bf16_bf16(
    float (&d)[128], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %128, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
        " %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
        " %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63,"
        " %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79,"
        " %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95,"
        " %96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111,"
        " %112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127}"
        ", {%129, %130, %131, %132}, %133, p, 1, 1, %134;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
          "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
          "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
          "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
          "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]),
          "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
          "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]),
          "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]),
          "+f"(d[63]), "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]),
          "+f"(d[70]), "+f"(d[71]), "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]),
          "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]),
          "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]),
          "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), "+f"(d[96]), "+f"(d[97]),
          "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), "+f"(d[104]),
          "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]),
          "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]),
          "+f"(d[119]), "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]),
          "+f"(d[126]), "+f"(d[127])
        : "r"(scale_d), "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(TRANS_B));
}

#endif

/// The m64nNk16 sizes generated above (a static_assert in wgmma_m64nNk16 lists them).
inline constexpr int kWgmmaNValues[] = {8, 16, 24, 32, 40, 48, 56, 64, 96, 128, 192, 256};

namespace detail {

template <int N, class T, int TRANS_A, int TRANS_B>
TILEC_DEVICE void wgmma_dispatch_ss(float (&d)[N / 2], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    if constexpr (N == 8 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n8k16_f32_f16_f16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 8 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n8k16_f32_bf16_bf16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 16 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n16k16_f32_f16_f16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 16 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n16k16_f32_bf16_bf16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 24 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n24k16_f32_f16_f16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 24 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n24k16_f32_bf16_bf16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 32 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n32k16_f32_f16_f16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 32 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n32k16_f32_bf16_bf16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 40 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n40k16_f32_f16_f16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 40 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n40k16_f32_bf16_bf16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 48 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n48k16_f32_f16_f16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 48 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n48k16_f32_bf16_bf16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 56 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n56k16_f32_f16_f16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 56 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n56k16_f32_bf16_bf16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 64 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n64k16_f32_f16_f16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 64 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n64k16_f32_bf16_bf16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 96 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n96k16_f32_f16_f16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 96 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n96k16_f32_bf16_bf16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 128 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n128k16_f32_f16_f16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 128 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n128k16_f32_bf16_bf16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 192 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n192k16_f32_f16_f16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 192 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n192k16_f32_bf16_bf16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 256 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n256k16_f32_f16_f16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else if constexpr (N == 256 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n256k16_f32_bf16_bf16<TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
    } else {
        static_assert(detail::always_false_int<N>,
                      "wgmma_m64nNk16_ss: no wrapper for this N and element type (N must "
                      "be one of kWgmmaNValues and T half_t or bfloat16_t; add N to "
                      "scripts/gen_wgmma.py)");
    }
}

template <int N, class T, int TRANS_B>
TILEC_DEVICE void wgmma_dispatch_rs(float (&d)[N / 2], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    if constexpr (N == 8 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n8k16_f32_f16_f16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 8 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n8k16_f32_bf16_bf16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 16 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n16k16_f32_f16_f16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 16 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n16k16_f32_bf16_bf16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 24 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n24k16_f32_f16_f16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 24 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n24k16_f32_bf16_bf16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 32 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n32k16_f32_f16_f16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 32 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n32k16_f32_bf16_bf16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 40 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n40k16_f32_f16_f16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 40 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n40k16_f32_bf16_bf16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 48 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n48k16_f32_f16_f16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 48 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n48k16_f32_bf16_bf16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 56 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n56k16_f32_f16_f16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 56 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n56k16_f32_bf16_bf16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 64 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n64k16_f32_f16_f16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 64 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n64k16_f32_bf16_bf16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 96 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n96k16_f32_f16_f16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 96 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n96k16_f32_bf16_bf16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 128 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n128k16_f32_f16_f16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 128 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n128k16_f32_bf16_bf16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 192 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n192k16_f32_f16_f16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 192 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n192k16_f32_bf16_bf16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 256 && std::is_same_v<T, half_t>) {
        wgmma_mma_async_sync_aligned_m64n256k16_f32_f16_f16<TRANS_B>(d, a, desc_b, scale_d);
    } else if constexpr (N == 256 && std::is_same_v<T, bfloat16_t>) {
        wgmma_mma_async_sync_aligned_m64n256k16_f32_bf16_bf16<TRANS_B>(d, a, desc_b, scale_d);
    } else {
        static_assert(detail::always_false_int<N>,
                      "wgmma_m64nNk16_rs: no wrapper for this N and element type (N must "
                      "be one of kWgmmaNValues and T half_t or bfloat16_t; add N to "
                      "scripts/gen_wgmma.py)");
    }
}

}  // namespace detail
// END GENERATED

/// d (+)= A @ B for one k16 step, A and B from shared memory: the m64nNk16 wrapper chosen by N and the element
/// type T (half_t or bfloat16_t). TRANS_A / TRANS_B: 0 for a K-major, 1 for an MN-major operand descriptor.
template <int N, class T, int TRANS_A = 0, int TRANS_B = 0>
TILEC_DEVICE void wgmma_m64nNk16_ss(float (&d)[N / 2], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    static_assert(TRANS_A == 0 || TRANS_A == 1, "wgmma_m64nNk16_ss: TRANS_A must be 0 (K-major) or 1 (M-major)");
    static_assert(TRANS_B == 0 || TRANS_B == 1, "wgmma_m64nNk16_ss: TRANS_B must be 0 (K-major) or 1 (N-major)");
    detail::wgmma_dispatch_ss<N, T, TRANS_A, TRANS_B>(d, desc_a, desc_b, scale_d);
}

/// d (+)= A @ B for one k16 step with A in registers (the fragment in the file comment) and B in shared memory.
template <int N, class T, int TRANS_B = 0>
TILEC_DEVICE void wgmma_m64nNk16_rs(float (&d)[N / 2], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    static_assert(TRANS_B == 0 || TRANS_B == 1, "wgmma_m64nNk16_rs: TRANS_B must be 0 (K-major) or 1 (N-major)");
    detail::wgmma_dispatch_rs<N, T, TRANS_B>(d, a, desc_b, scale_d);
}

}  // namespace tilec
