// @file attention.cpp
// @brief The FlashAttention forward stubs (dense and varlen): validate everything (before any CUDA call), pick a
// kAttention / kAttentionVarlen row (kernels/attention.py `select`), launch it.
//
// Kernel arguments (kernels/attention.py, checked by `python -m tilec.aot emit`): the tensors (dense: Q, K, V, O,
// LSE; varlen: Q, K, V, O, LSE, cu_seqlens_q, cu_seqlens_k), the float32 scale, then the int32 dims in the kernel's
// order (KernelInfo.dim_order over the family's DIMS: dense (batch, seqlen_q, seqlen_k, heads, kv_heads), varlen
// (total_q, total_k, heads, kv_heads, batch, max_seqlen_q, batch_plus_1)).
#include "attention.h"

#include <pybind11/pybind11.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "catalogue.h"
#include "errors.h"
#include "pyargs.h"
#include "runtime.h"

namespace py = pybind11;

namespace tilekernels {
namespace {

constexpr long long kInt32Limit = 1LL << 31;
// What a rejected tensor map means (the sm90a rows read Q, K, V and store O through TMA): the checks above keep
// every TMA rule, so this is a bug.
constexpr const char* kTmaHint =
    "flash_attn requires contiguous tensors with 16-byte aligned data pointers, which keeps every TMA row on a "
    "16-byte boundary, and checks that first: this is an internal error, please report";
constexpr long long kMaxGridYZ = 65535;  // CUDA's limit on a grid's y (heads) and z (batch) extents
constexpr int kAlign = 16;               // cp.async moves 16-byte chunks: base pointers must be 16-byte aligned

// One tensor argument after its rank check. Sizes and strides in elements.
struct Tensor {
  const char* name = "";
  cu::CUdeviceptr ptr = 0;
  int rank = 0;
  long long size[4] = {0, 0, 0, 0}, stride[4] = {0, 0, 0, 0};
  int dtype = -1;          // DType; -1 for another dtype (dtype_name says which)
  std::string dtype_name;
  int device = 0;          // CUDA ordinal; -1 not on a CUDA device (where says where); -2 unknown
  std::string where;
  bool present = false;

  long long numel() const {  // saturates at 2^62 (raw shapes may be anything)
    long long n = 1;
    for (int i = 0; i < rank; ++i) {
      if (size[i] == 0) return 0;
      n = n > (1LL << 62) / size[i] ? (1LL << 62) : n * size[i];
    }
    return n;
  }
  bool is_int32() const { return dtype < 0 && dtype_name == "int32"; }
  unsigned long long bytes() const {
    return static_cast<unsigned long long>(numel()) * (dtype == kFloat32 || is_int32() ? 4 : 2);
  }
  std::string shape() const { return tuple_str(size, rank); }
};

// One call as the checks establish it. Varlen reuses seqlen_q / seqlen_k for total_q / total_k.
struct Call {
  bool varlen = false;
  const char* api = "flash_attn";
  Tensor q, k, v, out, lse, cu_q, cu_k;
  long long batch = 0, seqlen_q = 0, seqlen_k = 0, heads = 0, kv_heads = 0, head_dim = 0;
  long long max_seqlen_q = 0, max_seqlen_k = 0;
  int device = 0;
  bool causal = false;
  float scale = 0.f;

  // No query row to compute: no kernel, no launch.
  bool empty() const { return batch == 0 || seqlen_q == 0 || heads == 0 || (varlen && max_seqlen_q == 0); }
  // The LSE the kernel writes: dense [batch, heads, seqlen_q], varlen [batch, heads, max_seqlen_q], float32.
  long long lse_rows() const { return varlen ? max_seqlen_q : seqlen_q; }
  const AttentionVariant* rows() const { return varlen ? catalogue_attention_varlen() : catalogue_attention(); }
  int row_count() const { return varlen ? catalogue_attention_varlen_count() : catalogue_attention_count(); }
  const char* q_layout() const { return varlen ? "3-D [total_q, heads, head_dim]" : "4-D [batch, seqlen_q, heads, head_dim]"; }
  const char* kv_layout() const {
    return varlen ? "3-D [total_k, kv_heads, head_dim]" : "4-D [batch, seqlen_k, kv_heads, head_dim]";
  }
};

[[noreturn]] void value_error(const Call& c, const std::string& msg) { raise_value_error(c.api, msg); }
[[noreturn]] void type_error(const Call& c, const std::string& msg) { raise_type_error(c.api, msg); }

const char* dtype_of(const Tensor& t) { return dtype_str(t.dtype, t.dtype_name); }
std::string dev_str(int device) { return "cuda:" + std::to_string(device); }

void read(const Call& c, Tensor& t, const char* name, PyObject* o, bool torch, int rank, const char* what) {
  ArrayArg x;
  x.name = name;
  if (torch)
    read_torch_array(x, o);
  else
    read_raw_array(x, o, c.api);
  read_dims(x, rank, what, c.api, t.size, t.stride);
  t.name = name, t.rank = rank, t.ptr = x.ptr, t.dtype = x.dtype, t.device = x.device, t.present = true;
  t.dtype_name = std::move(x.dtype_name);
  t.where = std::move(x.where);
}

// An output the torch path allocated itself (known shape, dtype and device): only its data pointer is read.
void set_allocated(Tensor& t, const char* name, PyObject* torch_tensor, int dtype, int rank, const long long* size) {
  ArrayArg x;
  read_torch_array(x, torch_tensor, /*ptr_only=*/true);
  t.name = name, t.ptr = x.ptr, t.dtype = dtype, t.rank = rank, t.present = true;
  std::memcpy(t.size, size, sizeof(long long) * rank);
}

py::tuple shape_tuple(int rank, const long long* size) {
  py::tuple t(rank);
  for (int i = 0; i < rank; ++i) t[i] = py::int_(size[i]);
  return t;
}

bool read_flag(const Call& c, PyObject* o, const char* name) {
  if (o == Py_True) return true;
  if (o == Py_False) return false;
  type_error(c, std::string(name) + " must be True or False, got " + Py_TYPE(o)->tp_name);
}

// max_seqlen_q / max_seqlen_k: Python ints in 0..limit.
long long read_max_seqlen(const Call& c, PyObject* o, const char* name, long long limit, const char* tensor) {
  if (!PyLong_Check(o) || PyBool_Check(o))
    type_error(c, std::string(name) + " must be an int (the longest sequence's length), got " + Py_TYPE(o)->tp_name);
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
  if (overflow || v < 0 || v > limit)
    value_error(c, std::string(name) + "=" + str_of(o) + " is not a sequence length of " + tensor + ": expected 0 <= " +
                       name + " <= " + std::to_string(limit) + " (" + tensor + "'s rows)");
  return v;
}

// softmax_scale: None (1/sqrt(head_dim)), or a real number whose float32 value is finite and > 0 (the kernels mask
// with -inf scores, which a zero or negative scale would turn into NaN or +inf).
float read_scale(const Call& c, PyObject* o) {
  if (o == Py_None) return static_cast<float>(1.0 / std::sqrt(static_cast<double>(c.head_dim > 0 ? c.head_dim : 1)));
  double v = 0;
  const char* tp = Py_TYPE(o)->tp_name;
  bool numpy_scalar = std::strncmp(tp, "numpy.float", 11) == 0 || std::strncmp(tp, "numpy.int", 9) == 0;
  if (PyBool_Check(o) || !(PyFloat_Check(o) || PyLong_Check(o) || numpy_scalar))
    type_error(c, std::string("softmax_scale must be a float (or None for 1/sqrt(head_dim)), got ") + tp);
  v = PyFloat_AsDouble(o);
  if (v == -1.0 && PyErr_Occurred()) {
    PyErr_Clear();
    value_error(c, "softmax_scale=" + str_of(o) + " does not fit a float");
  }
  float f = static_cast<float>(v);
  if (!std::isfinite(f) || !(f > 0.f))
    value_error(c, "softmax_scale must be a finite number > 0 as a float32, got " + str_of(o) +
                       " (the scores are multiplied by it; masked scores are -inf)");
  return f;
}

// Checks of q, k, v (and cu_seqlens, max_seqlen for varlen) in the order a user would fix them; no GPU needed.
void validate_inputs(Call& c) {
  const Tensor* qkv[3] = {&c.q, &c.k, &c.v};
  if (c.q.dtype != kFloat16 && c.q.dtype != kBFloat16)
    type_error(c, std::string("q has dtype ") + dtype_of(c.q) +
                      "; supported: float16, bfloat16 (convert with q.half() or q.bfloat16())");
  for (const Tensor* t : {&c.k, &c.v})
    if (t->dtype != c.q.dtype)
      type_error(c, std::string("q is ") + dtype_of(c.q) + " but " + t->name + " is " + dtype_of(*t) +
                        "; q, k and v must have the same dtype (convert with " + t->name + ".to(q.dtype))");
  if (c.varlen)
    for (const Tensor* t : {&c.cu_q, &c.cu_k})
      if (!t->is_int32())
        type_error(c, std::string(t->name) + " has dtype " + dtype_of(*t) + "; expected int32 (convert with " +
                          t->name + ".int())");
  const Tensor* all[5] = {&c.q, &c.k, &c.v, &c.cu_q, &c.cu_k};
  int n_all = c.varlen ? 5 : 3;
  for (int i = 0; i < n_all; ++i)
    if (all[i]->device == -1)
      value_error(c, std::string(all[i]->name) + " is on " + all[i]->where + "; " + c.api +
                         " runs on CUDA tensors: move it to the GPU (e.g. " + all[i]->name + ".cuda())");
  for (int i = 1; i < n_all; ++i)
    if (all[i]->device != c.q.device && all[i]->device >= 0 && c.q.device >= 0)
      value_error(c, "q is on " + dev_str(c.q.device) + " but " + all[i]->name + " is on " +
                         dev_str(all[i]->device) + "; all tensors must be on the same GPU");
  c.device = c.q.device;

  // Shapes. Dense q [B, Sq, H, D], k/v [B, Sk, Hkv, D]; varlen q [Tq, H, D], k/v [Tk, Hkv, D].
  const int h = c.varlen ? 1 : 2;  // the heads axis
  if (std::memcmp(c.k.size, c.v.size, sizeof(c.k.size)) != 0)
    value_error(c, "k has shape " + c.k.shape() + " but v has shape " + c.v.shape() + "; k and v must both be " +
                       c.kv_layout());
  if (!c.varlen && c.q.size[0] != c.k.size[0])
    value_error(c, "q has batch size " + std::to_string(c.q.size[0]) + " but k and v have " +
                       std::to_string(c.k.size[0]) + " (q " + c.q.shape() + ", k " + c.k.shape() + ")");
  if (c.q.size[h + 1] != c.k.size[h + 1])
    value_error(c, "q has head_dim " + std::to_string(c.q.size[h + 1]) + " but k and v have head_dim " +
                       std::to_string(c.k.size[h + 1]) + " (q " + c.q.shape() + ", k " + c.k.shape() +
                       "); the last dimension must be the same");
  c.heads = c.q.size[h], c.kv_heads = c.k.size[h], c.head_dim = c.q.size[h + 1];
  if ((c.kv_heads == 0 && c.heads > 0) || (c.kv_heads > 0 && c.heads % c.kv_heads != 0))
    value_error(c, "q has " + std::to_string(c.heads) + " heads but k and v have " + std::to_string(c.kv_heads) +
                       "; the number of query heads must be a multiple of the number of key/value heads (GQA/MQA)");
  c.seqlen_q = c.q.size[c.varlen ? 0 : 1];
  c.seqlen_k = c.k.size[c.varlen ? 0 : 1];
  c.batch = c.varlen ? c.cu_q.size[0] - 1 : c.q.size[0];
  if (c.varlen) {
    if (c.cu_q.size[0] < 1)
      value_error(c, "cu_seqlens_q has no entries; it must hold batch + 1 >= 1 offsets (0 first)");
    if (c.cu_k.size[0] != c.cu_q.size[0])
      value_error(c, "cu_seqlens_q has " + std::to_string(c.cu_q.size[0]) + " entries but cu_seqlens_k has " +
                         std::to_string(c.cu_k.size[0]) + "; both must hold batch + 1 offsets");
  }

  // Layouts: the kernels index dense, row-major tensors.
  for (int i = 0; i < n_all; ++i) {
    const Tensor& t = *all[i];
    if (!contiguous(t.rank, t.size, t.stride)) {
      long long want[4], s = 1;
      for (int d = t.rank - 1; d >= 0; --d) want[d] = s, s *= t.size[d];
      value_error(c, std::string(t.name) + " must be contiguous (strides " + tuple_str(want, t.rank) + " for shape " +
                         t.shape() + "), got strides " + tuple_str(t.stride, t.rank) + "; call " + t.name +
                         ".contiguous() first");
    }
  }

  // Sizes: int32 indexing in the kernels, CUDA's grid limits.
  for (const Tensor* t : qkv)
    if (t->numel() >= kInt32Limit)
      value_error(c, std::string(t->name) + " has " + std::to_string(t->numel()) +
                         " elements; the kernels index with 32-bit integers, so each tensor must have fewer than "
                         "2**31 elements: split the batch");
  if (c.heads > kMaxGridYZ)
    value_error(c, "q has " + std::to_string(c.heads) + " heads; at most " + std::to_string(kMaxGridYZ) +
                       " are supported (one grid row per head)");
  if (c.batch > kMaxGridYZ)
    value_error(c, std::string("batch is ") + std::to_string(c.batch) + (c.varlen ? " (cu_seqlens_q)" : " (q)") +
                       "; at most " + std::to_string(kMaxGridYZ) + " sequences per call: split the batch");
}

// The varlen sizes (after validate_inputs): max_seqlen_q / max_seqlen_k.
void validate_max_seqlens(Call& c, PyObject* max_q, PyObject* max_k) {
  c.max_seqlen_q = read_max_seqlen(c, max_q, "max_seqlen_q", c.seqlen_q, "q");
  c.max_seqlen_k = read_max_seqlen(c, max_k, "max_seqlen_k", c.seqlen_k, "k");
  if (c.batch * c.heads * c.max_seqlen_q >= kInt32Limit)
    value_error(c, "batch * heads * max_seqlen_q = " + std::to_string(c.batch * c.heads * c.max_seqlen_q) +
                       " (the log-sum-exp's size) must be below 2**31: split the batch");
}

void check_alignment(const Call& c, const Tensor& t, int align) {
  if (t.numel() > 0 && t.ptr % align)
    value_error(c, std::string(t.name) + "'s data pointer " + std::to_string(t.ptr) + " is not " +
                       std::to_string(align) + "-byte aligned (a view that starts mid-row?); pass " + t.name +
                       ".clone() instead");
}

// Everything about the inputs: tensors, then (varlen) max_seqlens, the flags, the scale, alignment.
void validate(Call& c, PyObject* causal, PyObject* scale, PyObject* max_q = nullptr, PyObject* max_k = nullptr) {
  validate_inputs(c);
  if (c.varlen) validate_max_seqlens(c, max_q, max_k);
  c.causal = read_flag(c, causal, "causal");
  c.scale = read_scale(c, scale);
  if (c.empty()) return;  // nothing to compute: no alignment or kernel requirements
  for (const Tensor* t : {&c.q, &c.k, &c.v}) check_alignment(c, *t, kAlign);
  if (c.varlen)
    for (const Tensor* t : {&c.cu_q, &c.cu_k}) check_alignment(c, *t, 4);
}

// A given output (out, or lse of the raw path): dtype, device, shape, layout, alignment, no overlap with the rest.
void validate_output(const Call& c, const Tensor& t, int dtype, const long long* shape, const char* layout) {
  if (t.dtype != dtype)
    type_error(c, std::string(t.name) + " has dtype " + dtype_of(t) + "; expected " + dtype_str(dtype, "") +
                      (dtype == c.q.dtype ? " (q's dtype)" : ""));
  if (t.device == -1)
    value_error(c, std::string(t.name) + " is on " + t.where + "; it must be on q's GPU (" + dev_str(c.device) + ")");
  if (t.device != c.device && t.device >= 0 && c.device >= 0)
    value_error(c, std::string(t.name) + " is on " + dev_str(t.device) + " but q is on " + dev_str(c.device) +
                       "; all tensors must be on the same GPU");
  if (std::memcmp(t.size, shape, sizeof(long long) * t.rank) != 0)
    value_error(c, std::string(t.name) + " has shape " + t.shape() + ", expected " + tuple_str(shape, t.rank) + " " +
                       layout);
  if (!contiguous(t.rank, t.size, t.stride))
    value_error(c, std::string(t.name) + " must be contiguous, got strides " + tuple_str(t.stride, t.rank) +
                       "; pass a contiguous tensor (e.g. torch.empty_like(q))");
  check_alignment(c, t, kAlign);
  for (const Tensor* in : {&c.q, &c.k, &c.v, &c.cu_q, &c.cu_k, &c.out})
    if (in != &t && in->present && overlaps(t.ptr, t.bytes(), in->ptr, in->bytes()))
      value_error(c, std::string(t.name) + " overlaps " + in->name + " in memory; the outputs must not share memory "
                         "with the inputs or each other: pass a separate tensor");
}

void validate_out(const Call& c) {
  validate_output(c, c.out, c.q.dtype, c.q.size, c.varlen ? "(like q)" : "(like q: [batch, seqlen_q, heads, head_dim])");
}

void validate_lse(const Call& c) {
  long long shape[3] = {c.batch, c.heads, c.lse_rows()};
  validate_output(c, c.lse, kFloat32, shape, "([batch, heads, seqlen_q], float32)");
}

std::string head_dims_of(const Call& c) {
  std::string dims;
  for (int i = 0; i < c.row_count(); ++i) {
    const AttentionVariant& r = c.rows()[i];
    std::string d = std::to_string(r.head_dim);
    if (r.dtype == c.q.dtype && (", " + dims + ",").find(", " + d + ",") == std::string::npos)
      dims += (dims.empty() ? "" : ", ") + d;
  }
  return dims.empty() ? "none" : dims;
}

// Whether this build has a kernel for the (valid) problem; checked after every argument (out included).
void check_has_kernel(const Call& c) {
  if (c.empty()) return;
  for (int i = 0; i < c.row_count(); ++i) {
    const AttentionVariant& r = c.rows()[i];
    if (r.dtype == c.q.dtype && r.head_dim == c.head_dim && r.causal == c.causal) return;
  }
  value_error(c, "this tilekernels build has no " + std::string(c.api) + " kernel for head_dim " +
                     std::to_string(c.head_dim) + " (" + dtype_of(c.q) + (c.causal ? ", causal" : "") +
                     "); head_dim in this build: " + head_dims_of(c) + ". Pad q, k and v with zeros to the next one "
                     "and pass softmax_scale=1/sqrt(" + std::to_string(c.head_dim) + ") to keep the scale");
}

// The first row (preference order) of the problem's (dtype, head_dim, causal) group that admits its key length
// (AttentionVariant::max_seqlen_k) and runs on the device.
const AttentionVariant& select_row(const Call& c, const Device& d) {
  std::string detail;
  for (int i = 0; i < c.row_count(); ++i) {
    const AttentionVariant& r = c.rows()[i];
    if (r.dtype != c.q.dtype || r.head_dim != c.head_dim || r.causal != c.causal) continue;
    // A TMA kernel (sm90a rows) encodes a tensor map of K and V, which cannot describe an empty tensor: with no
    // keys the next row (cp.async, no tensor maps) writes the zeros / +inf LSE.
    if (r.kernel->n_tmaps > 0 && c.seqlen_k == 0) continue;
    if (r.max_seqlen_k > 0 && (c.varlen ? c.max_seqlen_k : c.seqlen_k) > r.max_seqlen_k) continue;
    if (d.usable[kernel_index(r.kernel)]) return r;
    detail += std::string(detail.empty() ? "" : "; ") + r.kernel->name + " " + unusable_reason(*r.kernel, d);
  }
  throw cu::CudaFailure(unsupported_gpu_message(d, std::string("no tilekernels ") + c.api + " kernel for " +
                                                       dtype_of(c.q) + " head_dim " + std::to_string(c.head_dim) +
                                                       (c.causal ? " (causal)" : "") + " can run",
                                                detail),
                        0, "", c.api, "", true);
}

// Everything after validation: device, row selection, lazy load, LSE scratch (raw path), launch.
void run(Call& c, cu::CUstream stream) {
  if (c.empty()) return;
  if (c.device == -2 && !test_mode()) {  // producers that do not say where their memory lives (numba)
    c.device = pointer_device(c.q.ptr, "q");
    for (const Tensor* t : {&c.k, &c.v, &c.cu_q, &c.cu_k, &c.out, &c.lse})
      if (t->present && t->numel() > 0)
        if (int dev = pointer_device(t->ptr, t->name); dev != c.device)
          value_error(c, "q is on " + dev_str(c.device) + " but " + t->name + " is on " + dev_str(dev) +
                             "; all tensors must be on the same GPU");
  }
  const Device& d = device(c.device);
  ContextGuard guard(d);
  const AttentionVariant& row = select_row(c, d);
  int k = kernel_index(row.kernel);
  cu::CUfunction f = cached_function(k, d);
  if (!f) {
    py::gil_scoped_release nogil;  // file read + driver load (and PTX JIT) may take long: let other threads run
    f = load_function(k, d);
  }
  std::unique_ptr<StreamScratch> scratch;  // an LSE nobody asked for: freed on the stream after the launch
  cu::CUdeviceptr lse = c.lse.ptr;
  if (!c.lse.present) {
    scratch = std::make_unique<StreamScratch>(static_cast<size_t>(c.batch * c.heads * c.lse_rows()) * 4, stream,
                                              row.kernel->name);
    lse = scratch->ptr();
  }
  float scale = c.scale;
  if (c.varlen) {
    long long dims[7] = {c.seqlen_q, c.seqlen_k, c.heads, c.kv_heads, c.batch, c.max_seqlen_q, c.batch + 1};
    cu::CUdeviceptr tensors[7] = {c.q.ptr, c.k.ptr, c.v.ptr, c.out.ptr, lse, c.cu_q.ptr, c.cu_k.ptr};
    launch(k, f, dims, tensors, stream, kTmaHint, &scale, d.sm_count);
  } else {
    long long dims[5] = {c.batch, c.seqlen_q, c.seqlen_k, c.heads, c.kv_heads};
    cu::CUdeviceptr tensors[5] = {c.q.ptr, c.k.ptr, c.v.ptr, c.out.ptr, lse};
    launch(k, f, dims, tensors, stream, kTmaHint, &scale, d.sm_count);
  }
}

// The inputs of a call: q, k, v (dense), or q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k
// (varlen), read and validated with the flags that follow them.
int n_inputs(const Call& c) { return c.varlen ? 7 : 3; }

void read_validate(Call& c, PyObject* const* a, bool torch, PyObject* causal, PyObject* scale) {
  read(c, c.q, "q", a[0], torch, c.varlen ? 3 : 4, c.q_layout());
  read(c, c.k, "k", a[1], torch, c.varlen ? 3 : 4, c.kv_layout());
  read(c, c.v, "v", a[2], torch, c.varlen ? 3 : 4, c.kv_layout());
  if (c.varlen) {
    read(c, c.cu_q, "cu_seqlens_q", a[3], torch, 1, "1-D [batch + 1]");
    read(c, c.cu_k, "cu_seqlens_k", a[4], torch, 1, "1-D [batch + 1]");
  }
  validate(c, causal, scale, c.varlen ? a[5] : nullptr, c.varlen ? a[6] : nullptr);
}

Call make_call(bool varlen) {
  Call c;
  c.varlen = varlen;
  c.api = varlen ? "flash_attn_varlen" : "flash_attn";
  return c;
}

// An entry point's frame: the argument count, then `body`, with C++ exceptions turned into Python ones.
template <class F>
PyObject* entry(const char* fn, Py_ssize_t nargs, Py_ssize_t want, F&& body) {
  try {
    check_nargs(nargs, want, fn);
    return body();
  } catch (...) {
    set_python_error();
    return nullptr;
  }
}

void require_torch_hooks() {
  if (!g_torch.stream_getter) throw std::logic_error("_C._set_torch was not called (internal error, please report)");
}

// The torch path of both families: `out_arg` given or allocated like q, the LSE (see below), the current stream
// unless `stream_arg` names one.
py::object torch_call(Call& c, PyObject* q_obj, PyObject* out_arg, PyObject* stream_arg, cu::CUstream stream,
                      bool return_lse) {
  py::object out;
  if (out_arg == Py_None) {
    check_has_kernel(c);
    // Allocated like q (dtype, device) on torch's current stream, only once the arguments are known good.
    out = torch_new(q_obj, shape_tuple(c.q.rank, c.q.size));
    set_allocated(c.out, "out", out.ptr(), c.q.dtype, c.q.rank, c.q.size);
  } else {
    out = py::reinterpret_borrow<py::object>(out_arg);
    read(c, c.out, "out", out_arg, true, c.q.rank, c.q_layout());
    validate_out(c);
    check_has_kernel(c);
  }
  // The kernels always write the LSE. Returned: allocated with torch like out. Dropped after the call: with torch
  // only when the launch is on torch's current stream (the caching allocator may hand a freed block to that stream's
  // next allocation at once); on a stream the caller names, run() takes stream-ordered scratch on that stream.
  py::object lse;
  if (return_lse || (!c.empty() && stream_arg == Py_None)) {
    long long shape[3] = {c.batch, c.heads, c.lse_rows()};
    lse = torch_new(q_obj, shape_tuple(3, shape), false, g_torch.f32);
    set_allocated(c.lse, "lse", lse.ptr(), kFloat32, 3, shape);
  }
  if (stream_arg == Py_None) stream = torch_current_stream(c.device);
  run(c, stream);
  if (return_lse) return py::make_tuple(out, lse);
  return out;
}

// Torch: inputs, out, causal, softmax_scale, [return_lse (dense)], stream.
PyObject* torch_entry(bool varlen, const char* fn, PyObject* const* args, Py_ssize_t nargs) {
  Call c = make_call(varlen);
  const int n = n_inputs(c);
  return entry(fn, nargs, n + (varlen ? 4 : 5), [&] {
    require_torch_hooks();
    PyObject* stream_arg = args[nargs - 1];
    cu::CUstream stream = nullptr;
    if (stream_arg != Py_None) stream = stream_from(stream_arg);  // a bad stream is reported before anything else
    read_validate(c, args, true, args[n + 1], args[n + 2]);
    bool return_lse = !varlen && read_flag(c, args[n + 3], "return_lse");
    return torch_call(c, args[0], args[n], stream_arg, stream, return_lse).release().ptr();
  });
}

// Raw tuples: inputs, out, causal, softmax_scale, stream, [lse | None (dense)].
PyObject* raw_entry(bool varlen, const char* fn, PyObject* const* args, Py_ssize_t nargs) {
  Call c = make_call(varlen);
  const int n = n_inputs(c);
  return entry(fn, nargs, n + (varlen ? 4 : 5), [&] {
    cu::CUstream stream = stream_from(args[n + 3]);
    read_validate(c, args, false, args[n + 1], args[n + 2]);
    read(c, c.out, "out", args[n], false, c.q.rank, c.q_layout());
    validate_out(c);
    if (!varlen && args[n + 4] != Py_None) {
      read(c, c.lse, "lse", args[n + 4], false, 3, "3-D [batch, heads, seqlen_q]");
      validate_lse(c);
    }
    check_has_kernel(c);
    run(c, stream);
    Py_RETURN_NONE;
  });
}

// Raw tuples, no launch: inputs, causal, softmax_scale -> out shape (dense: (out shape, lse shape)).
PyObject* check_entry(bool varlen, const char* fn, PyObject* const* args, Py_ssize_t nargs) {
  Call c = make_call(varlen);
  const int n = n_inputs(c);
  return entry(fn, nargs, n + 2, [&] {
    read_validate(c, args, false, args[n], args[n + 1]);
    check_has_kernel(c);
    py::tuple out = shape_tuple(c.q.rank, c.q.size);
    if (varlen) return out.release().ptr();
    long long lse_shape[3] = {c.batch, c.heads, c.seqlen_q};
    return py::make_tuple(out, shape_tuple(3, lse_shape)).release().ptr();
  });
}

}  // namespace

// The exported entry points (attention.h): each binds its family and the name its argument-count error shows.
#define TK_ATTENTION_ENTRY(name, impl, varlen) \
  PyObject* name(PyObject*, PyObject* const* args, Py_ssize_t nargs) { return impl(varlen, #name, args, nargs); }
TK_ATTENTION_ENTRY(flash_attn_torch, torch_entry, false)
TK_ATTENTION_ENTRY(flash_attn_raw, raw_entry, false)
TK_ATTENTION_ENTRY(flash_attn_check, check_entry, false)
TK_ATTENTION_ENTRY(flash_attn_varlen_torch, torch_entry, true)
TK_ATTENTION_ENTRY(flash_attn_varlen_raw, raw_entry, true)
TK_ATTENTION_ENTRY(flash_attn_varlen_check, check_entry, true)
#undef TK_ATTENTION_ENTRY

}  // namespace tilekernels
