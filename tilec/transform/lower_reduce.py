"""Lowering rule of T.reduce_* on fragments for the sm80 family.

Three levels, all derived from the fragment layouts by enumeration at compile time:
1. within a thread: combine the values it holds for each output element;
2. within a warp: butterfly shuffles over the lane bits whose flip keeps the output element;
3. across warps (when whole rows span several warps): each warp's leader lanes write their partial to a
   shared scratch array, a barrier, then every thread combines the partials of its warp group.
"""
from __future__ import annotations

import numpy as np

from tilec.errors import TilecError
from tilec.ir import dtypes as dt
from tilec.ir.buffer import Buffer
from tilec.ir.expr import BinOp, Call, Cast, Const, Expr, Load, Var, binop, const
from tilec.ir.stmt import Alloc, If, Let, Scope, Stmt, Store, Sync, seq
from tilec.language.reduce import LaneSum, Reduce
from tilec.transform.lower_tile_ops import LowerCtx, rule

_COMBINE = {"max": "max", "absmax": "max", "min": "min", "sum": "+", "abssum": "+"}
_OPS = {"max": "tilec::MaxOp", "absmax": "tilec::MaxOp", "min": "tilec::MinOp", "sum": "tilec::SumOp",
        "abssum": "tilec::SumOp"}


def _identity(kind: str, d: dt.DType) -> Expr:
    if kind in ("max", "absmax"):
        return Const(-float("inf"), d) if kind == "max" else Const(0.0, d)
    if kind == "min":
        return Const(float("inf"), d)
    return Const(0.0, d)


def _group_bits(src_tab: np.ndarray, dst_tab: np.ndarray, keep: list, threads: int) -> list[int]:
    """Thread-index bits b such that thread t ^ b holds the same output elements as thread t (their partial
    results must be combined); checked to generate exactly the holder groups."""
    keys = [set(map(tuple, src_tab[t][:, keep].tolist())) for t in range(threads)]
    bits = []
    b = 1
    while b < threads:
        if all(keys[t] == keys[t ^ b] for t in range(threads)):
            bits.append(b)
        b <<= 1
    # every output element must be held only by the group spanned by `bits`
    span = 1 << len(bits)
    owners: dict = {}
    for t in range(threads):
        for k in keys[t]:
            owners.setdefault(k, set()).add(t)
    if any(len(s) != span for s in owners.values()):
        raise TilecError("this reduction's input layout splits rows over threads in a pattern tilec cannot "
                         "reduce yet", None)
    return bits


@rule(Reduce, "sm80")
def lower_reduce(ctx: LowerCtx, r: Reduce) -> Stmt:
    if r.src.scope != "fragment" or r.dst.scope != "fragment":
        raise TilecError("T.reduce_* on shared memory is not supported yet; copy the tile into a fragment", r.loc)
    fs, fd = ctx.frag(r.src), ctx.frag(r.dst)
    keep = [d for d in range(r.src.ndim) if d != r.dim]
    st, dtab = fs.table(), fd.table()
    acc_t = r.dst.dtype
    out: list[Stmt] = []
    accs: list[Var] = []
    for u in range(fd.nlocal):
        key = dtab[0, u]
        vs = [v for v in range(fs.nlocal) if (st[0, v][keep] == key).all()]
        for t in range(1, fs.threads):  # the same local indices must work for every thread
            if [v for v in range(fs.nlocal) if (st[t, v][keep] == dtab[t, u]).all()] != vs:
                raise TilecError(f"layouts of {r.src.name} and {r.dst.name} do not line up for this reduction",
                                 r.loc)
        if not vs:
            raise TilecError(f"{r.dst.name} holds elements that no value of {r.src.name} contributes to", r.loc)
        acc: Expr | None = None
        for v in vs:
            x: Expr = Load(r.src, (const(v),), r.src.dtype)
            if x.dtype != acc_t:
                x = Cast(x, acc_t)
            if r.kind in ("abssum", "absmax"):
                x = Call("abs", (x,), acc_t)
            acc = x if acc is None else BinOp(_COMBINE[r.kind], acc, x, acc_t)
        var = Var(ctx.fresh("red"), acc_t)
        out.append(Let(var, acc))  # type: ignore[arg-type]
        accs.append(var)
    bits = _group_bits(st, dtab, keep, fs.threads)
    lane_mask = sum(b for b in bits if b < 32)
    warp_bits = [b for b in bits if b >= 32]
    if not r.lanes and warp_bits:
        raise TilecError(f"a lane-partial reduction into {r.dst.name} spans warps (internal error, please report)",
                         r.loc)
    finals: list[Expr] = []
    for u, var in enumerate(accs):
        e: Expr = var
        if lane_mask and r.lanes:
            nv = Var(ctx.fresh("red"), acc_t)
            out.append(Let(nv, _shfl(r.kind, lane_mask, var)))
            e = nv
        finals.append(e)
    if warp_bits:
        finals = _cross_warp(ctx, r, finals, warp_bits, lane_mask, out)
    for u, e in enumerate(finals):
        if not r.clear:
            e = BinOp(_COMBINE[r.kind], Load(r.dst, (const(u),), acc_t), e, acc_t)
        out.append(Store(r.dst, (const(u),), e))
    return seq(*out)


def lane_group_mask(r: Reduce, layouts: dict) -> int | None:
    """The lane bits (a mask below 32) over which r combines partial results, when r's holder groups lie within
    warps and its src/dst are laid-out fragments; None otherwise (no layouts, a cross-warp step, or a layout
    pattern lower_reduce would reject). Never raises."""
    fs, fd = layouts.get(r.src), layouts.get(r.dst)
    if fs is None or fd is None or r.src.scope != "fragment" or r.dst.scope != "fragment":
        return None
    keep = [d for d in range(r.src.ndim) if d != r.dim]
    try:
        bits = _group_bits(fs.table(), fd.table(), keep, fs.threads)
    except TilecError:
        return None
    if any(b >= 32 for b in bits):
        return None
    return sum(bits)


@rule(LaneSum, "sm80")
def lower_lane_sum(ctx: LowerCtx, s: LaneSum) -> Stmt:
    """Each local element of the buffer: a butterfly sum over the lanes of s.lane_mask."""
    f = ctx.frag(s.buffer)
    d = s.buffer.dtype
    return seq(*(Store(s.buffer, (const(u),), _shfl("sum", s.lane_mask, Load(s.buffer, (const(u),), d)))
                 for u in range(f.nlocal)))


def _shfl(kind: str, mask: int, v: Expr) -> Expr:
    return Call(f"tilec::shfl_xor_allreduce<{_OPS[kind]}, {mask}>", (v,), v.dtype)


def _cross_warp(ctx: LowerCtx, r: Reduce, vals: list[Expr], warp_bits: list[int], lane_mask: int,
                out: list[Stmt]) -> list[Expr]:
    nwarps = ctx.threads // 32
    n = len(vals)
    scratch = Buffer(ctx.fresh("red_smem"), (nwarps * n,), r.dst.dtype, "shared", r.loc)
    ctx.extra_allocs.append(Alloc(scratch, None, r.loc))
    warp = binop("//", ctx.tid, 32)
    leader = binop("==", binop("&", ctx.tid, lane_mask), 0) if lane_mask else None
    writes = seq(*(Store(scratch, (binop("+", binop("*", warp, n), u),), v) for u, v in enumerate(vals)))
    out.append(Sync(r.loc))  # the scratch may still be read by a previous reduction
    out.append(If(leader, Scope(writes, r.loc, unit=True)) if leader is not None else Scope(writes, r.loc, unit=True))
    out.append(Sync(r.loc))
    wmask = sum(b >> 5 for b in warp_bits)
    others = [w for w in range(nwarps) if (w & ~wmask) == 0]  # offsets within a warp group (as XOR)
    res = []
    for u in range(n):
        acc: Expr | None = None
        for o in others:
            x = Load(scratch, (binop("+", binop("*", binop("^", warp, o), n), u),), r.dst.dtype)
            acc = x if acc is None else BinOp(_COMBINE[r.kind], acc, x, r.dst.dtype)
        nv = Var(ctx.fresh("red"), r.dst.dtype)
        out.append(Let(nv, acc))  # type: ignore[arg-type]
        res.append(nv)
    return res


