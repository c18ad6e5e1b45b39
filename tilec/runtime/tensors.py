"""Turn a user's tensor argument (torch, __cuda_array_interface__, DLPack) into a plain device-array view.

torch is never imported here: torch tensors are recognised by their type's module and read through
their public methods, so tilec works with any torch version, or none.
"""
from __future__ import annotations

import ctypes
from ctypes import POINTER, c_int32, c_int64, c_uint8, c_uint16, c_uint64, c_void_p

from tilec.errors import TilecRuntimeError


class DeviceArray:
    """A view of a device tensor: ptr (int), shape and strides (elements) tuples, dtype (tilec name),
    device (CUDA ordinal, or None when the producer does not say), source ("torch", "cai" or "dlpack")."""

    __slots__ = ("device", "dtype", "ptr", "shape", "source", "strides")

    def __init__(self, ptr: int, shape: tuple, strides: tuple, dtype: str, device: int | None, source: str):
        self.ptr, self.shape, self.strides, self.dtype, self.device, self.source = ptr, shape, strides, dtype, \
            device, source

    def __repr__(self) -> str:
        return (f"DeviceArray(ptr={self.ptr:#x}, shape={self.shape}, strides={self.strides}, dtype={self.dtype}, "
                f"device={self.device}, source={self.source})")


def _type_name(x: object) -> str:
    mod = type(x).__module__
    return type(x).__name__ if mod == "builtins" else f"{mod.split('.')[0]}.{type(x).__name__}"


def contiguous_strides(shape: tuple) -> tuple:
    """Row-major (C-contiguous) strides in elements for `shape`. Never raises."""
    strides, acc = [], 1
    for n in reversed(shape):
        strides.append(acc)
        acc *= max(int(n), 1)
    return tuple(reversed(strides))


def is_contiguous(shape: tuple, strides: tuple) -> bool:
    """True when (shape, strides) is row-major contiguous; dims of size 1 may have any stride and an empty
    tensor is contiguous (torch's rule). Never raises."""
    if 0 in shape:
        return True
    expected = 1
    for n, s in zip(reversed(shape), reversed(strides)):
        if n != 1 and s != expected:
            return False
        expected *= n
    return True


# -- torch ---------------------------------------------------------------------------------------------------

_TORCH_RENAME = {"float8_e4m3fn": "float8_e4m3", "float8_e5m2": "float8_e5m2"}
_TORCH_DTYPE_NAMES: dict = {}


def _torch_dtype_name(dt: object) -> str:
    name = _TORCH_DTYPE_NAMES.get(dt)
    if name is None:
        raw = str(dt).replace("torch.", "")
        name = _TORCH_DTYPE_NAMES[dt] = _TORCH_RENAME.get(raw, raw)
    return name


_TORCH_TYPES: set = set()


def is_torch_tensor(x: object) -> bool:
    """True when `x` is a torch tensor (its type's module is torch's), without importing torch. Never raises."""
    t = type(x)
    if t in _TORCH_TYPES:
        return True
    if t.__module__.startswith("torch"):
        _TORCH_TYPES.add(t)
        return True
    return False


def torch_dtype_name(dt: object) -> str:
    """The tilec name of a torch dtype ("float16", "float8_e4m3", ...; others keep torch's name). Never raises."""
    name = _TORCH_DTYPE_NAMES.get(dt)
    return name if name is not None else _torch_dtype_name(dt)


def _from_torch(x, what: str) -> DeviceArray:
    dev = x.device
    if dev.type != "cuda":
        raise TilecRuntimeError(f"{what}: expected a CUDA tensor, got a tensor on {dev}; move it to the GPU "
                                f"with .cuda() or .to('cuda')")
    return DeviceArray(x.data_ptr(), tuple(x.shape), tuple(x.stride()), _torch_dtype_name(x.dtype), dev.index,
                       "torch")


# -- __cuda_array_interface__ --------------------------------------------------------------------------------

_TYPESTR = {"f2": "float16", "f4": "float32", "f8": "float64", "i1": "int8", "u1": "uint8", "i2": "int16",
            "u2": "uint16", "i4": "int32", "u4": "uint32", "i8": "int64", "u8": "uint64", "b1": "bool"}


def _from_cai(x, cai: dict, what: str) -> DeviceArray:
    typestr = str(cai.get("typestr", ""))
    dtype = _TYPESTR.get(typestr[1:]) if typestr[:1] in "<|=" else None
    if dtype is None:
        raise TilecRuntimeError(f"{what}: unsupported __cuda_array_interface__ typestr '{typestr}' "
                                f"(supported: {', '.join(sorted(set(_TYPESTR.values())))}, little-endian)")
    if cai.get("mask") is not None:
        raise TilecRuntimeError(f"{what}: masked arrays are not supported")
    itemsize = int(typestr[2:])
    shape = tuple(int(n) for n in cai["shape"])
    raw = cai.get("strides")
    if raw is None:
        strides = contiguous_strides(shape)
    else:
        if any(int(s) % itemsize for s in raw):
            raise TilecRuntimeError(f"{what}: byte strides {tuple(raw)} are not multiples of the element size "
                                    f"{itemsize}; pass a contiguous copy")
        strides = tuple(int(s) // itemsize for s in raw)
    dev = getattr(getattr(x, "device", None), "id", None)  # cupy arrays know their device; numba's do not
    return DeviceArray(int(cai["data"][0] or 0), shape, strides, dtype, dev if isinstance(dev, int) else None, "cai")


# -- DLPack --------------------------------------------------------------------------------------------------

KDL_CPU, KDL_CUDA, KDL_CUDA_HOST, KDL_CUDA_MANAGED = 1, 2, 3, 13
_DL_DTYPES = {(0, 8): "int8", (0, 16): "int16", (0, 32): "int32", (0, 64): "int64", (1, 8): "uint8",
              (1, 16): "uint16", (1, 32): "uint32", (1, 64): "uint64", (2, 16): "float16", (2, 32): "float32",
              (2, 64): "float64", (4, 16): "bfloat16", (6, 8): "bool", (10, 8): "float8_e4m3",
              (12, 8): "float8_e5m2"}
_DL_DEVICES = {KDL_CPU: "CPU", KDL_CUDA_HOST: "CUDA pinned host memory", KDL_CUDA_MANAGED: "CUDA managed memory",
               4: "OpenCL", 7: "Vulkan", 8: "Metal", 10: "ROCm", 11: "ROCm host", 14: "oneAPI"}


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", c_int32), ("device_id", c_int32)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", c_uint8), ("bits", c_uint8), ("lanes", c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [("data", c_void_p), ("device", DLDevice), ("ndim", c_int32), ("dtype", DLDataType),
                ("shape", POINTER(c_int64)), ("strides", POINTER(c_int64)), ("byte_offset", c_uint64)]


class DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", DLTensor), ("manager_ctx", c_void_p), ("deleter", c_void_p)]


class DLManagedTensorVersioned(ctypes.Structure):
    _fields_ = [("version_major", ctypes.c_uint32), ("version_minor", ctypes.c_uint32), ("manager_ctx", c_void_p),
                ("deleter", c_void_p), ("flags", c_uint64), ("dl_tensor", DLTensor)]


_capsule_api = None


def _capsule_functions():
    global _capsule_api
    if _capsule_api is None:
        api = ctypes.pythonapi
        api.PyCapsule_IsValid.argtypes, api.PyCapsule_IsValid.restype = [ctypes.py_object, ctypes.c_char_p], ctypes.c_int
        api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
        api.PyCapsule_GetPointer.restype = c_void_p
        _capsule_api = api
    return _capsule_api


def dltensor_from_capsule(capsule: object) -> DLTensor:
    """The DLTensor inside a "dltensor" or "dltensor_versioned" capsule (the capsule must outlive its use).

    Raises:
        TilecRuntimeError: not a DLPack capsule (or an already consumed one).
    """
    api = _capsule_functions()
    for name, struct in ((b"dltensor", DLManagedTensor), (b"dltensor_versioned", DLManagedTensorVersioned)):
        if api.PyCapsule_IsValid(capsule, name):
            return struct.from_address(api.PyCapsule_GetPointer(capsule, name)).dl_tensor
    raise TilecRuntimeError("__dlpack__() did not return a DLPack capsule (or it was already consumed)")


def _from_dlpack(x, what: str) -> DeviceArray:
    dev_fn = getattr(x, "__dlpack_device__", None)
    if dev_fn is not None:
        dev_type = int(dev_fn()[0])
        if dev_type != KDL_CUDA:
            place = _DL_DEVICES.get(dev_type, f"DLPack device type {dev_type}")
            raise TilecRuntimeError(f"{what}: expected a CUDA tensor, got {_type_name(x)} on {place}; copy it "
                                    f"to the GPU first (e.g. torch.as_tensor(x, device='cuda'))")
    capsule = x.__dlpack__()
    t = dltensor_from_capsule(capsule)
    if t.device.device_type != KDL_CUDA:
        place = _DL_DEVICES.get(t.device.device_type, f"DLPack device type {t.device.device_type}")
        raise TilecRuntimeError(f"{what}: expected a CUDA tensor, got {_type_name(x)} on {place}")
    key = (t.dtype.code, t.dtype.bits)
    if t.dtype.lanes != 1 or key not in _DL_DTYPES:
        raise TilecRuntimeError(f"{what}: unsupported DLPack dtype (code={t.dtype.code}, bits={t.dtype.bits}, "
                                f"lanes={t.dtype.lanes})")
    shape = tuple(t.shape[i] for i in range(t.ndim))
    strides = tuple(t.strides[i] for i in range(t.ndim)) if t.strides else contiguous_strides(shape)
    ptr = (t.data or 0) + t.byte_offset
    del capsule  # not consumed: its destructor calls the producer's deleter; `x` still owns the memory
    return DeviceArray(ptr, shape, strides, _DL_DTYPES[key], int(t.device.device_id), "dlpack")


def as_device_array(x: object, name: str = "tensor") -> DeviceArray:
    """View a CUDA tensor argument: a torch tensor, an object with __cuda_array_interface__ (cupy, numba) or
    with __dlpack__ (kDLCUDA only). `name` is the parameter name, used in messages.

    Raises:
        TilecRuntimeError: a CPU tensor / numpy array ("expected a CUDA tensor ..."), an unsupported dtype, or an
            object that is not a tensor at all.
    """
    what = f"argument '{name}'"
    if is_torch_tensor(x):
        return _from_torch(x, what)
    cai = getattr(x, "__cuda_array_interface__", None)
    if cai is not None:
        return _from_cai(x, cai, what)
    if hasattr(x, "__dlpack__"):
        return _from_dlpack(x, what)
    if hasattr(x, "__array_interface__") or hasattr(x, "__array__"):
        raise TilecRuntimeError(f"{what}: expected a CUDA tensor, got a CPU array ({_type_name(x)}); copy it to the GPU first (e.g. torch.as_tensor(x, "
                                f"device='cuda'))")
    raise TilecRuntimeError(f"{what}: expected a CUDA tensor (torch, or an object with __cuda_array_interface__ or "
                            f"__dlpack__), got {_type_name(x)}")
