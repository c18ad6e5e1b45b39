/**
 * @file cluster.cuh
 * @brief Thread-block clusters (sm_90+): the CTA's rank in its cluster and the cluster-wide barrier.
 *
 * A cluster is a group of CTAs (launch attribute CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION) that run at the same
 * time on one GPC and can reach each other's shared memory: TMA multicast writes every CTA of a mask, and
 * mbarrier_arrive_cluster signals a barrier in another CTA. Without a cluster launch every kernel still runs
 * as clusters of one CTA, so these wrappers are valid (and trivial) there too.
 */
#pragma once

#include "common.cuh"

namespace tilec {

#if TILEC_ARCH_BELOW(900)

TILEC_ARCH_UNSUPPORTED(cluster_ctarank, "mov.u32 %cluster_ctarank", "sm_90")
TILEC_ARCH_UNSUPPORTED(cluster_nctarank, "mov.u32 %cluster_nctarank", "sm_90")
TILEC_ARCH_UNSUPPORTED(barrier_cluster_arrive_release_aligned, "barrier.cluster.arrive.release.aligned", "sm_90")
TILEC_ARCH_UNSUPPORTED(barrier_cluster_wait_acquire_aligned, "barrier.cluster.wait.acquire.aligned", "sm_90")
TILEC_ARCH_UNSUPPORTED(cluster_sync, "barrier.cluster.arrive.release.aligned", "sm_90")

#else

/// This CTA's rank in its cluster, 0 .. cluster_nctarank() - 1 (bit `rank` of a TMA multicast mask).
TILEC_DEVICE uint32_t cluster_ctarank() {
    uint32_t r;
    asm volatile("mov.u32 %0, %%cluster_ctarank;\n" : "=r"(r));
    return r;
}

/// The number of CTAs in this cluster.
TILEC_DEVICE uint32_t cluster_nctarank() {
    uint32_t n;
    asm volatile("mov.u32 %0, %%cluster_nctarank;\n" : "=r"(n));
    return n;
}

/// Arrives at the cluster barrier (release: this thread's earlier writes, including mbarrier inits fenced with
/// fence_mbarrier_init_release_cluster, become visible to threads that then wait). Every thread of every CTA
/// of the cluster must arrive once per phase; all threads of the warp execute it together.
TILEC_DEVICE void barrier_cluster_arrive_release_aligned() {
    asm volatile("barrier.cluster.arrive.release.aligned;\n" ::: "memory");
}

/// Waits for the current cluster barrier phase (acquire).
TILEC_DEVICE void barrier_cluster_wait_acquire_aligned() {
    asm volatile("barrier.cluster.wait.acquire.aligned;\n" ::: "memory");
}

/// Arrive + wait: the cluster-wide __syncthreads().
TILEC_DEVICE void cluster_sync() {
    barrier_cluster_arrive_release_aligned();
    barrier_cluster_wait_acquire_aligned();
}

#endif

}  // namespace tilec
