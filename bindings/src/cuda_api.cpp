// @file cuda_api.cpp
// @brief dlopen libcuda.so.1 on first use and resolve the driver entry points (see cuda_api.h).
#include "cuda_api.h"

#include <dlfcn.h>

#include <mutex>

namespace tilekernels::cu {
namespace {

Api g_api;
bool g_loaded = false;
std::once_flag g_once;
std::string g_load_error;  // set when loading failed; every later api() call rethrows it

// cuGetProcAddress (CUDA >= 12.0 spelling, exported as cuGetProcAddress_v2) returns the entry point matching the
// CUDA version we were written against, so a later driver that adds a _v3 of a call keeps giving us the ABI we
// declared. Drivers without it get plain dlsym of the unversioned names, which are the same functions.
using GetProcAddressV2 = CUresult (*)(const char*, void**, int, unsigned long long, int*);
constexpr int kApiVersion = 12000;

struct Resolver {
  void* lib;
  GetProcAddressV2 gpa;
  void* get(const char* name) const {
    void* p = nullptr;
    if (gpa) {
      int status = 0;
      if (gpa(name, &p, kApiVersion, CU_GET_PROC_ADDRESS_DEFAULT, &status) != CUDA_SUCCESS) p = nullptr;
    }
    return p ? p : dlsym(lib, name);
  }
};

template <class F>
bool resolve(const Resolver& r, F& fn, const char* name) {
  fn = reinterpret_cast<F>(r.get(name));
  return fn != nullptr;
}

std::string rc_text(const Api& a, CUresult rc) {
  const char* name = nullptr;
  const char* text = nullptr;
  if (a.cuGetErrorName) a.cuGetErrorName(rc, &name);
  if (a.cuGetErrorString) a.cuGetErrorString(rc, &text);
  return std::string(name ? name : "CUresult " + std::to_string(rc)) + " (" + (text ? text : "unknown error") + ")";
}

void load() {
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = dlerror();
    g_load_error = std::string("no NVIDIA driver found: libcuda.so.1 could not be loaded (") +
                   (why ? why : "unknown reason") +
                   "). tilekernels runs its kernels on an NVIDIA GPU and needs the NVIDIA driver (not the CUDA "
                   "toolkit); check that `nvidia-smi` works, and in a container that the GPU and driver are mapped "
                   "in (e.g. `docker run --gpus all`).";
    return;
  }
  Resolver r{lib, reinterpret_cast<GetProcAddressV2>(dlsym(lib, "cuGetProcAddress_v2"))};
  Api a{};
  const char* missing = nullptr;
#define TK_REQUIRE(fn) \
  if (!missing && !resolve(r, a.fn, #fn)) missing = #fn;
  TK_REQUIRE(cuInit)
  TK_REQUIRE(cuDriverGetVersion)
  TK_REQUIRE(cuGetErrorName)
  TK_REQUIRE(cuGetErrorString)
  TK_REQUIRE(cuDeviceGetCount)
  TK_REQUIRE(cuDeviceGet)
  TK_REQUIRE(cuDeviceGetAttribute)
  TK_REQUIRE(cuDeviceGetName)
  TK_REQUIRE(cuDevicePrimaryCtxRetain)
  TK_REQUIRE(cuCtxGetCurrent)
  TK_REQUIRE(cuCtxSetCurrent)
  TK_REQUIRE(cuCtxGetDevice)
  TK_REQUIRE(cuPointerGetAttribute)
  TK_REQUIRE(cuModuleLoadData)
  TK_REQUIRE(cuModuleGetFunction)
  TK_REQUIRE(cuFuncSetAttribute)
  TK_REQUIRE(cuMemsetD16Async)
  TK_REQUIRE(cuLaunchKernelEx)  // CUDA >= 11.8
#undef TK_REQUIRE
  if (missing) {
    int v = 0;
    if (a.cuDriverGetVersion) a.cuDriverGetVersion(&v);
    g_load_error = std::string("the installed NVIDIA driver (CUDA ") + std::to_string(v / 1000) + "." +
                   std::to_string(v % 1000 / 10) + ") lacks " + missing +
                   "; tilekernels needs a driver for CUDA 12.0 or newer: update the NVIDIA driver.";
    return;
  }
  // All three or none: the library path needs each of them.
  if (!resolve(r, a.cuLibraryLoadData, "cuLibraryLoadData") || !resolve(r, a.cuLibraryGetKernel, "cuLibraryGetKernel") ||
      !resolve(r, a.cuKernelGetFunction, "cuKernelGetFunction")) {
    a.cuLibraryLoadData = nullptr;
    a.cuLibraryGetKernel = nullptr;
    a.cuKernelGetFunction = nullptr;
  }
  if (!resolve(r, a.cuTensorMapEncodeTiled, "cuTensorMapEncodeTiled")) a.cuTensorMapEncodeTiled = nullptr;
  if (!resolve(r, a.cuMemAllocAsync, "cuMemAllocAsync") || !resolve(r, a.cuMemFreeAsync, "cuMemFreeAsync")) {
    a.cuMemAllocAsync = nullptr;
    a.cuMemFreeAsync = nullptr;
  }
  CUresult rc = a.cuInit(0);
  if (rc != CUDA_SUCCESS) {
    g_load_error = "the CUDA driver found no usable GPU: cuInit failed with " + rc_text(a, rc) +
                   ". Check that `nvidia-smi` lists a GPU, that CUDA_VISIBLE_DEVICES (if set) names one, and in a "
                   "container that the GPU is mapped in (e.g. `docker run --gpus all`).";
    if (rc == CUDA_ERROR_SYSTEM_DRIVER_MISMATCH || rc == CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE)
      g_load_error += " The user-mode driver (libcuda.so.1) does not match the kernel driver: reinstall the driver "
                      "or remove a stale CUDA forward-compatibility package from the library path.";
    return;
  }
  int count = 0;
  if (a.cuDeviceGetCount(&count) != CUDA_SUCCESS || count == 0) {
    g_load_error = "the CUDA driver sees no GPU (cuDeviceGetCount returned 0). Check `nvidia-smi` and "
                   "CUDA_VISIBLE_DEVICES.";
    return;
  }
  g_api = a;
  g_loaded = true;
}

}  // namespace

const Api& api() {
  std::call_once(g_once, load);
  if (!g_loaded) throw NoGPU(g_load_error);
  return g_api;
}

bool api_loaded() { return g_loaded; }

std::string error_name(CUresult rc) {
  const char* name = nullptr;
  if (g_loaded && g_api.cuGetErrorName) g_api.cuGetErrorName(rc, &name);
  return name ? name : "CUresult " + std::to_string(rc);
}

std::string error_string(CUresult rc) {
  const char* text = nullptr;
  if (g_loaded && g_api.cuGetErrorString) g_api.cuGetErrorString(rc, &text);
  return text ? text : "unknown error";
}

std::string driver_version_string() {
  int v = 0;
  try {
    if (api().cuDriverGetVersion(&v) != CUDA_SUCCESS) return "unknown";
  } catch (const NoGPU&) {
    return "unknown";
  }
  return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10);
}

void check(CUresult rc, const char* call, const char* kernel) {
  if (rc == CUDA_SUCCESS) return;
  std::string name = error_name(rc);
  std::string msg = std::string(call) + " failed";
  if (kernel) msg += std::string(" for kernel '") + kernel + "'";
  msg += ": " + name + " (" + error_string(rc) + ")";
  throw CudaFailure(msg, rc, name, call, kernel ? kernel : "");
}

}  // namespace tilekernels::cu
