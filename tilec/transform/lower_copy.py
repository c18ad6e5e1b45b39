"""Lowering rules of T.copy for the sm80 family.

memory <-> memory (global/shared): each thread moves 16-byte chunks (cp.async when the copy is pipelined),
    zero-filling rows and columns outside the tensor; a chunk that is not 16-byte aligned or straddles the
    tensor's edge takes an element-wise path (decided at run time when sizes are symbolic).
fragment <-> memory: each thread moves the elements its layout holds, in vectors of the longest run of
    consecutive columns the layout gives it (2 for MMA accumulators), converting the dtype on the way;
    replicated elements are written by one thread of each replica group. A static slice of a fragment moves the
    value slots inside it (slices must not split a slot between threads: along an accumulator's columns, not rows).
fragment <-> fragment: same layout, element by element (dtype conversion).
"""
from __future__ import annotations

import numpy as np

from tilec.errors import TilecError
from tilec.ir.buffer import Buffer, Region
from tilec.ir.expr import Cast, Expr, Load, Select, binop, const
from tilec.ir.simplify import simplify, static_int
from tilec.ir.stmt import BufferPtr, If, LoadVec, Scope, Stmt, Store, StoreVec, VecCopy, seq
from tilec.language.copy import Copy
from tilec.layout.fragment import Fragment
from tilec.transform.lower_tile_ops import LowerCtx, rule


def tile_dims(r: Region) -> list[int]:
    return [d for d, e in enumerate(r.extents) if static_int(e) != 1]


def region_coords(r: Region, tile: tuple) -> tuple:
    """Buffer coordinates of tile coordinate `tile` (one entry per non-unit dimension of the region)."""
    dims = tile_dims(r)
    if len(dims) != len(tile):  # a tile of all-unit dims (a single element)
        dims = dims or [len(r.extents) - 1]
    out = list(r.starts)
    for k, d in enumerate(dims):
        out[d] = simplify(binop("+", r.starts[d], tile[k]))
    return tuple(out)


def in_bounds(r: Region, coords: tuple, last_len: int = 1) -> Expr | None:
    """Predicate that coords (and last_len - 1 more elements along the last dim) lie inside a global buffer."""
    if r.buffer.scope != "global":
        return None
    conds = []
    for d, (c, n) in enumerate(zip(coords, r.buffer.shape)):
        ext = static_int(r.extents[d])
        hi = simplify(binop("+", c, last_len - 1)) if d == len(coords) - 1 else c
        if isinstance(n, int) and static_int(r.starts[d]) is not None and ext is not None and \
                static_int(r.starts[d]) + ext <= n:  # type: ignore[operator]
            continue  # statically inside
        conds.append(binop("<", hi, n))
    out: Expr | None = None
    for c in conds:
        out = c if out is None else binop("and", out, c)
    return None if out is None else simplify(out)


def _and(a: Expr | None, b: Expr | None) -> Expr | None:
    if a is None:
        return b
    if b is None:
        return a
    return binop("and", a, b)


def aligned(r: Region, vec: int) -> Expr | None:
    """Run-time (or static) condition that vector accesses of `vec` elements along the last dim are aligned."""
    if r.buffer.scope != "global" or vec == 1:
        return None
    last = r.buffer.shape[-1]
    conds = []
    for x in (last, r.starts[-1]):
        v = static_int(x)
        if v is None:
            conds.append(binop("==", binop("%", x, vec), 0))
        elif v % vec:
            return const(False)
    out: Expr | None = None
    for c in conds:
        out = _and(out, c)
    return out


def _guard(pred: Expr | None, body: Stmt, other: Stmt | None = None) -> Stmt:
    if pred is None:
        return body
    p = simplify(pred)
    if static_int(p) is not None:
        return body if static_int(p) else (other or seq())
    return If(p, body, other)


# ---- memory <-> memory ------------------------------------------------------------------------------------
def _mem_to_mem(ctx: LowerCtx, c: Copy) -> Stmt:
    src, dst = c.src, c.dst
    ext = [static_int(e) for e in dst.extents if static_int(e) != 1] or [1]
    cols = ext[-1]
    rows_shape = ext[:-1]
    nrows = int(np.prod(rows_shape)) if rows_shape else 1
    same_type = src.buffer.dtype == dst.buffer.dtype
    contiguous = all(tile_dims(r) and tile_dims(r)[-1] == r.buffer.ndim - 1 for r in (src, dst))
    e = dst.buffer.dtype.bytes
    vec = 16 // e if same_type and contiguous and src.buffer.dtype.bits >= 8 else 1
    while vec > 1 and cols % vec:
        vec //= 2
    cpr = cols // vec
    nchunks = nrows * cpr
    t = ctx.threads
    glob = src if src.buffer.scope == "global" else dst if dst.buffer.scope == "global" else None
    fast_ok = aligned(glob, vec) if glob is not None else None
    out = []
    for it in range(-(-nchunks // t)):
        q = simplify(binop("+", ctx.tid, it * t))
        row_flat, col = simplify(binop("//", q, cpr)), simplify(binop("*", binop("%", q, cpr), vec))
        rc = []
        rem = row_flat
        for n in reversed(rows_shape):
            rc.append(simplify(binop("%", rem, n)))
            rem = simplify(binop("//", rem, n))
        tile = tuple(reversed(rc)) + (col,)
        s_co, d_co = region_coords(src, tile), region_coords(dst, tile)
        guard_q = None if nchunks % t == 0 or (it + 1) * t <= nchunks else binop("<", q, nchunks)
        fast = _vector_chunk(ctx, c, s_co, d_co, vec) if vec > 1 else None
        slow = _element_chunk(ctx, c, s_co, d_co, vec)
        body = slow if fast is None else _guard(fast_ok, fast, slow)
        out.append(_guard(guard_q, body))
    return seq(*out)


def _vector_chunk(ctx: LowerCtx, c: Copy, s_co: tuple, d_co: tuple, vec: int) -> Stmt:
    src, dst = c.src, c.dst
    pred = _and(in_bounds(src, s_co, vec), None)
    dpred = in_bounds(dst, d_co, vec)
    sp = BufferPtr(src.buffer, ctx.flat(src.buffer, s_co))
    dp = BufferPtr(dst.buffer, ctx.flat(dst.buffer, d_co))
    nbytes = vec * dst.buffer.dtype.bytes
    if dst.buffer.scope == "global":
        return _guard(dpred, VecCopy(dp, sp, nbytes, None, False, False, c.loc))
    return VecCopy(dp, sp, nbytes, pred, True, c.async_ and src.buffer.scope == "global", c.loc)


def _element_chunk(ctx: LowerCtx, c: Copy, s_co: tuple, d_co: tuple, vec: int) -> Stmt:
    out = []
    for k in range(vec):
        sk = s_co[:-1] + (simplify(binop("+", s_co[-1], k)),)
        dk = d_co[:-1] + (simplify(binop("+", d_co[-1], k)),)
        out.append(_element(ctx, c.src, sk, c.dst, dk))
    return Scope(seq(*out)) if len(out) > 1 else out[0]


def _element(ctx: LowerCtx, src: Region, s_co: tuple, dst: Region, d_co: tuple) -> Stmt:
    sp, dp = in_bounds(src, s_co), in_bounds(dst, d_co)
    val: Expr = Load(src.buffer, (ctx.flat(src.buffer, s_co),), src.buffer.dtype)
    if sp is not None:  # out-of-range reads give 0 (C's ?: evaluates only the chosen load)
        val = Select(sp, val, Cast(const(0), src.buffer.dtype), src.buffer.dtype)
    if dst.buffer.dtype != src.buffer.dtype:
        val = Cast(val, dst.buffer.dtype)
    return _guard(dp, Store(dst.buffer, (ctx.flat(dst.buffer, d_co),), val))


# ---- fragment <-> memory -----------------------------------------------------------------------------------
def run_width(frag: Fragment, limit: int) -> int:
    """Longest w (power of 2, <= limit) such that every thread's values v..v+w-1 (v % w == 0) hold consecutive
    elements along the last dimension starting at a multiple of w."""
    tab = frag.table()
    w = limit
    while w > 1:
        if frag.nlocal % w == 0:
            g = tab.reshape(frag.threads, frag.nlocal // w, w, -1)
            base = g[:, :, :1, :]
            step = np.zeros(g.shape[-1], np.int64)
            step[-1] = 1
            if (g == base + np.arange(w)[:, None] * step).all() and (base[..., -1] % w == 0).all():
                return w
        w //= 2
    return 1


def replica_mask(frag: Fragment) -> int:
    """Thread-index bits whose flipping leaves a thread's elements unchanged (replicas); 0 if none."""
    tab = frag.table()
    mask = 0
    b = 1
    while b < frag.threads:
        t = np.arange(frag.threads)
        # (with a thread count that is not a power of two, a bit some threads cannot flip is no replica bit)
        if ((t ^ b) < frag.threads).all() and (tab[t] == tab[t ^ b]).all():
            mask |= b
        b <<= 1
    return mask


def selected_values(frag: Fragment, fr: Region, loc: object = None) -> np.ndarray | None:
    """For a copy of part of a fragment (static slices): per local value index, whether it lies inside the region,
    which must be the same for every thread (a thread copies whole value slots or none); None for the whole tile.

    Raises TilecError for slice bounds that are not compile-time ints, or for a slice that cuts one value slot
    between threads (along a dimension the layout spreads over the threads, e.g. the rows of an MMA accumulator)."""
    if fr.is_full():
        return None
    starts = [static_int(x) for x in fr.starts]
    exts = [static_int(x) for x in fr.extents]
    name = fr.buffer.name
    if None in starts or None in exts:
        raise TilecError(f"T.copy of part of fragment {name}: the slice bounds must be compile-time ints "
                         f"(got starts {list(fr.starts)}, extents {list(fr.extents)})", loc)
    tab = frag.table()
    lo = np.array(starts, np.int64)
    inside = ((tab >= lo) & (tab < lo + np.array(exts, np.int64))).all(axis=-1)
    if not (inside == inside[:1]).all():
        raise TilecError(f"T.copy of part of fragment {name}: the slice (starts {starts}, extents {exts}) splits "
                         f"value slots between threads (the layout {frag.key[:1]} spreads that dimension over "
                         "threads); slice along a dimension every thread's values run over (the columns of an MMA "
                         "accumulator), or copy the whole fragment", loc)
    return inside[0]


def _uniform_width(sel: np.ndarray | None, w: int) -> int:
    """The largest width <= w whose value groups lie wholly inside or wholly outside the selection."""
    while sel is not None and w > 1 and not (sel.reshape(-1, w) == sel.reshape(-1, w)[:, :1]).all():
        w //= 2
    return w


def _frag_mem(ctx: LowerCtx, c: Copy, to_mem: bool) -> Stmt:
    fr, mem = (c.src, c.dst) if to_mem else (c.dst, c.src)
    f = ctx.frag(fr.buffer)
    sel = selected_values(f, fr, c.loc)
    if sel is None:
        fdims = [d for d, n in enumerate(f.shape) if n != 1] or [len(f.shape) - 1]
        offset = [0] * len(f.shape)
    else:
        fdims = tile_dims(fr) or [len(f.shape) - 1]
        offset = [static_int(x) for x in fr.starts]
    same = fr.buffer.dtype == mem.buffer.dtype
    limit = 16 // mem.buffer.dtype.bytes if mem.buffer.dtype.bits >= 8 else 1
    w = run_width(f, limit) if len(tile_dims(mem)) and tile_dims(mem)[-1] == mem.buffer.ndim - 1 else 1
    w = _uniform_width(sel, w)
    if mem.buffer.scope == "global" and not same and w > 1:
        pass  # converted values are packed into one vector store/load of the memory dtype
    fast_ok = aligned(mem, w)
    rep = replica_mask(f) if to_mem else 0
    out = []
    for g in range(f.nlocal // w):
        v0 = g * w
        if sel is not None and not sel[v0]:
            continue
        coords = f.coords(ctx.tid, v0)
        tile = tuple(simplify(binop("-", const(coords[d]), offset[d])) for d in fdims)
        m_co = region_coords(mem, tile)
        elems = []
        for k in range(w):
            mk = m_co[:-1] + (simplify(binop("+", m_co[-1], k)),)
            if to_mem:
                val = Load(fr.buffer, (const(v0 + k),), fr.buffer.dtype)
                elems.append(_element_store(ctx, mem, mk, val))
            else:
                elems.append(_element_load(ctx, mem, mk, fr.buffer, v0 + k))
        slow = seq(*elems)
        if w > 1:
            pred = in_bounds(mem, m_co, w)
            off = ctx.flat(mem.buffer, m_co)
            if to_mem:
                vals = tuple(Load(fr.buffer, (const(v0 + k),), fr.buffer.dtype) for k in range(w))
                vals = tuple(v if same else Cast(v, mem.buffer.dtype) for v in vals)
                fast = _guard(pred, StoreVec(mem.buffer, off, vals, c.loc), slow)
            else:
                fast = _guard(pred, LoadVec(fr.buffer, tuple(range(v0, v0 + w)), mem.buffer, off, c.loc), slow)
            out.append(_guard(fast_ok, fast, slow))
        else:
            out.append(slow)
    body = seq(*out)
    if rep:
        body = If(binop("==", binop("&", ctx.tid, rep), 0), body)
    return body


def _element_store(ctx: LowerCtx, mem: Region, co: tuple, val: Expr) -> Stmt:
    if mem.buffer.dtype != val.dtype:
        val = Cast(val, mem.buffer.dtype)
    return _guard(in_bounds(mem, co), Store(mem.buffer, (ctx.flat(mem.buffer, co),), val))


def _element_load(ctx: LowerCtx, mem: Region, co: tuple, frag: Buffer, slot: int) -> Stmt:
    pred = in_bounds(mem, co)
    val: Expr = Load(mem.buffer, (ctx.flat(mem.buffer, co),), mem.buffer.dtype)
    if frag.dtype != mem.buffer.dtype:
        val = Cast(val, frag.dtype)
    store = Store(frag, (const(slot),), val)
    return _guard(pred, store, Store(frag, (const(slot),), Cast(const(0), frag.dtype)))


@rule(Copy, "sm80")
def lower_copy(ctx: LowerCtx, c: Copy) -> Stmt:
    s, d = c.src.buffer.scope, c.dst.buffer.scope
    if s == "fragment" and d == "fragment":
        fs, fd = ctx.frag(c.src.buffer), ctx.frag(c.dst.buffer)
        if fs != fd or not (c.src.is_full() and c.dst.is_full()):
            raise TilecError(f"T.copy between fragments {c.src.buffer.name} and {c.dst.buffer.name} with different "
                             "layouts is not supported yet", c.loc)
        return seq(*(Store(c.dst.buffer, (const(u),), Cast(Load(c.src.buffer, (const(u),), c.src.buffer.dtype),
                                                          c.dst.buffer.dtype)) for u in range(fs.nlocal)))
    if s == "fragment":
        return _frag_mem(ctx, c, to_mem=True)
    if d == "fragment":
        return _frag_mem(ctx, c, to_mem=False)
    if s in ("local", "var") or d in ("local", "var"):
        raise TilecError("T.copy to or from local buffers is not supported yet; index them in T.Parallel", c.loc)
    body = _mem_to_mem(ctx, c)
    return Scope(body, c.loc, async_group=True) if c.async_ else body
