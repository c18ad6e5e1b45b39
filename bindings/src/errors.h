// @file errors.h
// @brief C++ exceptions → the Python exception classes of tilekernels.errors.
#pragma once

#include <Python.h>

#include <exception>

namespace tilekernels {

// Imports tilekernels.errors and keeps its classes (called once from PYBIND11_MODULE). Throws py::error_already_set.
void init_error_classes();

// Sets the Python error for the exception in flight (call inside a catch block): cu::NoGPU → NoGPUError,
// cu::CudaFailure → CudaError / UnsupportedGPUError (with attributes error_name, code, call, kernel), pybind11's
// exceptions → theirs, std::invalid_argument → ValueError (its message as is), anything else → RuntimeError
// "internal error, please report".
void set_python_error();

// For py::register_exception_translator: handles our C++ types, rethrows the rest.
void translate_exception(std::exception_ptr p);

}  // namespace tilekernels
