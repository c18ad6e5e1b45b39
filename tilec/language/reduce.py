"""T.reduce_max / reduce_min / reduce_sum / reduce_abssum / reduce_absmax along one dimension of a tile.

Semantics: dst = reduce(src, dim) with the dimension removed; with clear=False the result is
combined with dst's previous contents (dst = op(dst, reduce(src))). Computed in the dst dtype.

Reduce.lanes=False and LaneSum are set by tilec/transform/defer_lane_reductions.py only (not user-facing): a partial
sum that each lane keeps for itself, combined across the lanes later by a LaneSum of the buffer it fed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tilec.errors import NO_LOC, SourceLoc, TilecError
from tilec.ir.buffer import Buffer, Region
from tilec.ir.stmt import TileOp
from tilec.language.builder import current, loc

KINDS = ("max", "min", "sum", "abssum", "absmax")


@dataclass(frozen=True, eq=False)
class Reduce(TileOp):
    kind: str
    src: Buffer
    dst: Buffer
    dim: int
    clear: bool = True
    loc: SourceLoc = field(default=NO_LOC, compare=False)
    lanes: bool = True  # False: no combining across lanes (defer_lane_reductions); whole in the interpreter

    def regions(self) -> tuple:
        return (Region.full(self.src), Region.full(self.dst))

    def interpret(self, ctx: object) -> None:
        x = ctx.array(self.src).astype(np.float64)  # type: ignore[attr-defined]
        if self.kind in ("abssum", "absmax"):
            x = np.abs(x)
        op = {"max": np.max, "min": np.min, "sum": np.sum, "abssum": np.sum, "absmax": np.max}[self.kind]
        r = op(x, axis=self.dim)
        if not self.clear:
            old = ctx.array(self.dst).astype(np.float64)  # type: ignore[attr-defined]
            r = {"max": np.maximum, "absmax": np.maximum, "min": np.minimum}.get(self.kind, np.add)(old, r)
        ctx.store_array(self.dst, r)  # type: ignore[attr-defined]


@dataclass(frozen=True, eq=False)
class LaneSum(TileOp):
    """buffer[...] = the sum of the per-lane partials of each element over the lanes of `lane_mask` (a butterfly
    over those lane bits). Inserted by defer_lane_reductions after the loop whose row sums fed `buffer`; the
    interpreter's sums are already whole, so it interprets as nothing."""

    buffer: Buffer
    lane_mask: int
    loc: SourceLoc = field(default=NO_LOC, compare=False)

    def regions(self) -> tuple:
        return (Region.full(self.buffer),)

    def interpret(self, ctx: object) -> None:
        return None


def _reduce(kind: str, src: object, dst: object, dim: int, clear: bool) -> None:
    current(f"T.reduce_{kind}")
    what = f"T.reduce_{kind}"
    if not isinstance(src, Buffer) or not isinstance(dst, Buffer):
        raise TilecError(f"{what}: src and dst must be whole buffers (fragments or shared tiles)", loc())
    for b in (src, dst):
        if b.scope not in ("fragment", "shared"):
            raise TilecError(f"{what}: {b.name} is a {b.scope} buffer; reductions work on fragments and shared tiles",
                             loc())
    nd = src.ndim
    if not isinstance(dim, int) or not -nd <= dim < nd:
        raise TilecError(f"{what}: dim must be an int in [{-nd}, {nd}), got {dim!r}", loc())
    dim = dim % nd
    expect = tuple(s for i, s in enumerate(src.shape) if i != dim) or (1,)
    if tuple(dst.shape) != expect:
        raise TilecError(f"{what}: reducing {src.name} {'x'.join(map(str, src.shape))} along dim {dim} gives "
                         f"{'x'.join(map(str, expect))}, but dst {dst.name} is {'x'.join(map(str, dst.shape))}", loc())
    current().emit(Reduce(kind, src, dst, dim, bool(clear), loc()))


def reduce_max(buffer: object, out: object, dim: int = -1, clear: bool = True) -> None:
    """out = max of buffer along dim (clear=False: out = max(out, that))."""
    _reduce("max", buffer, out, dim, clear)


def reduce_min(buffer: object, out: object, dim: int = -1, clear: bool = True) -> None:
    """out = min of buffer along dim (clear=False: out = min(out, that))."""
    _reduce("min", buffer, out, dim, clear)


def reduce_sum(buffer: object, out: object, dim: int = -1, clear: bool = True) -> None:
    """out = sum of buffer along dim (clear=False: out += that)."""
    _reduce("sum", buffer, out, dim, clear)


def reduce_abssum(buffer: object, out: object, dim: int = -1, clear: bool = True) -> None:
    """out = sum of |buffer| along dim."""
    _reduce("abssum", buffer, out, dim, clear)


def reduce_absmax(buffer: object, out: object, dim: int = -1, clear: bool = True) -> None:
    """out = max of |buffer| along dim."""
    _reduce("absmax", buffer, out, dim, clear)
