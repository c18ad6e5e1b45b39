// @file gemm.cpp
// @brief The GEMM stub: validate a @ b (every check before any CUDA call), pick a kGemm row, launch it.
//
// Boundary design (measured, see bench/host_overhead.py): the torch path is a single METH_FASTCALL function that
// reads the tensors' metadata through their Python methods (data_ptr, shape, stride, dtype, get_device) with the
// vectorcall API, allocates `out` through `a.new_empty` only after validation, and fetches the current stream
// itself. That is one Python→C++ crossing and no Python-level argument marshalling; pybind11's dispatcher and
// tuple-of-ints marshalling measured 2-3x slower. Other array types come in as plain tuples (gemm_raw).
#include "gemm.h"

#include <pybind11/pybind11.h>

#include <string>

#include "catalogue.h"
#include "errors.h"
#include "pyargs.h"
#include "runtime.h"

namespace py = pybind11;

namespace tilekernels {
namespace {

constexpr long long kInt32Limit = 1LL << 31;

// One operand as the checks see it. Sizes and strides are in elements.
struct Mat {
  const char* name = "";
  cu::CUdeviceptr ptr = 0;
  long long rows = 0, cols = 0, s0 = 0, s1 = 0;
  int dtype = -1;          // DType; -1 for any other dtype (dtype_name says which)
  std::string dtype_name;  // filled only for other dtypes (error messages)
  int device = 0;          // CUDA ordinal; -1 not on a CUDA device (where says where); -2 unknown (ask the driver)
  std::string where;
};

struct Problem {
  long long M = 0, N = 0, K = 0;
  int dtype = 0;
  bool nn_ok = false, nt_ok = false;  // b usable as row-major [K, N] / as the transpose of row-major [N, K]
  int device = 0;
};

const char* dtype_str(const Mat& m) { return tilekernels::dtype_str(m.dtype, m.dtype_name); }

std::string dims_str(long long r, long long c) { return "(" + std::to_string(r) + ", " + std::to_string(c) + ")"; }

[[noreturn]] void value_error(const std::string& msg) { raise_value_error("gemm", msg); }
[[noreturn]] void type_error(const std::string& msg) { raise_type_error("gemm", msg); }

// The 2-D operand of an argument (the rank check comes first among the gemm checks).
void to_mat(Mat& m, const ArrayArg& x) {
  long long size[2], stride[2];
  read_dims(x, 2, "a 2-D matrix", "gemm", size, stride);
  m.ptr = x.ptr;
  m.rows = size[0], m.cols = size[1], m.s0 = stride[0], m.s1 = stride[1];
  m.dtype = x.dtype, m.dtype_name = x.dtype_name, m.device = x.device, m.where = x.where;
}

void read_torch(Mat& m, PyObject* t, bool ptr_only = false) {
  ArrayArg x;
  x.name = m.name;
  read_torch_array(x, t, ptr_only);
  if (ptr_only) {
    m.ptr = x.ptr;
    return;
  }
  to_mat(m, x);
}

void read_raw(Mat& m, PyObject* t) {
  ArrayArg x;
  x.name = m.name;
  read_raw_array(x, t, "gemm");
  to_mat(m, x);
}

bool row_major(long long rows, long long cols, long long s0, long long s1) {
  // torch's rule: a dimension of size 1 may have any stride; an empty matrix is contiguous.
  if (rows == 0 || cols == 0) return true;
  return (cols == 1 || s1 == 1) && (rows == 1 || s0 == cols);
}

bool has_row(const Problem& p, bool trans_b) {
  const GemmVariant* rows = catalogue_gemm();
  for (int i = 0; i < catalogue_gemm_count(); ++i)
    if (rows[i].dtype == p.dtype && rows[i].trans_b == trans_b && (rows[i].max_m == 0 || p.M <= rows[i].max_m) &&
        p.K >= rows[i].min_k)
      return true;
  return false;
}

// Checks of a and b, in the order a user would fix them; nothing here needs a GPU.
Problem validate(const Mat& a, const Mat& b) {
  if (a.dtype != kFloat16 && a.dtype != kBFloat16)
    type_error(std::string("a has dtype ") + dtype_str(a) +
               "; supported: float16, bfloat16 (convert with a.half() or a.bfloat16())");
  if (b.dtype != a.dtype)
    type_error(std::string("a is ") + dtype_str(a) + " but b is " + dtype_str(b) +
               "; both operands must have the same dtype (convert b with b.to(a.dtype))");
  for (const Mat* m : {&a, &b})
    if (m->device == -1)
      value_error(std::string(m->name) + " is on " + m->where +
                  "; gemm runs on CUDA tensors: move it to the GPU (e.g. " + m->name + ".cuda())");
  if (a.device != b.device && a.device >= 0 && b.device >= 0)
    value_error("a is on cuda:" + std::to_string(a.device) + " but b is on cuda:" + std::to_string(b.device) +
                "; all tensors must be on the same GPU");
  if (a.cols != b.rows)
    value_error("a has shape " + dims_str(a.rows, a.cols) + " but b has shape " + dims_str(b.rows, b.cols) +
                " (a's columns must equal b's rows)");
  Problem p;
  p.M = a.rows, p.K = a.cols, p.N = b.cols, p.dtype = a.dtype, p.device = a.device;
  if (!row_major(a.rows, a.cols, a.s0, a.s1))
    value_error("a must be row-major contiguous (strides " + dims_str(p.K, 1) + "), got strides " +
                dims_str(a.s0, a.s1) + "; call a.contiguous() first");
  p.nn_ok = row_major(b.rows, b.cols, b.s0, b.s1);
  p.nt_ok = row_major(b.cols, b.rows, b.s1, b.s0);
  if (!p.nn_ok && !p.nt_ok)
    value_error("b must be row-major [K, N] (strides " + dims_str(p.N, 1) +
                ") or the transpose of a row-major [N, K] matrix such as w.T (strides " + dims_str(1, p.K) +
                "), got strides " + dims_str(b.s0, b.s1) + "; call b.contiguous() first");
  for (const Mat* m : {&a, &b})
    if (m->rows * m->cols >= kInt32Limit)
      value_error(std::string(m->name) + " has " + std::to_string(m->rows * m->cols) +
                  " elements; the kernels index with 32-bit integers, so each matrix must have fewer than 2**31 "
                  "elements: split the product into blocks");
  if (p.M * p.N >= kInt32Limit)
    value_error("the output would have " + std::to_string(p.M * p.N) +
                " elements; each matrix must have fewer than 2**31 elements: split the product into blocks");
  if (p.M == 0 || p.N == 0) return p;  // nothing to compute: no alignment or kernel requirements
  if (p.K % 8 || p.N % 8)
    value_error("K and N must be multiples of 8 for " + std::string(dtype_str(a)) +
                " (rows must start on 16-byte boundaries), got M=" + std::to_string(p.M) + ", N=" +
                std::to_string(p.N) + ", K=" + std::to_string(p.K) + "; pad K and N with zeros to a multiple of 8");
  for (const Mat* m : {&a, &b})
    if (m->ptr % 16)
      value_error(std::string(m->name) + "'s data pointer " + std::to_string(m->ptr) +
                  " is not 16-byte aligned (a view that starts mid-row?); pass " + m->name + ".clone() instead");
  return p;
}

// Whether this build has a kernel for the (valid) problem at all; checked after every argument (out included),
// so that a bad argument is reported as such even on a build without the kernel.
void check_has_kernel(const Problem& p, const Mat& a) {
  if (p.M == 0 || p.N == 0 || p.K == 0) return;  // nothing or a zero fill: no kernel
  if (!(p.nn_ok && has_row(p, false)) && !(p.nt_ok && has_row(p, true))) {
    std::string layout = p.nn_ok ? "row-major b" : "b given as the transpose of a row-major matrix";
    throw py::value_error("tilekernels.gemm: this tilekernels build has no gemm kernel for " + std::string(dtype_str(a)) +
                          " with " + layout + " and M=" + std::to_string(p.M) +
                          (p.nn_ok ? "" : "; pass b.contiguous() to use the row-major kernels"));
  }
}

void validate_out(const Problem& p, const Mat& c, const Mat& a, const Mat& b) {
  if (c.dtype != p.dtype)
    type_error(std::string("out has dtype ") + dtype_str(c) + " but a and b are " + dtype_str(a) +
               "; out must have the operands' dtype");
  if (c.device == -1)
    value_error(std::string("out is on ") + c.where + "; it must be on the operands' GPU (cuda:" +
                std::to_string(p.device) + ")");
  if (c.device != p.device && c.device >= 0 && p.device >= 0)
    value_error("out is on cuda:" + std::to_string(c.device) + " but a and b are on cuda:" +
                std::to_string(p.device) + "; all tensors must be on the same GPU");
  if (c.rows != p.M || c.cols != p.N)
    value_error("out has shape " + dims_str(c.rows, c.cols) + ", expected " + dims_str(p.M, p.N) +
                " (a's rows by b's columns)");
  if (!row_major(c.rows, c.cols, c.s0, c.s1))
    value_error("out must be row-major contiguous (strides " + dims_str(p.N, 1) + "), got strides " +
                dims_str(c.s0, c.s1) + "; pass a contiguous tensor, e.g. torch.empty(M, N, ...)");
  if (c.ptr % 16)
    value_error("out's data pointer " + std::to_string(c.ptr) + " is not 16-byte aligned; pass a fresh tensor");
  for (const Mat* m : {&a, &b}) {
    if (overlaps(c.ptr, static_cast<unsigned long long>(p.M * p.N) * 2, m->ptr,
                 static_cast<unsigned long long>(m->rows * m->cols) * 2))
      value_error(std::string("out overlaps ") + m->name + " in memory; the output must not share memory with " +
                  "the inputs: pass a separate tensor");
  }
}

// The fraction of the SMs' tile slots doing useful work: tiles / (SMs * whole waves) times the fraction of the
// tiles' area inside C (kernels/gemm.py wave_efficiency, the same formula).
double wave_efficiency(const GemmVariant& r, long long M, long long N, int sm_count) {
  const long long tm = (M + r.block_m - 1) / r.block_m, tn = (N + r.block_n - 1) / r.block_n;
  const long long tiles = tm * tn, slots = sm_count > 0 ? sm_count : 1;
  const long long waves = (tiles + slots - 1) / slots;
  if (tiles == 0) return 1.0;
  return static_cast<double>(tiles) / static_cast<double>(waves * slots) *
         (static_cast<double>(M) / static_cast<double>(tm * r.block_m)) *
         (static_cast<double>(N) / static_cast<double>(tn * r.block_n));
}

bool matches(const GemmVariant& r, const Problem& p, bool trans_b, const Device& d) {
  return r.dtype == p.dtype && r.trans_b == trans_b && (r.max_m == 0 || p.M <= r.max_m) && p.K >= r.min_k &&
         d.usable[kernel_index(r.kernel)];
}

// First kGemm row (preference order) that matches the problem (dtype, layout, max_m, min_k) and runs on the device;
// among that row's pick alternatives (GemmVariant::pick), the best wave efficiency (the earlier row on a tie).
int select_row(const Problem& p, const Device& d) {
  const GemmVariant* rows = catalogue_gemm();
  for (bool trans_b : {false, true}) {
    if (trans_b ? !p.nt_ok : !p.nn_ok) continue;
    for (int i = 0; i < catalogue_gemm_count(); ++i) {
      const GemmVariant& r = rows[i];
      if (!matches(r, p, trans_b, d)) continue;
      if (r.pick == 0) return i;
      int best = i;
      double best_eff = wave_efficiency(r, p.M, p.N, d.sm_count);
      for (int j = i + 1; j < catalogue_gemm_count(); ++j) {
        const GemmVariant& q = rows[j];
        if (q.pick != r.pick || q.max_m != r.max_m || !matches(q, p, trans_b, d)) continue;
        const double e = wave_efficiency(q, p.M, p.N, d.sm_count);
        if (e > best_eff + 1e-9) best = j, best_eff = e;
      }
      return best;
    }
  }
  std::string detail;
  for (int i = 0; i < catalogue_gemm_count(); ++i) {
    const GemmVariant& r = rows[i];
    if (r.dtype == p.dtype && ((r.trans_b && p.nt_ok) || (!r.trans_b && p.nn_ok)) &&
        (r.max_m == 0 || p.M <= r.max_m) && p.K >= r.min_k)
      detail += std::string(detail.empty() ? "" : "; ") + r.kernel->name + " " + unusable_reason(*r.kernel, d);
  }
  Mat m;
  m.dtype = p.dtype;
  throw cu::CudaFailure(unsupported_gpu_message(d, std::string("no tilekernels gemm kernel for ") + dtype_str(m) +
                                                       " can run",
                                                detail),
                        0, "", "gemm", "", true);
}

// Everything after validation: device, zero-size cases, row selection, lazy load, launch.
void run(Problem p, const Mat& a, const Mat& b, const Mat& c, cu::CUstream stream) {
  if (p.M == 0 || p.N == 0) return;
  if (p.device == -2 && !test_mode()) {  // producers that do not say where their memory lives (numba)
    p.device = pointer_device(a.ptr, "a");
    for (const Mat* m : {&b, &c})
      if (int dev = pointer_device(m->ptr, m->name); dev != p.device)
        value_error(std::string("a is on cuda:") + std::to_string(p.device) + " but " + m->name + " is on cuda:" +
                    std::to_string(dev) + "; all tensors must be on the same GPU");
  }
  const Device& d = device(p.device);
  ContextGuard guard(d);
  if (p.K == 0) {
    memset16(c.ptr, static_cast<size_t>(p.M * p.N), stream);
    return;
  }
  const GemmVariant& row = catalogue_gemm()[select_row(p, d)];
  int k = kernel_index(row.kernel);
  cu::CUfunction f = cached_function(k, d);
  if (!f) {
    py::gil_scoped_release nogil;  // file read + driver load (and PTX JIT) may take long: let other threads run
    f = load_function(k, d);
  }
  long long dims[3] = {p.M, p.N, p.K};
  cu::CUdeviceptr tensors[3] = {a.ptr, b.ptr, c.ptr};
  launch(k, f, dims, tensors, stream,
         "gemm requires K and N to be multiples of 8 and 16-byte aligned data pointers, which keeps every TMA row "
         "on a 16-byte boundary, and checks that first: this is an internal error, please report",
         nullptr, d.sm_count);
}

}  // namespace

PyObject* gemm_torch(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  try {
    check_nargs(nargs, 4, "gemm_torch");
    if (!g_torch.stream_getter) throw std::logic_error("_C._set_torch was not called (internal error, please report)");
    Mat a, b, c;
    a.name = "a", b.name = "b", c.name = "out";
    cu::CUstream stream = nullptr;
    if (args[3] != Py_None) stream = stream_from(args[3]);  // a bad stream is reported before anything else
    read_torch(a, args[0]);
    read_torch(b, args[1]);
    Problem p = validate(a, b);
    py::object out;
    if (args[2] == Py_None) {
      check_has_kernel(p, a);
      // Allocated like `a` (dtype, device) on torch's current stream, only once the arguments are known good.
      out = torch_new(args[0], py::make_tuple(p.M, p.N), p.K == 0);
      if (p.K == 0 || p.M == 0 || p.N == 0) return out.release().ptr();
      read_torch(c, out.ptr(), /*ptr_only=*/true);
    } else {
      out = py::reinterpret_borrow<py::object>(args[2]);
      read_torch(c, args[2]);
      validate_out(p, c, a, b);
      check_has_kernel(p, a);
    }
    if (args[3] == Py_None) stream = torch_current_stream(p.device);
    run(p, a, b, c, stream);
    return out.release().ptr();
  } catch (...) {
    set_python_error();
    return nullptr;
  }
}

PyObject* gemm_raw(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  try {
    check_nargs(nargs, 4, "gemm_raw");
    cu::CUstream stream = stream_from(args[3]);
    Mat a, b, c;
    a.name = "a", b.name = "b", c.name = "out";
    read_raw(a, args[0]);
    read_raw(b, args[1]);
    Problem p = validate(a, b);
    read_raw(c, args[2]);
    validate_out(p, c, a, b);
    check_has_kernel(p, a);
    run(p, a, b, c, stream);
    Py_RETURN_NONE;
  } catch (...) {
    set_python_error();
    return nullptr;
  }
}

PyObject* gemm_check(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  try {
    check_nargs(nargs, 2, "gemm_check");
    Mat a, b;
    a.name = "a", b.name = "b";
    read_raw(a, args[0]);
    read_raw(b, args[1]);
    Problem p = validate(a, b);
    check_has_kernel(p, a);
    return py::make_tuple(p.M, p.N).release().ptr();
  } catch (...) {
    set_python_error();
    return nullptr;
  }
}

}  // namespace tilekernels
