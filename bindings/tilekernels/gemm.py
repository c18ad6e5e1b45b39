"""tilekernels.gemm: C = A @ B on the GPU for torch tensors, and for cupy / DLPack / __cuda_array_interface__ arrays.

The torch path is one call into `_C.gemm_torch`, which reads the tensors through their Python methods, checks
everything, allocates the output with `a.new_empty` and launches on torch's current stream: torch is never linked,
and it is imported here only when a torch tensor arrives. Other arrays are described to `_C` as plain tuples
(tilekernels._arrays).
"""
from __future__ import annotations

from . import _C
from ._arrays import TORCH_TYPES as _TORCH_TYPES
from ._arrays import allocate_like, current_stream, describe
from ._arrays import is_torch as _is_torch

_gemm_torch = _C.gemm_torch


def gemm(a: object, b: object, *, out: object = None, stream: int | None = None) -> object:
    """Matrix product ``a @ b`` of two 2-D float16 or bfloat16 matrices on an NVIDIA GPU.

    ``a`` is [M, K] and ``b`` is [K, N], both row-major; ``b`` may also be the transposed view of a row-major
    [N, K] matrix (``x @ w.T`` with ``w.T`` passed as is, no copy). Accumulation is in float32. The kernel is
    launched asynchronously, like torch.matmul.

    Args:
        a: [M, K] CUDA matrix: a torch tensor, or any array with ``__cuda_array_interface__`` or ``__dlpack__``
            (cupy, numba, jax, ...).
        b: [K, N] CUDA matrix of the same dtype, on the same GPU.
        out: optional [M, N] row-major output of the same dtype, not overlapping ``a`` or ``b``. When None it is
            allocated like ``a`` (torch, or cupy for cupy arrays; other array types need ``out``).
        stream: CUDA stream handle (``cudaStream_t`` as an int) to launch on. Default: the current stream of the
            framework that owns the arrays (torch, cupy), else the legacy default stream.

    Returns:
        ``out``: the product, an [M, N] matrix of the operands' dtype (a new one when ``out`` was None).

    Raises:
        TypeError: an argument is not an array at all, or dtypes are unsupported or differ.
        ValueError: wrong shapes, a host (CPU) array or mixed GPUs, strides that are not row-major, K or N not a
            multiple of 8, misaligned data, over 2**31 elements, or ``out`` overlapping an input.
        NoGPUError: no NVIDIA driver or GPU.
        UnsupportedGPUError: this build has no kernel for the GPU's arch (the message says how to get one).
        CudaError: a CUDA driver call failed (the message names the kernel and the CUDA error).
    """
    if type(a) in _TORCH_TYPES and type(b) in _TORCH_TYPES and (out is None or type(out) in _TORCH_TYPES):
        return _gemm_torch(a, b, out, stream)
    return _gemm_first_or_generic(a, b, out, stream)


def _gemm_first_or_generic(a: object, b: object, out: object, stream: int | None) -> object:
    if _is_torch(a) and _is_torch(b) and (out is None or _is_torch(out)):
        return _gemm_torch(a, b, out, stream)
    ra, rb = describe(a, "a", stream, "gemm"), describe(b, "b", stream, "gemm")
    m, n = _C.gemm_check(ra, rb)
    if stream is None:
        stream = current_stream(a, ra[4])
    if out is None:
        out = allocate_like(a, (m, n), ra, "gemm")
    _C.gemm_raw(ra, rb, describe(out, "out", stream, "gemm"), stream)
    return out
