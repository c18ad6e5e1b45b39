// @file errors.cpp
// @brief C++ exceptions → the Python exception classes of tilekernels.errors (see errors.h).
#include "errors.h"

#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>

#include "cuda_api.h"

namespace py = pybind11;

namespace tilekernels {
namespace {

PyObject* g_cuda_error = nullptr;
PyObject* g_no_gpu_error = nullptr;
PyObject* g_unsupported_gpu_error = nullptr;

void raise(PyObject* cls, const char* message, const cu::CudaFailure* f) {
  PyObject* exc = PyObject_CallFunction(cls, "s", message);
  if (!exc) return;  // the constructor failed: its error stands
  if (f) {
    py::handle h(exc);
    h.attr("error_name") = py::str(f->error_name);
    h.attr("code") = py::int_(f->code);
    h.attr("call") = py::str(f->call);
    h.attr("kernel") = f->kernel.empty() ? py::none() : py::object(py::str(f->kernel));
  }
  PyErr_SetObject(cls, exc);
  Py_DECREF(exc);
}

}  // namespace

void init_error_classes() {
  py::module_ m = py::module_::import("tilekernels.errors");
  g_cuda_error = py::object(m.attr("CudaError")).release().ptr();
  g_no_gpu_error = py::object(m.attr("NoGPUError")).release().ptr();
  g_unsupported_gpu_error = py::object(m.attr("UnsupportedGPUError")).release().ptr();
}

void set_python_error() {
  try {
    throw;
  } catch (const cu::NoGPU& e) {
    raise(g_no_gpu_error, e.what(), nullptr);
  } catch (const cu::CudaFailure& e) {
    raise(e.unsupported_gpu ? g_unsupported_gpu_error : g_cuda_error, e.what(), &e);
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const py::builtin_exception& e) {
    e.set_error();
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  } catch (const std::invalid_argument& e) {  // an argument the kernels cannot take (the message says why)
    PyErr_SetString(PyExc_ValueError, e.what());
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, (std::string("tilekernels: ") + e.what() +
                                         (std::string(e.what()).find("internal error") == std::string::npos
                                              ? " (internal error, please report)"
                                              : ""))
                                            .c_str());
  } catch (...) {
    PyErr_SetString(PyExc_RuntimeError, "tilekernels: unknown C++ exception (internal error, please report)");
  }
}

void translate_exception(std::exception_ptr p) {
  try {
    if (p) std::rethrow_exception(p);
  } catch (const cu::NoGPU&) {
    set_python_error();
  } catch (const cu::CudaFailure&) {
    set_python_error();
  }
}

}  // namespace tilekernels
