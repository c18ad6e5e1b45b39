// @file pyargs.cpp
// @brief The Python boundary shared by the dispatch stubs (see pyargs.h).
#include "pyargs.h"

#include "runtime.h"

namespace py = pybind11;

namespace tilekernels {

TorchHooks g_torch;

void set_torch_hooks(PyObject* f16, PyObject* bf16, PyObject* f32, PyObject* stream_getter) {
  for (PyObject* o : {f16, bf16, f32, stream_getter}) Py_INCREF(o);
  Py_XDECREF(g_torch.stream_getter);  // the dtypes are immortal in practice; the getter may be replaced by tests
  g_torch.f16 = f16, g_torch.bf16 = bf16, g_torch.f32 = f32, g_torch.stream_getter = stream_getter;
  if (!g_torch.s_data_ptr) {
    g_torch.s_data_ptr = PyUnicode_InternFromString("data_ptr");
    g_torch.s_shape = PyUnicode_InternFromString("shape");
    g_torch.s_stride = PyUnicode_InternFromString("stride");
    g_torch.s_dtype = PyUnicode_InternFromString("dtype");
    g_torch.s_get_device = PyUnicode_InternFromString("get_device");
    g_torch.s_new_empty = PyUnicode_InternFromString("new_empty");
    g_torch.s_new_zeros = PyUnicode_InternFromString("new_zeros");
    g_torch.s_device = PyUnicode_InternFromString("device");
    g_torch.kw_dtype = Py_BuildValue("(s)", "dtype");
  }
}

void raise_value_error(const char* api, const std::string& msg) {
  throw py::value_error(std::string("tilekernels.") + api + ": " + msg);
}
void raise_type_error(const char* api, const std::string& msg) {
  throw py::type_error(std::string("tilekernels.") + api + ": " + msg);
}

long long as_ll(PyObject* o) {
  long long v = PyLong_AsLongLong(o);
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  return v;
}

PyObject* call_method0(PyObject* obj, PyObject* name) {
  PyObject* r = PyObject_VectorcallMethod(name, &obj, 1 | PY_VECTORCALL_ARGUMENTS_OFFSET, nullptr);
  if (!r) throw py::error_already_set();
  return r;
}

std::string str_of(PyObject* o) {
  py::str s(py::reinterpret_borrow<py::object>(o));
  return s.cast<std::string>();
}

std::string shape_str(PyObject* shape) {
  std::string s = "(";
  Py_ssize_t n = PyTuple_GET_SIZE(shape);
  for (Py_ssize_t i = 0; i < n; ++i) {
    if (i) s += ", ";
    s += std::to_string(PyLong_AsLongLong(PyTuple_GET_ITEM(shape, i)));
  }
  PyErr_Clear();  // only a message: a non-int entry shows as -1
  return s + (n == 1 ? ",)" : ")");
}

std::string tuple_str(const long long* v, int n) {
  std::string s = "(";
  for (int i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + (n == 1 ? ",)" : ")");
}

const char* dtype_str(int dtype, const std::string& other) {
  switch (dtype) {
    case kFloat16: return "float16";
    case kBFloat16: return "bfloat16";
    case kFloat32: return "float32";
    default: return other.c_str();
  }
}

void read_torch_array(ArrayArg& a, PyObject* t, bool ptr_only) {
  py::object ptr = py::reinterpret_steal<py::object>(call_method0(t, g_torch.s_data_ptr));
  a.ptr = PyLong_AsUnsignedLongLong(ptr.ptr());
  if (PyErr_Occurred()) throw py::error_already_set();
  if (ptr_only) return;
  a.shape = py::reinterpret_steal<py::object>(PyObject_GetAttr(t, g_torch.s_shape));
  if (!a.shape) throw py::error_already_set();
  a.strides = py::reinterpret_steal<py::object>(call_method0(t, g_torch.s_stride));
  PyObject* dt = PyObject_GetAttr(t, g_torch.s_dtype);
  if (!dt) throw py::error_already_set();
  a.dtype = dt == g_torch.f16 ? kFloat16 : dt == g_torch.bf16 ? kBFloat16 : dt == g_torch.f32 ? kFloat32 : -1;
  if (a.dtype < 0) {
    a.dtype_name = str_of(dt);
    if (a.dtype_name.rfind("torch.", 0) == 0) a.dtype_name = a.dtype_name.substr(6);
  }
  Py_DECREF(dt);
  py::object dev = py::reinterpret_steal<py::object>(call_method0(t, g_torch.s_get_device));
  a.device = static_cast<int>(as_ll(dev.ptr()));
  if (a.device < 0 && test_mode()) a.device = 0;  // host-overhead measurements run on CPU tensors
  if (a.device < 0) {
    a.device = -1;
    py::object d = py::reinterpret_steal<py::object>(PyObject_GetAttr(t, g_torch.s_device));
    a.where = d ? str_of(d.ptr()) : "a non-CUDA device";
    PyErr_Clear();
  }
}

void read_raw_array(ArrayArg& a, PyObject* t, const char* api) {
  if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 5)
    raise_type_error(api, std::string(a.name) +
                              ": expected (ptr, shape, strides, dtype, device) (internal error, please report)");
  a.ptr = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(t, 0));
  if (PyErr_Occurred()) throw py::error_already_set();
  a.shape = py::reinterpret_borrow<py::object>(PyTuple_GET_ITEM(t, 1));
  a.strides = py::reinterpret_borrow<py::object>(PyTuple_GET_ITEM(t, 2));
  std::string dt = str_of(PyTuple_GET_ITEM(t, 3));
  a.dtype = dt == "float16" ? kFloat16 : dt == "bfloat16" ? kBFloat16 : dt == "float32" ? kFloat32 : -1;
  if (a.dtype < 0) a.dtype_name = dt;
  a.device = static_cast<int>(as_ll(PyTuple_GET_ITEM(t, 4)));
  if (a.device == -1) a.where = "the host";
}

void read_dims(const ArrayArg& a, int rank, const char* what, const char* api, long long* size, long long* stride) {
  PyObject* shape = a.shape.ptr();
  if (!PyTuple_Check(shape)) raise_type_error(api, std::string(a.name) + ": shape must be a tuple");
  if (PyTuple_GET_SIZE(shape) != rank)
    raise_value_error(api, std::string(a.name) + " must be " + what + ", got " +
                               std::to_string(PyTuple_GET_SIZE(shape)) + "-D shape " + shape_str(shape));
  for (int i = 0; i < rank; ++i) {
    size[i] = as_ll(PyTuple_GET_ITEM(shape, i));
    if (size[i] < 0)
      raise_value_error(api, std::string(a.name) + " has a negative size in shape " + shape_str(shape));
  }
  PyObject* strides = a.strides.ptr();
  if (strides == Py_None) {
    long long s = 1;
    for (int i = rank - 1; i >= 0; --i) stride[i] = s, s *= size[i] > 1 ? size[i] : 1;
    return;
  }
  if (!PyTuple_Check(strides) || PyTuple_GET_SIZE(strides) != rank)
    raise_value_error(api, std::string(a.name) + ": expected " + std::to_string(rank) + " strides for " + what);
  for (int i = 0; i < rank; ++i) stride[i] = as_ll(PyTuple_GET_ITEM(strides, i));
}

bool contiguous(int rank, const long long* size, const long long* stride) {
  long long want = 1;
  for (int i = rank - 1; i >= 0; --i) {
    if (size[i] == 0) return true;
    if (size[i] != 1 && stride[i] != want) return false;
    want *= size[i];
  }
  return true;
}

cu::CUstream stream_from(PyObject* o) {
  if (!PyLong_Check(o))
    throw py::type_error(std::string("stream must be a CUDA stream handle as an int (e.g. torch.cuda.current_stream()"
                                     ".cuda_stream) or None for torch's current stream, got ") + Py_TYPE(o)->tp_name);
  void* s = PyLong_AsVoidPtr(o);
  if (!s && PyErr_Occurred()) throw py::error_already_set();
  return static_cast<cu::CUstream>(s);
}

cu::CUstream torch_current_stream(int device) {
  py::object dev = py::reinterpret_steal<py::object>(PyLong_FromLong(device < 0 ? 0 : device));
  PyObject* dev_ptr = dev.ptr();
  py::object s = py::reinterpret_steal<py::object>(PyObject_Vectorcall(g_torch.stream_getter, &dev_ptr, 1, nullptr));
  if (!s) throw py::error_already_set();
  return stream_from(s.ptr());
}

void check_nargs(Py_ssize_t nargs, Py_ssize_t want, const char* fn) {
  if (nargs != want)
    throw py::type_error(std::string("_C.") + fn + " takes " + std::to_string(want) + " arguments (" +
                         std::to_string(nargs) + " given)");
}

int pointer_device(cu::CUdeviceptr ptr, const char* name) {
  int ordinal = -1;
  cu::check(cu::api().cuPointerGetAttribute(&ordinal, cu::CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, ptr),
            (std::string("cuPointerGetAttribute(DEVICE_ORDINAL) of ") + name).c_str());
  return ordinal;
}

py::object torch_new(PyObject* like, const py::object& shape, bool zeros, PyObject* dtype) {
  PyObject* margs[3] = {like, shape.ptr(), dtype};
  PyObject* name = zeros ? g_torch.s_new_zeros : g_torch.s_new_empty;
  py::object out = py::reinterpret_steal<py::object>(PyObject_VectorcallMethod(
      name, margs, 2 | PY_VECTORCALL_ARGUMENTS_OFFSET, dtype ? g_torch.kw_dtype : nullptr));
  if (!out) throw py::error_already_set();
  return out;
}

bool overlaps(cu::CUdeviceptr a, unsigned long long a_bytes, cu::CUdeviceptr b, unsigned long long b_bytes) {
  return a_bytes > 0 && b_bytes > 0 && a < b + b_bytes && b < a + a_bytes;
}

}  // namespace tilekernels
