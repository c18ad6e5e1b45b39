"""Lower tile ops and T.Parallel loops to per-thread code for the sm80 family.

Pre:  infer_layout (and pipeline_loops) have run: attrs hold "layouts", "loop_layouts", "gemm_warps".
Post: the body holds no TileOp and no Parallel. Fragments are per-thread arrays (LocalDecl) accessed at
      constant local indices; every Load/Store of a global, shared or local buffer has one flat element
      index (shared offsets include the swizzle); shared buffers are still declared by Alloc (for
      plan_shared_memory). Each op's rule lives in lower_<op>.py and is found through RULES.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np

from tilec.errors import TilecError
from tilec.ir import dtypes as dt
from tilec.ir.buffer import Buffer
from tilec.ir.expr import BinOp, Call, Expr, Load, ThreadIdx, Var, binop, const, loads
from tilec.ir.func import PrimFunc
from tilec.ir.simplify import simplify
from tilec.ir.stmt import (Alloc, Annotate, For, If, Kernel, Let, LocalDecl, Parallel, Scope, Seq, Stmt, Store, TileLoop,
                           TileOp, WarpSpecialize, While, seq)
from tilec.ir.visit import walk
from tilec.layout.fragment import Fragment
from tilec.layout.smem_tile import smem_tile_offset

# (op class, target family) -> rule(ctx, op) -> Stmt. Filled by the lower_<op> modules at import.
RULES: dict[tuple[type, str], Callable] = {}


def rule(op_class: type, *families: str) -> Callable:
    def deco(f: Callable) -> Callable:
        for fam in families:
            RULES[(op_class, fam)] = f
        return f

    return deco


class LowerCtx:
    """What lowering rules need: the kernel's layouts, thread count, index arithmetic and fresh names."""

    def __init__(self, fn: PrimFunc, kernel: Kernel, family: str, names: set):
        self.fn = fn
        self.kernel = kernel
        self.family = family
        self.threads = kernel.threads
        self.layouts: dict = fn.attrs.get("layouts", {})
        self.loop_layouts: dict = fn.attrs.get("loop_layouts", {})
        self.gemm_warps: dict = fn.attrs.get("gemm_warps", {})
        self.names = names
        self.tid = ThreadIdx(extent=kernel.threads)
        self.extra_allocs: list[Stmt] = []
        self.swizzle: tuple = ()
        self.tensor_maps: dict = {}  # name -> TensorMapSpec, filled by the TMA copy rule
        self._slot_cache: dict = {}

    def fresh(self, prefix: str) -> str:
        i = 0
        while f"{prefix}_{i}" in self.names:
            i += 1
        name = f"{prefix}_{i}"
        self.names.add(name)
        return name

    def frag(self, buf: Buffer) -> Fragment:
        f = self.layouts.get(buf)
        if f is None:
            raise TilecError(f"no layout for fragment {buf.name} (internal error, please report)", buf.loc)
        return f

    # ---- index arithmetic --------------------------------------------------------------------------
    def flat(self, buf: Buffer, idx: tuple) -> Expr:
        """Flat element offset of idx in a global/shared/local/var buffer (shared: swizzled tile layout)."""
        idx = tuple(const(i) for i in idx)
        if buf.scope == "var":
            return const(0)
        if buf.scope == "shared" and buf.ndim >= 2:
            rows, cols = int(buf.shape[-2]), int(buf.shape[-1])
            lead = _row_major(idx[:-2], buf.shape[:-2])
            inner = smem_tile_offset(idx[-2], idx[-1], rows, cols, buf.dtype.bytes)
            return simplify(binop("+", binop("*", lead, rows * cols), inner) if buf.ndim > 2 else inner)
        return simplify(_row_major(idx, buf.shape))

    def lower_expr(self, e: object, frag_slot: Callable | None = None) -> Expr:
        """Rewrite Loads to flat form; fragment loads go through frag_slot(load) -> local index."""
        e = const(e)  # type: ignore[arg-type]
        return simplify(_map_loads(e, lambda ld: self._lower_load(ld, frag_slot)))

    def _lower_load(self, ld: Load, frag_slot: Callable | None) -> Expr:
        idx = tuple(self.lower_expr(i, frag_slot) for i in ld.indices)
        if ld.buffer.scope == "fragment":
            if frag_slot is None:
                raise TilecError(f"fragment {ld.buffer.name} can only be read element-wise inside T.Parallel "
                                 "(each thread holds only part of it)", ld.loc)
            return Load(ld.buffer, (const(frag_slot(ld.buffer, ld.indices)),), ld.dtype, ld.loc)
        return Load(ld.buffer, (self.flat(ld.buffer, idx),), ld.dtype, ld.loc)

    # ---- fragments seen through a loop layout -----------------------------------------------------------
    def slots(self, buf: Buffer, loop: Fragment, dims: tuple) -> list[int]:
        """For each local index v of `loop`, the local index of `buf` holding loop-element v's projection onto
        `dims`; the same for every thread (else TilecError: the layouts do not line up)."""
        key = (buf, loop.key, dims)
        if key in self._slot_cache:
            return self._slot_cache[key]
        f = self.frag(buf)
        lut = np.full((f.threads,) + tuple(f.shape), -1, np.int64)
        tab = f.table()
        t_idx = np.repeat(np.arange(f.threads), f.nlocal)
        flat_tab = tab.reshape(-1, len(f.shape))
        v_idx = np.tile(np.arange(f.nlocal), f.threads)
        order = np.arange(len(v_idx))[::-1]  # write in reverse so the first v of a duplicate wins
        lut[(t_idx[order],) + tuple(flat_tab[order].T)] = v_idx[order]
        lt = loop.table()[:, :, list(dims)]
        got = lut[(np.arange(loop.threads)[:, None],) + tuple(lt[..., d] for d in range(len(dims)))]
        out = []
        for v in range(loop.nlocal):
            col = got[:, v]
            if (col < 0).any() or (col != col[0]).any():
                raise TilecError(f"fragment {buf.name} is laid out as {f.key[0]} but is used in a loop laid out as "
                                 f"{loop.key[0]}, and the threads do not hold matching elements; copy it into a "
                                 "fragment that the loop's other operands share", buf.loc)
            out.append(int(col[0]))
        self._slot_cache[key] = out
        return out


def _row_major(idx: tuple, shape: tuple) -> Expr:
    off: Expr = const(0)
    for i, d in zip(idx, shape):
        off = binop("+", binop("*", off, d), i)
    return simplify(off)


def _map_loads(e: Expr, fn: Callable) -> Expr:
    """Rebuild e with every Load replaced by fn(load) (inner loads are the callee's business)."""
    from dataclasses import fields, is_dataclass

    if isinstance(e, Load):
        return fn(e)
    if not is_dataclass(e):
        return e
    kw = {}
    for f in fields(e):
        v = getattr(e, f.name)
        if isinstance(v, Expr):
            nv = _map_loads(v, fn)
            if nv is not v:
                kw[f.name] = nv
        elif isinstance(v, tuple) and v and all(isinstance(x, Expr) for x in v):
            nt = tuple(_map_loads(x, fn) for x in v)
            if any(a is not b for a, b in zip(nt, v)):
                kw[f.name] = nt
    return replace(e, **kw) if kw else e


# ---- T.Parallel ----------------------------------------------------------------------------------------
def lower_parallel(ctx: LowerCtx, p: Parallel, loop: Fragment | None = None) -> Stmt:
    """One unrolled copy of the body per local index v of the loop's layout, with the loop variables bound to
    the coordinates thread t holds at v, and fragment accesses turned into constant local indices."""
    loop = loop or ctx.loop_layouts.get(p)
    if loop is None:
        raise TilecError("no layout for this T.Parallel loop (internal error, please report)", p.loc)
    pos = {v: i for i, v in enumerate(p.vars)}
    copies = []
    for v in range(loop.nlocal):
        coords = loop.coords(ctx.tid, v)
        mapping = {var: simplify(coords[k]) for var, k in pos.items()}

        def slot(buf: Buffer, indices: tuple, v: int = v) -> int:
            dims = tuple(pos[i] for i in indices if isinstance(i, Var) and i in pos)
            if len(dims) != len(indices):
                raise TilecError(f"fragment {buf.name} must be indexed by the T.Parallel loop variables", p.loc)
            return ctx.slots(buf, loop, dims)[v]

        copies.append(Scope(_lower_body(ctx, p.body, mapping, slot)))
    if p.skip_unit is not None:
        return _skip_unit_guard(p, copies)
    return seq(*copies)


def _check_scaling_store(p: Parallel) -> None:
    """TilecError unless the body of T.Parallel(skip_unit=f) is one store x[...] = x[...] * f[...] (either order)."""
    body = p.body.stmts if isinstance(p.body, Seq) else (p.body,)
    f = p.skip_unit
    want = (f"T.Parallel(skip_unit={f.name}): the body must be one scaling store x[...] = x[...] * {f.name}[...] "
            "(or x[...] *= ...)")
    if len(body) != 1 or not isinstance(body[0], Store):
        raise TilecError(f"{want}; got {len(body)} statement(s)", p.loc)
    st = body[0]
    v = st.value
    ops = (v.a, v.b) if isinstance(v, BinOp) and v.op == "*" else ()
    same = [o for o in ops if isinstance(o, Load) and o.buffer is st.buffer and o.indices == st.indices]
    factor = [o for o in ops if isinstance(o, Load) and o.buffer is f]
    if not same or not factor or st.buffer is f:
        raise TilecError(f"{want}; got a store into {st.buffer.name} of another value", p.loc)


def _skip_unit_guard(p: Parallel, copies: list) -> Stmt:
    """The lowered copies of a skip_unit loop behind one warp vote: run unless every factor this thread multiplies
    by is exactly 1.0 on every thread of the warp (so the branch is warp-uniform); x * 1.0 == x, so skipping them
    changes nothing."""
    _check_scaling_store(p)
    f = p.skip_unit
    slots = sorted({int(ld.indices[0].value) for c in copies for x in walk(c) if isinstance(x, Store)
                    for ld in loads(x.value) if ld.buffer is f})
    if not slots:  # this thread holds no element of the loop
        return seq(*copies)
    changes = None
    for k in slots:
        ne = binop("!=", Load(f, (const(k),), f.dtype), const(1.0, f.dtype))
        changes = ne if changes is None else binop("or", changes, ne)
    return If(Call("tilec::warp_any", (changes,), dt.boolean), seq(*copies), None, p.loc)


def _lower_body(ctx: LowerCtx, s: Stmt, mapping: dict, slot: Callable) -> Stmt:
    def ex(e: object) -> Expr:
        return ctx.lower_expr(substitute_keep_loads(const(e), mapping), slot)  # type: ignore[arg-type]

    if isinstance(s, Seq):
        return seq(*(_lower_body(ctx, x, mapping, slot) for x in s.stmts))
    if isinstance(s, Store):
        val = ex(s.value)
        if s.buffer.scope == "fragment":
            return Store(s.buffer, (const(slot(s.buffer, s.indices)),), val, s.loc)
        idx = tuple(ex(i) for i in s.indices)
        return Store(s.buffer, (ctx.flat(s.buffer, idx),), val, s.loc)
    if isinstance(s, Let):
        nv = Var(ctx.fresh(s.var.name), s.var.dtype)
        mapping[s.var] = nv
        return Let(nv, ex(s.value), s.loc)
    if isinstance(s, If):
        return If(ex(s.cond), _lower_body(ctx, s.then, dict(mapping), slot),
                  None if s.else_ is None else _lower_body(ctx, s.else_, dict(mapping), slot), s.loc)
    if isinstance(s, For):
        return replace(s, start=ex(s.start), extent=ex(s.extent), body=_lower_body(ctx, s.body, mapping, slot))
    raise TilecError(f"{type(s).__name__} is not allowed inside T.Parallel (only element-wise statements)",
                     getattr(s, "loc", None))


def substitute_keep_loads(e: Expr, mapping: dict) -> Expr:
    """substitute() that leaves fragment-load indices alone (they name loop variables, resolved by slot)."""
    from dataclasses import fields, is_dataclass

    if isinstance(e, Var):
        return const(mapping[e]) if e in mapping else e
    if (isinstance(e, Load) and e.buffer.scope == "fragment") or not is_dataclass(e):
        return e
    kw = {}
    for f in fields(e):
        v = getattr(e, f.name)
        if isinstance(v, Expr):
            kw[f.name] = substitute_keep_loads(v, mapping)
        elif isinstance(v, tuple) and v and all(isinstance(x, Expr) for x in v):
            kw[f.name] = tuple(substitute_keep_loads(x, mapping) for x in v)
    return replace(e, **kw) if kw else e


# ---- statements --------------------------------------------------------------------------------------
def _lower_stmt(ctx: LowerCtx, s: Stmt) -> Stmt | None:
    if isinstance(s, Seq):
        return seq(*(_lower_stmt(ctx, x) for x in s.stmts))
    if isinstance(s, Alloc):
        b = s.buffer
        if b.scope == "shared":
            return s
        size = ctx.frag(b).nlocal if b.scope == "fragment" else b.numel()
        decl = LocalDecl(b, size, s.loc)
        if s.init is not None:
            return seq(decl, Store(b, (const(0),), ctx.lower_expr(s.init), s.loc))
        return decl
    if isinstance(s, Parallel):
        return Scope(lower_parallel(ctx, s), s.loc, unit=True)
    if isinstance(s, TileOp):
        r = RULES.get((type(s), ctx.family)) or RULES.get((type(s), "sm80"))
        if r is None:
            raise TilecError(f"no {ctx.family} lowering for T.{type(s).__name__.lower()}", s.loc)
        out = r(ctx, s)
        if isinstance(out, Scope):
            return replace(out, unit=True)
        return Scope(out, s.loc, unit=True)
    if isinstance(s, Store):
        if s.buffer.scope == "fragment":
            raise TilecError(f"fragment {s.buffer.name} can only be written element-wise inside T.Parallel", s.loc)
        idx = tuple(ctx.lower_expr(i) for i in s.indices)
        return Store(s.buffer, (ctx.flat(s.buffer, idx),), ctx.lower_expr(s.value), s.loc)
    if isinstance(s, Let):
        return Let(s.var, ctx.lower_expr(s.value), s.loc)
    if isinstance(s, For):
        return replace(s, start=ctx.lower_expr(s.start), extent=ctx.lower_expr(s.extent),
                       body=_lower_stmt(ctx, s.body) or Seq(()), kind="unroll" if s.kind == "unroll" else "serial")
    if isinstance(s, While):
        return replace(s, cond=ctx.lower_expr(s.cond), body=_lower_stmt(ctx, s.body) or Seq(()))
    if isinstance(s, If):
        return If(ctx.lower_expr(s.cond), _lower_stmt(ctx, s.then) or Seq(()),
                  None if s.else_ is None else _lower_stmt(ctx, s.else_), s.loc)
    if isinstance(s, WarpSpecialize):
        return replace(s, producer=_lower_stmt(ctx, s.producer) or Seq(()),
                       consumer=_lower_stmt(ctx, s.consumer) or Seq(()))
    if isinstance(s, TileLoop):
        return replace(s, body=_lower_stmt(ctx, s.body) or Seq(()))
    if isinstance(s, Scope):  # a scope of tile-level statements (schedule_consumers' group instances)
        return replace(s, body=_lower_stmt(ctx, s.body) or Seq(()))
    if isinstance(s, Annotate):
        if s.kind == "swizzle":
            panel, order, enable = s.value  # type: ignore[misc]
            if enable:
                ctx.swizzle = (panel, order)
        return None
    return s  # already low-level (Sync, DeviceCall, VecCopy, Scope, ...)


def lower_tile_ops(fn: PrimFunc, target: object) -> PrimFunc:
    """See the module docstring."""
    from tilec.transform import lower_copy, lower_gemm, lower_reduce, lower_tma  # noqa: F401 (register rules)

    family = fn.attrs.get("lowering", "sm80")
    names = {x.name for x in _all_names(fn)}

    def lower_kernel(k: Kernel) -> Kernel:
        ctx = LowerCtx(fn, k, family, names)
        body = _lower_stmt(ctx, k.body) or Seq(())
        return replace(k, body=seq(*ctx.extra_allocs, body), swizzle=ctx.swizzle,
                       tensor_maps=tuple(ctx.tensor_maps.values()))

    def top(s: Stmt) -> Stmt:
        if isinstance(s, Seq):
            return seq(*(top(x) for x in s.stmts))
        if isinstance(s, Kernel):
            return lower_kernel(s)
        if isinstance(s, TileOp) or isinstance(s, (Alloc, Parallel)):
            raise TilecError("tile operations must be inside a `with T.Kernel(...)` block", getattr(s, "loc", None))
        return s

    return fn.with_body(top(fn.body))


def _all_names(fn: PrimFunc) -> list:
    out: list = [p.buffer or p.var for p in fn.params] + list(fn.sym_dims)
    for s in walk(fn.body):
        for f in ("buffer", "var"):
            x = getattr(s, f, None)
            if x is not None and hasattr(x, "name"):
                out.append(x)
        if isinstance(s, Kernel):
            out.extend(s.block_vars)
        if isinstance(s, Parallel):
            out.extend(s.vars)
    return out
