"""What every tilekernels function does with its array arguments before `_C`: recognise torch tensors (and hand _C
torch's dtypes and current-stream getter once), describe any other CUDA array (``__cuda_array_interface__``,
DLPack) as the plain tuple ``(ptr, shape, strides in elements | None, dtype name, device ordinal)`` that `_C`'s raw
entry points take, find the producer's current stream, and allocate outputs like an input.

``api`` names the public function in messages ("gemm", "flash_attn", ...). Importing this module imports nothing
heavy: torch and cupy only when their arrays arrive.
"""
from __future__ import annotations

import sys

from . import _C

TORCH_TYPES: set[type] = set()  # the torch tensor types seen so far (torch.Tensor, nn.Parameter, ...)

_DL_CUDA, _DL_CUDA_MANAGED = 2, 13
_DL_DEVICE_NAMES = {1: "the CPU", 3: "CUDA pinned host memory", 4: "an OpenCL device", 7: "a Vulkan device",
                    8: "a Metal device", 10: "a ROCm device", 11: "ROCm host memory", 14: "a oneAPI device"}
_CAI_DTYPES = {"f2": "float16", "f4": "float32", "f8": "float64", "i1": "int8", "u1": "uint8", "i2": "int16",
               "u2": "uint16", "i4": "int32", "u4": "uint32", "i8": "int64", "u8": "uint64", "b1": "bool"}
DEVICE_UNKNOWN = -2  # _C asks the driver which GPU the pointer lives on


def is_torch(x: object) -> bool:
    t = type(x)
    if t in TORCH_TYPES:
        return True
    if t.__module__.startswith("torch") and hasattr(x, "data_ptr"):
        setup_torch()
        TORCH_TYPES.add(t)
        return True
    return False


def setup_torch() -> None:
    """Give _C the torch dtypes and the fastest current-stream getter of this torch version (once)."""
    if TORCH_TYPES:
        return
    import torch  # only ever reached with a torch tensor in hand

    getter = getattr(torch._C, "_cuda_getCurrentRawStream", None)
    if getter is None:  # a torch without it (or CPU-only torch: then no CUDA tensor can reach the launch)
        def getter(index: int) -> int:
            return torch.cuda.current_stream(index).cuda_stream
    _C._set_torch(torch.float16, torch.bfloat16, torch.float32, getter)


def type_name(x: object) -> str:
    t = type(x)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__.split('.')[0]}.{t.__name__}"


def describe(x: object, name: str, stream: int | None, api: str) -> tuple:
    """(ptr, shape, strides in elements or None, dtype name, device ordinal) of a CUDA array for `_C`'s raw calls."""
    if is_torch(x):  # next to arrays of another framework
        return (x.data_ptr(), tuple(x.shape), tuple(x.stride()), str(x.dtype).replace("torch.", ""), x.get_device())
    cai = getattr(x, "__cuda_array_interface__", None)
    if cai is not None:
        return _from_cai(x, cai, name, api)
    if hasattr(x, "__dlpack__"):
        return _from_dlpack(x, name, stream, api)
    if hasattr(x, "__array_interface__") or hasattr(x, "__array__"):
        raise ValueError(f"tilekernels.{api}: {name} is a host array ({type_name(x)}); expected a CUDA array: copy "
                         f"it to the GPU first (e.g. torch.as_tensor({name}, device='cuda') or cupy.asarray({name}))")
    raise TypeError(f"tilekernels.{api}: {name} is a {type_name(x)}; expected a CUDA array (a torch tensor, or an "
                    f"object with __cuda_array_interface__ or __dlpack__)")


def _from_cai(x: object, cai: dict, name: str, api: str) -> tuple:
    typestr = str(cai.get("typestr", ""))
    dtype = _CAI_DTYPES.get(typestr[1:], f"typestr {typestr!r}") if typestr[:1] in "<|=" else f"typestr {typestr!r}"
    if cai.get("mask") is not None:
        raise ValueError(f"tilekernels.{api}: {name} is a masked array; pass an unmasked one")
    shape = tuple(int(n) for n in cai["shape"])
    strides = cai.get("strides")
    if strides is not None:
        itemsize = int(typestr[2:] or 1)
        if any(int(s) % itemsize for s in strides):
            raise ValueError(f"tilekernels.{api}: {name} has byte strides {tuple(strides)} that are not multiples of "
                             f"its element size {itemsize}; pass a contiguous copy")
        strides = tuple(int(s) // itemsize for s in strides)
    dev = getattr(getattr(x, "device", None), "id", None)  # cupy arrays know their device; numba's do not
    return int(cai["data"][0] or 0), shape, strides, dtype, dev if isinstance(dev, int) else DEVICE_UNKNOWN


def _from_dlpack(x: object, name: str, stream: int | None, api: str) -> tuple:
    dev_fn = getattr(x, "__dlpack_device__", None)
    if dev_fn is not None:
        dev_type = int(dev_fn()[0])
        if dev_type not in (_DL_CUDA, _DL_CUDA_MANAGED):
            where = _DL_DEVICE_NAMES.get(dev_type, f"DLPack device type {dev_type}")
            raise ValueError(f"tilekernels.{api}: {name} ({type_name(x)}) lives on {where}; expected a CUDA array: "
                             f"copy it to the GPU first")
    # Tell the producer which stream we launch on (1: the legacy default stream), so it can order its work first.
    try:
        capsule = x.__dlpack__(stream=1 if not stream else stream)
    except TypeError:  # producers older than the stream argument
        capsule = x.__dlpack__()
    ptr, shape, strides, dtype, dev_type, dev_id = _C.dlpack_info(capsule)
    if dev_type not in (_DL_CUDA, _DL_CUDA_MANAGED):
        where = _DL_DEVICE_NAMES.get(dev_type, f"DLPack device type {dev_type}")
        raise ValueError(f"tilekernels.{api}: {name} ({type_name(x)}) lives on {where}; expected a CUDA array")
    return ptr, shape, strides, dtype, dev_id


def current_stream(a: object, device: int) -> int:
    """The current stream of the framework that owns `a` (cupy, torch), else the legacy default stream."""
    mod = type(a).__module__
    if mod.startswith("cupy"):
        import cupy
        return int(cupy.cuda.get_current_stream().ptr)
    if mod.startswith("torch") and device >= 0:
        import torch
        return int(torch.cuda.current_stream(device).cuda_stream)
    return 0  # the legacy default stream


def allocate_like(a: object, shape: tuple, desc: tuple, api: str, dtype: str | None = None) -> object:
    """An uninitialised array of `shape` like `a` (its framework and device; its dtype unless `dtype` names one)."""
    mod = type(a).__module__
    if mod.startswith("torch"):
        return a.new_empty(shape) if dtype is None else a.new_empty(shape, dtype=getattr(sys.modules["torch"], dtype))
    if mod.startswith("cupy"):
        cupy = sys.modules.get("cupy") or __import__("cupy")
        with cupy.cuda.Device(desc[4] if desc[4] >= 0 else None):
            return cupy.empty(shape, dtype=a.dtype if dtype is None else dtype)
    dims = ", ".join(map(str, shape))
    raise TypeError(f"tilekernels.{api}: cannot allocate the output for {type_name(a)} inputs; pass out= (an "
                    f"[{dims}] {dtype or desc[3]} CUDA array)")
