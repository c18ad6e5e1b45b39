// @file runtime.h
// @brief Devices, arch matching, lazy once-per-process kernel loading and cuLaunchKernelEx, shared by all families.
//
// Nothing here touches Python. Loading a kernel may take milliseconds (file read, driver JIT of PTX); callers drop
// the GIL around load_function(). Everything else is a few atomic loads plus the driver calls of a launch.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "cuda_api.h"
#include "kernel_info.h"

namespace tilekernels {

// One GPU as the dispatcher sees it, filled once per process on first use.
struct Device {
  int ordinal = 0;
  cu::CUdevice handle = 0;
  int major = 0, minor = 0;  // compute capability
  int sm_count = 0;
  int smem_optin = 0;  // max dynamic shared memory a kernel may opt in to, bytes
  std::string name;
  cu::CUcontext primary = nullptr;  // retained for the process lifetime (the context torch and cupy use)
  std::vector<char> usable;  // per catalogue kernel: can run on this device (arch and shared memory fit)
};

// Directory holding the fatbins (`<package>/fatbins`), set once from Python by _C._init.
void set_fatbin_dir(const std::string& dir);
const std::string& fatbin_dir();

// Strings compiled in: TILEKERNELS_VERSION, TILEKERNELS_CUDA_VERSION ("unknown" when not defined).
const char* package_version();
const char* built_cuda_version();

// Whether one entry of KernelInfo.archs ("sm_90a", "sm_80", "sm_100f", "compute_120") runs on compute capability
// major.minor: an `a` arch only on that exact one; sm_XY (and `f`) on the same major with minor >= Y; PTX
// compute_XY on any compute capability >= XY (the driver JITs it).
bool arch_runs_on(const std::string& arch, int major, int minor);

// Why kernel `k` cannot run on `d` ("" when it can): no matching arch, or more shared memory than the device has.
std::string unusable_reason(const KernelInfo& k, const Device& d);

// The device of that CUDA ordinal (initialised on first use). Throws cu::NoGPU, cu::CudaFailure.
const Device& device(int ordinal);

// The ordinal of the calling thread's current context, else 0.
int current_device_ordinal();

// Number of GPUs the driver sees. Throws cu::NoGPU.
int device_count();

// Makes `d`'s primary context current for the scope (the tensors' context), restoring the previous one after.
class ContextGuard {
 public:
  explicit ContextGuard(const Device& d);
  ~ContextGuard();
  ContextGuard(const ContextGuard&) = delete;
  ContextGuard& operator=(const ContextGuard&) = delete;

 private:
  cu::CUcontext prev_ = nullptr;
  bool restore_ = false;
};

// The loaded function of catalogue kernel `k` on device `d`, or null when not loaded yet (one atomic load).
cu::CUfunction cached_function(int k, const Device& d);
// Loads kernel `k` for device `d` (fatbin read and cuLibraryLoadData once per process, then a per-device handle
// with the shared-memory attribute set), thread-safe; needs d's context current. Throws cu::CudaFailure (with
// unsupported_gpu set for CUDA_ERROR_NO_BINARY_FOR_GPU / CUDA_ERROR_UNSUPPORTED_PTX_VERSION).
cu::CUfunction load_function(int k, const Device& d);

// Launches `f` (kernel `k`) on `stream`: grid from k.grid(dims), block k.threads, k.smem_bytes, a cluster attribute
// when k.cluster != 1, params = tensors[0..n_tensors) then float32 scalars[0..n_scalars) then int32
// dims[dim_order[i]] then one 128-byte CUtensorMap per k.tmaps entry (encoded with cuTensorMapEncodeTiled, cached
// per (kernel, map, pointer, dims, strides)). A grid with a zero extent launches nothing.
// `tma_hint` ends the message of a tensor that TMA cannot address (the family's own rule, e.g. "gemm requires K and
// N to be multiples of 8"). Throws cu::CudaFailure (a rejected encode names the kernel), std::invalid_argument (a
// tensor map's address/stride/dim breaks a TMA rule, or the grid exceeds CUDA's limits; checked before the driver
// is called).
// sm_count: the device's multiprocessor count (required for KernelInfo.persistent kernels).
void launch(int k, cu::CUfunction f, const long long* dims, const cu::CUdeviceptr* tensors, cu::CUstream stream,
            const char* tma_hint = nullptr, const float* scalars = nullptr, int sm_count = 0);

// Device scratch memory ordered on a stream: cuMemAllocAsync at construction, cuMemFreeAsync on the same stream at
// destruction (after the work queued on it before that point, e.g. the launch that uses it). Needs the device's
// context current. Test mode: a fake address, recorded in FakeLaunch.scratch_bytes. Throws cu::CudaFailure.
class StreamScratch {
 public:
  StreamScratch(size_t bytes, cu::CUstream stream, const char* kernel);
  ~StreamScratch();
  StreamScratch(const StreamScratch&) = delete;
  StreamScratch& operator=(const StreamScratch&) = delete;
  cu::CUdeviceptr ptr() const { return ptr_; }

 private:
  cu::CUdeviceptr ptr_ = 0;
  cu::CUstream stream_ = nullptr;
};
constexpr unsigned long long kFakeScratchAddress = 0x5C0000000000ULL;  // test mode's scratch "allocation"

// Zeroes n 16-bit elements at ptr on stream (K == 0 GEMMs). Throws cu::CudaFailure.
void memset16(cu::CUdeviceptr ptr, size_t n, cu::CUstream stream);

// The one message for "no kernel of this wheel runs on this GPU" (device, its compute capability, the wheel's
// archs, its CUDA version, the driver's, and how to build for this GPU); `what` says what failed, `detail` why.
std::string unsupported_gpu_message(const Device& d, const std::string& what, const std::string& detail);

// Test mode (CPU tests and host-overhead measurements): no driver call at all; device() returns a fake device of
// the given compute capability for any ordinal (-1 included), and launches are recorded instead of made. Tensor
// maps go through the real validation and cache; a miss "encodes" a fake descriptor (fake_tensor_map_bytes).
struct FakeTmap {  // the cuTensorMapEncodeTiled arguments of one tensor map of a launch (cache hit or miss)
  int data_type = 0;
  unsigned rank = 0;
  unsigned long long address = 0;
  std::vector<unsigned long long> dims, strides;  // innermost first; strides: rank - 1 byte strides (dims 1..)
  std::vector<unsigned> box, element_strides;
  int interleave = 0, swizzle = 0, l2_promotion = 0, oob_fill = 0;
};
struct FakeLaunch {
  std::string kernel;
  unsigned grid[3] = {0, 0, 0}, block = 0, smem = 0, cluster[3] = {1, 1, 1};
  std::vector<unsigned long long> tensors;
  std::vector<float> scalars;
  std::vector<long long> ints;
  std::vector<FakeTmap> tmaps;
  std::vector<std::string> params;  // the bytes each kernelParams entry points at, in order
  std::vector<unsigned long long> param_addrs;  // where they were (alignment checks)
  unsigned long long stream = 0;
  bool memset = false;  // a K == 0 zero-fill instead of a kernel
  long long count = 0;  // launches recorded since the test mode was set
  long long encodes = 0;  // tensor maps encoded (cache misses) since the test mode was set
  long long scratch_bytes = 0;  // size of the last StreamScratch (test mode), 0 if none since the test mode was set
  long long scratch_live = 0;   // StreamScratch objects not yet freed (test mode)
};
// The 128 bytes test mode stores for an encoded map: "TKFAKEMP", then u64 address, u64 dims[5], u64 strides[4],
// u32 box[5], i32 data_type, rank, swizzle, l2_promotion, oob_fill (little-endian, zero padded).
void fake_tensor_map_bytes(const FakeTmap& t, unsigned char out[128]);
void set_test_mode(bool on, int major, int minor, const std::string& name, int smem_optin);
bool test_mode();
FakeLaunch last_fake_launch();
// Test mode: the CUresult the fake cuTensorMapEncodeTiled returns from now on (0: success; reset by set_test_mode).
void set_fake_encode_result(int rc);
// Test mode: launch catalogue kernel `kernel` with family dims (DIMS order), tensor pointers and float32 scalars as
// given, no checks but launch()'s own. Throws std::invalid_argument for an unknown kernel or a wrong tensor or
// scalar count.
void test_launch(const std::string& kernel, const std::vector<long long>& dims,
                 const std::vector<unsigned long long>& tensors, const char* tma_hint,
                 const std::vector<float>& scalars = {});

}  // namespace tilekernels
