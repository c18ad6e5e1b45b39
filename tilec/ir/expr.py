"""Scalar expressions of the tile IR: constants, variables, arithmetic, calls, buffer loads.

Nodes are frozen dataclasses compared by identity (`eq=False`): two `Var("i")` are different
variables. `structural_equal` compares shapes of trees. Every node carries its dtype.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

from tilec.errors import NO_LOC, SourceLoc
from tilec.ir import dtypes as dt
from tilec.ir.dtypes import DType

if TYPE_CHECKING:
    from tilec.ir.buffer import Buffer


@dataclass(frozen=True, eq=False)
class Expr:
    """Base of scalar expressions."""

    def __add__(self, o: ExprLike) -> Expr:
        return binop("+", self, o)

    def __radd__(self, o: ExprLike) -> Expr:
        return binop("+", o, self)

    def __sub__(self, o: ExprLike) -> Expr:
        return binop("-", self, o)

    def __rsub__(self, o: ExprLike) -> Expr:
        return binop("-", o, self)

    def __mul__(self, o: ExprLike) -> Expr:
        return binop("*", self, o)

    def __rmul__(self, o: ExprLike) -> Expr:
        return binop("*", o, self)

    def __truediv__(self, o: ExprLike) -> Expr:
        return binop("/", self, o)

    def __rtruediv__(self, o: ExprLike) -> Expr:
        return binop("/", o, self)

    def __rfloordiv__(self, o: ExprLike) -> Expr:
        return binop("//", o, self)

    def __rmod__(self, o: ExprLike) -> Expr:
        return binop("%", o, self)

    def __or__(self, o: ExprLike) -> Expr:
        return binop("|", self, o)

    def __ror__(self, o: ExprLike) -> Expr:
        return binop("|", o, self)

    def __rlshift__(self, o: ExprLike) -> Expr:
        return binop("<<", o, self)

    def __rrshift__(self, o: ExprLike) -> Expr:
        return binop(">>", o, self)

    def __neg__(self) -> Expr:
        return UnaryOp("neg", self, self.dtype)  # type: ignore[attr-defined]

    def __pos__(self) -> Expr:
        return self

    def __invert__(self) -> Expr:
        return UnaryOp("invert", self, self.dtype)  # type: ignore[attr-defined]

    def __floordiv__(self, o: ExprLike) -> Expr:
        return binop("//", self, o)

    def __mod__(self, o: ExprLike) -> Expr:
        return binop("%", self, o)

    def __and__(self, o: ExprLike) -> Expr:
        return binop("&", self, o)

    def __rand__(self, o: ExprLike) -> Expr:
        return binop("&", o, self)

    def __xor__(self, o: ExprLike) -> Expr:
        return binop("^", self, o)

    def __rxor__(self, o: ExprLike) -> Expr:
        return binop("^", o, self)

    def __rshift__(self, o: ExprLike) -> Expr:
        return binop(">>", self, o)

    def __lshift__(self, o: ExprLike) -> Expr:
        return binop("<<", self, o)

    def __lt__(self, o: ExprLike) -> Expr:  # type: ignore[override]
        return binop("<", self, o)

    def __le__(self, o: ExprLike) -> Expr:  # type: ignore[override]
        return binop("<=", self, o)

    def __gt__(self, o: ExprLike) -> Expr:  # type: ignore[override]
        return binop(">", self, o)

    def __ge__(self, o: ExprLike) -> Expr:  # type: ignore[override]
        return binop(">=", self, o)

    __hash__ = object.__hash__


@dataclass(frozen=True, eq=False)
class Const(Expr):
    value: Union[int, float, bool]
    dtype: DType = dt.int32


@dataclass(frozen=True, eq=False)
class Var(Expr):
    """A scalar variable: loop index, block index, symbolic dim, or let-bound value."""

    name: str
    dtype: DType = dt.int32
    nonneg: bool = False  # known >= 0 (block and loop indices, symbolic dims): lets the simplifier split // and %


@dataclass(frozen=True, eq=False)
class BinOp(Expr):
    """op: + - * / // % min max  == != < <= > >=  and or  & | ^ << >>"""

    op: str
    a: Expr
    b: Expr
    dtype: DType = dt.int32


@dataclass(frozen=True, eq=False)
class UnaryOp(Expr):
    """op: neg, not, invert"""

    op: str
    a: Expr
    dtype: DType = dt.int32


@dataclass(frozen=True, eq=False)
class Call(Expr):
    """A math intrinsic by its tile-language name: exp, exp2, log, log2, sqrt, rsqrt, abs, ..."""

    fn: str
    args: tuple
    dtype: DType = dt.float32


@dataclass(frozen=True, eq=False)
class Cast(Expr):
    value: Expr
    dtype: DType = dt.float32


@dataclass(frozen=True, eq=False)
class Reinterpret(Expr):
    """Reinterpret the bits of `value` as `dtype` (same width)."""

    value: Expr
    dtype: DType = dt.float32


@dataclass(frozen=True, eq=False)
class Select(Expr):
    cond: Expr
    a: Expr
    b: Expr
    dtype: DType = dt.float32


@dataclass(frozen=True, eq=False)
class Load(Expr):
    buffer: "Buffer"
    indices: tuple
    dtype: DType = dt.float32
    loc: SourceLoc = field(default=NO_LOC, compare=False)


@dataclass(frozen=True, eq=False)
class ThreadIdx(Expr):
    """threadIdx.x (tilec kernels use a 1-D thread block); `extent` is the block size when known (0: unknown)."""

    dtype: DType = dt.int32
    extent: int = 0


ExprLike = Union[Expr, int, float, bool]

COMPARE_OPS = ("==", "!=", "<", "<=", ">", ">=")
LOGIC_OPS = ("and", "or")


def const(v: ExprLike, like: DType | None = None) -> Expr:
    """Wrap a Python number as a Const; a float literal next to a float takes that float's dtype."""
    if isinstance(v, Expr):
        return v
    if isinstance(v, bool):
        return Const(v, dt.boolean)
    if isinstance(v, int):
        if like is not None and like.is_float:
            return Const(float(v), like)
        if like is not None and like.is_int:
            return Const(v, like)
        return Const(v, dt.int32 if -(2**31) <= v < 2**31 else dt.int64)
    if isinstance(v, float):
        return Const(v, like if like is not None and like.is_float else dt.float32)
    raise TypeError(f"cannot use {type(v).__name__} {v!r} as a scalar expression")


def binop(op: str, a: ExprLike, b: ExprLike) -> Expr:
    """Build a BinOp with dtype promotion (Python literals adopt the other side's dtype)."""
    if not isinstance(a, Expr) and not isinstance(b, Expr):
        raise TypeError("binop needs at least one Expr")
    a = const(a, b.dtype if isinstance(b, Expr) else None)
    b = const(b, a.dtype)
    if op in COMPARE_OPS or op in LOGIC_OPS:
        return BinOp(op, a, b, dt.boolean)
    if op in ("<<", ">>", "&", "|", "^"):
        return BinOp(op, a, b, a.dtype)
    res = dt.promote(a.dtype, b.dtype)
    if op == "/" and not res.is_float:
        res = dt.float32
    return BinOp(op, a, b, res)


def children(e: Expr) -> tuple:
    """The sub-expressions of `e`, in order."""
    if isinstance(e, BinOp):
        return (e.a, e.b)
    if isinstance(e, UnaryOp):
        return (e.a,)
    if isinstance(e, Call):
        return tuple(e.args)
    if isinstance(e, (Cast, Reinterpret)):
        return (e.value,)
    if isinstance(e, Select):
        return (e.cond, e.a, e.b)
    if isinstance(e, Load):
        return tuple(e.indices)
    return ()


def substitute(e: Expr, mapping: dict) -> Expr:
    """Replace Vars (keys of mapping, by identity) with expressions, rebuilding only what changes."""
    if isinstance(e, Var):
        return const(mapping[e]) if e in mapping else e
    if isinstance(e, (Const, ThreadIdx)):
        return e
    if isinstance(e, BinOp):
        a, b = substitute(e.a, mapping), substitute(e.b, mapping)
        return e if (a is e.a and b is e.b) else BinOp(e.op, a, b, e.dtype)
    if isinstance(e, UnaryOp):
        a = substitute(e.a, mapping)
        return e if a is e.a else UnaryOp(e.op, a, e.dtype)
    if isinstance(e, Call):
        args = tuple(substitute(x, mapping) for x in e.args)
        return Call(e.fn, args, e.dtype)
    if isinstance(e, Cast):
        return Cast(substitute(e.value, mapping), e.dtype)
    if isinstance(e, Reinterpret):
        return Reinterpret(substitute(e.value, mapping), e.dtype)
    if isinstance(e, Select):
        return Select(substitute(e.cond, mapping), substitute(e.a, mapping), substitute(e.b, mapping), e.dtype)
    if isinstance(e, Load):
        return Load(e.buffer, tuple(substitute(i, mapping) for i in e.indices), e.dtype, e.loc)
    raise TypeError(f"substitute: unknown node {type(e).__name__} (internal error, please report)")


def free_vars(e: Expr, out: set | None = None) -> set:
    """Vars referenced by `e`."""
    out = set() if out is None else out
    if isinstance(e, Var):
        out.add(e)
    for c in children(e):
        free_vars(c, out)
    return out


def loads(e: Expr, out: list | None = None) -> list:
    """All Load nodes in `e` (pre-order)."""
    out = [] if out is None else out
    if isinstance(e, Load):
        out.append(e)
    for c in children(e):
        loads(c, out)
    return out


def as_int(e: ExprLike) -> int | None:
    """The value of `e` if it is a compile-time integer, else None."""
    if isinstance(e, bool):
        return int(e)
    if isinstance(e, int):
        return e
    if isinstance(e, Const) and isinstance(e.value, (int, bool)):
        return int(e.value)
    return None


def _no_bool(self: Expr) -> bool:
    from tilec.errors import TilecError, current_loc

    raise TilecError("a runtime (symbolic) value was used where Python needs a compile-time True/False; "
                     "use T.if_then_else / T.min / T.max, or an `if` statement, instead of Python's "
                     "`and`/`or`/min()/max() on it", current_loc())


Expr.__bool__ = _no_bool  # type: ignore[assignment]
