/**
 * @file sm90.cuh
 * @brief The tilec device library for sm_90a kernels: the sm_80-family headers plus TMA, mbarrier, clusters,
 *        warpgroup roles and wgmma. Each sm_90-only wrapper fails to compile, naming its instruction and arch,
 *        only when a kernel for another arch calls it; including this header is harmless everywhere.
 */
#pragma once

#include "cluster.cuh"
#include "gemm_sm90.cuh"
#include "mbarrier.cuh"
#include "stream_k.cuh"
#include "tilec.cuh"
#include "tma.cuh"
#include "warpgroup.cuh"
#include "wgmma.cuh"
