"""Turning tile-op operands (buffers, slices, start corners) into Regions, with shape checks."""
from __future__ import annotations

from tilec.errors import TilecError
from tilec.ir.buffer import Buffer, Region
from tilec.ir.expr import Expr, Load
from tilec.ir.simplify import simplify, static_int
from tilec.language.builder import loc


def describe(r: Region) -> str:
    ext = "x".join(str(static_int(e)) if static_int(e) is not None else "?" for e in r.extents)
    return f"{r.buffer.name} ({r.buffer.scope}, {ext})"


def as_region(x: object, what: str, arg: str, like: Region | None = None) -> Region:
    """A Region from a Buffer, a Region (slices) or a Load (start corner; extents taken from `like`)."""
    if isinstance(x, Region):
        return x
    if isinstance(x, Buffer):
        return Region.full(x)
    if isinstance(x, Load):
        if like is None:
            raise TilecError(f"{what}: {arg} is a single element {x.buffer.name}[...]; give a buffer or a slice "
                             "region on at least one side so the tile shape is known", loc())
        ext = list(like.squeezed_extents()) or [1]
        n = len(x.indices)
        if len(ext) > n:
            raise TilecError(f"{what}: {arg} has {n} indices but the tile has {len(ext)} dimensions", loc())
        extents = (1,) * (n - len(ext)) + tuple(ext)
        return Region(x.buffer, tuple(x.indices), extents)
    raise TilecError(f"{what}: {arg} must be a buffer, a slice of one, or a start corner like A[i, j]; "
                     f"got {type(x).__name__}", loc())


def static_extents(r: Region, what: str) -> tuple[int, ...]:
    out = []
    for e in r.squeezed_extents():
        v = static_int(e)
        if v is None:
            raise TilecError(f"{what}: the extent {e} of {r.buffer.name} is not a compile-time int", loc())
        out.append(v)
    return tuple(out)


def normalise(r: Region) -> Region:
    return Region(r.buffer, tuple(simplify(s) if isinstance(s, Expr) else s for s in r.starts),
                  tuple(static_int(e) if static_int(e) is not None else e for e in r.extents))
