"""Scalar math of the language: T.exp/exp2/log/log2/sqrt/rsqrt/abs, T.cast, T.min/max/ceildiv, ...

Each works on compile-time Python numbers (folded at once) and on IR expressions (builds IR).
"""
from __future__ import annotations

import builtins
import math as _m

from tilec.errors import TilecError
from tilec.ir import dtypes as dt
from tilec.ir.dtypes import as_dtype
from tilec.ir.expr import BinOp, Call, Cast, Expr, Reinterpret, Select, binop, const
from tilec.language.builder import loc

# name -> (python implementation for folding, True when the result is always floating point)
UNARY = {
    "exp": _m.exp, "exp2": lambda x: 2.0 ** x, "log": _m.log, "log2": _m.log2, "sqrt": _m.sqrt,
    "rsqrt": lambda x: 1.0 / _m.sqrt(x), "tanh": _m.tanh, "sin": _m.sin, "cos": _m.cos,
    "floor": _m.floor, "ceil": _m.ceil, "abs": abs, "sigmoid": lambda x: 1.0 / (1.0 + _m.exp(-x)),
}


def _unary(fn: str, x: object) -> object:
    if isinstance(x, Expr):
        out = x.dtype if x.dtype.is_float else dt.float32
        if fn == "abs" and not x.dtype.is_float:
            out = x.dtype
        return Call(fn, (x,), out)
    if isinstance(x, (int, float)):
        return UNARY[fn](x)
    raise TilecError(f"T.{fn}: expected a number or a scalar expression, got {type(x).__name__}", loc())


def exp(x: object) -> object:
    """e**x."""
    return _unary("exp", x)


def exp2(x: object) -> object:
    """2**x (one fast hardware instruction)."""
    return _unary("exp2", x)


def log(x: object) -> object:
    return _unary("log", x)


def log2(x: object) -> object:
    return _unary("log2", x)


def sqrt(x: object) -> object:
    return _unary("sqrt", x)


def rsqrt(x: object) -> object:
    """1 / sqrt(x)."""
    return _unary("rsqrt", x)


def abs(x: object) -> object:  # noqa: A001 (TileLang's name)
    return _unary("abs", x)


def tanh(x: object) -> object:
    return _unary("tanh", x)


def sigmoid(x: object) -> object:
    return _unary("sigmoid", x)


def floor(x: object) -> object:
    return _unary("floor", x)


def ceil(x: object) -> object:
    return _unary("ceil", x)


def _minmax(op: str, a: object, b: object) -> object:
    if isinstance(a, Expr) or isinstance(b, Expr):
        return binop(op, a, b)  # type: ignore[arg-type]
    return builtins.min(a, b) if op == "min" else builtins.max(a, b)  # type: ignore[type-var]


def min(a: object, b: object) -> object:  # noqa: A001
    return _minmax("min", a, b)


def max(a: object, b: object) -> object:  # noqa: A001
    return _minmax("max", a, b)


def ceildiv(a: object, b: object) -> object:
    """(a + b - 1) // b for positive integers."""
    if isinstance(a, Expr) or isinstance(b, Expr):
        return binop("//", binop("+", a, binop("-", b, 1) if isinstance(b, Expr) else b - 1), b)  # type: ignore
    return -(-a // b)  # type: ignore[operator]


def cast(x: object, dtype: object) -> object:
    """Convert a scalar to `dtype` (round to nearest for floats)."""
    try:
        d = as_dtype(dtype)
    except ValueError as e:
        raise TilecError(f"T.cast: {e}", loc()) from None
    return Cast(const(x), d)  # type: ignore[arg-type]


def reinterpret(x: object, dtype: object) -> object:
    """Reinterpret the bits of a scalar as another dtype of the same width."""
    d = as_dtype(dtype)
    e = const(x)  # type: ignore[arg-type]
    if e.dtype.bits != d.bits:
        raise TilecError(f"T.reinterpret: {e.dtype} has {e.dtype.bits} bits but {d} has {d.bits}", loc())
    return Reinterpret(e, d)


def infinity(dtype: object) -> Expr:
    """+inf of a floating-point dtype (use -T.infinity(...) for -inf)."""
    d = as_dtype(dtype)
    if not d.is_float:
        raise TilecError(f"T.infinity: {d} is not a floating-point dtype", loc())
    return Const_inf(d)


def Const_inf(d: dt.DType) -> Expr:  # noqa: N802
    from tilec.ir.expr import Const

    return Const(float("inf"), d)


def if_then_else(cond: object, a: object, b: object) -> object:
    """`a` where cond holds, else `b` (both evaluated)."""
    if not isinstance(cond, Expr):
        return a if cond else b
    ea = const(a, b.dtype if isinstance(b, Expr) else None)  # type: ignore[arg-type]
    eb = const(b, ea.dtype)  # type: ignore[arg-type]
    out = dt.promote(ea.dtype, eb.dtype)
    if ea.dtype != out:
        ea = Cast(ea, out)
    if eb.dtype != out:
        eb = Cast(eb, out)
    return Select(cond, ea, eb, out)


