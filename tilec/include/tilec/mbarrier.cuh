/**
 * @file mbarrier.cuh
 * @brief Shared-memory transaction barriers (mbarrier, sm_90+): the completion mechanism of TMA loads and
 *        the full/empty handshake of a warp-specialized producer/consumer pipeline.
 *
 * An mbarrier is 8 bytes of shared memory holding a phase bit, a pending-arrival count and a pending
 * transaction (byte) count. Its current phase completes when both counts reach zero; it then flips the
 * phase bit and re-arms itself with the count given at init. TMA loads decrement the transaction count by
 * the bytes they write (complete_tx), so a consumer waiting on the phase sees the data.
 *
 * Phase/parity protocol of a ring of S stages (iteration it uses stage s = it % S, round r = it / S):
 *   consumer: mbarrier_wait_parity(full[s], r & 1)         -- data of round r has landed
 *   producer: mbarrier_wait_parity(empty[s], (r & 1) ^ 1)  -- round r - 1 has been released
 * A fresh barrier is in phase 0 and waiting on parity 1 returns at once (the "previous" phase counts as
 * complete), which is why the producer's first round needs no special case.
 *
 * Every wrapper takes the 32-bit shared-window address of the barrier (tilec::smem_u32addr), or an
 * MBarrier reference. All carry a "memory" clobber: they order the surrounding shared-memory accesses.
 */
#pragma once

#include "common.cuh"

namespace tilec {

/// One mbarrier object in shared memory. Opaque: touch it only through the wrappers below.
struct alignas(8) MBarrier {
    uint64_t opaque_;
};

#if TILEC_ARCH_BELOW(900)

TILEC_ARCH_UNSUPPORTED(mbarrier_init, "mbarrier.init.shared::cta.b64", "sm_90")
TILEC_ARCH_UNSUPPORTED(fence_mbarrier_init_release_cluster, "fence.mbarrier_init.release.cluster", "sm_90")
TILEC_ARCH_UNSUPPORTED(mbarrier_arrive, "mbarrier.arrive.shared::cta.b64", "sm_90")
TILEC_ARCH_UNSUPPORTED(mbarrier_arrive_cluster, "mbarrier.arrive.shared::cluster.b64", "sm_90")
TILEC_ARCH_UNSUPPORTED(mbarrier_arrive_expect_tx, "mbarrier.arrive.expect_tx.shared::cta.b64", "sm_90")
TILEC_ARCH_UNSUPPORTED(mbarrier_expect_tx, "mbarrier.expect_tx.relaxed.cta.shared::cta.b64", "sm_90")
TILEC_ARCH_UNSUPPORTED(mbarrier_try_wait_parity, "mbarrier.try_wait.parity.shared::cta.b64", "sm_90")
TILEC_ARCH_UNSUPPORTED(mbarrier_wait_parity, "mbarrier.try_wait.parity.shared::cta.b64", "sm_90")
TILEC_ARCH_UNSUPPORTED(fence_barrier_init, "fence.mbarrier_init.release.cluster", "sm_90")
TILEC_ARCH_UNSUPPORTED(mbarrier_wait, "mbarrier.try_wait.parity.shared::cta.b64", "sm_90")
TILEC_ARCH_UNSUPPORTED(mbarrier_arrive_warp, "mbarrier.arrive.shared::cta.b64", "sm_90")

#else

/// Initializes the barrier at phase 0 expecting `count` arrivals per phase. One thread initializes;
/// make it visible with fence_mbarrier_init_release_cluster() (for TMA and other CTAs of a cluster) and a
/// CTA/cluster barrier before anyone arrives or waits.
TILEC_DEVICE void mbarrier_init(uint32_t bar, uint32_t count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}

/// Makes the preceding mbarrier_init of this thread visible to the async proxy (TMA complete_tx) and to
/// the other CTAs of the cluster; follow it with __syncthreads() or a cluster barrier.
TILEC_DEVICE void fence_mbarrier_init_release_cluster() {
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}

/// Arrives once (release semantics at CTA scope: this thread's earlier memory accesses happen before the
/// phase completes for the waiters).
TILEC_DEVICE void mbarrier_arrive(uint32_t bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}

/// Arrives once on the barrier at the same shared offset in CTA `cta_rank` of this cluster (which may be
/// this CTA): how a consumer frees a stage that a multicast TMA of another CTA will overwrite. The default
/// .release.cta semantics (as CUTLASS's ClusterBarrier): .release.cluster would add a MEMBAR.ALL.GPU before
/// every arrive, which waits for the thread's outstanding global stores. What it orders here are reads the
/// thread already waited for (wgmma.wait_group), so CTA scope suffices.
TILEC_DEVICE void mbarrier_arrive_cluster(uint32_t bar, uint32_t cta_rank) {
    asm volatile(
        "{\n"
        ".reg .b32 remote;\n"
        "mapa.shared::cluster.u32 remote, %0, %1;\n"
        "mbarrier.arrive.shared::cluster.b64 _, [remote];\n"
        "}\n" ::"r"(bar),
        "r"(cta_rank)
        : "memory");
}

/// Arrives once and raises the phase's expected transaction count by `tx_bytes` (the bytes the TMA loads
/// of this phase will write, counted in full even where they zero-fill out-of-bounds elements).
TILEC_DEVICE void mbarrier_arrive_expect_tx(uint32_t bar, uint32_t tx_bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(tx_bytes) : "memory");
}

/// Raises the expected transaction count by `tx_bytes` without arriving.
TILEC_DEVICE void mbarrier_expect_tx(uint32_t bar, uint32_t tx_bytes) {
    asm volatile("mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(tx_bytes) : "memory");
}

/// One bounded wait (the hardware may suspend the thread for a while): true once the phase with parity
/// `parity` has completed, with acquire semantics (the data it guards is then visible to this thread).
TILEC_DEVICE bool mbarrier_try_wait_parity(uint32_t bar, uint32_t parity) {
    uint32_t done;
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
        "selp.u32 %0, 1, 0, p;\n"
        "}\n"
        : "=r"(done)
        : "r"(bar), "r"(parity)
        : "memory");
    return done != 0;
}

/// Blocks until the phase with parity `parity` has completed (try_wait in a loop; the PTX labels are
/// local to the braces, so the wrapper can be inlined any number of times).
TILEC_DEVICE void mbarrier_wait_parity(uint32_t bar, uint32_t parity) {
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "TILEC_MBAR_WAIT:\n"
        "mbarrier.try_wait.parity.shared::cta.b64 p, [%0], %1;\n"
        "@!p bra TILEC_MBAR_WAIT;\n"
        "}\n" ::"r"(bar),
        "r"(parity)
        : "memory");
}

// MBarrier& conveniences (the generic pointer is converted to its shared-window address).
TILEC_DEVICE void mbarrier_init(MBarrier& bar, uint32_t count) { mbarrier_init(smem_u32addr(&bar), count); }
TILEC_DEVICE void mbarrier_arrive(MBarrier& bar) { mbarrier_arrive(smem_u32addr(&bar)); }
TILEC_DEVICE void mbarrier_arrive_cluster(MBarrier& bar, uint32_t cta_rank) {
    mbarrier_arrive_cluster(smem_u32addr(&bar), cta_rank);
}
TILEC_DEVICE void mbarrier_arrive_expect_tx(MBarrier& bar, uint32_t tx_bytes) {
    mbarrier_arrive_expect_tx(smem_u32addr(&bar), tx_bytes);
}
TILEC_DEVICE void mbarrier_expect_tx(MBarrier& bar, uint32_t tx_bytes) {
    mbarrier_expect_tx(smem_u32addr(&bar), tx_bytes);
}
TILEC_DEVICE bool mbarrier_try_wait_parity(MBarrier& bar, uint32_t parity) {
    return mbarrier_try_wait_parity(smem_u32addr(&bar), parity);
}
TILEC_DEVICE void mbarrier_wait_parity(MBarrier& bar, uint32_t parity) {
    mbarrier_wait_parity(smem_u32addr(&bar), parity);
}

// ---------------------------------------------------------------------------------------------------
// The spellings generated code uses (tilec/transform/specialize_warps.py): barriers are elements of a
// shared uint64_t array, passed by pointer.
// ---------------------------------------------------------------------------------------------------

/// mbarrier_init on a shared uint64_t.
TILEC_DEVICE void mbarrier_init(uint64_t* bar, uint32_t count) { mbarrier_init(smem_u32addr(bar), count); }

/// fence_mbarrier_init_release_cluster (follow it with __syncthreads() or a cluster barrier).
TILEC_DEVICE void fence_barrier_init() { fence_mbarrier_init_release_cluster(); }

/// mbarrier_wait_parity on a shared uint64_t: blocks until the phase with parity `phase & 1` completed.
TILEC_DEVICE void mbarrier_wait(uint64_t* bar, uint32_t phase) { mbarrier_wait_parity(smem_u32addr(bar), phase & 1u); }

/// mbarrier_arrive_expect_tx on a shared uint64_t.
TILEC_DEVICE void mbarrier_arrive_expect_tx(uint64_t* bar, uint32_t tx_bytes) {
    mbarrier_arrive_expect_tx(smem_u32addr(bar), tx_bytes);
}

/// One arrival per warp on the barrier at this offset in each of the CS CTAs of the cluster (ranks 0 .. CS - 1):
/// how the consumers free a stage whose tiles the producers of all of them write (TMA multicast). Lane i arrives
/// at CTA i after __syncwarp orders the other lanes' accesses before it.
template <int CS>
TILEC_DEVICE void mbarrier_arrive_warp_cluster(uint64_t* bar) {
    static_assert(CS >= 1 && CS <= 16, "mbarrier_arrive_warp_cluster<CS>: 1 <= CS <= 16 CTAs");
    __syncwarp();
    const uint32_t lane = threadIdx.x % 32;
    if (lane < CS) {
        mbarrier_arrive_cluster(smem_u32addr(bar), lane);
    }
}

/// One arrival per warp (the barrier counts warps): every lane of the warp calls it after its last access to
/// the guarded data; __syncwarp orders the other lanes' accesses before lane 0's release-arrive.
TILEC_DEVICE void mbarrier_arrive_warp(uint64_t* bar) {
    __syncwarp();
    if (threadIdx.x % 32 == 0) {
        mbarrier_arrive(smem_u32addr(bar));
    }
}

#endif

}  // namespace tilec
