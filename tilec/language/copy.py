"""T.copy: move a tile between any two of global, shared and fragment storage.

Semantics (what the interpreter implements): dst[region] = cast(src[region], dst.dtype), element by
element over the common tile shape (unit dimensions ignored). Elements of a global region that fall
outside the tensor read as 0 and are not written.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tilec.errors import NO_LOC, SourceLoc, TilecError
from tilec.ir.buffer import Region
from tilec.ir.stmt import TileOp
from tilec.language.builder import current, loc
from tilec.language.regions import as_region, describe, normalise, static_extents


@dataclass(frozen=True, eq=False)
class Copy(TileOp):
    src: Region
    dst: Region
    loc: SourceLoc = field(default=NO_LOC, compare=False)
    async_: bool = False  # set by pipeline_loops: issue as cp.async, completion tracked by commit/wait groups
    disable_tma: bool = False  # T.copy(..., disable_tma=True): never lower to TMA
    mbar: object = None  # set by specialize_warps: a TMA load completing on this mbarrier (a BufferPtr)
    tma_store: bool = False  # set by specialize_warps: a shared->global copy issued as TMA tile stores
    multicast: object = None  # set by specialize_warps: a TMA load shared by the CTAs of a cluster (MulticastSplit)

    def regions(self) -> tuple:
        return (self.src, self.dst)

    def shape(self) -> tuple[int, ...]:
        return static_extents(self.dst, "T.copy")

    def interpret(self, ctx: object) -> None:
        tile = ctx.read_region(self.src)  # type: ignore[attr-defined]
        ctx.write_region(self.dst, tile)  # type: ignore[attr-defined]


def copy(src: object, dst: object, **kwargs: object) -> None:
    """Copy a tile: `T.copy(A[by * 64, k * 32], A_shared)` or with slices on either side.

    Raises TilecError when the two tile shapes differ.
    """
    b = current("T.copy")
    if kwargs:
        unknown = ", ".join(sorted(k for k in kwargs if k not in ("coalesced_width", "disable_tma")))
        if unknown:
            raise TilecError(f"T.copy: unexpected keyword arguments {unknown}", loc())
    if isinstance(src, Region) or not hasattr(src, "indices"):
        s = as_region(src, "T.copy", "src")
        d = as_region(dst, "T.copy", "dst", like=s)
    else:
        d = as_region(dst, "T.copy", "dst")
        s = as_region(src, "T.copy", "src", like=d)
    s, d = normalise(s), normalise(d)
    se, de = static_extents(s, "T.copy"), static_extents(d, "T.copy")
    if int(np.prod(se)) != int(np.prod(de)) or (se != de and len(se) == len(de)):
        raise TilecError(f"T.copy: source {describe(s)} and destination {describe(d)} have different tile shapes "
                         f"({'x'.join(map(str, se))} vs {'x'.join(map(str, de))}); the two regions must match", loc())
    if se != de:
        raise TilecError(f"T.copy: cannot copy a {'x'.join(map(str, se))} tile into a {'x'.join(map(str, de))} tile "
                         "(reshaping copies are not supported)", loc())
    if s.buffer.scope == "global" and d.buffer.scope == "global":
        raise TilecError("T.copy: global-to-global copies are not supported; stage through shared memory", loc())
    b.emit(Copy(s, d, loc(), disable_tma=bool(kwargs.get("disable_tma", False))))
