// @file catalogue.h
// @brief Access to the generated dispatch table, which only catalogue.cpp includes (its arrays are `static`).
#pragma once

#include "kernel_info.h"

namespace tilekernels {

const KernelInfo* catalogue_kernels();  // kKernels
int catalogue_kernel_count();
const GemmVariant* catalogue_gemm();  // kGemm, in preference order
int catalogue_gemm_count();
const AttentionVariant* catalogue_attention();  // kAttention, in preference order (null when empty)
int catalogue_attention_count();
const AttentionVariant* catalogue_attention_varlen();  // kAttentionVarlen
int catalogue_attention_varlen_count();
const char* catalogue_built_archs();  // kBuiltArchs, e.g. "sm_80;sm_90a"

// Index of `k` in catalogue_kernels().
inline int kernel_index(const KernelInfo* k) { return static_cast<int>(k - catalogue_kernels()); }

}  // namespace tilekernels
