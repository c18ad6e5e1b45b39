"""Software pipelining of T.Pipelined loops for the sm80 family: multi-buffered shared memory + cp.async.

Pre:  a parsed PrimFunc; T.Pipelined loops hold plain tile ops.
Post: each For(kind="pipelined", num_stages=S >= 2) is replaced by
        prologue:  for s < S-1: if s < n: producers(s) into stage s;  commit
        loop k:    wait_group(S-2); sync; if k+S-1 < n: producers(k+S-1) into stage (k+S-1)%S; commit;
                   consumers(k) reading stage k%S
        epilogue:  wait_group(0)
      where producers are the loop body's global->shared T.copy statements (now async) whose source depends
      only on the loop variable and outer values, and consumers are the remaining statements in order.
      The shared buffers producers write gain a leading stage dimension of size S.
      Loops with num_stages < 2 become serial loops.
Why one barrier per iteration is enough: after it every thread has finished consumers(k-1), the only reader
of stage (k+S-1)%S = (k-1)%S, and the wait before it made stage k%S's data complete for this thread.
"""
from __future__ import annotations

from dataclasses import replace

from tilec.errors import TilecError
from tilec.ir.buffer import Buffer, Region
from tilec.ir.expr import Expr, Load, Var, binop, const, free_vars, substitute
from tilec.ir.func import PrimFunc
from tilec.ir.simplify import simplify
from tilec.ir.stmt import (Alloc, DeviceCall, For, If, Kernel, Let, Seq, Stmt, Store, Sync, TileOp, WarpSpecialize,
                           seq)
from tilec.ir.visit import rewrite, walk
from tilec.language.copy import Copy


def is_producer(s: Stmt, loop_var: Var, inner_vars: set) -> bool:
    if not (isinstance(s, Copy) and s.src.buffer.scope == "global" and s.dst.buffer.scope == "shared"):
        return False
    used = set()
    for e in s.src.starts:
        if isinstance(e, Expr):
            free_vars(e, used)
    return not (used & inner_vars)


def _restage_region(r: Region, staged: dict, stage: Expr) -> Region:
    nb = staged.get(r.buffer)
    if nb is None:
        return r
    return Region(nb, (stage,) + tuple(r.starts), (1,) + tuple(r.extents))


def _restage_expr(e: object, staged: dict, stage: Expr) -> object:
    if not isinstance(e, Expr):
        return e
    from tilec.ir.expr import children  # local: only this helper needs it

    if isinstance(e, Load) and e.buffer in staged:
        return Load(staged[e.buffer], (stage,) + tuple(_restage_expr(i, staged, stage) for i in e.indices),
                    e.dtype, e.loc)
    if not children(e):
        return e
    return _map_loads(e, staged, stage)


def _map_loads(e: Expr, staged: dict, stage: Expr) -> Expr:
    marker = {}
    for ld in _loads_of(e):
        if ld.buffer in staged:
            marker[ld] = Load(staged[ld.buffer], (stage,) + tuple(ld.indices), ld.dtype, ld.loc)
    if not marker:
        return e
    return _replace_loads(e, marker)


def _loads_of(e: Expr) -> list:
    from tilec.ir.expr import loads

    return loads(e)


def _replace_loads(e: Expr, marker: dict) -> Expr:
    from dataclasses import fields, is_dataclass

    if e in marker:
        return marker[e]
    if not is_dataclass(e):
        return e
    kw = {}
    for f in fields(e):
        v = getattr(e, f.name)
        if isinstance(v, Expr):
            kw[f.name] = _replace_loads(v, marker)
        elif isinstance(v, tuple) and v and all(isinstance(x, Expr) for x in v):
            kw[f.name] = tuple(_replace_loads(x, marker) for x in v)
    return replace(e, **kw) if kw else e


def restage(s: Stmt, staged: dict, stage: Expr) -> Stmt:
    def fn(x: Stmt) -> Stmt:
        if isinstance(x, TileOp):
            kw = {}
            for f in ("src", "dst", "a", "b", "c"):
                r = getattr(x, f, None)
                if isinstance(r, Region) and r.buffer in staged:
                    kw[f] = _restage_region(r, staged, stage)
            if any(getattr(x, f, None) in staged for f in ("src", "dst") if isinstance(getattr(x, f, None), Buffer)):
                raise TilecError("reductions over pipelined shared buffers are not supported yet", x.loc)
            return replace(x, **kw) if kw else x
        if isinstance(x, Store):
            idx = tuple(_restage_expr(i, staged, stage) for i in x.indices)
            val = _restage_expr(x.value, staged, stage)
            if x.buffer in staged:
                return Store(staged[x.buffer], (stage,) + idx, val, x.loc)  # type: ignore[arg-type]
            return Store(x.buffer, idx, val, x.loc)  # type: ignore[arg-type]
        if isinstance(x, Let):
            return Let(x.var, _restage_expr(x.value, staged, stage), x.loc)  # type: ignore[arg-type]
        if isinstance(x, If):
            return replace(x, cond=_restage_expr(x.cond, staged, stage))
        return x

    return rewrite(s, fn)  # type: ignore[return-value]


def subst_copy(c: Copy, var: Var, value: Expr) -> Copy:
    starts = tuple(simplify(substitute(e, {var: value})) if isinstance(e, Expr) else e for e in c.src.starts)
    return replace(c, src=Region(c.src.buffer, starts, c.src.extents), async_=True)


def _pipeline(loop: For, staged_all: dict) -> Stmt:
    s_n = loop.num_stages
    body = list(loop.body.stmts) if isinstance(loop.body, Seq) else [loop.body]
    inner = {x.var for x in walk(loop.body) if isinstance(x, Let)} | \
            {x.var for x in walk(loop.body) if isinstance(x, For)}
    producers = [x for x in body if is_producer(x, loop.var, inner)]
    if not producers:
        return replace(loop, kind="serial")
    consumers = [x for x in body if x not in producers]
    staged = {}
    for p in producers:
        b = p.dst.buffer
        if b not in staged:
            staged[b] = Buffer(b.name, (s_n,) + tuple(b.shape), b.dtype, "shared", b.loc)
    staged_all.update(staged)
    k, n, start = loop.var, loop.extent, loop.start
    commit = DeviceCall("tilec::cp_async_commit_group", ())
    prologue: list[Stmt] = []
    for st in range(s_n - 1):
        it = simplify(binop("+", start, st))
        issue = [restage(subst_copy(p, k, it), staged, const(st)) for p in producers]
        cond = simplify(binop("<", const(st), n))
        prologue.append(If(cond, seq(*issue)) if not (hasattr(cond, "value") and cond.value is True) else seq(*issue))
        prologue.append(commit)
    ahead = simplify(binop("+", k, s_n - 1))
    rel = simplify(binop("-", binop("+", k, s_n - 1), start))
    stage_next = simplify(binop("%", rel, s_n))
    stage_cur = simplify(binop("%", binop("-", k, start), s_n))
    issue = [restage(subst_copy(p, k, ahead), staged, stage_next) for p in producers]
    steady = [DeviceCall("tilec::cp_async_wait_group", (), (s_n - 2,)), Sync(loop.loc),
              If(binop("<", rel, n), seq(*issue)), commit,
              restage(seq(*consumers), staged, stage_cur)]
    new_loop = replace(loop, kind="serial", body=seq(*steady))
    return seq(*prologue, new_loop, DeviceCall("tilec::cp_async_wait_group", (), (0,)))


def pipeline_loops(fn: PrimFunc, target: object = None) -> PrimFunc:
    """See the module docstring."""
    staged_all: dict = {}

    def fn_(s: Stmt) -> Stmt:
        if isinstance(s, For) and s.kind == "pipelined":
            if s.num_stages < 2:
                return replace(s, kind="serial")
            return _pipeline(s, staged_all)
        return s

    body = rewrite(fn.body, fn_)

    def realloc(s: Stmt) -> Stmt:
        if isinstance(s, Alloc) and s.buffer in staged_all:
            return Alloc(staged_all[s.buffer], s.init, s.loc)
        return s

    body = rewrite(body, realloc)
    for s in walk(body):  # staged buffers must not be used outside their loop
        for r in (getattr(s, f, None) for f in ("src", "dst", "a", "b", "c")):
            if isinstance(r, Region) and r.buffer in staged_all:
                raise TilecError(f"{r.buffer.name} is written by a pipelined copy but also used outside that loop; "
                                 "use a separate shared buffer there", s.loc)
    out = fn.with_body(body, staged=staged_all)  # type: ignore[arg-type]
    return _without_clusters(out)


def _without_clusters(fn: PrimFunc) -> PrimFunc:
    """Kernels that are not warp-specialized launch without clusters (T.Kernel(cluster_dims=) only steers the sm_90a
    warp-specialized pipeline's multicast loads; the result is the same either way): reset with a lowering note."""
    notes = dict(fn.attrs.get("lowering_notes", {}))
    stmts = list(fn.body.stmts) if isinstance(fn.body, Seq) else [fn.body]
    out, changed, index = [], False, 0
    for st in stmts:
        if isinstance(st, Kernel):
            if tuple(st.cluster) != (1, 1, 1) and not any(isinstance(x, WarpSpecialize) for x in walk(st.body)):
                what = f"cluster_dims={tuple(st.cluster)} ignored: clusters serve the sm_90a warp-specialized pipeline"
                notes[index] = f"{notes[index]}; {what}" if index in notes else what
                st, changed = replace(st, cluster=(1, 1, 1)), True
            index += 1
        out.append(st)
    return fn.with_body(seq(*out), lowering_notes=notes) if changed else fn
