"""Data types of the tile language: names, sizes, C spellings and numpy equivalents."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DType:
    """A scalar element type. `kind` is "float", "int", "uint" or "bool"; `bits` its width."""

    name: str
    kind: str
    bits: int
    ctype: str

    @property
    def bytes(self) -> int:
        return max(self.bits // 8, 1)

    @property
    def is_float(self) -> bool:
        return self.kind == "float"

    @property
    def is_int(self) -> bool:
        return self.kind in ("int", "uint")

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"T.{self.name}"


float16 = DType("float16", "float", 16, "half_t")
bfloat16 = DType("bfloat16", "float", 16, "bfloat16_t")
float32 = DType("float32", "float", 32, "float")
float64 = DType("float64", "float", 64, "double")
float8_e4m3 = DType("float8_e4m3", "float", 8, "__nv_fp8_e4m3")
float8_e5m2 = DType("float8_e5m2", "float", 8, "__nv_fp8_e5m2")
int8 = DType("int8", "int", 8, "int8_t")
int16 = DType("int16", "int", 16, "int16_t")
int32 = DType("int32", "int", 32, "int")
int64 = DType("int64", "int", 64, "int64_t")
uint8 = DType("uint8", "uint", 8, "uint8_t")
uint16 = DType("uint16", "uint", 16, "uint16_t")
uint32 = DType("uint32", "uint", 32, "uint32_t")
uint64 = DType("uint64", "uint", 64, "uint64_t")
int4 = DType("int4", "int", 4, "int8_t")
uint4 = DType("uint4", "uint", 4, "uint8_t")
boolean = DType("bool", "bool", 8, "bool")

ALL = {
    d.name: d
    for d in (float16, bfloat16, float32, float64, float8_e4m3, float8_e5m2, int8, int16, int32, int64,
              uint8, uint16, uint32, uint64, int4, uint4, boolean)
}
ALIASES = {"half": float16, "float": float32, "double": float64, "int": int32, "bf16": bfloat16,
           "fp16": float16, "fp32": float32, "float8_e4m3fn": float8_e4m3, "e4m3_float8": float8_e4m3,
           "e5m2_float8": float8_e5m2}


def as_dtype(x: object) -> DType:
    """Accept a DType, a dtype name ("float16"), a numpy dtype or a torch dtype; raise ValueError otherwise."""
    if isinstance(x, DType):
        return x
    if isinstance(x, str):
        if x in ALL:
            return ALL[x]
        if x in ALIASES:
            return ALIASES[x]
        raise ValueError(f"unknown dtype '{x}'; expected one of {', '.join(sorted(ALL))}")
    name = str(x).replace("torch.", "")
    if name in ALL or name in ALIASES:
        return as_dtype(name)
    try:
        return as_dtype(np.dtype(x).name)  # type: ignore[arg-type]
    except TypeError:
        pass
    raise ValueError(f"cannot use {x!r} as a dtype; expected a name such as 'float16' or T.float16")


def numpy_dtype(d: DType) -> np.dtype:
    """The numpy dtype the interpreter stores `d` in (bf16/fp8 are emulated in float32)."""
    table = {"float16": np.float16, "float32": np.float32, "float64": np.float64, "int8": np.int8,
             "int16": np.int16, "int32": np.int32, "int64": np.int64, "uint8": np.uint8, "uint16": np.uint16,
             "uint32": np.uint32, "uint64": np.uint64, "bool": np.bool_, "int4": np.int8, "uint4": np.uint8}
    return np.dtype(table.get(d.name, np.float32))


def promote(a: DType, b: DType) -> DType:
    """Result type of a binary arithmetic op: floats win over ints, then the wider type."""
    if a == b:
        return a
    if a.is_float != b.is_float:
        return a if a.is_float else b
    if a.kind == "bool":
        return b
    if b.kind == "bool":
        return a
    return a if a.bits >= b.bits else b
