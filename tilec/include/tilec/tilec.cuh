/**
 * @file tilec.cuh
 * @brief The whole tilec device library for the sm_80 family (cp.async, ldmatrix, mma.sync): the one
 *        header that generated kernels include.
 */
#pragma once

#include "common.cuh"
#include "copy.cuh"
#include "cp_async.cuh"
#include "gemm_sm80.cuh"
#include "ldmatrix.cuh"
#include "mma.cuh"
#include "reduce.cuh"
#include "smem.cuh"
