// @file gemm.h
// @brief The GEMM dispatch stub's Python entry points (METH_FASTCALL functions, registered by module.cpp).
#pragma once

#include <Python.h>

namespace tilekernels {

// gemm_torch(a, b, out, stream) -> out: torch tensors read through their Python methods (no libtorch).
PyObject* gemm_torch(PyObject* self, PyObject* const* args, Py_ssize_t nargs);
// gemm_raw(a, b, out, stream) -> None: each tensor a tuple (ptr, shape, strides|None, dtype name, device).
PyObject* gemm_raw(PyObject* self, PyObject* const* args, Py_ssize_t nargs);
// gemm_check(a, b) -> (M, N): validates raw a and b (no GPU needed), for callers that allocate `out` themselves.
PyObject* gemm_check(PyObject* self, PyObject* const* args, Py_ssize_t nargs);

}  // namespace tilekernels
