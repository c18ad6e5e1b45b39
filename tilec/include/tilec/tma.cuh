/**
 * @file tma.cuh
 * @brief The Tensor Memory Accelerator (sm_90+): tiled bulk-tensor copies global <-> shared described by a
 *        CUtensorMap, their completion (mbarrier transactions for loads, bulk groups for stores), the L2 cache
 *        policies they accept, and the proxy fences that order them against ordinary shared-memory accesses.
 *
 * A CUtensorMap (128 bytes, built on the host by tilec.runtime.tensor_map / cuTensorMapEncodeTiled) describes
 * a global tensor (address, dims, byte strides) and the box one copy moves. The kernel receives it as a
 * `const __grid_constant__ CUtensorMap` parameter and passes its address (&param, a generic address into the
 * parameter space) to the wrappers. Coordinates are element indices, innermost dimension first, and may lie
 * partly or wholly outside the tensor: a load writes zeros there (and still counts the whole box in its
 * transaction bytes), a store skips those elements. That is how ragged M/N/K edges need no predicates.
 *
 * Swizzled boxes land in shared memory as tilec::SmemTile (gemm_sm90.cuh states the exact formula); the
 * destination must be aligned to the swizzle's repeat (1024 B for 128B swizzle), 128 B at least.
 *
 * TMA runs in the async proxy: shared memory written by ordinary stores must be fenced with
 * fence_proxy_async_shared_cta() before a TMA store reads it, and data a TMA load wrote is visible to a thread
 * only after it observed the mbarrier phase completing. Only one thread issues each copy.
 */
#pragma once

#include <cuda.h>  // CUtensorMap

#include "common.cuh"

namespace tilec {

/// The generic address of a tensor map (a __grid_constant__ kernel parameter) as the TMA operands want it.
TILEC_DEVICE uint64_t tensor_map_addr(const CUtensorMap* tmap) { return reinterpret_cast<uint64_t>(tmap); }

#if TILEC_ARCH_BELOW(800)

TILEC_ARCH_UNSUPPORTED(createpolicy_fractional_l2_evict_first, "createpolicy.fractional.L2::evict_first.b64",
                       "sm_80")
TILEC_ARCH_UNSUPPORTED(createpolicy_fractional_l2_evict_last, "createpolicy.fractional.L2::evict_last.b64", "sm_80")

#else

// L2 cache policies for the .L2::cache_hint forms: evict_first for data read once (streamed operands),
// evict_last for data many CTAs re-read. A policy is an opaque 64-bit value.

/// A policy that marks all lines it touches evict_first.
TILEC_DEVICE uint64_t createpolicy_fractional_l2_evict_first() {
    uint64_t policy;
    asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;\n" : "=l"(policy));
    return policy;
}

/// A policy that marks all lines it touches evict_last.
TILEC_DEVICE uint64_t createpolicy_fractional_l2_evict_last() {
    uint64_t policy;
    asm volatile("createpolicy.fractional.L2::evict_last.b64 %0, 1.0;\n" : "=l"(policy));
    return policy;
}

#endif

#if TILEC_ARCH_BELOW(900)

TILEC_ARCH_UNSUPPORTED(prefetch_tensormap, "prefetch.tensormap", "sm_90")
TILEC_ARCH_UNSUPPORTED(fence_proxy_async, "fence.proxy.async", "sm_90")
TILEC_ARCH_UNSUPPORTED(fence_proxy_async_shared_cta, "fence.proxy.async.shared::cta", "sm_90")
TILEC_ARCH_UNSUPPORTED(cp_async_bulk_tensor_2d_shared_global,
                       "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes", "sm_90")
TILEC_ARCH_UNSUPPORTED(cp_async_bulk_tensor_3d_shared_global,
                       "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes", "sm_90")
TILEC_ARCH_UNSUPPORTED(cp_async_bulk_tensor_4d_shared_global,
                       "cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes", "sm_90")
TILEC_ARCH_UNSUPPORTED(cp_async_bulk_tensor_5d_shared_global,
                       "cp.async.bulk.tensor.5d.shared::cluster.global.mbarrier::complete_tx::bytes", "sm_90")
TILEC_ARCH_UNSUPPORTED(cp_async_bulk_tensor_2d_shared_global_multicast,
                       "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster",
                       "sm_90")
TILEC_ARCH_UNSUPPORTED(cp_async_bulk_tensor_3d_shared_global_multicast,
                       "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster",
                       "sm_90")
TILEC_ARCH_UNSUPPORTED(cp_async_bulk_tensor_2d_global_shared, "cp.async.bulk.tensor.2d.global.shared::cta.bulk_group",
                       "sm_90")
TILEC_ARCH_UNSUPPORTED(cp_async_bulk_tensor_3d_global_shared, "cp.async.bulk.tensor.3d.global.shared::cta.bulk_group",
                       "sm_90")
TILEC_ARCH_UNSUPPORTED(cp_async_bulk_tensor_4d_global_shared, "cp.async.bulk.tensor.4d.global.shared::cta.bulk_group",
                       "sm_90")
TILEC_ARCH_UNSUPPORTED(cp_async_bulk_tensor_5d_global_shared, "cp.async.bulk.tensor.5d.global.shared::cta.bulk_group",
                       "sm_90")
TILEC_ARCH_UNSUPPORTED(cp_async_bulk_commit_group, "cp.async.bulk.commit_group", "sm_90")
template <int NC, class... Args>
__device__ void tma_load(Args&&...) {
    static_assert(detail::always_false<Args...>,
                  "cp.async.bulk.tensor (TMA) needs sm_90 or newer (compile with -arch=sm_90a or a later target)");
}
template <int NC, class... Args>
__device__ void tma_store(Args&&...) {
    static_assert(detail::always_false<Args...>,
                  "cp.async.bulk.tensor (TMA) needs sm_90 or newer (compile with -arch=sm_90a or a later target)");
}
template <int N>
__device__ void cp_async_bulk_wait_group() {
    static_assert(detail::always_false_int<N>,
                  "cp.async.bulk.wait_group needs sm_90 or newer (compile with -arch=sm_90 or a later target)");
}
template <int N>
__device__ void cp_async_bulk_wait_group_read() {
    static_assert(detail::always_false_int<N>,
                  "cp.async.bulk.wait_group.read needs sm_90 or newer (compile with -arch=sm_90 or a later target)");
}

#else

/// Pulls the 128-byte descriptor into the TMA unit's cache ahead of the first copy (issue once per CTA).
TILEC_DEVICE void prefetch_tensormap(const CUtensorMap* tmap) {
    asm volatile("prefetch.tensormap [%0];\n" ::"l"(tensor_map_addr(tmap)) : "memory");
}

/// Orders all of this thread's earlier generic-proxy memory accesses before its later async-proxy ones.
TILEC_DEVICE void fence_proxy_async() { asm volatile("fence.proxy.async;\n" ::: "memory"); }

/// As fence_proxy_async for this CTA's shared memory only: after writing a tile with st.shared and before
/// a TMA store reads it (every writing thread fences, then a barrier, then one thread issues the store).
TILEC_DEVICE void fence_proxy_async_shared_cta() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }

// --- loads: global -> shared, completing on an mbarrier of the destination CTA(s) ---------------------
// dst and bar are 32-bit shared-window addresses in this CTA; c0 is the innermost coordinate.

/// Loads the box at (c0, c1) into dst; the written bytes complete_tx on bar.
TILEC_DEVICE void cp_async_bulk_tensor_2d_shared_global(uint32_t dst, const CUtensorMap* tmap, int c0, int c1,
                                                        uint32_t bar) {
    asm volatile(
        "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes"
        " [%0], [%1, {%2, %3}], [%4];\n" ::"r"(dst),
        "l"(tensor_map_addr(tmap)), "r"(c0), "r"(c1), "r"(bar)
        : "memory");
}

/// As above with an L2 cache policy (createpolicy_*) for the global reads.
TILEC_DEVICE void cp_async_bulk_tensor_2d_shared_global(uint32_t dst, const CUtensorMap* tmap, int c0, int c1,
                                                        uint32_t bar, uint64_t policy) {
    asm volatile(
        "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes.L2::cache_hint"
        " [%0], [%1, {%2, %3}], [%4], %5;\n" ::"r"(dst),
        "l"(tensor_map_addr(tmap)), "r"(c0), "r"(c1), "r"(bar), "l"(policy)
        : "memory");
}

/// Loads the box at (c0, c1, c2) into dst; the written bytes complete_tx on bar.
TILEC_DEVICE void cp_async_bulk_tensor_3d_shared_global(uint32_t dst, const CUtensorMap* tmap, int c0, int c1, int c2,
                                                        uint32_t bar) {
    asm volatile(
        "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes"
        " [%0], [%1, {%2, %3, %4}], [%5];\n" ::"r"(dst),
        "l"(tensor_map_addr(tmap)), "r"(c0), "r"(c1), "r"(c2), "r"(bar)
        : "memory");
}

/// As above with an L2 cache policy.
TILEC_DEVICE void cp_async_bulk_tensor_3d_shared_global(uint32_t dst, const CUtensorMap* tmap, int c0, int c1, int c2,
                                                        uint32_t bar, uint64_t policy) {
    asm volatile(
        "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes.L2::cache_hint"
        " [%0], [%1, {%2, %3, %4}], [%5], %6;\n" ::"r"(dst),
        "l"(tensor_map_addr(tmap)), "r"(c0), "r"(c1), "r"(c2), "r"(bar), "l"(policy)
        : "memory");
}

/// Loads the box at (c0, c1, c2, c3) into dst; the written bytes complete_tx on bar.
TILEC_DEVICE void cp_async_bulk_tensor_4d_shared_global(uint32_t dst, const CUtensorMap* tmap, int c0, int c1, int c2,
                                                        int c3, uint32_t bar) {
    asm volatile(
        "cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes"
        " [%0], [%1, {%2, %3, %4, %5}], [%6];\n" ::"r"(dst),
        "l"(tensor_map_addr(tmap)), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(bar)
        : "memory");
}

/// Loads the box at (c0, c1, c2, c3, c4) into dst; the written bytes complete_tx on bar.
TILEC_DEVICE void cp_async_bulk_tensor_5d_shared_global(uint32_t dst, const CUtensorMap* tmap, int c0, int c1, int c2,
                                                        int c3, int c4, uint32_t bar) {
    asm volatile(
        "cp.async.bulk.tensor.5d.shared::cluster.global.mbarrier::complete_tx::bytes"
        " [%0], [%1, {%2, %3, %4, %5, %6}], [%7];\n" ::"r"(dst),
        "l"(tensor_map_addr(tmap)), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(c4), "r"(bar)
        : "memory");
}

/// Loads the box at (c0, c1) once from global memory and writes it to the same shared offset dst in every
/// CTA of the cluster whose bit is set in cta_mask (bit i = %cluster_ctarank i), completing on the mbarrier
/// at offset bar in each of them. Each destination's barrier must expect these bytes; the issuing CTA may be
/// left out of the mask.
TILEC_DEVICE void cp_async_bulk_tensor_2d_shared_global_multicast(uint32_t dst, const CUtensorMap* tmap, int c0,
                                                                  int c1, uint32_t bar, uint16_t cta_mask) {
    asm volatile(
        "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster"
        " [%0], [%1, {%2, %3}], [%4], %5;\n" ::"r"(dst),
        "l"(tensor_map_addr(tmap)), "r"(c0), "r"(c1), "r"(bar), "h"(cta_mask)
        : "memory");
}

/// As above with an L2 cache policy.
TILEC_DEVICE void cp_async_bulk_tensor_2d_shared_global_multicast(uint32_t dst, const CUtensorMap* tmap, int c0,
                                                                  int c1, uint32_t bar, uint16_t cta_mask,
                                                                  uint64_t policy) {
    asm volatile(
        "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster"
        ".L2::cache_hint [%0], [%1, {%2, %3}], [%4], %5, %6;\n" ::"r"(dst),
        "l"(tensor_map_addr(tmap)), "r"(c0), "r"(c1), "r"(bar), "h"(cta_mask), "l"(policy)
        : "memory");
}

/// The 3-D multicast load.
TILEC_DEVICE void cp_async_bulk_tensor_3d_shared_global_multicast(uint32_t dst, const CUtensorMap* tmap, int c0,
                                                                  int c1, int c2, uint32_t bar, uint16_t cta_mask) {
    asm volatile(
        "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster"
        " [%0], [%1, {%2, %3, %4}], [%5], %6;\n" ::"r"(dst),
        "l"(tensor_map_addr(tmap)), "r"(c0), "r"(c1), "r"(c2), "r"(bar), "h"(cta_mask)
        : "memory");
}

/// The 4-D multicast load.
TILEC_DEVICE void cp_async_bulk_tensor_4d_shared_global_multicast(uint32_t dst, const CUtensorMap* tmap, int c0,
                                                                  int c1, int c2, int c3, uint32_t bar,
                                                                  uint16_t cta_mask) {
    asm volatile(
        "cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster"
        " [%0], [%1, {%2, %3, %4, %5}], [%6], %7;\n" ::"r"(dst),
        "l"(tensor_map_addr(tmap)), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(bar), "h"(cta_mask)
        : "memory");
}

/// The 5-D multicast load.
TILEC_DEVICE void cp_async_bulk_tensor_5d_shared_global_multicast(uint32_t dst, const CUtensorMap* tmap, int c0,
                                                                  int c1, int c2, int c3, int c4, uint32_t bar,
                                                                  uint16_t cta_mask) {
    asm volatile(
        "cp.async.bulk.tensor.5d.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster"
        " [%0], [%1, {%2, %3, %4, %5, %6}], [%7], %8;\n" ::"r"(dst),
        "l"(tensor_map_addr(tmap)), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(c4), "r"(bar), "h"(cta_mask)
        : "memory");
}

// --- stores: shared -> global, tracked by this thread's bulk async-groups ------------------------------

/// Stores the shared tile src to the box at (c0, c1), skipping out-of-bounds elements. Call
/// cp_async_bulk_commit_group() after the stores of a group.
TILEC_DEVICE void cp_async_bulk_tensor_2d_global_shared(const CUtensorMap* tmap, int c0, int c1, uint32_t src) {
    asm volatile("cp.async.bulk.tensor.2d.global.shared::cta.bulk_group [%0, {%1, %2}], [%3];\n" ::"l"(
                     tensor_map_addr(tmap)),
                 "r"(c0), "r"(c1), "r"(src)
                 : "memory");
}

/// The 3-D store.
TILEC_DEVICE void cp_async_bulk_tensor_3d_global_shared(const CUtensorMap* tmap, int c0, int c1, int c2,
                                                        uint32_t src) {
    asm volatile("cp.async.bulk.tensor.3d.global.shared::cta.bulk_group [%0, {%1, %2, %3}], [%4];\n" ::"l"(
                     tensor_map_addr(tmap)),
                 "r"(c0), "r"(c1), "r"(c2), "r"(src)
                 : "memory");
}

/// The 4-D store.
TILEC_DEVICE void cp_async_bulk_tensor_4d_global_shared(const CUtensorMap* tmap, int c0, int c1, int c2, int c3,
                                                        uint32_t src) {
    asm volatile("cp.async.bulk.tensor.4d.global.shared::cta.bulk_group [%0, {%1, %2, %3, %4}], [%5];\n" ::"l"(
                     tensor_map_addr(tmap)),
                 "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(src)
                 : "memory");
}

/// The 5-D store.
TILEC_DEVICE void cp_async_bulk_tensor_5d_global_shared(const CUtensorMap* tmap, int c0, int c1, int c2, int c3,
                                                        int c4, uint32_t src) {
    asm volatile("cp.async.bulk.tensor.5d.global.shared::cta.bulk_group [%0, {%1, %2, %3, %4, %5}], [%6];\n" ::"l"(
                     tensor_map_addr(tmap)),
                 "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(c4), "r"(src)
                 : "memory");
}

/// Closes the current bulk async-group of this thread's TMA stores.
TILEC_DEVICE void cp_async_bulk_commit_group() { asm volatile("cp.async.bulk.commit_group;\n" ::: "memory"); }

/// Waits until at most N bulk groups are pending, including their global writes (before the kernel's results
/// are read by someone else in the same grid).
template <int N>
TILEC_DEVICE void cp_async_bulk_wait_group() {
    asm volatile("cp.async.bulk.wait_group %0;\n" ::"n"(N) : "memory");
}

/// Waits until at most N bulk groups still read their shared source: after it, the staging tile may be
/// overwritten (the global writes may still be in flight).
template <int N>
TILEC_DEVICE void cp_async_bulk_wait_group_read() {
    asm volatile("cp.async.bulk.wait_group.read %0;\n" ::"n"(N) : "memory");
}

/// The TMA tile load as generated code spells it: tma_load<NC>(&tmap, smem tile pointer, &stage barrier, c0, ...,
/// c_{NC-1}) with NC (2..5) coordinates, innermost first. One thread issues it.
template <int NC, class T, class... Coords>
TILEC_DEVICE void tma_load(const CUtensorMap* tmap, T* smem, uint64_t* bar, Coords... coords) {
    static_assert(sizeof...(Coords) == NC && NC >= 2 && NC <= 5, "tma_load<NC>: pass NC coordinates, 2 <= NC <= 5");
    const uint32_t dst = smem_u32addr(smem);
    const uint32_t mb = smem_u32addr(bar);
    if constexpr (NC == 2) {
        cp_async_bulk_tensor_2d_shared_global(dst, tmap, static_cast<int>(coords)..., mb);
    } else if constexpr (NC == 3) {
        cp_async_bulk_tensor_3d_shared_global(dst, tmap, static_cast<int>(coords)..., mb);
    } else if constexpr (NC == 4) {
        cp_async_bulk_tensor_4d_shared_global(dst, tmap, static_cast<int>(coords)..., mb);
    } else {
        cp_async_bulk_tensor_5d_shared_global(dst, tmap, static_cast<int>(coords)..., mb);
    }
}

/// The multicast TMA load as generated code spells it: tma_load_multicast<NC>(&tmap, smem pointer, &stage barrier,
/// cta_mask, c0, ..., c_{NC-1}): the box is read once and written at the same shared offset in every CTA of the
/// cluster whose bit is set in cta_mask, completing on the barrier at the same offset in each of them (whose
/// expected bytes must count it). One thread of one CTA issues each piece.
template <int NC, class T, class... Coords>
TILEC_DEVICE void tma_load_multicast(const CUtensorMap* tmap, T* smem, uint64_t* bar, uint32_t cta_mask,
                                     Coords... coords) {
    static_assert(sizeof...(Coords) == NC && NC >= 2 && NC <= 5,
                  "tma_load_multicast<NC>: pass NC coordinates, 2 <= NC <= 5");
    const uint32_t dst = smem_u32addr(smem);
    const uint32_t mb = smem_u32addr(bar);
    const uint16_t mask = static_cast<uint16_t>(cta_mask);
    if constexpr (NC == 2) {
        cp_async_bulk_tensor_2d_shared_global_multicast(dst, tmap, static_cast<int>(coords)..., mb, mask);
    } else if constexpr (NC == 3) {
        cp_async_bulk_tensor_3d_shared_global_multicast(dst, tmap, static_cast<int>(coords)..., mb, mask);
    } else if constexpr (NC == 4) {
        cp_async_bulk_tensor_4d_shared_global_multicast(dst, tmap, static_cast<int>(coords)..., mb, mask);
    } else {
        cp_async_bulk_tensor_5d_shared_global_multicast(dst, tmap, static_cast<int>(coords)..., mb, mask);
    }
}

/// The TMA tile store as generated code spells it: tma_store<NC>(&tmap, smem tile pointer, c0, ..., c_{NC-1}) with
/// NC (2..5) coordinates, innermost first; elements outside the tensor are skipped. One thread issues it, after
/// every thread that wrote the tile ran fence_proxy_async_shared_cta() and a barrier; it joins this thread's
/// current bulk group (close it with cp_async_bulk_commit_group(), and wait with cp_async_bulk_wait_group_read<N>()
/// before the tile is written again or the block exits).
template <int NC, class T, class... Coords>
TILEC_DEVICE void tma_store(const CUtensorMap* tmap, const T* smem, Coords... coords) {
    static_assert(sizeof...(Coords) == NC && NC >= 2 && NC <= 5, "tma_store<NC>: pass NC coordinates, 2 <= NC <= 5");
    const uint32_t src = smem_u32addr(smem);
    if constexpr (NC == 2) {
        cp_async_bulk_tensor_2d_global_shared(tmap, static_cast<int>(coords)..., src);
    } else if constexpr (NC == 3) {
        cp_async_bulk_tensor_3d_global_shared(tmap, static_cast<int>(coords)..., src);
    } else if constexpr (NC == 4) {
        cp_async_bulk_tensor_4d_global_shared(tmap, static_cast<int>(coords)..., src);
    } else {
        cp_async_bulk_tensor_5d_global_shared(tmap, static_cast<int>(coords)..., src);
    }
}

#endif

}  // namespace tilec
