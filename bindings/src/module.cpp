// @file module.cpp
// @brief PYBIND11_MODULE(_C): the tilekernels extension (loads nothing and needs no GPU at import).
#include <climits>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <sstream>

#include "attention.h"
#include "catalogue.h"
#include "cuda_api.h"
#include "errors.h"
#include "gemm.h"
#include "pyargs.h"
#include "runtime.h"

namespace py = pybind11;
using namespace tilekernels;

namespace {

std::vector<std::string> split_archs(const char* archs) {
  std::vector<std::string> out;
  std::string entry;
  std::istringstream ss(archs);
  while (std::getline(ss, entry, ';'))
    if (!entry.empty()) out.push_back(entry);
  return out;
}

const char* dtype_name(int dtype) { return dtype_str(dtype, "unknown"); }

// The attention rows' dispatch fields of kernel `info` (family "attention" / "attention_varlen"), if it has one.
void attention_fields(py::dict& d, const KernelInfo& info, const char* family, const AttentionVariant* rows, int n) {
  for (int i = 0; i < n; ++i) {
    const AttentionVariant& r = rows[i];
    if (r.kernel != &info) continue;
    d["family"] = family;
    d["dtype"] = dtype_name(r.dtype);
    d["head_dim"] = r.head_dim;
    d["causal"] = r.causal;
    d["block"] = py::make_tuple(r.block_m, r.block_n);
    d["max_seqlen_k"] = r.max_seqlen_k;
    d["preference"] = i;
  }
}

py::list kernels() {
  py::list out;
  const KernelInfo* ks = catalogue_kernels();
  for (int k = 0; k < catalogue_kernel_count(); ++k) {
    const KernelInfo& info = ks[k];
    py::dict d;
    d["name"] = info.name;
    d["fatbin"] = info.fatbin;
    d["entry"] = info.entry;
    d["threads"] = info.threads;
    d["smem_bytes"] = info.smem_bytes;
    d["cluster"] = py::make_tuple(info.cluster[0], info.cluster[1], info.cluster[2]);
    d["persistent"] = info.persistent;
    d["archs"] = split_archs(info.archs);
    py::list tmaps;
    for (int j = 0; j < info.n_tmaps && j < kMaxTmaps; ++j) {
      const TmapInfo& t = info.tmaps[j];
      py::dict m;
      m["tensor"] = t.tensor;
      m["data_type"] = t.dtype;
      m["box"] = std::vector<unsigned>(t.box, t.box + (t.rank > 0 && t.rank <= 5 ? t.rank : 0));
      m["swizzle"] = t.swizzle;
      tmaps.append(m);
    }
    d["tensor_maps"] = tmaps;
    d["family"] = py::none();
    for (int i = 0; i < catalogue_gemm_count(); ++i) {
      const GemmVariant& r = catalogue_gemm()[i];
      if (r.kernel != &info) continue;
      d["family"] = "gemm";
      d["dtype"] = dtype_name(r.dtype);
      d["trans_b"] = r.trans_b;
      d["max_m"] = r.max_m;
      d["min_k"] = r.min_k;
      d["block"] = py::make_tuple(r.block_m, r.block_n, r.block_k);
      d["preference"] = i;
    }
    attention_fields(d, info, "attention", catalogue_attention(), catalogue_attention_count());
    attention_fields(d, info, "attention_varlen", catalogue_attention_varlen(), catalogue_attention_varlen_count());
    out.append(d);
  }
  return out;
}

int resolve_ordinal(py::object device) {
  if (device.is_none()) return current_device_ordinal();
  // bool is an int subclass but never meant as an ordinal; torch.device / "cuda:0" are not accepted either.
  if (!PyLong_Check(device.ptr()) || PyBool_Check(device.ptr()))
    throw py::type_error(std::string("device must be an int CUDA device ordinal (or None for the current device), "
                                     "got ") + Py_TYPE(device.ptr())->tp_name);
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(device.ptr(), &overflow);
  if (overflow || v < INT_MIN || v > INT_MAX)
    throw py::value_error("device=" + py::str(device).cast<std::string>() + " is not a valid CUDA device ordinal");
  return static_cast<int>(v);
}

py::dict device_info(py::object device_obj) {
  int ordinal = resolve_ordinal(device_obj);
  const Device& d = device(ordinal);
  py::dict out;
  out["index"] = ordinal;
  out["name"] = d.name;
  out["compute_capability"] = py::make_tuple(d.major, d.minor);
  out["sm_count"] = d.sm_count;
  out["max_shared_memory_per_block_optin"] = d.smem_optin;
  out["driver_cuda_version"] = test_mode() ? std::string("test") : cu::driver_version_string();
  out["device_count"] = device_count();
  py::list usable, unusable;
  for (int k = 0; k < catalogue_kernel_count(); ++k) {
    const KernelInfo& info = catalogue_kernels()[k];
    if (d.usable[k])
      usable.append(info.name);
    else
      unusable.append(py::make_tuple(info.name, unusable_reason(info, d)));
  }
  out["usable_kernels"] = usable;
  out["unusable_kernels"] = unusable;
  return out;
}

py::list warmup(py::object device_obj) {
  int ordinal = resolve_ordinal(device_obj);
  const Device& d = device(ordinal);
  py::list loaded;
  if (test_mode()) return loaded;
  ContextGuard guard(d);
  for (int k = 0; k < catalogue_kernel_count(); ++k) {
    if (!d.usable[k]) continue;
    if (!cached_function(k, d)) {
      py::gil_scoped_release nogil;
      load_function(k, d);
    }
    loaded.append(catalogue_kernels()[k].name);
  }
  return loaded;
}

py::object last_launch() {
  FakeLaunch r = last_fake_launch();
  if (r.count == 0) return py::none();
  py::dict d;
  d["kernel"] = r.memset ? py::none() : py::object(py::str(r.kernel));
  d["memset"] = r.memset;
  d["grid"] = py::make_tuple(r.grid[0], r.grid[1], r.grid[2]);
  d["block"] = r.block;
  d["smem"] = r.smem;
  d["cluster"] = py::make_tuple(r.cluster[0], r.cluster[1], r.cluster[2]);
  d["tensors"] = r.tensors;
  d["scalars"] = r.scalars;
  d["ints"] = r.ints;
  d["scratch_bytes"] = r.scratch_bytes;
  d["scratch_live"] = r.scratch_live;
  py::list tmaps;
  for (const FakeTmap& t : r.tmaps) {
    py::dict m;
    m["data_type"] = t.data_type;
    m["rank"] = t.rank;
    m["address"] = t.address;
    m["dims"] = t.dims;
    m["strides"] = t.strides;
    m["box"] = t.box;
    m["element_strides"] = t.element_strides;
    m["interleave"] = t.interleave;
    m["swizzle"] = t.swizzle;
    m["l2_promotion"] = t.l2_promotion;
    m["oob_fill"] = t.oob_fill;
    unsigned char bytes[128];
    fake_tensor_map_bytes(t, bytes);
    m["fake_bytes"] = py::bytes(reinterpret_cast<const char*>(bytes), 128);
    tmaps.append(m);
  }
  d["tmaps"] = tmaps;
  py::list params;
  for (const std::string& p : r.params) params.append(py::bytes(p));
  d["params"] = params;
  d["param_addrs"] = r.param_addrs;
  d["encodes"] = r.encodes;
  d["stream"] = r.stream;
  d["count"] = r.count;
  return d;
}

// DLPack (dlpack.h v1.x): only the fields read here; both the legacy and the versioned capsule are accepted.
struct DLDevice { int32_t device_type, device_id; };
struct DLDataType { uint8_t code, bits; uint16_t lanes; };
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;
  uint64_t byte_offset;
};
struct DLManagedTensor { DLTensor dl_tensor; void* manager_ctx; void (*deleter)(DLManagedTensor*); };
struct DLManagedTensorVersioned {
  uint32_t version_major, version_minor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensorVersioned*);
  uint64_t flags;
  DLTensor dl_tensor;
};

std::string dlpack_dtype(const DLDataType& t) {
  if (t.lanes != 1) return "a vector dtype (lanes=" + std::to_string(t.lanes) + ")";
  if (t.code == 2 && t.bits == 16) return "float16";
  if (t.code == 4 && t.bits == 16) return "bfloat16";
  if (t.code == 2 && t.bits == 32) return "float32";
  const char* kinds[] = {"int", "uint", "float", "opaque", "bfloat", "complex", "bool"};
  std::string kind = t.code < 7 ? kinds[t.code] : "dlpack_code" + std::to_string(t.code) + "_";
  return kind + std::to_string(t.bits);
}

// (ptr, shape, strides | None, dtype name, device_type, device_id) of a DLPack capsule, which stays unconsumed
// (its destructor runs the producer's deleter; the producer's array keeps owning the memory).
py::tuple dlpack_info(py::capsule capsule) {
  const DLTensor* t = nullptr;
  if (PyCapsule_IsValid(capsule.ptr(), "dltensor"))
    t = &static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"))->dl_tensor;
  else if (PyCapsule_IsValid(capsule.ptr(), "dltensor_versioned"))
    t = &static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor_versioned"))->dl_tensor;
  else
    throw py::type_error("tilekernels: __dlpack__() returned no DLPack capsule (or an already consumed one)");
  py::tuple shape(t->ndim);
  for (int i = 0; i < t->ndim; ++i) shape[i] = py::int_(t->shape[i]);
  py::object strides = py::none();
  if (t->strides) {
    py::tuple s(t->ndim);
    for (int i = 0; i < t->ndim; ++i) s[i] = py::int_(t->strides[i]);
    strides = s;
  }
  unsigned long long ptr = reinterpret_cast<unsigned long long>(t->data) + t->byte_offset;
  return py::make_tuple(ptr, shape, strides, dlpack_dtype(t->dtype), t->device.device_type, t->device.device_id);
}

PyMethodDef g_fast_methods[] = {
    {"gemm_torch", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(gemm_torch)), METH_FASTCALL,
     "gemm_torch(a, b, out, stream) -> out: a @ b for torch tensors (out None: allocated like a; stream None: "
     "torch's current stream of a's device)."},
    {"gemm_raw", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(gemm_raw)), METH_FASTCALL,
     "gemm_raw(a, b, out, stream) -> None: each tensor a tuple (ptr, shape, strides | None, dtype name, device); "
     "device -2 means unknown (asked from the driver)."},
    {"gemm_check", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(gemm_check)), METH_FASTCALL,
     "gemm_check(a, b) -> (M, N): validate raw a and b (no GPU needed)."},
    {"flash_attn_torch", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(flash_attn_torch)),
     METH_FASTCALL,
     "flash_attn_torch(q, k, v, out, causal, softmax_scale, return_lse, stream) -> out or (out, lse): FlashAttention "
     "forward for torch tensors (out None: allocated like q; stream None: torch's current stream)."},
    {"flash_attn_raw", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(flash_attn_raw)), METH_FASTCALL,
     "flash_attn_raw(q, k, v, out, causal, softmax_scale, stream, lse) -> None: raw tensor tuples; lse None: "
     "stream-ordered scratch."},
    {"flash_attn_check", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(flash_attn_check)),
     METH_FASTCALL,
     "flash_attn_check(q, k, v, causal, softmax_scale) -> (out shape, lse shape): validate raw q, k, v."},
    {"flash_attn_varlen_torch",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(flash_attn_varlen_torch)), METH_FASTCALL,
     "flash_attn_varlen_torch(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, out, causal, "
     "softmax_scale, stream) -> out: packed-sequence FlashAttention forward for torch tensors."},
    {"flash_attn_varlen_raw", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(flash_attn_varlen_raw)),
     METH_FASTCALL,
     "flash_attn_varlen_raw(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, out, causal, "
     "softmax_scale, stream) -> None: raw tensor tuples."},
    {"flash_attn_varlen_check",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(flash_attn_varlen_check)), METH_FASTCALL,
     "flash_attn_varlen_check(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, causal, "
     "softmax_scale) -> out shape: validate raw arguments."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "tilekernels' compiled core: the catalogue's dispatch stubs over the CUDA driver API (loaded lazily).";
  init_error_classes();
  py::register_exception_translator(translate_exception);
  if (PyModule_AddFunctions(m.ptr(), g_fast_methods) != 0) throw py::error_already_set();

  m.attr("__version__") = package_version();
  m.attr("cuda_version") = built_cuda_version();
  m.def("_init", [](const std::string& package_dir) { set_fatbin_dir(package_dir + "/fatbins"); },
        py::arg("package_dir"), "Set the package directory (fatbins live in <package_dir>/fatbins).");
  m.def("built_archs", [] { return split_archs(catalogue_built_archs()); },
        "The archs this build was made for, e.g. ['sm_80', 'sm_90a'].");
  m.def("kernels", &kernels, "One dict per compiled kernel variant (name, archs, threads, smem, family fields).");
  m.def("device_count", &device_count, "Number of GPUs the driver sees. Raises NoGPUError.");
  m.def("device_info", &device_info, py::arg("device") = py::none(),
        "The GPU (default: the current context's, else 0) and which kernels can run on it. Raises NoGPUError.");
  m.def("warmup", &warmup, py::arg("device") = py::none(),
        "Load every kernel usable on the device; returns their names. Raises NoGPUError, CudaError.");
  m.def(
      "arch_runs_on", [](const std::string& arch, int major, int minor) { return arch_runs_on(arch, major, minor); },
      "Whether a KernelInfo.archs entry runs on compute capability major.minor.");
  m.def(
      "_set_torch",
      [](py::object f16, py::object bf16, py::object f32, py::object stream_getter) {
        set_torch_hooks(f16.ptr(), bf16.ptr(), f32.ptr(), stream_getter.ptr());
      },
      "Give the torch dtypes and a device_index -> current stream callable (done by tilekernels on first use).");
  m.def(
      "_test_mode",
      [](bool on, std::pair<int, int> cc, const std::string& name, int smem_optin) {
        set_test_mode(on, cc.first, cc.second, name, smem_optin);
      },
      py::arg("on"), py::arg("cc") = std::make_pair(9, 0), py::arg("name") = "Fake GPU",
      py::arg("smem_optin") = 232448,
      "Tests only: no driver calls; a fake device of compute capability cc; launches are recorded.");
  m.def("dlpack_info", &dlpack_info, py::arg("capsule"),
        "(ptr, shape, strides | None, dtype, device_type, device_id) of a DLPack capsule (not consumed).");
  m.def("_test_last_launch", &last_launch, "Tests only: the last recorded launch (dict) or None.");
  m.def("_test_fail_encode", &set_fake_encode_result, py::arg("rc"),
        "Tests only: the CUresult the test mode's cuTensorMapEncodeTiled returns (0: success).");
  m.def(
      "_test_launch",
      [](const std::string& kernel, const std::vector<long long>& dims, const std::vector<unsigned long long>& tensors,
         const std::string& hint, const std::vector<float>& scalars) {
        test_launch(kernel, dims, tensors, hint.c_str(), scalars);
      },
      py::arg("kernel"), py::arg("dims"), py::arg("tensors"), py::arg("tma_hint") = "",
      py::arg("scalars") = std::vector<float>{},
      "Tests only (test mode): launch a catalogue kernel with these family dims, tensor pointers and float32 scalars, "
      "unchecked.");
}
