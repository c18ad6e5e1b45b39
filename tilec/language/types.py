"""Tensor parameter annotations, symbolic dims and dtype names of the language."""
from __future__ import annotations

from dataclasses import dataclass

from tilec.errors import TilecError
from tilec.ir import dtypes as dt
from tilec.ir.dtypes import DType, as_dtype
from tilec.ir.expr import Expr, Var, as_int
from tilec.language.builder import loc


_SYMBOLS: dict = {}


def symbolic(name: str, dtype: str | DType = "int32") -> Var:
    """A symbolic (runtime) dimension, e.g. `M = T.symbolic("M")`; bound from tensor shapes at call time.

    One name is one dimension: calling T.symbolic("S") twice gives the same variable.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise TilecError(f"T.symbolic: name must be an identifier, got {name!r}", loc())
    key = (name, as_dtype(dtype))
    if key not in _SYMBOLS:
        _SYMBOLS[key] = Var(name, key[1], nonneg=True)
    return _SYMBOLS[key]


dynamic = symbolic


@dataclass(frozen=True)
class TensorSpec:
    """The annotation `T.Tensor(shape, dtype)` of a kernel parameter."""

    shape: tuple
    dtype: DType


def Tensor(shape: object, dtype: str | DType = "float32") -> TensorSpec:  # noqa: N802 (TileLang's name)
    """Annotate a kernel parameter as a global tensor of `shape` (ints and T.symbolic dims) and `dtype`."""
    if isinstance(shape, (int, Expr)):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not shape:
        raise TilecError(f"T.Tensor: shape must be a non-empty tuple of ints or T.symbolic dims, got {shape!r}", loc())
    out = []
    for d in shape:
        if isinstance(d, Var):
            out.append(d)
        elif as_int(d) is not None and as_int(d) > 0:  # type: ignore[operator]
            out.append(as_int(d))
        else:
            raise TilecError(f"T.Tensor: dimension {d!r} must be a positive int or a T.symbolic dim", loc())
    try:
        return TensorSpec(tuple(out), as_dtype(dtype))
    except ValueError as e:
        raise TilecError(f"T.Tensor: {e}", loc()) from None


Buffer = Tensor  # TileLang also spells it T.Buffer

float16, bfloat16, float32, float64 = dt.float16, dt.bfloat16, dt.float32, dt.float64
float8_e4m3, float8_e5m2 = dt.float8_e4m3, dt.float8_e5m2
int8, int16, int32, int64 = dt.int8, dt.int16, dt.int32, dt.int64
uint8, uint16, uint32, uint64 = dt.uint8, dt.uint16, dt.uint32, dt.uint64
int4, uint4 = dt.int4, dt.uint4
bool_ = dt.boolean
