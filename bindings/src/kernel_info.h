// @file kernel_info.h
// @brief The structs of the generated dispatch table (catalogue_table.inc), exactly as kernels/README.md declares
// them: `python -m tilec.aot table` writes rows of these types, so a change here is a change of that contract.
#pragma once

namespace tilekernels {
enum DType : int { kFloat16 = 0, kBFloat16 = 1, kFloat32 = 2 };
// One TMA descriptor the launch encodes (cuTensorMapEncodeTiled) and passes by value after the int32 dims.
struct TmapInfo {
  int tensor;               // index into the kernel's tensor args (whose pointer is the global address)
  int dtype;                // CUtensorMapDataType (6 float16, 9 bfloat16, 7 float32, ...)
  int rank;                 // 1..5
  unsigned box[5];          // box dims, innermost first (rank entries)
  int swizzle;              // CUtensorMapSwizzle (0 none, 1 32B, 2 64B, 3 128B)
  // Global dims (innermost first, rank entries) and byte strides of dims 1..rank-1 (rank - 1 entries), from the
  // family dims (DIMS order, as for grid).
  void (*shape)(const long long* d, unsigned long long dims[5], unsigned long long strides[5]);
};
constexpr int kMaxTmaps = 4;
constexpr int kMaxScalars = 4;
struct KernelInfo {
  const char* name;        // variant name
  const char* fatbin;      // file name, relative to the package's fatbins/ directory
  const char* entry;       // kernel symbol (extern "C")
  unsigned threads;        // block size
  unsigned smem_bytes;     // dynamic shared memory (set the attribute above 48 KiB)
  unsigned cluster[3];
  const char* archs;       // ';'-joined real archs with cubins in the fatbin, then PTX ("sm_80;sm_90a;compute_120")
  int n_tensors;           // kernel args: n_tensors pointers, then n_scalars float32 values, then n_dims int32
  int n_dims;              // values, then n_tmaps CUtensorMaps
  int dim_order[8];        // kernel int arg i = family dim dim_order[i]
  void (*grid)(const long long* dims, unsigned out[3]);  // dims in the family's DIMS order
  int n_tmaps;             // then n_tmaps CUtensorMap (128 bytes each, by value), in this order
  TmapInfo tmaps[kMaxTmaps];
  int n_scalars = 0;       // the family's SCALARS (float32, by value), right after the tensor pointers
  // LaunchSpec.persistent: `grid` is the logical grid of tiles; each block loops over tiles, so the launch is
  // (min(tiles, SMs), 1, 1) blocks (these kernels hold one block per SM; any launch grid is still correct).
  bool persistent = false;
};
struct GemmVariant {        // one row of kGemm; fields after `kernel` come from Variant.cpp_fields()
  const KernelInfo* kernel;
  int dtype;                // DType of A, B and C
  bool trans_b;             // B is [N, K] row-major (C = A @ B.T), else [K, N]
  long long max_m;          // use only when M <= max_m (0: any M)
  int block_m, block_n, block_k;
  int pick;                 // > 0: the runnable rows after the first match with the same pick and max_m are
                            // alternatives; the stub takes the one whose tiles fill the SMs best (wave_efficiency)
  long long min_k;          // use only when K >= min_k (0: any K)
};
struct AttentionVariant {   // one row of kAttention (and of kAttentionVarlen); fields after `kernel` from cpp_fields()
  const KernelInfo* kernel;
  int dtype;                // DType of Q, K, V and O (LSE is float32)
  int head_dim;             // the only head_dim the kernel computes
  bool causal;              // bottom-right aligned causal mask (compile-time)
  int block_m, block_n;     // query rows and keys per tile
  long long max_seqlen_k;   // > 0: the row serves only seqlen_k (varlen: max_seqlen_k) <= this (a schedule choice)
};
using AttentionVarlenVariant = AttentionVariant;  // the varlen family's rows: the same fields
}  // namespace tilekernels
