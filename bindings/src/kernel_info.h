// @file kernel_info.h
// @brief The structs of the generated dispatch table (catalogue_table.inc), exactly as kernels/README.md declares
// them: `python -m tilec.aot table` writes rows of these types, so a change here is a change of that contract.
#pragma once

namespace tilekernels {
enum DType : int { kFloat16 = 0, kBFloat16 = 1, kFloat32 = 2 };
struct KernelInfo {
  const char* name;        // variant name
  const char* fatbin;      // file name, relative to the package's fatbins/ directory
  const char* entry;       // kernel symbol (extern "C")
  unsigned threads;        // block size
  unsigned smem_bytes;     // dynamic shared memory (set the attribute above 48 KiB)
  unsigned cluster[3];
  const char* archs;       // ';'-joined real archs with cubins in the fatbin, then PTX ("sm_80;sm_90a;compute_120")
  int n_tensors;           // kernel args: n_tensors pointers, then n_dims int32 values
  int n_dims;
  int dim_order[8];        // kernel int arg i = family dim dim_order[i]
  void (*grid)(const long long* dims, unsigned out[3]);  // dims in the family's DIMS order
};
struct GemmVariant {        // one row of kGemm; fields after `kernel` come from Variant.cpp_fields()
  const KernelInfo* kernel;
  int dtype;                // DType of A, B and C
  bool trans_b;             // B is [N, K] row-major (C = A @ B.T), else [K, N]
  long long max_m;          // use only when M <= max_m (0: any M)
  int block_m, block_n, block_k;
};
}  // namespace tilekernels
