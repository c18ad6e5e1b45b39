"""Storage allocation: T.alloc_shared / alloc_fragment / alloc_local / alloc_var / alloc_global."""
from __future__ import annotations

from tilec.errors import TilecError
from tilec.ir.buffer import Buffer
from tilec.ir.dtypes import DType, as_dtype
from tilec.ir.expr import Expr, as_int, const
from tilec.ir.stmt import Alloc
from tilec.language.builder import current, loc


def _shape(shape: object, what: str, allow_symbolic: bool = False) -> tuple:
    if isinstance(shape, (int, Expr)):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not shape:
        raise TilecError(f"{what}: shape must be a non-empty tuple of ints, got {shape!r}", loc())
    out = []
    for d in shape:
        v = as_int(d)
        if v is not None and v > 0:
            out.append(v)
        elif allow_symbolic and isinstance(d, Expr):
            out.append(d)
        else:
            raise TilecError(f"{what}: dimension {d!r} must be a positive compile-time int", loc())
    return tuple(out)


def _dtype(dtype: object, what: str) -> DType:
    try:
        return as_dtype(dtype)
    except ValueError as e:
        raise TilecError(f"{what}: {e}", loc()) from None


def _alloc(shape: object, dtype: object, scope: str, what: str, name: str) -> Buffer:
    b = current(what)
    if not b.in_kernel:
        raise TilecError(f"{what} must be called inside a `with T.Kernel(...)` block", loc())
    buf = Buffer(b.unique(b.name_hint or name), _shape(shape, what), _dtype(dtype, what), scope, loc())
    b.emit(Alloc(buf, None, loc()))
    return buf


def alloc_shared(shape: object, dtype: object, scope: str = "shared.dyn") -> Buffer:
    """A tile in shared memory (one copy per block). Its layout (swizzle) is chosen by the compiler."""
    return _alloc(shape, dtype, "shared", "T.alloc_shared", "smem")


def alloc_fragment(shape: object, dtype: object) -> Buffer:
    """A tile distributed over the block's threads' registers; the compiler infers its layout."""
    return _alloc(shape, dtype, "fragment", "T.alloc_fragment", "frag")


def alloc_local(shape: object, dtype: object) -> Buffer:
    """A per-thread array in registers."""
    return _alloc(shape, dtype, "local", "T.alloc_local", "local")


def alloc_var(dtype: object, init: object = None) -> Buffer:
    """A per-thread mutable scalar; `x = T.alloc_var(T.int32)` then `x = x + 1` stores into it."""
    b = current("T.alloc_var")
    buf = Buffer(b.unique(b.name_hint or "var"), (1,), _dtype(dtype, "T.alloc_var"), "var", loc())
    init_e = None if init is None else const(init, buf.dtype)  # type: ignore[arg-type]
    b.emit(Alloc(buf, init_e, loc()))
    return buf


def alloc_global(shape: object, dtype: object) -> Buffer:
    """Scratch device memory shared by the kernels of one prim_func (not supported yet)."""
    raise TilecError("T.alloc_global is not supported yet", loc())
