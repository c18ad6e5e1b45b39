// @file runtime.cpp
// @brief Devices, arch matching, lazy kernel loading and launching (see runtime.h).
#include "runtime.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>

#include "catalogue.h"

#define TK_STR2(x) #x
#define TK_STR(x) TK_STR2(x)
#ifndef TILEKERNELS_CUDA_VERSION
#define TILEKERNELS_CUDA_VERSION unknown
#endif
#ifndef TILEKERNELS_VERSION
#define TILEKERNELS_VERSION 0.0.0+unknown
#endif

namespace tilekernels {
namespace {

using namespace cu;

// The compile definitions arrive either as a bare token (13.0) or as a string literal ("13.0"): strip the quotes.
std::string unquote(const char* s) {
  std::string v(s);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return v;
}
const std::string g_version = unquote(TK_STR(TILEKERNELS_VERSION));
const std::string g_cuda_version = unquote(TK_STR(TILEKERNELS_CUDA_VERSION));

std::string g_fatbin_dir;

// Per catalogue kernel: the fatbin image (kept for the process: cuLibraryLoadData and the per-context module
// fallback both read it), the library, the per-device functions.
struct KernelState {
  std::mutex mutex;
  bool have_image = false;
  std::string image;
  CUlibrary library = nullptr;
  std::unique_ptr<std::atomic<CUfunction>[]> functions;  // one per device ordinal
};

struct DeviceSlot {
  std::once_flag once;
  Device device;
};

// Sized once the driver reports its device count; never freed (handles live as long as the process).
struct State {
  int ndev = 0;
  std::unique_ptr<DeviceSlot[]> devices;
  std::unique_ptr<KernelState[]> kernels;
};
State* g_state = nullptr;
std::once_flag g_state_once;

State& state() {
  std::call_once(g_state_once, [] {
    const Api& a = api();  // throws NoGPU (call_once then runs again next time)
    int n = 0;
    check(a.cuDeviceGetCount(&n), "cuDeviceGetCount");
    auto* s = new State;
    s->ndev = n;
    s->devices.reset(new DeviceSlot[n]);
    int nk = catalogue_kernel_count();
    s->kernels.reset(new KernelState[nk > 0 ? nk : 1]);
    for (int k = 0; k < nk; ++k) {
      s->kernels[k].functions.reset(new std::atomic<CUfunction>[n]);
      for (int i = 0; i < n; ++i) s->kernels[k].functions[i].store(nullptr, std::memory_order_relaxed);
    }
    g_state = s;
  });
  return *g_state;
}

// -- test mode --
std::atomic<bool> g_test{false};
Device g_fake;
std::mutex g_fake_mutex;
FakeLaunch g_fake_launch;

void init_device(Device& d, int ordinal) {
  const Api& a = api();
  d.ordinal = ordinal;
  check(a.cuDeviceGet(&d.handle, ordinal), "cuDeviceGet");
  check(a.cuDeviceGetAttribute(&d.major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d.handle),
        "cuDeviceGetAttribute");
  check(a.cuDeviceGetAttribute(&d.minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d.handle),
        "cuDeviceGetAttribute");
  check(a.cuDeviceGetAttribute(&d.sm_count, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, d.handle),
        "cuDeviceGetAttribute");
  check(a.cuDeviceGetAttribute(&d.smem_optin, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, d.handle),
        "cuDeviceGetAttribute");
  char name[256] = {0};
  check(a.cuDeviceGetName(name, sizeof(name) - 1, d.handle), "cuDeviceGetName");
  d.name = name;
  check(a.cuDevicePrimaryCtxRetain(&d.primary, d.handle), "cuDevicePrimaryCtxRetain");
  int nk = catalogue_kernel_count();
  d.usable.assign(nk, 0);
  for (int k = 0; k < nk; ++k) d.usable[k] = unusable_reason(catalogue_kernels()[k], d).empty();
}

std::string read_file(const std::string& path, const char* kernel) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    throw CudaFailure("cannot open the fatbin of kernel '" + std::string(kernel) + "': " + path +
                          " is missing or unreadable; the tilekernels installation is incomplete: reinstall it",
                      CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_FILE_NOT_FOUND", "open", kernel);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Rephrase "this binary has no code for this GPU" as the one unsupported-GPU message.
[[noreturn]] void rethrow_load_failure(const CudaFailure& e, const KernelInfo& k, const Device& d) {
  if (e.code == CUDA_ERROR_NO_BINARY_FOR_GPU || e.code == CUDA_ERROR_UNSUPPORTED_PTX_VERSION) {
    std::string why = e.code == CUDA_ERROR_NO_BINARY_FOR_GPU
                          ? "its fatbin (" + std::string(k.archs) + ") holds no code this GPU can run"
                          : "its PTX was made by a newer CUDA (" + std::string(built_cuda_version()) +
                                ") than this driver can compile: update the NVIDIA driver, or";
    throw CudaFailure(unsupported_gpu_message(d, "loading kernel '" + std::string(k.name) + "' failed with " +
                                                     e.error_name,
                                              why),
                      e.code, e.error_name, e.call, k.name, true);
  }
  throw e;
}

}  // namespace

void set_fatbin_dir(const std::string& dir) { g_fatbin_dir = dir; }
const std::string& fatbin_dir() { return g_fatbin_dir; }
const char* package_version() { return g_version.c_str(); }
const char* built_cuda_version() { return g_cuda_version.c_str(); }

bool arch_runs_on(const std::string& arch, int major, int minor) {
  bool ptx;
  size_t i;
  if (arch.rfind("sm_", 0) == 0) {
    ptx = false;
    i = 3;
  } else if (arch.rfind("compute_", 0) == 0) {
    ptx = true;
    i = 8;
  } else {
    return false;
  }
  int n = 0;
  size_t digits = 0;
  for (; i < arch.size() && arch[i] >= '0' && arch[i] <= '9'; ++i, ++digits) n = n * 10 + (arch[i] - '0');
  if (digits < 2) return false;
  std::string suffix = arch.substr(i);
  if (!suffix.empty() && suffix != "a" && suffix != "f") return false;
  int amaj = n / 10, amin = n % 10;
  if (suffix == "a") return major == amaj && minor == amin;
  if (suffix == "f" || !ptx) return major == amaj && minor >= amin;
  return major * 10 + minor >= n;
}

std::string unusable_reason(const KernelInfo& k, const Device& d) {
  bool arch_ok = false;
  std::string archs = k.archs, entry;
  std::istringstream ss(archs);
  while (std::getline(ss, entry, ';'))
    if (arch_runs_on(entry, d.major, d.minor)) arch_ok = true;
  if (!arch_ok) return "built for " + archs + " only";
  if (static_cast<long long>(k.smem_bytes) > d.smem_optin)
    return "needs " + std::to_string(k.smem_bytes) + " bytes of shared memory, the GPU offers " +
           std::to_string(d.smem_optin);
  return "";
}

int device_count() { return test_mode() ? 1 : state().ndev; }

const Device& device(int ordinal) {
  if (test_mode()) return g_fake;
  State& s = state();
  if (ordinal < 0 || ordinal >= s.ndev)
    throw CudaFailure("CUDA device " + std::to_string(ordinal) + " does not exist: the driver sees " +
                          std::to_string(s.ndev) + " GPU(s) (check CUDA_VISIBLE_DEVICES)",
                      CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "cuDeviceGet", "");
  DeviceSlot& slot = s.devices[ordinal];
  std::call_once(slot.once, init_device, std::ref(slot.device), ordinal);
  return slot.device;
}

int current_device_ordinal() {
  if (test_mode()) return 0;
  const Api& a = api();
  CUcontext ctx = nullptr;
  check(a.cuCtxGetCurrent(&ctx), "cuCtxGetCurrent");
  if (!ctx) return 0;
  CUdevice dev = 0;
  check(a.cuCtxGetDevice(&dev), "cuCtxGetDevice");
  return dev;  // CUdevice values are the ordinals
}

ContextGuard::ContextGuard(const Device& d) {
  if (test_mode()) return;
  const Api& a = api();
  check(a.cuCtxGetCurrent(&prev_), "cuCtxGetCurrent");
  if (prev_ != d.primary) {
    check(a.cuCtxSetCurrent(d.primary), "cuCtxSetCurrent");
    restore_ = true;
  }
}

ContextGuard::~ContextGuard() {
  if (restore_) api().cuCtxSetCurrent(prev_);
}

CUfunction cached_function(int k, const Device& d) {
  if (test_mode()) return reinterpret_cast<CUfunction>(1);
  return state().kernels[k].functions[d.ordinal].load(std::memory_order_acquire);
}

CUfunction load_function(int k, const Device& d) {
  const KernelInfo& info = catalogue_kernels()[k];
  KernelState& ks = state().kernels[k];
  std::lock_guard<std::mutex> lock(ks.mutex);
  CUfunction f = ks.functions[d.ordinal].load(std::memory_order_acquire);
  if (f) return f;
  const Api& a = api();
  try {
    if (!ks.have_image) {
      if (g_fatbin_dir.empty())
        throw std::logic_error("tilekernels._C._init(package_dir) was not called (internal error, please report)");
      ks.image = read_file(g_fatbin_dir + "/" + info.fatbin, info.name);
      ks.have_image = true;
    }
    if (a.cuLibraryLoadData) {  // context-independent: load once, then one function handle per context
      if (!ks.library)
        check(a.cuLibraryLoadData(&ks.library, ks.image.data(), nullptr, nullptr, 0, nullptr, nullptr, 0),
              "cuLibraryLoadData", info.name);
      CUkernel kernel = nullptr;
      check(a.cuLibraryGetKernel(&kernel, ks.library, info.entry), "cuLibraryGetKernel", info.name);
      check(a.cuKernelGetFunction(&f, kernel), "cuKernelGetFunction", info.name);
    } else {  // drivers before CUDA 12.0: one module per (primary) context, i.e. per device
      CUmodule module = nullptr;
      check(a.cuModuleLoadData(&module, ks.image.data()), "cuModuleLoadData", info.name);
      check(a.cuModuleGetFunction(&f, module, info.entry), "cuModuleGetFunction", info.name);
    }
    if (info.smem_bytes > 48 * 1024)
      check(a.cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, static_cast<int>(info.smem_bytes)),
            "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)", info.name);
    if (info.cluster[0] * info.cluster[1] * info.cluster[2] > 8)
      check(a.cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED, 1),
            "cuFuncSetAttribute(NON_PORTABLE_CLUSTER_SIZE_ALLOWED)", info.name);
  } catch (const CudaFailure& e) {
    rethrow_load_failure(e, info, d);
  }
  ks.functions[d.ordinal].store(f, std::memory_order_release);
  return f;
}

void launch(int k, CUfunction f, const long long* dims, const CUdeviceptr* tensors, CUstream stream) {
  const KernelInfo& info = catalogue_kernels()[k];
  if (info.n_tensors < 0 || info.n_tensors > 8 || info.n_dims < 0 || info.n_dims > 8)
    throw std::logic_error(std::string("kernel '") + info.name + "' declares " + std::to_string(info.n_tensors) +
                           " tensors and " + std::to_string(info.n_dims) + " dims (at most 8 each; internal error)");
  unsigned grid[3] = {1, 1, 1};
  info.grid(dims, grid);
  int ints[8];
  void* params[16];
  int np = 0;
  for (int i = 0; i < info.n_tensors; ++i) params[np++] = const_cast<CUdeviceptr*>(&tensors[i]);
  for (int i = 0; i < info.n_dims; ++i) {
    ints[i] = static_cast<int>(dims[info.dim_order[i]]);
    params[np++] = &ints[i];
  }
  bool cluster = info.cluster[0] * info.cluster[1] * info.cluster[2] != 1;
  if (test_mode()) {
    std::lock_guard<std::mutex> lock(g_fake_mutex);
    FakeLaunch& r = g_fake_launch;
    r.kernel = info.name;
    for (int i = 0; i < 3; ++i) r.grid[i] = grid[i], r.cluster[i] = info.cluster[i];
    r.block = info.threads;
    r.smem = info.smem_bytes;
    r.tensors.assign(tensors, tensors + info.n_tensors);
    r.ints.assign(ints, ints + info.n_dims);
    r.stream = reinterpret_cast<unsigned long long>(stream);
    r.memset = false;
    ++r.count;
    return;
  }
  CUlaunchAttribute attr{};
  CUlaunchConfig cfg{};
  cfg.gridDimX = grid[0], cfg.gridDimY = grid[1], cfg.gridDimZ = grid[2];
  cfg.blockDimX = info.threads, cfg.blockDimY = 1, cfg.blockDimZ = 1;
  cfg.sharedMemBytes = info.smem_bytes;
  cfg.hStream = stream;
  if (cluster) {
    attr.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    attr.value.clusterDim.x = info.cluster[0];
    attr.value.clusterDim.y = info.cluster[1];
    attr.value.clusterDim.z = info.cluster[2];
    cfg.attrs = &attr;
    cfg.numAttrs = 1;
  }
  check(api().cuLaunchKernelEx(&cfg, f, params, nullptr), "cuLaunchKernelEx", info.name);
}

void memset16(CUdeviceptr ptr, size_t n, CUstream stream) {
  if (test_mode()) {
    std::lock_guard<std::mutex> lock(g_fake_mutex);
    g_fake_launch = FakeLaunch{"", {0, 0, 0}, 0, 0, {1, 1, 1}, {ptr}, {static_cast<long long>(n)},
                               reinterpret_cast<unsigned long long>(stream), true, g_fake_launch.count + 1};
    return;
  }
  check(api().cuMemsetD16Async(ptr, 0, n, stream), "cuMemsetD16Async");
}

std::string unsupported_gpu_message(const Device& d, const std::string& what, const std::string& detail) {
  std::string cc = std::to_string(d.major) + "." + std::to_string(d.minor);
  std::string arch = std::to_string(d.major) + std::to_string(d.minor) + (d.major >= 9 ? "a" : "");
  std::string msg = what + " on GPU " + std::to_string(d.ordinal) + " '" + d.name + "' (compute capability " + cc +
                    ", sm_" + std::to_string(d.major) + std::to_string(d.minor) + ")";
  if (!detail.empty()) msg += ": " + detail;
  msg += ". This tilekernels " + g_version + " was built for " + catalogue_built_archs() + " with CUDA " +
         g_cuda_version + "; the driver supports CUDA " + driver_version_string() +
         ". To get kernels for this GPU, build tilekernels for it: `TILEC_ARCHS=\"" + arch +
         "\" pip wheel .` in a source checkout, or `TILEC_ARCHS=\"" + arch +
         "\" pip install tilekernels --no-binary tilekernels` (needs the CUDA toolkit).";
  return msg;
}

void set_test_mode(bool on, int major, int minor, const std::string& name, int smem_optin) {
  std::lock_guard<std::mutex> lock(g_fake_mutex);
  if (on) {
    g_fake = Device{};
    g_fake.major = major, g_fake.minor = minor, g_fake.name = name, g_fake.smem_optin = smem_optin;
    g_fake.sm_count = 132;
    int nk = catalogue_kernel_count();
    g_fake.usable.assign(nk, 0);
    for (int k = 0; k < nk; ++k) g_fake.usable[k] = unusable_reason(catalogue_kernels()[k], g_fake).empty();
  }
  g_fake_launch = FakeLaunch{};
  g_test.store(on, std::memory_order_release);
}

bool test_mode() { return g_test.load(std::memory_order_relaxed); }

FakeLaunch last_fake_launch() {
  std::lock_guard<std::mutex> lock(g_fake_mutex);
  return g_fake_launch;
}

}  // namespace tilekernels
