// Compile-only check (tests/cpu/test_tilekernels_cpu.py::test_cuda_api_decls_match_cuda_h): the types, layouts and
// enum values that cuda_api.h copies must equal those of the real cuda.h it was written against.
#include <cuda.h>

#include <cstddef>

#include "cuda_api.h"

namespace tk = tilekernels::cu;

#define SAME(name) static_assert(static_cast<long long>(tk::name) == static_cast<long long>(::name), #name)
SAME(CUDA_SUCCESS);
SAME(CUDA_ERROR_NOT_INITIALIZED);
SAME(CUDA_ERROR_DEVICE_UNAVAILABLE);
SAME(CUDA_ERROR_NO_DEVICE);
SAME(CUDA_ERROR_INVALID_DEVICE);
SAME(CUDA_ERROR_NO_BINARY_FOR_GPU);
SAME(CUDA_ERROR_UNSUPPORTED_PTX_VERSION);
SAME(CUDA_ERROR_OPERATING_SYSTEM);
SAME(CUDA_ERROR_NOT_FOUND);
SAME(CUDA_ERROR_SYSTEM_NOT_READY);
SAME(CUDA_ERROR_SYSTEM_DRIVER_MISMATCH);
SAME(CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE);
SAME(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
SAME(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
SAME(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
SAME(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
SAME(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES);
SAME(CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED);
SAME(CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL);
SAME(CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION);
SAME(CU_GET_PROC_ADDRESS_DEFAULT);
SAME(CUDA_ERROR_INVALID_VALUE);
SAME(CU_TENSOR_MAP_DATA_TYPE_FLOAT16);
SAME(CU_TENSOR_MAP_DATA_TYPE_FLOAT32);
SAME(CU_TENSOR_MAP_DATA_TYPE_BFLOAT16);
SAME(CU_TENSOR_MAP_INTERLEAVE_NONE);
SAME(CU_TENSOR_MAP_SWIZZLE_NONE);
SAME(CU_TENSOR_MAP_SWIZZLE_128B);
SAME(CU_TENSOR_MAP_L2_PROMOTION_L2_256B);
SAME(CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
static_assert(sizeof(tk::CUtensorMap) == sizeof(::CUtensorMap), "CUtensorMap size");
static_assert(alignof(tk::CUtensorMap) >= alignof(::CUtensorMap), "CUtensorMap alignment");

static_assert(sizeof(tk::CUlaunchConfig) == sizeof(::CUlaunchConfig), "CUlaunchConfig");
static_assert(offsetof(tk::CUlaunchConfig, hStream) == offsetof(::CUlaunchConfig, hStream), "hStream");
static_assert(offsetof(tk::CUlaunchConfig, attrs) == offsetof(::CUlaunchConfig, attrs), "attrs");
static_assert(offsetof(tk::CUlaunchConfig, numAttrs) == offsetof(::CUlaunchConfig, numAttrs), "numAttrs");
static_assert(sizeof(tk::CUlaunchAttribute) == sizeof(::CUlaunchAttribute), "CUlaunchAttribute");
static_assert(offsetof(tk::CUlaunchAttribute, value) == offsetof(::CUlaunchAttribute, value), "value");
static_assert(sizeof(tk::CUdeviceptr) == sizeof(::CUdeviceptr), "CUdeviceptr");

// Every function pointer type must be the one cuda.h declares (CUDA_VERSION-selected names resolve to the
// versioned ABI we ask cuGetProcAddress for).
template <class A, class B>
struct same_sig;
template <class R1, class R2, class... P, class... Q>
struct same_sig<R1 (*)(P...), R2 (*)(Q...)> {  // same arity and same argument sizes (enums are ints here)
  static constexpr bool value = sizeof(R1) == sizeof(R2) && sizeof...(P) == sizeof...(Q) && ((sizeof(P) == sizeof(Q)) && ...);
};
#define SIG(fn) static_assert(same_sig<decltype(tk::Api::fn), decltype(&::fn)>::value, #fn)
SIG(cuInit);
SIG(cuDriverGetVersion);
SIG(cuDeviceGetAttribute);
SIG(cuDeviceGetName);
SIG(cuDevicePrimaryCtxRetain);
SIG(cuCtxGetCurrent);
SIG(cuModuleLoadData);
SIG(cuModuleGetFunction);
SIG(cuFuncSetAttribute);
SIG(cuMemsetD16Async);
SIG(cuLaunchKernelEx);
SIG(cuLibraryLoadData);
SIG(cuLibraryGetKernel);
SIG(cuKernelGetFunction);
SIG(cuPointerGetAttribute);
SIG(cuTensorMapEncodeTiled);
SIG(cuMemAllocAsync);
SIG(cuMemFreeAsync);

int main() { return CUDA_VERSION >= 12000 ? 0 : 1; }
