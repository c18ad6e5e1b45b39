// @file attention.h
// @brief The FlashAttention forward stubs' Python entry points (METH_FASTCALL functions, registered by module.cpp).
//
// Dense: q [batch, seqlen_q, heads, head_dim], k and v [batch, seqlen_k, kv_heads, head_dim], out like q, lse
// float32 [batch, heads, seqlen_q]. Varlen: q [total_q, heads, head_dim], k and v [total_k, kv_heads, head_dim],
// cu_seqlens_q / cu_seqlens_k int32 [batch + 1]. `causal`, `softmax_scale` (None: 1/sqrt(head_dim)) and
// `return_lse` are the Python values as given (checked here); `stream` None means torch's current stream.
#pragma once

#include <Python.h>

namespace tilekernels {

// flash_attn_torch(q, k, v, out, causal, softmax_scale, return_lse, stream) -> out, or (out, lse) when return_lse.
PyObject* flash_attn_torch(PyObject* self, PyObject* const* args, Py_ssize_t nargs);
// flash_attn_raw(q, k, v, out, causal, softmax_scale, stream, lse) -> None: each tensor a tuple (ptr, shape,
// strides|None, dtype name, device); lse None: a stream-ordered scratch buffer (cuMemAllocAsync) takes it.
PyObject* flash_attn_raw(PyObject* self, PyObject* const* args, Py_ssize_t nargs);
// flash_attn_check(q, k, v, causal, softmax_scale) -> (out shape, lse shape): validates raw q, k, v (no GPU needed).
PyObject* flash_attn_check(PyObject* self, PyObject* const* args, Py_ssize_t nargs);

// flash_attn_varlen_torch(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, out, causal,
// softmax_scale, stream) -> out.
PyObject* flash_attn_varlen_torch(PyObject* self, PyObject* const* args, Py_ssize_t nargs);
// flash_attn_varlen_raw(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, out, causal,
// softmax_scale, stream) -> None (raw tuples; the LSE goes to a stream-ordered scratch buffer).
PyObject* flash_attn_varlen_raw(PyObject* self, PyObject* const* args, Py_ssize_t nargs);
// flash_attn_varlen_check(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, causal, softmax_scale)
// -> out shape.
PyObject* flash_attn_varlen_check(PyObject* self, PyObject* const* args, Py_ssize_t nargs);

}  // namespace tilekernels
