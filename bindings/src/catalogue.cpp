// @file catalogue.cpp
// @brief The one translation unit that includes the generated table (`python -m tilec.aot table`).
#include "catalogue.h"

#include "catalogue_table.inc"

namespace tilekernels {

const KernelInfo* catalogue_kernels() { return catalogue::kKernels; }
int catalogue_kernel_count() { return static_cast<int>(sizeof(catalogue::kKernels) / sizeof(catalogue::kKernels[0])); }
const GemmVariant* catalogue_gemm() { return catalogue::kGemm; }
int catalogue_gemm_count() { return catalogue::kGemmCount; }
const AttentionVariant* catalogue_attention() { return catalogue::kAttention; }
int catalogue_attention_count() { return catalogue::kAttentionCount; }
const AttentionVariant* catalogue_attention_varlen() { return catalogue::kAttentionVarlen; }
int catalogue_attention_varlen_count() { return catalogue::kAttentionVarlenCount; }
const char* catalogue_built_archs() { return catalogue::kBuiltArchs; }

}  // namespace tilekernels
