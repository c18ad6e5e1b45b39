// @file pyargs.h
// @brief The Python boundary every dispatch stub shares: torch's objects (dtypes, current-stream getter, method
// names), reading one array argument (a torch tensor through its methods, or the Python layer's raw tuple), its
// shape and strides, the stream argument, output allocation through torch, and the argument-error exceptions.
#pragma once

#include <Python.h>
#include <pybind11/pybind11.h>

#include <string>

#include "cuda_api.h"

namespace tilekernels {

// Set once by _C._set_torch (set_torch_hooks): torch's dtype objects, the device -> current raw stream callable,
// and interned method names.
struct TorchHooks {
  PyObject *f16 = nullptr, *bf16 = nullptr, *f32 = nullptr, *stream_getter = nullptr;
  PyObject *s_data_ptr = nullptr, *s_shape = nullptr, *s_stride = nullptr, *s_dtype = nullptr;
  PyObject *s_get_device = nullptr, *s_new_empty = nullptr, *s_new_zeros = nullptr, *s_device = nullptr;
  PyObject* kw_dtype = nullptr;  // ("dtype",): the kwnames of new_empty(shape, dtype=...)
};
extern TorchHooks g_torch;

// _set_torch(float16, bfloat16, float32, stream_getter): the torch dtype objects and a callable
// device_index -> current raw stream, given once by the Python layer on the first torch call.
void set_torch_hooks(PyObject* f16, PyObject* bf16, PyObject* f32, PyObject* stream_getter);

// Throw "tilekernels.<api>: <msg>" as ValueError / TypeError (pybind11 exceptions).
[[noreturn]] void raise_value_error(const char* api, const std::string& msg);
[[noreturn]] void raise_type_error(const char* api, const std::string& msg);

long long as_ll(PyObject* o);                      // a Python int; throws the Python error otherwise
PyObject* call_method0(PyObject* obj, PyObject* name);  // obj.name() (new reference); throws on error
std::string str_of(PyObject* o);                   // str(o)
std::string shape_str(PyObject* shape);            // a shape tuple as "(2, 8, 8)" / "(5,)"
const char* dtype_str(int dtype, const std::string& other);  // DType name; `other` for -1

// One array argument as it arrives, before the family's checks. Sizes and strides are in elements.
struct ArrayArg {
  const char* name = "";
  cu::CUdeviceptr ptr = 0;
  pybind11::object shape;    // a tuple
  pybind11::object strides;  // a tuple, or None: contiguous
  int dtype = -1;            // DType; -1 for any other dtype (dtype_name says which)
  std::string dtype_name;    // filled only for other dtypes (error messages)
  int device = 0;            // CUDA ordinal; -1 not on a CUDA device (where says where); -2 unknown (ask the driver)
  std::string where;
};

// data_ptr(), shape, stride(), dtype and get_device() of a torch tensor (ptr_only: data_ptr() only). In the test mode
// a tensor off the GPU counts as on GPU 0.
void read_torch_array(ArrayArg& a, PyObject* t, bool ptr_only = false);
// The Python layer's (ptr, shape, strides | None, dtype name, device) tuple (cupy, numba, DLPack producers).
void read_raw_array(ArrayArg& a, PyObject* t, const char* api);

// a.shape and a.strides as `rank` sizes and strides (contiguous ones when strides is None). ValueError
// "<name> must be <what>, got N-D shape (...)" for another rank; negative sizes are rejected.
void read_dims(const ArrayArg& a, int rank, const char* what, const char* api, long long* size, long long* stride);

// torch's contiguity rule: a dimension of size 1 may have any stride; an empty tensor is contiguous.
bool contiguous(int rank, const long long* size, const long long* stride);
// "(a, b, c)" of n values.
std::string tuple_str(const long long* v, int n);

// The `stream` argument: an int CUDA stream handle. TypeError naming `stream` otherwise.
cu::CUstream stream_from(PyObject* o);
// torch's current stream on that CUDA device (the getter given to _set_torch; device < 0 asks for device 0).
cu::CUstream torch_current_stream(int device);
// TypeError "_C.<fn> takes <want> arguments (<nargs> given)" unless nargs == want.
void check_nargs(Py_ssize_t nargs, Py_ssize_t want, const char* fn);
// The CUDA ordinal owning ptr (for producers that do not say, e.g. numba). Throws cu::CudaFailure.
int pointer_device(cu::CUdeviceptr ptr, const char* name);
// like.new_empty(shape) (new_zeros when zeros), with dtype=dtype when dtype is not null.
pybind11::object torch_new(PyObject* like, const pybind11::object& shape, bool zeros = false,
                           PyObject* dtype = nullptr);
// Whether [a, a + a_bytes) and [b, b + b_bytes) share memory (empty ranges share nothing).
bool overlaps(cu::CUdeviceptr a, unsigned long long a_bytes, cu::CUdeviceptr b, unsigned long long b_bytes);

}  // namespace tilekernels
