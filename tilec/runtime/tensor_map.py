"""TMA descriptors on the host: validate the arguments of cuTensorMapEncodeTiled, then encode a 128-byte CUtensorMap.

Every check runs before the driver is called, so a wrong box, stride or swizzle is reported with what was expected
(and needs no GPU); the driver's own CUDA_ERROR_INVALID_VALUE is then only a backstop. Dims, strides and boxes
are given outermost-first like torch shapes (rows, cols); the driver wants them innermost-first, which this
module handles. The descriptor goes to a kernel by value: `TensorMap.kernel_arg()` is the buffer to point a
kernelParams entry at, for a `const __grid_constant__ CUtensorMap` parameter.
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass

from tilec.errors import TilecRuntimeError
from tilec.runtime import driver

# CUtensorMapDataType (CUDA 13 cuda.h) and element sizes. TMA moves bits, so every 1-byte type (int8, fp8)
# travels as UINT8 and 2-byte integers as UINT16.
_DTYPES = {
    "uint8": (0, 1), "uint16": (1, 2), "uint32": (2, 4), "int32": (3, 4), "uint64": (4, 8), "int64": (5, 8),
    "float16": (6, 2), "float32": (7, 4), "float64": (8, 8), "bfloat16": (9, 2), "float32_ftz": (10, 4),
    "tfloat32": (11, 4), "tfloat32_ftz": (12, 4),
}
_ALIASES = {"int8": "uint8", "float8_e4m3": "uint8", "float8_e5m2": "uint8", "bool": "uint8", "int16": "uint16"}
_FLOAT_TYPES = frozenset({6, 7, 8, 9, 10, 11, 12})
SWIZZLE_SPAN = {"none": 0, "32B": 32, "64B": 64, "128B": 128}
_SWIZZLE = {"none": 0, "32B": 1, "64B": 2, "128B": 3}
_INTERLEAVE = {"none": 0, "16B": 1, "32B": 2}
_L2_PROMOTION = {"none": 0, "64B": 1, "128B": 2, "256B": 3}
_OOB_FILL = {"zero": 0, "nan": 1}
MAX_RANK = 5
MAX_BOX = 256


class TensorMapError(TilecRuntimeError, ValueError):
    """Invalid arguments for a TMA descriptor (the message says which, what was expected and what to do)."""


def _choice(name: str, value: object, table: dict) -> str:
    key = value if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool) and name == "swizzle":
        key = {0: "none", 32: "32B", 64: "64B", 128: "128B"}.get(value)
    if key not in table:
        raise TensorMapError(f"tensor map: {name}={value!r} is not one of {', '.join(map(repr, table))}")
    return key


@dataclass(frozen=True)
class TensorMap:
    """An encoded CUtensorMap with the (normalised, outermost-first) arguments it was built from.

    data: the 128 opaque bytes. dtype: the TMA element type name. dims/strides/box: outermost-first; strides in
    bytes, one per dim (the innermost is the element size). swizzle: "none", "32B", "64B" or "128B".
    """

    data: bytes
    dtype: str
    dims: tuple[int, ...]
    strides: tuple[int, ...]
    box: tuple[int, ...]
    swizzle: str

    @property
    def box_bytes(self) -> int:
        """Bytes one load of a whole box writes to shared memory (what its mbarrier must expect)."""
        n = _DTYPES[self.dtype][1]
        for b in self.box:
            n *= b
        return n

    def kernel_arg(self) -> ctypes.Array:
        """A fresh 128-byte buffer holding the descriptor, for one kernelParams entry. Keep it alive until the
        launch call returns (the driver copies it then). Never raises."""
        buf = (ctypes.c_char * 128).from_buffer_copy(self.data)
        return buf


def check_tiled(dtype: str, dims, strides, box, *, element_strides=None, swizzle: str | int = "128B",
                interleave: str = "none", oob_fill: str = "zero", address: int | None = None) -> tuple:
    """Validate cuTensorMapEncodeTiled arguments (outermost-first) against the driver's documented limits.

    Returns (dtype name, data type enum, element size, dims, strides, box, element_strides, swizzle name).

    Raises:
        TensorMapError: the first violated rule, e.g. a row stride that is not a multiple of 16 bytes, a box
            dimension over 256, or a box row wider than the swizzle span.
    """
    name = _ALIASES.get(dtype, dtype)
    if name not in _DTYPES:
        raise TensorMapError(f"tensor map: unsupported dtype {dtype!r}; TMA moves "
                             f"{', '.join(sorted(set(_DTYPES) | set(_ALIASES)))}")
    enum, esize = _DTYPES[name]
    swz = _choice("swizzle", swizzle, _SWIZZLE)
    _choice("interleave", interleave, _INTERLEAVE)
    _choice("oob_fill", oob_fill, _OOB_FILL)
    dims, strides, box = tuple(int(d) for d in dims), tuple(int(s) for s in strides), tuple(int(b) for b in box)
    rank = len(dims)
    if not 1 <= rank <= MAX_RANK:
        raise TensorMapError(f"tensor map: rank {rank} is not supported (TMA handles 1 to {MAX_RANK} dims)")
    if len(strides) != rank or len(box) != rank:
        raise TensorMapError(f"tensor map: dims {dims}, strides {strides} and box {box} must all have {rank} "
                             f"entries (outermost first)")
    es = tuple(int(e) for e in element_strides) if element_strides is not None else (1,) * rank
    if len(es) != rank or not all(1 <= e <= 8 for e in es):
        raise TensorMapError(f"tensor map: element_strides {es} must have {rank} entries in 1..8")
    if interleave != "none" and rank < 3:
        raise TensorMapError(f"tensor map: interleave={interleave!r} needs rank >= 3, got {rank}")
    if oob_fill == "nan" and enum not in _FLOAT_TYPES:
        raise TensorMapError(f"tensor map: oob_fill='nan' needs a floating-point dtype, got {dtype!r}")
    if address is not None and address % 16:
        raise TensorMapError(f"tensor map: the global address {address:#x} is not 16-byte aligned (TMA requires "
                             f"it; use a tensor whose data pointer is a multiple of 16)")
    for i, d in enumerate(dims):
        if not 1 <= d <= 2**32:
            raise TensorMapError(f"tensor map: dim {i} is {d}; every dim must be in 1..2^32 (an empty tensor "
                                 f"needs no copy)")
    if strides[-1] != esize:
        raise TensorMapError(f"tensor map: the innermost dim must be contiguous (stride {esize} bytes for "
                             f"{name}), got {strides[-1]} bytes; make the tensor contiguous in its last dim")
    for i in range(rank - 1):
        s = strides[i]
        if s % 16 or not 0 < s < 2**40:
            elems = s // esize if s % esize == 0 else s / esize
            raise TensorMapError(
                f"tensor map: dim {i} has a stride of {s} bytes ({elems} elements), which is not a positive "
                f"multiple of 16 bytes below 2^40 (TMA requires it): pad the row length to a multiple of "
                f"{16 // esize if esize < 16 else 1} elements")
        inner = strides[i + 1] * dims[i + 1]
        if s < inner:
            raise TensorMapError(f"tensor map: dim {i} has a stride of {s} bytes, smaller than the {inner} bytes "
                                 f"spanned by the dims inside it (overlapping rows are not allowed)")
    for i, b in enumerate(box):
        if not 1 <= b <= MAX_BOX:
            raise TensorMapError(f"tensor map: box dim {i} is {b}; each box dim must be in 1..{MAX_BOX} "
                                 f"(split larger tiles into several copies)")
    inner_bytes = box[-1] * esize
    if interleave == "none" and inner_bytes % 16:
        raise TensorMapError(f"tensor map: the box's inner dim is {box[-1]} x {esize} = {inner_bytes} bytes; it "
                             f"must be a multiple of 16 bytes")
    span = SWIZZLE_SPAN[swz]
    if interleave == "none" and span and inner_bytes > span:
        raise TensorMapError(f"tensor map: swizzle {swz} needs the box's inner dim to span at most {span} bytes, "
                             f"got {box[-1]} x {esize} = {inner_bytes} bytes: use a box of {span // esize} "
                             f"elements and one copy per {span}-byte column panel"
                             + (", or a wider swizzle" if span < 128 else ""))
    return name, enum, esize, dims, strides, box, es, swz


def encode_tiled(dtype: str, address: int, dims, strides, box, *, element_strides=None,
                 swizzle: str | int = "128B", interleave: str = "none", l2_promotion: str = "256B",
                 oob_fill: str = "zero") -> TensorMap:
    """Encode a tiled TMA descriptor for the tensor at device `address`.

    Args:
        dtype: element type name ("float16", "bfloat16", "float32", "int8", "float8_e4m3", ...).
        address: the global address of element (0, ..., 0) (16-byte aligned).
        dims: tensor shape, outermost first (e.g. (rows, cols)).
        strides: byte strides, outermost first; the last must be the element size.
        box: the tile one copy moves, outermost first (e.g. (128, 64) for 128 rows of 64 elements).
        element_strides: traversal step per dim (default all 1).
        swizzle: "none", "32B", "64B" or "128B" (or 0/32/64/128): the shared-memory swizzle, see gemm_sm90.cuh.
        interleave / l2_promotion / oob_fill: the CUtensorMap enums by name ("none"; "none"/"64B"/"128B"/"256B";
            "zero" or "nan").

    Raises:
        TensorMapError: invalid arguments (checked before any driver call).
        TilecRuntimeError / CudaDriverError: no driver, or the driver rejected the descriptor.
    """
    name, enum, _, dims, strides, box, es, swz = check_tiled(
        dtype, dims, strides, box, element_strides=element_strides, swizzle=swizzle, interleave=interleave,
        oob_fill=oob_fill, address=int(address))
    _choice("l2_promotion", l2_promotion, _L2_PROMOTION)
    data = driver.tensor_map_encode_tiled(
        enum, int(address), list(reversed(dims)), list(reversed(strides[:-1])), list(reversed(box)),
        list(reversed(es)), _INTERLEAVE[interleave], _SWIZZLE[swz], _L2_PROMOTION[l2_promotion], _OOB_FILL[oob_fill])
    return TensorMap(data, name, dims, strides, box, swz)


def tensor_map_2d(tensor, box_rows: int, box_cols: int, *, swizzle: str | int = "128B",
                  l2_promotion: str = "256B", oob_fill: str = "zero") -> TensorMap:
    """The descriptor of a 2-D row-major tensor (torch tensor, __cuda_array_interface__ or DLPack array) with a
    box_rows x box_cols box. Rows may be padded (any row stride that is a multiple of 16 bytes).

    Raises:
        TensorMapError: not 2-D, not contiguous along its rows, or an invalid box/stride/swizzle.
    """
    from tilec.runtime.tensors import as_device_array

    arr = as_device_array(tensor, "tensor")
    if len(arr.shape) != 2:
        raise TensorMapError(f"tensor_map_2d: expected a 2-D tensor, got shape {tuple(arr.shape)}")
    name = _ALIASES.get(arr.dtype, arr.dtype)
    if name not in _DTYPES:
        raise TensorMapError(f"tensor_map_2d: TMA cannot move dtype {arr.dtype!r}")
    esize = _DTYPES[name][1]
    if arr.shape[1] > 1 and arr.strides[1] != 1:
        raise TensorMapError(f"tensor_map_2d: the last dim must be contiguous, got strides {tuple(arr.strides)} "
                             f"(elements); call .contiguous()")
    # A single row's stride is never used: give it the smallest valid value.
    row_bytes = arr.strides[0] * esize if arr.shape[0] > 1 else -(-arr.shape[1] * esize // 16) * 16
    return encode_tiled(arr.dtype, arr.ptr, arr.shape, (row_bytes, esize), (box_rows, box_cols),
                        swizzle=swizzle, l2_promotion=l2_promotion, oob_fill=oob_fill)
