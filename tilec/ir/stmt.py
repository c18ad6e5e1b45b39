"""Statements of the tile IR: structure (kernels, loops, branches, stores) and the TileOp base.

Concrete tile ops (Copy, Gemm, Fill, Reduce, ...) are defined next to their language function and
rules in `tilec/language/<group>.py`; they subclass `TileOp` here. Lowered code uses the low-level
statements at the bottom of this module (`Sync`, `DeviceCall`, `LocalDecl`, ...).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from tilec.errors import NO_LOC, SourceLoc
from tilec.ir.buffer import Buffer
from tilec.ir.expr import Expr, Var


@dataclass(frozen=True, eq=False)
class Stmt:
    """Base of statements. Every statement has a source location."""


@dataclass(frozen=True, eq=False)
class Seq(Stmt):
    stmts: tuple
    loc: SourceLoc = field(default=NO_LOC, compare=False)


@dataclass(frozen=True, eq=False)
class Kernel(Stmt):
    """`with T.Kernel(*grid, threads=) as block_vars:` — one launch. grid has 3 entries (Exprs)."""

    grid: tuple
    threads: int
    block_vars: tuple
    body: Stmt
    loc: SourceLoc = field(default=NO_LOC, compare=False)
    swizzle: tuple = ()  # (panel_size, order) of T.use_swizzle block rasterization, set by lowering
    tensor_maps: tuple = ()  # TMA TensorMapSpecs the kernel takes as parameters, set by lowering
    persistent: bool = False  # T.annotate_persistent: blocks loop over tiles (TileLoop), set by persistent_tiles
    tile_pairs: bool = False  # T.annotate_persistent(pairs=True): the TileLoop takes tiles (x, gx - 1 - x) in pairs
    stream_k: object = None  # T.annotate_persistent(stream_k=True) on sm_90a: the k-iterations per tile (an Expr);
    #                          the TileLoop walks stream-K units (tilec::StreamKUnit), set by specialize_warps
    cluster: tuple = (1, 1, 1)  # T.Kernel(cluster_dims=): requested by the kernel; specialize_warps keeps it (clusters
    #                            launched, shared tiles multicast) or resets it to (1, 1, 1) with a lowering note


@dataclass(frozen=True, eq=False)
class Alloc(Stmt):
    """Declares `buffer` (shared/fragment/local/var scopes) at this point of the kernel body."""

    buffer: Buffer
    init: Expr | None = None
    loc: SourceLoc = field(default=NO_LOC, compare=False)


@dataclass(frozen=True, eq=False)
class For(Stmt):
    """A sequential loop `for var in [start, start + extent)`.

    kind: "serial", "unroll" or "pipelined" (T.Pipelined; num_stages/order/stage/group apply).
    """

    var: Var
    start: Expr
    extent: Expr
    body: Stmt
    kind: str = "serial"
    num_stages: int = 0
    order: tuple = ()
    stage: tuple = ()
    group: tuple = ()
    loc: SourceLoc = field(default=NO_LOC, compare=False)


@dataclass(frozen=True, eq=False)
class Parallel(Stmt):
    """`for i, j in T.Parallel(M, N)`: element-wise body over a static iteration space.

    skip_unit: T.Parallel(skip_unit=f): the fragment of scale factors of a body `x[...] = x[...] * f[...]`, whose
    multiplications the lowering may skip where f is exactly 1.0 (None: no such hint)."""

    vars: tuple
    extents: tuple
    body: Stmt
    loc: SourceLoc = field(default=NO_LOC, compare=False)
    skip_unit: object = None


@dataclass(frozen=True, eq=False)
class If(Stmt):
    cond: Expr
    then: Stmt
    else_: Stmt | None = None
    loc: SourceLoc = field(default=NO_LOC, compare=False)


@dataclass(frozen=True, eq=False)
class While(Stmt):
    cond: Expr
    body: Stmt
    loc: SourceLoc = field(default=NO_LOC, compare=False)


@dataclass(frozen=True, eq=False)
class Store(Stmt):
    buffer: Buffer
    indices: tuple
    value: Expr
    loc: SourceLoc = field(default=NO_LOC, compare=False)


@dataclass(frozen=True, eq=False)
class Let(Stmt):
    """Binds an immutable scalar `var = value` for the rest of the enclosing block."""

    var: Var
    value: Expr
    loc: SourceLoc = field(default=NO_LOC, compare=False)


@dataclass(frozen=True, eq=False)
class Annotate(Stmt):
    """Schedule annotations: kind "layout" (value: {Buffer: layout}), "swizzle" (value: (panel, order, enable)) or
    "persistent" (value: (enable, pairs, stream_k))."""

    kind: str
    value: object
    loc: SourceLoc = field(default=NO_LOC, compare=False)


@dataclass(frozen=True, eq=False)
class TileOp(Stmt):
    """Base of tile operations (T.copy, T.gemm, ...). Subclasses live in tilec/language/."""

    def regions(self) -> tuple:
        """The Regions this op reads or writes (for analyses)."""
        return ()


# ---- low-level statements produced by lowering ----------------------------------------------


@dataclass(frozen=True, eq=False)
class Sync(Stmt):
    """__syncthreads()."""

    loc: SourceLoc = field(default=NO_LOC, compare=False)


@dataclass(frozen=True, eq=False)
class DeviceCall(Stmt):
    """A call of a device-header function: `fn<template_args>(args)`; args are Exprs or BufferPtrs."""

    fn: str
    args: tuple
    template_args: tuple = ()
    loc: SourceLoc = field(default=NO_LOC, compare=False)


@dataclass(frozen=True, eq=False)
class BufferPtr:
    """Address of element `offset` (flat, in elements) of a buffer, as a device-call argument."""

    buffer: Buffer
    offset: Expr | int = 0


@dataclass(frozen=True, eq=False)
class LocalDecl(Stmt):
    """Declares a per-thread register array (a lowered fragment/local buffer) of `size` elements."""

    buffer: Buffer
    size: int
    loc: SourceLoc = field(default=NO_LOC, compare=False)


@dataclass(frozen=True, eq=False)
class VecCopy(Stmt):
    """Copy `nbytes` (4, 8 or 16) from src to dst element addresses, skipped (or zero-filled when `zfill`)
    where `pred` is false. async_=True issues cp.async (global->shared only)."""

    dst: BufferPtr
    src: BufferPtr
    nbytes: int
    pred: Expr | None = None
    zfill: bool = True
    async_: bool = False
    loc: SourceLoc = field(default=NO_LOC, compare=False)


def seq(*stmts: Stmt | None) -> Stmt:
    """A Seq of the non-None statements, flattened; a single statement stays itself."""
    out: list[Stmt] = []
    for s in stmts:
        if s is None:
            continue
        if isinstance(s, Seq):
            out.extend(s.stmts)
        else:
            out.append(s)
    return out[0] if len(out) == 1 else Seq(tuple(out))


@dataclass(frozen=True, eq=False)
class StoreVec(Stmt):
    """Store len(values) consecutive elements at flat element `offset` of `buffer` as one vector store."""

    buffer: Buffer
    offset: Expr
    values: tuple
    loc: SourceLoc = field(default=NO_LOC, compare=False)


@dataclass(frozen=True, eq=False)
class LoadVec(Stmt):
    """Load len(slots) consecutive elements from flat `offset` of `src` with one vector load into the
    per-thread array `dst` at local indices `slots` (converted to dst's dtype)."""

    dst: Buffer
    slots: tuple
    src: Buffer
    offset: Expr
    loc: SourceLoc = field(default=NO_LOC, compare=False)


@dataclass(frozen=True, eq=False)
class Scope(Stmt):
    """A nested C scope `{ body }` (names declared inside stay inside: each unrolled copy of a loop body).

    async_group: the shared-memory writes inside belong to a pipelined (cp.async) copy, ordered by the
    pipeline's own wait + barrier, so insert_syncs does not guard them.
    unit: the lowered code of one tile op or T.Parallel loop; its threads touch disjoint elements (or read
    what they themselves wrote), so insert_syncs treats it as one access and puts no barrier inside.
    """

    body: Stmt
    loc: SourceLoc = field(default=NO_LOC, compare=False)
    async_group: bool = False
    unit: bool = False


@dataclass(frozen=True, eq=False)
class WarpSpecialize(Stmt):
    """Producer/consumer warp specialization (sm90a): the block's first `consumer_threads` threads run
    `consumer`; one extra warpgroup is added, whose first thread runs `producer` (TMA issue). Each side
    resizes its register file with setmaxnreg. Barriers inside `consumer` are named barriers over the
    consumer threads only (the producer never reaches them).
    """

    producer: Stmt
    consumer: Stmt
    consumer_threads: int
    producer_regs: int = 40
    consumer_regs: int = 232
    loc: SourceLoc = field(default=NO_LOC, compare=False)


@dataclass(frozen=True, eq=False)
class TileLoop(Stmt):
    """The tile loop of a persistent kernel: `for (t = block; t < tiles; t += blocks) { bind; body }` (block: the
    linear block index, blocks: the number of blocks launched).

    tiles is the product of the kernel's grid extents (the T.Kernel grid, not the launched one); `bind` sets the
    kernel's block variables from t exactly as a non-persistent block sets them from its block index (with
    T.use_swizzle's rasterization), so `body` sees one tile per iteration with the usual block variables.
    """

    body: Stmt
    loc: SourceLoc = field(default=NO_LOC, compare=False)


@dataclass(frozen=True, eq=False)
class TensorMapRef:
    """Address of a kernel's `const __grid_constant__ CUtensorMap` parameter, as a device-call argument."""

    name: str


@dataclass(frozen=True, eq=False)
class ArrayRef:
    """A per-thread register array passed whole (C++ `float (&)[N]`, so the callee knows its size)."""

    buffer: Buffer
