"""Lowering rules of the sm90a path: T.copy as TMA tile loads and stores, T.gemm as warpgroup MMAs (wgmma).

TMA: a copy marked by specialize_warps (Copy.mbar set) becomes one cp.async.bulk.tensor per 128-byte panel of
the shared tile (tilec::tma_load, completing on the stage's mbarrier). The shared tile keeps the SmemTile layout,
which is exactly what TMA's 128B/64B/32B swizzle writes (panels of 128-byte rows, 16-byte chunks XOR row % 8),
so the wgmma descriptors and element-wise accesses agree. The tensor map (one per global tensor, box shape and
swizzle) is recorded in ctx.tensor_maps for codegen (a __grid_constant__ kernel parameter) and the launchers
(cuTensorMapEncodeTiled at launch). Rows and columns outside the tensor are zero-filled by TMA.
TMA multicast: a load marked Copy.multicast (a tile the CTAs of a cluster share, see cluster_multicast) becomes this
CTA's piece of the tile as tilec::tma_load_multicast, written into every CTA of the cluster.
TMA store: a copy marked Copy.tma_store (shared tile -> global) becomes fence.proxy.async.shared::cta in every
thread, a barrier, and from thread 0 one tilec::tma_store per 128-byte panel plus a bulk commit_group; the same
tensor-map registration as loads (its box, 128B swizzle and the SmemTile layout match), and the TMA unit skips
rows and columns outside the tensor.
wgmma: T.gemm whose accumulator infer_layout gave the wgmma layout calls tilec::wgmma_gemm_ss / _rs
(tilec/include/tilec/gemm_sm90.cuh); any other T.gemm keeps the mma.sync rule.
"""
from __future__ import annotations

from tilec.errors import TilecError
from tilec.ir.buffer import Buffer, Region
from tilec.ir.expr import Var, binop, const
from tilec.ir.simplify import simplify
from tilec.ir.stmt import BufferPtr, DeviceCall, If, Stmt, Sync, TensorMapRef, seq
from tilec.language.copy import Copy
from tilec.language.gemm import Gemm
from tilec.metadata import TensorMapSpec
from tilec.transform.cluster_multicast import CLUSTER_RANK
from tilec.transform.lower_copy import lower_copy as lower_copy_sm80
from tilec.transform.lower_copy import tile_dims
from tilec.transform.lower_gemm import _b, _tile_ptr
from tilec.transform.lower_gemm import lower_gemm as lower_gemm_sm80
from tilec.transform.lower_tile_ops import LowerCtx, rule


def _dim_text(d: object) -> str:
    if isinstance(d, Var):
        return d.name
    return str(int(d))  # type: ignore[arg-type]


def tensor_map_for(ctx: LowerCtx, glob: Region, tile: Buffer, loc: object = None,
                   rows: int | None = None) -> tuple[str, int, int]:
    """Register (or reuse) the tensor map of global region `glob` moved as shared tile `tile`; returns
    (name, box_inner, panels): one box per 128-byte column panel of the tile. rows: the box's row count when it is
    a piece of the tile (a multicast split by rows), else the tile's."""
    buf = glob.buffer
    tile_rows, cols = (int(x) for x in tile.shape[-2:])
    rows = tile_rows if rows is None else rows
    eb = buf.dtype.bytes
    row_bytes = cols * eb
    box_inner = 128 // eb if row_bytes % 128 == 0 else cols
    swizzle = 128 if row_bytes % 128 == 0 else (row_bytes if row_bytes in (32, 64) else 0)
    dims = tile_dims(glob)
    if len(dims) != 2 or dims[-1] != buf.ndim - 1:
        raise TilecError(f"TMA copy of {buf.name}: the tile must span its innermost dimension and one other "
                         "(internal error, please report)", loc)
    box = []
    for d in reversed(range(buf.ndim)):
        box.append(box_inner if d == buf.ndim - 1 else rows if d == dims[0] else 1)
    shape = [_dim_text(x) for x in buf.shape]
    gdims = tuple(reversed(shape))
    strides = []
    acc = f"{eb}"
    for d in reversed(range(1, buf.ndim)):
        acc = f"({acc} * {shape[d]})"
        strides.append(acc)
    spec = TensorMapSpec(name="", param=buf.name, dtype=buf.dtype.name, dims=gdims, strides_bytes=tuple(strides),
                         box=tuple(box), swizzle=swizzle)
    maps = ctx.tensor_maps
    for name, s in maps.items():
        if s == spec.with_name(name):
            return name, box_inner, cols // box_inner
    name = f"{buf.name}_tmap{len([n for n in maps if n.startswith(buf.name + '_tmap')])}"
    maps[name] = spec.with_name(name)
    return name, box_inner, cols // box_inner


def _boxes(ctx: LowerCtx, glob: Region, tile: Region, loc: object) -> tuple[str, list]:
    """The tensor map and, per box of the tile, (shared pointer, global coordinates innermost first)."""
    name, box_inner, panels = tensor_map_for(ctx, glob, tile.buffer, loc)
    lead = tuple(tile.starts[:-2])
    out = []
    for p in range(panels):
        smem = BufferPtr(tile.buffer, ctx.flat(tile.buffer, lead + (0, p * box_inner)))
        coords = []
        for d in reversed(range(glob.buffer.ndim)):
            x = glob.starts[d]
            if d == glob.buffer.ndim - 1 and p:
                x = binop("+", x, p * box_inner)
            coords.append(simplify(ctx.lower_expr(x)))
        out.append((smem, coords))
    return name, out


def _tma_store(ctx: LowerCtx, c: Copy) -> Stmt:
    """Every thread fences its earlier st.shared against the async proxy, the block (the consumers) meets at a
    barrier, then thread 0 issues the boxes and commits them as one bulk group. insert_syncs waits for the group's
    reads (cp.async.bulk.wait_group.read) before the tile is written again and before the kernel ends."""
    name, boxes = _boxes(ctx, c.dst, c.src, c.loc)
    stores = [DeviceCall("tilec::tma_store", (TensorMapRef(name), smem, *coords), (len(coords),), c.loc)
              for smem, coords in boxes]
    issue = If(binop("==", ctx.tid, 0), seq(*stores, DeviceCall("tilec::cp_async_bulk_commit_group", (), (), c.loc)))
    return seq(DeviceCall("tilec::fence_proxy_async_shared_cta", (), (), c.loc), Sync(c.loc), issue)


def _tma_multicast(ctx: LowerCtx, c: Copy) -> Stmt:
    """A shared tile's piece (MulticastSplit) loaded by this CTA and written into every CTA of its cluster: by panels,
    each box under a test of the CTA's rank; by rows, the boxes of a row-piece tensor map at the rank's row offset
    (whole 8-row swizzle atoms of each panel, so the piece lands where the whole-tile load would put it)."""
    sp = c.multicast
    mask = const((1 << sp.size) - 1)
    if sp.by == "panels":
        name, boxes = _boxes(ctx, c.src, c.dst, c.loc)
        return seq(*(If(binop("==", CLUSTER_RANK, p // sp.panels),
                        DeviceCall("tilec::tma_load_multicast", (TensorMapRef(name), smem, c.mbar, mask, *coords),
                                   (len(coords),), c.loc)) for p, (smem, coords) in enumerate(boxes)))
    name, box_inner, panels = tensor_map_for(ctx, c.src, c.dst.buffer, c.loc, rows=sp.rows)
    row_dim = tile_dims(c.src)[0]
    lead = tuple(c.dst.starts[:-2])
    piece = binop("*", CLUSTER_RANK, sp.rows)
    out = []
    for p in range(panels):
        base = ctx.flat(c.dst.buffer, lead + (0, p * box_inner))
        smem = BufferPtr(c.dst.buffer, simplify(binop("+", base, binop("*", piece, box_inner))))
        coords = []
        for d in reversed(range(c.src.buffer.ndim)):
            x = c.src.starts[d]
            if d == c.src.buffer.ndim - 1 and p:
                x = binop("+", x, p * box_inner)
            if d == row_dim:
                x = binop("+", x, piece)
            coords.append(simplify(ctx.lower_expr(x)))
        out.append(DeviceCall("tilec::tma_load_multicast", (TensorMapRef(name), smem, c.mbar, mask, *coords),
                              (len(coords),), c.loc))
    return seq(*out)


@rule(Copy, "sm90a")
def lower_copy(ctx: LowerCtx, c: Copy) -> Stmt:
    if c.tma_store:
        return _tma_store(ctx, c)
    if c.mbar is None:
        return lower_copy_sm80(ctx, c)
    if c.multicast is not None:
        return _tma_multicast(ctx, c)
    name, boxes = _boxes(ctx, c.src, c.dst, c.loc)
    return seq(*(DeviceCall("tilec::tma_load", (TensorMapRef(name), smem, c.mbar, *coords), (len(coords),), c.loc)
                 for smem, coords in boxes))


@rule(Gemm, "sm90a")
def lower_gemm(ctx: LowerCtx, g: Gemm) -> Stmt:
    kind = ctx.gemm_warps.get(g)
    if not (isinstance(kind, tuple) and kind[0] == "wgmma"):
        return lower_gemm_sm80(ctx, g)
    m, n, k = g.mnk()
    groups = kind[1]
    ctype = g.a.buffer.dtype.ctype
    c_ptr = BufferPtr(g.c.buffer, 0)
    # A runtime clear_accum goes to the call (the wgmmas' scale-d predicate); a static one is a template argument.
    clear = "true" if g.clear_accum is True else "false"
    extra = () if isinstance(g.clear_accum, bool) else (g.clear_accum,)
    if g.a.buffer.scope == "fragment":
        args = (BufferPtr(g.a.buffer, 0), _tile_ptr(ctx, g.b), c_ptr, *extra)
        if g.wg_wait:
            return DeviceCall("tilec::wgmma_gemm_rs_async", args,
                              (m, n, k, groups, _b(g.trans_b), clear, ctype, g.wg_wait), g.loc)
        return DeviceCall("tilec::wgmma_gemm_rs", args, (m, n, k, groups, _b(g.trans_b), clear, ctype), g.loc)
    # wg_wait > 0: keep that many groups in flight (the mainloop of a warp-specialized GEMM); -1: issue only
    # (schedule_consumers places the waits)
    if g.wg_wait:
        return DeviceCall("tilec::wgmma_gemm_ss_async", (_tile_ptr(ctx, g.a), _tile_ptr(ctx, g.b), c_ptr, *extra),
                          (m, n, k, groups, _b(g.trans_a), _b(g.trans_b), clear, ctype, g.wg_wait), g.loc)
    return DeviceCall("tilec::wgmma_gemm_ss", (_tile_ptr(ctx, g.a), _tile_ptr(ctx, g.b), c_ptr, *extra),
                      (m, n, k, groups, _b(g.trans_a), _b(g.trans_b), clear, ctype), g.loc)
