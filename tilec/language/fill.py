"""T.fill and T.clear: set every element of a tile to one value."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tilec.errors import NO_LOC, SourceLoc, TilecError
from tilec.ir.buffer import Region
from tilec.ir.expr import Expr, const
from tilec.ir.stmt import TileOp
from tilec.language.builder import current, loc
from tilec.language.regions import as_region, normalise, static_extents


@dataclass(frozen=True, eq=False)
class Fill(TileOp):
    dst: Region
    value: Expr
    loc: SourceLoc = field(default=NO_LOC, compare=False)

    def regions(self) -> tuple:
        return (self.dst,)

    def interpret(self, ctx: object) -> None:
        shape = static_extents(self.dst, "T.fill")
        v = ctx.eval(self.value)  # type: ignore[attr-defined]
        ctx.write_region(self.dst, np.full(shape, v, np.float64))  # type: ignore[attr-defined]


def fill(buffer: object, value: object) -> None:
    """Set every element of `buffer` (or a region of it) to `value` (a number or scalar expression)."""
    current("T.fill")
    r = normalise(as_region(buffer, "T.fill", "buffer"))
    if r.buffer.scope == "global":
        raise TilecError("T.fill: filling global memory is not supported; fill a fragment and T.copy it", loc())
    try:
        v = const(value, r.buffer.dtype)  # type: ignore[arg-type]
    except TypeError:
        raise TilecError(f"T.fill: value must be a number or scalar expression, got {value!r}", loc()) from None
    current().emit(Fill(r, v, loc()))


def clear(buffer: object) -> None:
    """Set every element of `buffer` to 0."""
    fill(buffer, 0)
