// @file cuda_api.h
// @brief The CUDA driver API entry points tilekernels uses, resolved from libcuda.so.1 with dlopen on first use.
//
// Self-contained on purpose: importing tilekernels._C must work on a machine without a GPU, a driver or a CUDA
// toolkit, so nothing here includes cuda.h or links libcuda. The types, struct layouts and enum values below are
// copied from cuda.h of CUDA 13.0 (CUDA_VERSION 13000); they have been stable since CUDA 12.0, the first driver
// with cuLibraryLoadData. bindings/tests/check_cuda_api_decls.cpp checks them against a real cuda.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace tilekernels::cu {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st*;
using CUmodule = struct CUmod_st*;
using CUfunction = struct CUfunc_st*;
using CUlibrary = struct CUlib_st*;
using CUkernel = struct CUkern_st*;
using CUstream = struct CUstream_st*;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_INVALID_VALUE = 1;
constexpr CUresult CUDA_ERROR_NOT_INITIALIZED = 3;
constexpr CUresult CUDA_ERROR_DEVICE_UNAVAILABLE = 46;
constexpr CUresult CUDA_ERROR_NO_DEVICE = 100;
constexpr CUresult CUDA_ERROR_INVALID_DEVICE = 101;
constexpr CUresult CUDA_ERROR_NO_BINARY_FOR_GPU = 209;
constexpr CUresult CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222;
constexpr CUresult CUDA_ERROR_OPERATING_SYSTEM = 304;
constexpr CUresult CUDA_ERROR_NOT_FOUND = 500;
constexpr CUresult CUDA_ERROR_SYSTEM_NOT_READY = 802;
constexpr CUresult CUDA_ERROR_SYSTEM_DRIVER_MISMATCH = 803;
constexpr CUresult CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE = 804;

constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
constexpr int CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED = 14;
constexpr int CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL = 9;
constexpr int CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION = 4;
constexpr unsigned long long CU_GET_PROC_ADDRESS_DEFAULT = 0;

union CUlaunchAttributeValue {  // cuda.h: CUlaunchAttributeValue_union (64 bytes)
  char pad[64];
  struct { unsigned x, y, z; } clusterDim;
  int value_int;
};
struct CUlaunchAttribute {  // cuda.h: CUlaunchAttribute_st
  int id;
  char pad[8 - sizeof(int)];
  CUlaunchAttributeValue value;
};
struct CUlaunchConfig {  // cuda.h: CUlaunchConfig_st
  unsigned gridDimX, gridDimY, gridDimZ;
  unsigned blockDimX, blockDimY, blockDimZ;
  unsigned sharedMemBytes;
  CUstream hStream;
  CUlaunchAttribute* attrs;
  unsigned numAttrs;
};
static_assert(sizeof(CUlaunchAttribute) == 72 && sizeof(CUlaunchConfig) == 56, "CUDA struct layout");

// TMA descriptors (cuda.h: CUtensorMap_st, alignas(128) since CUDA 12.x; alignas(64) before). 128 opaque bytes,
// passed to a `const __grid_constant__ CUtensorMap` kernel parameter by value.
struct alignas(128) CUtensorMap {
  unsigned long long opaque[16];
};
static_assert(sizeof(CUtensorMap) == 128, "CUtensorMap is 128 bytes");
constexpr int CU_TENSOR_MAP_DATA_TYPE_FLOAT16 = 6;
constexpr int CU_TENSOR_MAP_DATA_TYPE_FLOAT32 = 7;
constexpr int CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 = 9;
constexpr int CU_TENSOR_MAP_INTERLEAVE_NONE = 0;
constexpr int CU_TENSOR_MAP_SWIZZLE_NONE = 0;
constexpr int CU_TENSOR_MAP_SWIZZLE_128B = 3;
constexpr int CU_TENSOR_MAP_L2_PROMOTION_L2_256B = 3;
constexpr int CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE = 0;  // out-of-bounds elements read as zero

// The entry points, with cuda.h's signatures. Optional ones (absent from older drivers) may be null.
struct Api {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDriverGetVersion)(int*);
  CUresult (*cuGetErrorName)(CUresult, const char**);
  CUresult (*cuGetErrorString)(CUresult, const char**);
  CUresult (*cuDeviceGetCount)(int*);
  CUresult (*cuDeviceGet)(CUdevice*, int);
  CUresult (*cuDeviceGetAttribute)(int*, int, CUdevice);
  CUresult (*cuDeviceGetName)(char*, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext*, CUdevice);
  CUresult (*cuCtxGetCurrent)(CUcontext*);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuCtxGetDevice)(CUdevice*);
  CUresult (*cuPointerGetAttribute)(void*, int, CUdeviceptr);
  CUresult (*cuModuleLoadData)(CUmodule*, const void*);
  CUresult (*cuModuleGetFunction)(CUfunction*, CUmodule, const char*);
  CUresult (*cuFuncSetAttribute)(CUfunction, int, int);
  CUresult (*cuMemsetD16Async)(CUdeviceptr, unsigned short, size_t, CUstream);
  CUresult (*cuLaunchKernelEx)(const CUlaunchConfig*, CUfunction, void**, void**);
  // CUDA >= 12.0 (context-independent loading); null on older drivers, which use the cuModuleLoadData path.
  CUresult (*cuLibraryLoadData)(CUlibrary*, const void*, void*, void**, unsigned, void*, void**, unsigned);
  CUresult (*cuLibraryGetKernel)(CUkernel*, CUlibrary, const char*);
  CUresult (*cuKernelGetFunction)(CUfunction*, CUkernel);
  // CUDA >= 12.0 (TMA, sm_90); null on older drivers (kernels with tensor maps then fail with a clear message).
  // Enums (data type, interleave, swizzle, L2 promotion, OOB fill) are plain ints here.
  CUresult (*cuTensorMapEncodeTiled)(CUtensorMap*, int, unsigned, void*, const unsigned long long*,
                                     const unsigned long long*, const unsigned*, const unsigned*, int, int, int, int);
  // CUDA >= 11.2 (stream-ordered allocation: scratch buffers of the non-torch paths); null if absent.
  CUresult (*cuMemAllocAsync)(CUdeviceptr*, size_t, CUstream);
  CUresult (*cuMemFreeAsync)(CUdeviceptr, CUstream);
};

// Raised when no usable driver or GPU exists (Python: tilekernels.NoGPUError).
struct NoGPU : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A failed driver call (Python: tilekernels.CudaError, or UnsupportedGPUError when `unsupported_gpu`).
struct CudaFailure : std::runtime_error {
  CudaFailure(const std::string& msg, CUresult code, std::string name, std::string call, std::string kernel,
              bool unsupported_gpu = false)
      : std::runtime_error(msg), code(code), error_name(std::move(name)), call(std::move(call)),
        kernel(std::move(kernel)), unsupported_gpu(unsupported_gpu) {}
  CUresult code;
  std::string error_name, call, kernel;
  bool unsupported_gpu;
};

// The driver API, loaded and cuInit'ed on the first call (thread-safe). Throws NoGPU when libcuda.so.1 is missing,
// lacks an entry point we need, or cuInit fails for want of a device or a working driver.
const Api& api();

// True once api() succeeded (never loads anything).
bool api_loaded();

// "CUDA_ERROR_INVALID_VALUE" for a CUresult (needs the driver loaded; falls back to "CUresult <n>").
std::string error_name(CUresult rc);
std::string error_string(CUresult rc);

// The driver's CUDA version as "13.0" (or "unknown" when no driver loads).
std::string driver_version_string();

// Throws CudaFailure "<call> failed for kernel '<kernel>': CUDA_ERROR_X (text)" when rc != CUDA_SUCCESS.
void check(CUresult rc, const char* call, const char* kernel = nullptr);

}  // namespace tilekernels::cu
