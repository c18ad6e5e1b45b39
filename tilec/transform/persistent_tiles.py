"""Persistent kernels (T.annotate_persistent): each block loops over tiles instead of computing one.

Pre:  pipelining has run (specialize_warps on sm_90a, pipeline_loops otherwise). A warp-specialized kernel that
      was annotated already has one TileLoop per role (specialize_warps builds them, so that its stage ring runs on
      across tiles).
Post: every annotated kernel has Kernel.persistent = True (Kernel.tile_pairs = True with pairs=True; Kernel.stream_k
      as specialize_warps set it, or a lowering note that stream_k=True was not taken) and its work inside
      TileLoop(s): for an annotated kernel that is not warp-specialized, every statement but the annotations goes
      into one TileLoop whose body ends with a barrier (the next tile's first shared-memory writes, e.g. cp.async
      prologue copies that insert_syncs does not guard, must not overtake the last reads of this tile).
      attrs["lowering_notes"] says so.
The launch: codegen records LaunchSpec.persistent; launchers start min(#tiles, #SMs x resident blocks per SM)
blocks in x (#tiles = the product of the T.Kernel grid) and the kernel computes #tiles from the sizes itself.
Kernels without the annotation (or with enable=False) are left alone.
"""
from __future__ import annotations

from dataclasses import replace

from tilec.errors import TilecError
from tilec.ir.func import PrimFunc
from tilec.ir.stmt import Annotate, Kernel, Seq, Stmt, Sync, TileLoop, seq
from tilec.ir.visit import walk


def _persistent_request(k: Kernel) -> tuple:
    """(enable, pairs, stream_k) of kernel `k`'s last T.annotate_persistent; all False without one."""
    flags = [s.value for s in walk(k.body) if isinstance(s, Annotate) and s.kind == "persistent"]
    return (tuple(flags[-1]) + (False,) * 3)[:3] if flags else (False, False, False)


def wants_persistent(k: Kernel) -> bool:
    """Whether kernel `k` asks to be persistent (its last T.annotate_persistent wins)."""
    return bool(_persistent_request(k)[0])


def wants_pairs(k: Kernel) -> bool:
    """Whether kernel `k` asks for persistent tiles in pairs (T.annotate_persistent(pairs=True))."""
    enable, pairs, _ = _persistent_request(k)
    return bool(enable and pairs)


def wants_stream_k(k: Kernel) -> bool:
    """Whether kernel `k` asks for the stream-K schedule (T.annotate_persistent(stream_k=True))."""
    enable, _, stream_k = _persistent_request(k)
    return bool(enable and stream_k)


def _wrap(k: Kernel) -> Kernel:
    """All of the kernel's work in one TileLoop (annotations stay outside: they describe the kernel)."""
    stmts = list(k.body.stmts) if isinstance(k.body, Seq) else [k.body]
    notes = [x for x in stmts if isinstance(x, Annotate)]
    work = [x for x in stmts if not isinstance(x, Annotate)]
    return replace(k, body=seq(*notes, TileLoop(seq(*work, Sync(k.loc)), k.loc)))


def persistent_tiles(fn: PrimFunc, target: object = None) -> PrimFunc:
    """See the module docstring."""
    notes = dict(fn.attrs.get("lowering_notes", {}))
    index = 0

    def top(s: Stmt) -> Stmt:
        nonlocal index
        if isinstance(s, Seq):
            return seq(*(top(x) for x in s.stmts))
        if not isinstance(s, Kernel):
            return s
        i, index = index, index + 1
        if not wants_persistent(s):
            return s
        if not any(isinstance(x, TileLoop) for x in walk(s.body)):
            s = _wrap(s)
            what = "persistent tiles: each block loops over tiles with a barrier between them"
            notes[i] = f"{notes[i]}; {what}" if i in notes else what
        pairs = bool(_persistent_request(s)[1])
        if pairs and any(isinstance(x, Annotate) and x.kind == "swizzle" and x.value[2] for x in walk(s.body)):
            raise TilecError("T.annotate_persistent(pairs=True) with T.use_swizzle: tile pairs (x, gx - 1 - x) are "
                             "taken in the grid's own order; drop one of the two annotations", s.loc)
        if pairs:
            what = ("tiles in pairs of equal work per block (x and gx - 1 - x of one row, or the middle x of two "
                    "rows) when every block gets a pair")
            notes[i] = f"{notes[i]}; {what}" if i in notes else what
        if wants_stream_k(s) and s.stream_k is None:
            what = "stream_k=True not taken: stream-K needs sm_90a's warp-specialized pipeline (whole tiles here)"
            notes[i] = f"{notes[i]}; {what}" if i in notes else what
        return replace(s, persistent=True, tile_pairs=pairs)

    body = top(fn.body)
    return fn.with_body(body, lowering_notes=notes) if notes else fn.with_body(body)
