"""Deferred lane reductions: a running sum fed by row sums is combined across lanes once, after its loop.

FlashAttention's online softmax keeps `l = l * alpha + rowsum(P)` per K/V step. Lowered directly, every step's
T.reduce_sum ends in butterfly shuffles over the lanes that share a row (the quad of an MMA accumulator). The sum
is linear, so each lane can instead keep its own partial `l` (its own columns' sums, rescaled by the same row-wide
alpha) and the lanes combine their partials once, where `l` is first read for anything else: the loop loses the
shuffles (4 SHFL + 4 FADD a step for 64x128 wgmma tiles) and ptxas gets a freer main loop.

Pre:  infer_layout has run (attrs["layouts"] holds every fragment's layout); tile ops not yet lowered.
Post: for every fragment `acc` that qualifies (below), the T.reduce_sum ops feeding it have `lanes=False` (each lane
      keeps its partial) and a LaneSum(acc) sits right after the last statement that updates it, in the same
      statement list; attrs["lowering_notes"] names the deferred buffers. Everything else is unchanged. The
      interpreter's results are unchanged (a partial reduction interprets as the whole one, LaneSum as nothing).

`acc` qualifies when, in one statement list S of a kernel:
  * a direct child of S is T.fill(acc, 0) (so every round of updates starts from zeros, also inside a tile loop);
  * every later access of acc up to the last update is an update `acc[i] = acc[i] * a + r[i]` (or `acc[i] + r[i]`,
    operands in either order) in a one-statement T.Parallel, with `a` not reading acc or r;
  * each such r is written only by T.reduce_sum(src, r, clear=True) whose combining group is lanes of one warp
    (no cross-warp step), r is read only by these updates, and r and acc have the same layout;
  * acc is not accessed outside S, nor in S before the fill.
The partials are exact replicas of the per-lane structure the reduction already had: alpha is a row-wide value
(every lane of the group holds the same element), so the combined partials equal the reduced sums up to the order
of the additions. T.annotate_defer_reductions(False) turns the pass off for a kernel.
"""
from __future__ import annotations

from dataclasses import fields, replace

from tilec.ir.buffer import Buffer, Region
from tilec.ir.expr import BinOp, Const, Expr, Load, loads
from tilec.ir.func import PrimFunc
from tilec.ir.stmt import Alloc, Annotate, BufferPtr, Kernel, Parallel, Seq, Stmt, Store, TileOp
from tilec.ir.visit import body_fields, rewrite, walk
from tilec.language.fill import Fill
from tilec.language.reduce import LaneSum, Reduce
from tilec.transform.lower_reduce import lane_group_mask


def _exprs_of(s: Stmt) -> list:
    """The expressions and buffer references a statement holds itself (not in its child statements)."""
    out: list = []
    skip = set(body_fields(s))
    for f in fields(s):
        if f.name in skip or f.name == "loc":
            continue
        v = getattr(s, f.name)
        for x in (v if isinstance(v, tuple) else (v,)):
            if isinstance(x, (Expr, Buffer, BufferPtr, Region)):
                out.append(x)
    return out


def _touches(s: Stmt, buf: Buffer) -> bool:
    """Whether s or any statement below it reads or writes buf."""
    return any(_direct_touch(x, buf) for x in walk(s))


def _zero_fill(s: Stmt, acc: Buffer) -> bool:
    """Whether s is T.fill(acc, 0) over the whole buffer."""
    return isinstance(s, Fill) and s.dst.buffer is acc and s.dst.is_full() and isinstance(s.value, Const) \
        and s.value.value == 0


def _update_of(s: Stmt) -> tuple | None:
    """(acc, r) when s is a one-statement T.Parallel `acc[i] = acc[i] * a + r[i]` / `acc[i] + r[i]` (any operand
    order) with `a` reading neither; None otherwise."""
    if not isinstance(s, Parallel) or len(s.vars) != 1 or not isinstance(s.body, Store):
        return None
    st, i = s.body, s.vars[0]
    if len(st.indices) != 1 or st.indices[0] is not i or not isinstance(st.value, BinOp) or st.value.op != "+":
        return None

    def elem(e: Expr, b: Buffer | None) -> Buffer | None:  # e is b[i] (any buffer when b is None)
        if isinstance(e, Load) and len(e.indices) == 1 and e.indices[0] is i and (b is None or e.buffer is b):
            return e.buffer
        return None

    def scaled(e: Expr) -> bool:  # acc[i] or acc[i] * a / a * acc[i]
        if elem(e, st.buffer):
            return True
        return isinstance(e, BinOp) and e.op == "*" and any(
            elem(x, st.buffer) and all(ld.buffer is not st.buffer for ld in loads(y))
            for x, y in ((e.a, e.b), (e.b, e.a)))

    for x, y in ((st.value.a, st.value.b), (st.value.b, st.value.a)):
        r = elem(y, None)
        if r is not None and r is not st.buffer and scaled(x) and all(ld.buffer is not r for ld in loads(x)):
            return st.buffer, r
    return None


def _plan(kernel: Kernel, layouts: dict) -> tuple[dict, dict]:
    """({Reduce: None} to make partial, {id(S): (S, {child index: [LaneSum, ...]})}) for every qualifying acc."""
    stmts = list(walk(kernel.body))
    updates: dict = {}  # acc -> [(Parallel, r)]
    for s in stmts:
        u = _update_of(s)
        if u is not None:
            updates.setdefault(u[0], []).append((s, u[1]))
    partial: dict = {}
    inserts: dict = {}
    for acc, ups in updates.items():
        plan = _plan_acc(stmts, acc, ups, layouts)
        if plan is None:
            continue
        reduces, seq_, after, mask = plan
        partial.update(dict.fromkeys(reduces))
        inserts.setdefault(id(seq_), (seq_, {}))[1].setdefault(after, []).append(LaneSum(acc, mask, acc.loc))
    return partial, inserts


def _plan_acc(stmts: list, acc: Buffer, ups: list, layouts: dict) -> tuple | None:
    if acc.scope != "fragment" or layouts.get(acc) is None:
        return None
    upd_stmts = {id(p) for p, _ in ups} | {id(p.body) for p, _ in ups}
    mask = None
    reduces = []
    for r in {id(r): r for _, r in ups}.values():
        if r.scope != "fragment" or layouts.get(r) != layouts.get(acc):
            return None
        for s in stmts:  # r: written only by lane-group sums, read only by acc's updates
            if isinstance(s, Reduce) and s.dst is r:
                m = lane_group_mask(s, layouts)
                if s.kind != "sum" or not s.clear or s.src is r or m is None or (mask is not None and m != mask):
                    return None
                mask = m
                reduces.append(s)
            elif id(s) not in upd_stmts and not isinstance(s, (Seq, Kernel)) and _direct_touch(s, r):
                return None
    if not reduces or not mask:
        return None
    # the statement list S holding the fill and (in later children) every access up to the last update
    for s in stmts:
        if not isinstance(s, Seq):
            continue
        kids = s.stmts
        f = next((j for j, c in enumerate(kids) if _zero_fill(c, acc)), None)
        if f is None:
            continue
        inside = {id(x) for c in kids for x in walk(c)}
        holders = [j for j, c in enumerate(kids) if _touches(c, acc)]
        outside = any(_direct_touch(x, acc) for x in stmts if id(x) not in inside)
        if outside or holders[0] != f or not all(id(p) in inside for p, _ in ups):
            return None
        last = max(j for j, c in enumerate(kids) if any(id(x) in upd_stmts for x in walk(c)))
        for j in range(f + 1, last + 1):  # between the fill and the last update: updates (and fills of 0) only
            for x in walk(kids[j]):
                if id(x) not in upd_stmts and _direct_touch(x, acc) and not _zero_fill(x, acc):
                    return None
        return reduces, s, last, mask
    return None


def _direct_touch(s: Stmt, buf: Buffer) -> bool:
    """Whether s itself (not its child statements) accesses buf."""
    if isinstance(s, TileOp):
        return any(r.buffer is buf for r in s.regions())
    if isinstance(s, (Parallel, Alloc)):  # a loop's body holds its accesses; a declaration is none
        return False
    for e in _exprs_of(s):
        if e is buf or (isinstance(e, (BufferPtr, Region)) and e.buffer is buf):
            return True
        if isinstance(e, Expr) and any(ld.buffer is buf for ld in loads(e)):
            return True
    return False


def _enabled(kernel: Kernel) -> bool:
    flags = [bool(x.value) for x in walk(kernel.body) if isinstance(x, Annotate) and x.kind == "defer_reductions"]
    return flags[-1] if flags else True


def defer_lane_reductions(fn: PrimFunc, target: object = None) -> PrimFunc:
    """See the module docstring for pre/post-conditions."""
    layouts = fn.attrs.get("layouts", {})
    notes = dict(fn.attrs.get("lowering_notes", {}))
    kernels = [s for s in walk(fn.body) if isinstance(s, Kernel)]
    partial: dict = {}
    inserts: dict = {}
    for i, k in enumerate(kernels):
        if not _enabled(k):
            continue
        p, ins = _plan(k, layouts)
        if not ins:
            continue
        partial.update(p)
        inserts.update(ins)
        names = ", ".join(sorted(ls.buffer.name for _, at in ins.values() for lst in at.values() for ls in lst))
        what = f"row sums into {names}: combined across lanes once after the loop (per-lane partials inside it)"
        notes[i] = f"{notes[i]}; {what}" if i in notes else what
    if not partial:
        return fn
    # rebuild: statement lists first (their identity is the plan's key), then the reductions inside them
    def fix(s: Stmt) -> Stmt:
        if isinstance(s, Reduce) and s in partial:
            return replace(s, lanes=False)
        return s

    def top(s: Stmt) -> Stmt:
        if isinstance(s, Seq) and id(s) in inserts:
            at = inserts[id(s)][1]
            kids: list = []
            for j, c in enumerate(s.stmts):
                kids.append(top(c))
                kids.extend(at.get(j, ()))
            return replace(s, stmts=tuple(kids))
        changes = {}
        for f in body_fields(s):
            v = getattr(s, f)
            if isinstance(v, tuple):
                nv = tuple(top(x) for x in v)
                if any(a is not b for a, b in zip(nv, v)):
                    changes[f] = nv
            elif v is not None:
                nv = top(v)
                if nv is not v:
                    changes[f] = nv
        return replace(s, **changes) if changes else s

    body = rewrite(top(fn.body), fix)
    return fn.with_body(body, lowering_notes=notes)
