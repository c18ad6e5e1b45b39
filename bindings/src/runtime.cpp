// @file runtime.cpp
// @brief Devices, arch matching, lazy kernel loading and launching (see runtime.h).
#include "runtime.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>

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
std::atomic<int> g_fake_encode_rc{0};  // what the fake cuTensorMapEncodeTiled returns (tests of the error path)

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

// -- TMA tensor maps --

// Element bytes of each CUtensorMapDataType up to TFLOAT32_FTZ (0 for the packed types we never emit).
constexpr int kTmapElemBytes[] = {1, 2, 4, 4, 8, 8, 2, 4, 8, 2, 4, 4, 4};
constexpr int kTmapDataTypes = static_cast<int>(sizeof(kTmapElemBytes) / sizeof(kTmapElemBytes[0]));

// The cache key: everything cuTensorMapEncodeTiled gets that varies per call (the rest is fixed per (kernel, map)).
// All fields are 8-byte aligned, so the struct has no padding and compares with memcmp.
struct TmapKey {
  int kernel, map;
  unsigned long long address;
  unsigned long long dims[5], strides[4];
};
static_assert(sizeof(TmapKey) == 88, "TmapKey must have no padding (memcmp)");

// A small 2-way set-associative cache of encoded maps: a hit is one shape() call, a hash, an uncontended mutex and
// a 128-byte copy. Bounded (kTmapSets * 2 maps); a miss encodes outside the lock and replaces the set's older way.
constexpr int kTmapSets = 64;
struct TmapSet {
  std::mutex mutex;
  unsigned char next = 0;  // the way a miss replaces (the one not used last)
  bool valid[2] = {false, false};
  TmapKey key[2];
  CUtensorMap map[2];
};
TmapSet g_tmap_cache[kTmapSets];

unsigned tmap_set(const TmapKey& key) {
  unsigned long long h = key.address ^ (static_cast<unsigned long long>(key.kernel) << 40) ^
                         (static_cast<unsigned long long>(key.map) << 56);
  for (unsigned long long v : key.dims) h = (h ^ v) * 0x9E3779B97F4A7C15ULL;
  h ^= key.strides[0] * 0xC2B2AE3D27D4EB4FULL;
  return static_cast<unsigned>((h ^ (h >> 29) ^ (h >> 47)) % kTmapSets);
}

void clear_tmap_cache() {
  for (TmapSet& set : g_tmap_cache) {
    std::lock_guard<std::mutex> lock(set.mutex);
    set.valid[0] = set.valid[1] = false;
  }
}

std::string list_str(const unsigned long long* v, int n) {
  std::string s = "[";
  for (int i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

// Fills key (address, dims, strides) for map j of kernel k and checks the TMA rules the driver would reject with
// a bare CUDA_ERROR_INVALID_VALUE. Throws std::invalid_argument naming the kernel and tensor.
void tmap_key(int k, int j, const KernelInfo& info, const long long* dims, const CUdeviceptr* tensors,
              const char* hint, TmapKey& key) {
  const TmapInfo& t = info.tmaps[j];
  if (t.tensor < 0 || t.tensor >= info.n_tensors || t.rank < 1 || t.rank > 5 || t.dtype < 0 ||
      t.dtype >= kTmapDataTypes || !t.shape)
    throw std::logic_error(std::string("kernel '") + info.name + "' tensor map " + std::to_string(j) +
                           " is malformed (tensor " + std::to_string(t.tensor) + ", rank " + std::to_string(t.rank) +
                           ", data type " + std::to_string(t.dtype) + "; internal error)");
  std::memset(&key, 0, sizeof(key));
  key.kernel = k;
  key.map = j;
  key.address = tensors[t.tensor];
  unsigned long long strides[5] = {0, 0, 0, 0, 0};
  t.shape(dims, key.dims, strides);
  for (int i = 0; i + 1 < t.rank; ++i) key.strides[i] = strides[i];
  for (int i = t.rank; i < 5; ++i) key.dims[i] = 0;
  const int esize = kTmapElemBytes[t.dtype];
  std::string where = std::string("tilekernels: kernel '") + info.name + "' reads tensor " +
                      std::to_string(t.tensor) + " through a TMA descriptor (dims " + list_str(key.dims, t.rank) +
                      ", byte strides " + list_str(key.strides, t.rank - 1) + "), but ";
  std::string tail = hint && *hint ? std::string("; ") + hint : std::string();
  if (key.address % 16)
    throw std::invalid_argument(where + "its address " + std::to_string(key.address) +
                                " is not 16-byte aligned (TMA requires it)" + tail);
  for (int i = 0; i < t.rank; ++i)
    if (key.dims[i] < 1 || key.dims[i] > (1ULL << 32))
      throw std::invalid_argument(where + "dim " + std::to_string(i) + " is " + std::to_string(key.dims[i]) +
                                  " (TMA needs 1..2^32)" + tail);
  unsigned long long inner = static_cast<unsigned long long>(esize) * key.dims[0];
  for (int i = 0; i + 1 < t.rank; ++i) {
    unsigned long long s = key.strides[i];
    if (s % 16 || s == 0 || s >= (1ULL << 40))
      throw std::invalid_argument(where + "the stride of dim " + std::to_string(i + 1) + " is " + std::to_string(s) +
                                  " bytes, not a positive multiple of 16 below 2^40 (TMA requires it)" + tail);
    if (s < inner)
      throw std::invalid_argument(where + "the stride of dim " + std::to_string(i + 1) + " (" + std::to_string(s) +
                                  " bytes) is smaller than the " + std::to_string(inner) +
                                  " bytes the dims inside it span" + tail);
    inner = s * key.dims[i + 1];
  }
}

FakeTmap fake_args(const TmapInfo& t, const TmapKey& key) {
  FakeTmap f;
  f.data_type = t.dtype;
  f.rank = static_cast<unsigned>(t.rank);
  f.address = key.address;
  f.dims.assign(key.dims, key.dims + t.rank);
  f.strides.assign(key.strides, key.strides + (t.rank - 1));
  f.box.assign(t.box, t.box + t.rank);
  f.element_strides.assign(t.rank, 1u);
  f.interleave = CU_TENSOR_MAP_INTERLEAVE_NONE;
  f.swizzle = t.swizzle;
  f.l2_promotion = CU_TENSOR_MAP_L2_PROMOTION_L2_256B;
  f.oob_fill = CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE;
  return f;
}

// Encodes map j of `info` (key from tmap_key: it names the kernel) into `out`, from the cache when it holds it.
void tensor_map(int j, const KernelInfo& info, const TmapKey& key, CUtensorMap& out) {
  TmapSet& set = g_tmap_cache[tmap_set(key)];
  {
    std::lock_guard<std::mutex> lock(set.mutex);
    for (int w = 0; w < 2; ++w)
      if (set.valid[w] && std::memcmp(&set.key[w], &key, sizeof(key)) == 0) {
        out = set.map[w];
        set.next = static_cast<unsigned char>(1 - w);
        return;
      }
  }
  const TmapInfo& t = info.tmaps[j];
  const unsigned ones[5] = {1, 1, 1, 1, 1};
  CUresult rc;
  if (test_mode()) {
    rc = g_fake_encode_rc.load(std::memory_order_relaxed);
    if (rc == CUDA_SUCCESS) fake_tensor_map_bytes(fake_args(t, key), reinterpret_cast<unsigned char*>(out.opaque));
    std::lock_guard<std::mutex> lock(g_fake_mutex);
    ++g_fake_launch.encodes;
  } else {
    const Api& a = api();
    if (!a.cuTensorMapEncodeTiled)
      throw CudaFailure(std::string("kernel '") + info.name + "' needs cuTensorMapEncodeTiled (TMA), which the "
                            "installed NVIDIA driver (CUDA " + driver_version_string() + ") lacks: update the driver",
                        CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "cuTensorMapEncodeTiled", info.name);
    rc = a.cuTensorMapEncodeTiled(&out, t.dtype, static_cast<unsigned>(t.rank), reinterpret_cast<void*>(key.address),
                                  key.dims, key.strides, t.box, ones, CU_TENSOR_MAP_INTERLEAVE_NONE, t.swizzle,
                                  CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  }
  if (rc != CUDA_SUCCESS) {
    std::string name = error_name(rc);
    unsigned long long box[5];
    for (int i = 0; i < t.rank; ++i) box[i] = t.box[i];
    throw CudaFailure("cuTensorMapEncodeTiled failed for kernel '" + std::string(info.name) + "' (tensor map " +
                          std::to_string(j) + " of tensor " + std::to_string(t.tensor) + ": address " +
                          std::to_string(key.address) + ", data type " + std::to_string(t.dtype) + ", dims " +
                          list_str(key.dims, t.rank) + ", byte strides " + list_str(key.strides, t.rank - 1) +
                          ", box " + list_str(box, t.rank) + ", swizzle " + std::to_string(t.swizzle) + "): " + name +
                          " (" + error_string(rc) + ")",
                      rc, name, "cuTensorMapEncodeTiled", info.name);
  }
  std::lock_guard<std::mutex> lock(set.mutex);
  int w = set.next;
  set.key[w] = key;
  set.map[w] = out;
  set.valid[w] = true;
  set.next = static_cast<unsigned char>(1 - w);
}

}  // namespace

void fake_tensor_map_bytes(const FakeTmap& t, unsigned char out[128]) {
  std::memset(out, 0, 128);
  unsigned char* p = out;
  auto put = [&p](const void* v, size_t n) {
    std::memcpy(p, v, n);
    p += n;
  };
  put("TKFAKEMP", 8);
  put(&t.address, 8);
  for (size_t i = 0; i < 5; ++i) {
    unsigned long long v = i < t.dims.size() ? t.dims[i] : 0;
    put(&v, 8);
  }
  for (size_t i = 0; i < 4; ++i) {
    unsigned long long v = i < t.strides.size() ? t.strides[i] : 0;
    put(&v, 8);
  }
  for (size_t i = 0; i < 5; ++i) {
    unsigned v = i < t.box.size() ? t.box[i] : 0;
    put(&v, 4);
  }
  int tail[5] = {t.data_type, static_cast<int>(t.rank), t.swizzle, t.l2_promotion, t.oob_fill};
  put(tail, sizeof(tail));
}

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

void launch(int k, CUfunction f, const long long* dims, const CUdeviceptr* tensors, CUstream stream,
            const char* tma_hint, const float* scalars, int sm_count) {
  const KernelInfo& info = catalogue_kernels()[k];
  if (info.n_tensors < 0 || info.n_tensors > 8 || info.n_dims < 0 || info.n_dims > 8 || info.n_tmaps < 0 ||
      info.n_tmaps > kMaxTmaps || info.n_scalars < 0 || info.n_scalars > kMaxScalars ||
      (info.n_scalars > 0 && !scalars))
    throw std::logic_error(std::string("kernel '") + info.name + "' declares " + std::to_string(info.n_tensors) +
                           " tensors, " + std::to_string(info.n_scalars) + " scalars, " +
                           std::to_string(info.n_dims) + " dims and " + std::to_string(info.n_tmaps) +
                           " tensor maps (at most 8, " + std::to_string(kMaxScalars) + ", 8 and " +
                           std::to_string(kMaxTmaps) + ", scalars given; internal error)");
  unsigned grid[3] = {1, 1, 1};
  info.grid(dims, grid);
  if (grid[1] > 65535 || grid[2] > 65535)
    throw std::invalid_argument(std::string("tilekernels: kernel '") + info.name + "' would launch a grid of " +
                                std::to_string(grid[0]) + " x " + std::to_string(grid[1]) + " x " +
                                std::to_string(grid[2]) + " blocks; CUDA allows at most 65535 in y and z: split the "
                                "problem");
  if (info.persistent) {  // one block per SM walks the tiles (kernel_info.h)
    if (sm_count <= 0)
      throw std::logic_error(std::string("kernel '") + info.name + "' is persistent but no SM count was given "
                             "(internal error)");
    unsigned long long tiles = 1ULL * grid[0] * grid[1] * grid[2];
    unsigned n = static_cast<unsigned>(tiles < static_cast<unsigned long long>(sm_count) ? tiles : sm_count);
    // Clusters (cluster = (size, 1, 1)): whole clusters only; the tiles come in whole clusters too. This assumes all
    // sm_count / size clusters run at once (true for clusters of 2 on sm_90); no catalogue kernel uses clusters yet,
    // one that does should cap by cuOccupancyMaxActiveClusters like the JIT launcher (persistent_grid_cap).
    const unsigned size = info.cluster[0] * info.cluster[1] * info.cluster[2];
    if (size > 1 && n > 0) n = (n / size > 0 ? n / size : 1) * size;
    grid[0] = n;
    grid[1] = grid[2] = 1;
  }
  int ints[8];
  float floats[kMaxScalars];
  CUtensorMap maps[kMaxTmaps];  // alignas(128): each is passed by value (the driver copies it at the launch call)
  TmapKey keys[kMaxTmaps];
  void* params[8 + kMaxScalars + 8 + kMaxTmaps];
  unsigned sizes[8 + kMaxScalars + 8 + kMaxTmaps];
  int np = 0;
  for (int i = 0; i < info.n_tensors; ++i) {
    sizes[np] = sizeof(CUdeviceptr);
    params[np++] = const_cast<CUdeviceptr*>(&tensors[i]);
  }
  for (int i = 0; i < info.n_scalars; ++i) {
    floats[i] = scalars[i];
    sizes[np] = sizeof(float);
    params[np++] = &floats[i];
  }
  for (int i = 0; i < info.n_dims; ++i) {
    ints[i] = static_cast<int>(dims[info.dim_order[i]]);
    sizes[np] = sizeof(int);
    params[np++] = &ints[i];
  }
  // Validate every map before encoding any (an argument error never leaves a half-built launch behind).
  for (int j = 0; j < info.n_tmaps; ++j) tmap_key(k, j, info, dims, tensors, tma_hint, keys[j]);
  if (grid[0] == 0 || grid[1] == 0 || grid[2] == 0) return;  // no block has work (an empty problem)
  for (int j = 0; j < info.n_tmaps; ++j) {
    tensor_map(j, info, keys[j], maps[j]);
    sizes[np] = sizeof(CUtensorMap);
    params[np++] = &maps[j];
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
    r.scalars.assign(floats, floats + info.n_scalars);
    r.ints.assign(ints, ints + info.n_dims);
    r.tmaps.clear();
    for (int j = 0; j < info.n_tmaps; ++j) r.tmaps.push_back(fake_args(info.tmaps[j], keys[j]));
    r.params.clear();
    r.param_addrs.clear();
    for (int i = 0; i < np; ++i) {
      r.params.emplace_back(static_cast<const char*>(params[i]), sizes[i]);
      r.param_addrs.push_back(reinterpret_cast<unsigned long long>(params[i]));
    }
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
    FakeLaunch r;
    r.tensors = {ptr};
    r.ints = {static_cast<long long>(n)};
    r.stream = reinterpret_cast<unsigned long long>(stream);
    r.memset = true;
    r.count = g_fake_launch.count + 1;
    r.encodes = g_fake_launch.encodes;
    r.scratch_bytes = g_fake_launch.scratch_bytes;
    r.scratch_live = g_fake_launch.scratch_live;
    g_fake_launch = r;
    return;
  }
  check(api().cuMemsetD16Async(ptr, 0, n, stream), "cuMemsetD16Async");
}

StreamScratch::StreamScratch(size_t bytes, CUstream stream, const char* kernel) : stream_(stream) {
  if (test_mode()) {
    std::lock_guard<std::mutex> lock(g_fake_mutex);
    g_fake_launch.scratch_bytes = static_cast<long long>(bytes);
    ++g_fake_launch.scratch_live;
    ptr_ = kFakeScratchAddress;
    return;
  }
  const Api& a = api();
  if (!a.cuMemAllocAsync)
    throw CudaFailure(std::string("kernel '") + kernel + "' needs a scratch buffer from cuMemAllocAsync, which the "
                          "installed NVIDIA driver (CUDA " + driver_version_string() + ") lacks: update the driver, "
                          "or pass torch tensors (tilekernels then allocates with torch)",
                      CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "cuMemAllocAsync", kernel);
  CUresult rc = a.cuMemAllocAsync(&ptr_, bytes ? bytes : 1, stream);
  if (rc != CUDA_SUCCESS) {
    ptr_ = 0;
    check(rc, ("cuMemAllocAsync(" + std::to_string(bytes) + " bytes of scratch; with torch tensors tilekernels "
               "allocates it with torch instead)").c_str(), kernel);
  }
}

StreamScratch::~StreamScratch() {
  if (test_mode()) {
    std::lock_guard<std::mutex> lock(g_fake_mutex);
    --g_fake_launch.scratch_live;
    return;
  }
  if (ptr_) api().cuMemFreeAsync(ptr_, stream_);  // a failure here has nowhere to go; the pool reclaims at exit
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
  g_fake_encode_rc.store(0, std::memory_order_relaxed);
  clear_tmap_cache();  // fake descriptors must never reach a real launch (and each test starts cold)
  g_test.store(on, std::memory_order_release);
}

bool test_mode() { return g_test.load(std::memory_order_relaxed); }

void set_fake_encode_result(int rc) { g_fake_encode_rc.store(rc, std::memory_order_relaxed); }

void test_launch(const std::string& kernel, const std::vector<long long>& dims,
                 const std::vector<unsigned long long>& tensors, const char* tma_hint,
                 const std::vector<float>& scalars) {
  if (!test_mode()) throw std::logic_error("_C._test_launch needs the test mode (tests only)");
  int nk = catalogue_kernel_count();
  for (int k = 0; k < nk; ++k) {
    const KernelInfo& info = catalogue_kernels()[k];
    if (kernel != info.name) continue;
    if (static_cast<int>(tensors.size()) != info.n_tensors || static_cast<int>(scalars.size()) != info.n_scalars ||
        dims.size() > 8)
      throw std::invalid_argument("_C._test_launch: kernel '" + kernel + "' takes " + std::to_string(info.n_tensors) +
                                  " tensors, " + std::to_string(info.n_scalars) + " scalars and at most 8 dims");
    long long d[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t i = 0; i < dims.size(); ++i) d[i] = dims[i];
    launch(k, cached_function(k, device(0)), d, tensors.data(), nullptr, tma_hint, scalars.data(),
           device(0).sm_count);
    return;
  }
  throw std::invalid_argument("_C._test_launch: no catalogue kernel named '" + kernel + "'");
}

FakeLaunch last_fake_launch() {
  std::lock_guard<std::mutex> lock(g_fake_mutex);
  return g_fake_launch;
}

}  // namespace tilekernels
