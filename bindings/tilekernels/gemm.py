"""tilekernels.gemm: C = A @ B on the GPU for torch tensors, and for cupy / DLPack / __cuda_array_interface__ arrays.

The torch path is one call into `_C.gemm_torch`, which reads the tensors through their Python methods, checks
everything, allocates the output with `a.new_empty` and launches on torch's current stream: torch is never linked,
and it is imported here only when a torch tensor arrives. Other arrays are described to `_C` as plain tuples.
"""
from __future__ import annotations

import sys

from . import _C

_TORCH_TYPES: set[type] = set()  # the torch tensor types seen so far (torch.Tensor, nn.Parameter, ...)
_gemm_torch = _C.gemm_torch

_DL_CUDA, _DL_CUDA_MANAGED = 2, 13
_DL_DEVICE_NAMES = {1: "the CPU", 3: "CUDA pinned host memory", 4: "an OpenCL device", 7: "a Vulkan device",
                    8: "a Metal device", 10: "a ROCm device", 11: "ROCm host memory", 14: "a oneAPI device"}
_CAI_DTYPES = {"f2": "float16", "f4": "float32", "f8": "float64", "i1": "int8", "u1": "uint8", "i2": "int16",
               "u2": "uint16", "i4": "int32", "u4": "uint32", "i8": "int64", "u8": "uint64", "b1": "bool"}
_DEVICE_UNKNOWN = -2  # _C asks the driver which GPU the pointer lives on


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


def _is_torch(x: object) -> bool:
    t = type(x)
    if t in _TORCH_TYPES:
        return True
    if t.__module__.startswith("torch") and hasattr(x, "data_ptr"):
        _setup_torch()
        _TORCH_TYPES.add(t)
        return True
    return False


def _setup_torch() -> None:
    """Give _C the torch dtypes and the fastest current-stream getter of this torch version (once)."""
    if _TORCH_TYPES:
        return
    import torch  # only ever reached with a torch tensor in hand

    getter = getattr(torch._C, "_cuda_getCurrentRawStream", None)
    if getter is None:  # a torch without it (or CPU-only torch: then no CUDA tensor can reach the launch)
        def getter(index: int) -> int:
            return torch.cuda.current_stream(index).cuda_stream
    _C._set_torch(torch.float16, torch.bfloat16, torch.float32, getter)


def _gemm_first_or_generic(a: object, b: object, out: object, stream: int | None) -> object:
    if _is_torch(a) and _is_torch(b) and (out is None or _is_torch(out)):
        return _gemm_torch(a, b, out, stream)
    ra, rb = _describe(a, "a", stream), _describe(b, "b", stream)
    m, n = _C.gemm_check(ra, rb)
    if stream is None:
        stream = _current_stream(a, ra[4])
    if out is None:
        out = _allocate_like(a, (m, n), ra)
    _C.gemm_raw(ra, rb, _describe(out, "out", stream), stream)
    return out


def _type_name(x: object) -> str:
    t = type(x)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__.split('.')[0]}.{t.__name__}"


def _describe(x: object, name: str, stream: int | None) -> tuple:
    """(ptr, shape, strides in elements or None, dtype name, device ordinal) of a CUDA array for _C.gemm_raw."""
    if _is_torch(x):  # next to arrays of another framework
        return (x.data_ptr(), tuple(x.shape), tuple(x.stride()), str(x.dtype).replace("torch.", ""), x.get_device())
    cai = getattr(x, "__cuda_array_interface__", None)
    if cai is not None:
        return _from_cai(x, cai, name)
    if hasattr(x, "__dlpack__"):
        return _from_dlpack(x, name, stream)
    if hasattr(x, "__array_interface__") or hasattr(x, "__array__"):
        raise ValueError(f"tilekernels.gemm: {name} is a host array ({_type_name(x)}); expected a CUDA array: copy it "
                        f"to the GPU first (e.g. torch.as_tensor({name}, device='cuda') or cupy.asarray({name}))")
    raise TypeError(f"tilekernels.gemm: {name} is a {_type_name(x)}; expected a CUDA array (a torch tensor, or an "
                    f"object with __cuda_array_interface__ or __dlpack__)")


def _from_cai(x: object, cai: dict, name: str) -> tuple:
    typestr = str(cai.get("typestr", ""))
    dtype = _CAI_DTYPES.get(typestr[1:], f"typestr {typestr!r}") if typestr[:1] in "<|=" else f"typestr {typestr!r}"
    if cai.get("mask") is not None:
        raise ValueError(f"tilekernels.gemm: {name} is a masked array; pass an unmasked one")
    shape = tuple(int(n) for n in cai["shape"])
    strides = cai.get("strides")
    if strides is not None:
        itemsize = int(typestr[2:] or 1)
        if any(int(s) % itemsize for s in strides):
            raise ValueError(f"tilekernels.gemm: {name} has byte strides {tuple(strides)} that are not multiples of "
                             f"its element size {itemsize}; pass a contiguous copy")
        strides = tuple(int(s) // itemsize for s in strides)
    dev = getattr(getattr(x, "device", None), "id", None)  # cupy arrays know their device; numba's do not
    return int(cai["data"][0] or 0), shape, strides, dtype, dev if isinstance(dev, int) else _DEVICE_UNKNOWN


def _from_dlpack(x: object, name: str, stream: int | None) -> tuple:
    dev_fn = getattr(x, "__dlpack_device__", None)
    if dev_fn is not None:
        dev_type = int(dev_fn()[0])
        if dev_type not in (_DL_CUDA, _DL_CUDA_MANAGED):
            where = _DL_DEVICE_NAMES.get(dev_type, f"DLPack device type {dev_type}")
            raise ValueError(f"tilekernels.gemm: {name} ({_type_name(x)}) lives on {where}; expected a CUDA array: "
                             f"copy it to the GPU first")
    # Tell the producer which stream we launch on (1: the legacy default stream), so it can order its work first.
    try:
        capsule = x.__dlpack__(stream=1 if not stream else stream)
    except TypeError:  # producers older than the stream argument
        capsule = x.__dlpack__()
    ptr, shape, strides, dtype, dev_type, dev_id = _C.dlpack_info(capsule)
    if dev_type not in (_DL_CUDA, _DL_CUDA_MANAGED):
        where = _DL_DEVICE_NAMES.get(dev_type, f"DLPack device type {dev_type}")
        raise ValueError(f"tilekernels.gemm: {name} ({_type_name(x)}) lives on {where}; expected a CUDA array")
    return ptr, shape, strides, dtype, dev_id


def _current_stream(a: object, device: int) -> int:
    mod = type(a).__module__
    if mod.startswith("cupy"):
        import cupy
        return int(cupy.cuda.get_current_stream().ptr)
    if mod.startswith("torch") and device >= 0:
        import torch
        return int(torch.cuda.current_stream(device).cuda_stream)
    return 0  # the legacy default stream


def _allocate_like(a: object, shape: tuple, desc: tuple) -> object:
    mod = type(a).__module__
    if mod.startswith("torch"):
        return a.new_empty(shape)
    if mod.startswith("cupy"):
        cupy = sys.modules.get("cupy") or __import__("cupy")
        with cupy.cuda.Device(desc[4] if desc[4] >= 0 else None):
            return cupy.empty(shape, dtype=a.dtype)
    raise TypeError(f"tilekernels.gemm: cannot allocate the output for {_type_name(a)} inputs; pass out= (an "
                    f"[{shape[0]}, {shape[1]}] {desc[3]} CUDA array)")
