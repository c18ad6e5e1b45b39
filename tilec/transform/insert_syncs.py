"""Insert __syncthreads() where threads of a block hand shared memory to each other.

Pre:  lowered IR (per-thread code; shared accesses are Loads/Stores/VecCopies/device calls on shared buffers).
Post: before any statement that reads a shared buffer written since the last barrier (RAW), or writes one
      read or written since then (WAR/WAW), there is a Sync. Loops are analysed with the state at the end
      of their body flowing back to their start. Writes inside Scope(async_group=True) (pipelined cp.async
      copies) are ordered by the pipeline's own barriers and are not tracked.
      TMA stores (tilec::tma_store) read their shared tile asynchronously, after the issuing thread moved on: a
      barrier does not end those reads, only cp.async.bulk.wait_group.read does. So a write to a tile that a TMA
      store may still be reading gets `cp_async_bulk_wait_group_read<n>(); barrier` before it, n = the number of
      bulk groups committed after the newest one that reads the tile (each statement issuing TMA stores commits
      one group; every thread waits for its own groups, a no-op for threads that issued none), so stores from
      other tiles (double-buffered staging) may stay in flight; and a kernel (or warp-specialized consumer) that
      issued TMA stores ends with the wait for all, so that its shared memory outlives the reads.
A barrier that a hazard between a loop's predecessors and its body needs goes before the loop (once), not into
      every iteration. A barrier before wgmmas is preceded by fence.proxy.async.shared::cta (the wgmmas read shared
      memory through the async proxy, which must see the threads' generic stores).
Conservative by buffer, not by element: two disjoint regions of one buffer still get a barrier.
"""
from __future__ import annotations

from dataclasses import replace

from tilec.ir.expr import Expr, Load, ThreadIdx, loads
from tilec.ir.func import PrimFunc
from tilec.ir.stmt import (BufferPtr, DeviceCall, For, If, Kernel, Let, LoadVec, Scope, Seq, Stmt, Store, StoreVec,
                           Sync, TileLoop, VecCopy, WarpSpecialize, While, seq)
from tilec.ir.visit import walk

_READ_ONLY_CALLS = ("tilec::gemm_ss", "tilec::gemm_rs", "tilec::wgmma_gemm_ss", "tilec::wgmma_gemm_rs",
                    "tilec::wgmma_gemm_ss_async", "tilec::wgmma_gemm_rs_async")
# Calls on mbarriers: ordered by the barrier protocol itself, never by __syncthreads().
_MBARRIER_CALLS = ("tilec::mbarrier_init", "tilec::mbarrier_wait", "tilec::mbarrier_arrive_expect_tx",
                   "tilec::mbarrier_arrive_warp", "tilec::mbarrier_arrive_warp_cluster", "tilec::tma_load",
                   "tilec::tma_load_multicast")
# Calls whose reads of a shared buffer go on after they return (bulk async-groups of TMA stores).
_ASYNC_READ_CALLS = ("tilec::tma_store",)


def bulk_read_wait(loc: object = None, pending: int = 0) -> Stmt:
    """Wait until at most `pending` of this thread's newest TMA-store groups may still be reading shared memory."""
    return DeviceCall("tilec::cp_async_bulk_wait_group_read", (), (pending,), loc)


def _shared_loads(*exprs: object) -> set:
    out = set()
    for e in exprs:
        if isinstance(e, Expr):
            out |= {ld.buffer for ld in loads(e) if ld.buffer.scope == "shared"}
    return out


def _access(s: Stmt) -> tuple[set, set, set]:
    """(shared buffers read, written, read asynchronously by TMA stores) by a simple (non-compound) statement."""
    r: set = set()
    w: set = set()
    a: set = set()
    if isinstance(s, Store):
        r = _shared_loads(s.value, *s.indices)
        if s.buffer.scope == "shared":
            w.add(s.buffer)
    elif isinstance(s, Let):
        r = _shared_loads(s.value)
    elif isinstance(s, StoreVec):
        r = _shared_loads(s.offset, *s.values)
        if s.buffer.scope == "shared":
            w.add(s.buffer)
    elif isinstance(s, LoadVec):
        if s.src.scope == "shared":
            r.add(s.src)
    elif isinstance(s, VecCopy):
        r = _shared_loads(s.pred)
        if s.src.buffer.scope == "shared":
            r.add(s.src.buffer)
        if s.dst.buffer.scope == "shared":
            w.add(s.dst.buffer)
    elif isinstance(s, DeviceCall) and s.fn not in _MBARRIER_CALLS:
        for x in s.args:
            if isinstance(x, BufferPtr) and x.buffer.scope == "shared":
                r.add(x.buffer)
                if s.fn in _ASYNC_READ_CALLS:
                    a.add(x.buffer)
                elif s.fn not in _READ_ONLY_CALLS:
                    w.add(x.buffer)
    return r, w, a


def _divergent(e: Expr) -> bool:
    """Whether a condition may differ between the threads of a block (mentions the thread index or
    per-thread storage)."""
    from dataclasses import fields, is_dataclass

    if isinstance(e, ThreadIdx):
        return True
    if isinstance(e, Load) and e.buffer.scope in ("fragment", "local", "var"):
        return True
    if not is_dataclass(e):
        return False
    for f in fields(e):
        v = getattr(e, f.name)
        if isinstance(v, Expr) and _divergent(v):
            return True
        if isinstance(v, tuple) and any(isinstance(x, Expr) and _divergent(x) for x in v):
            return True
    return False


def _has_sync(s: Stmt) -> bool:
    return any(isinstance(x, Sync) for x in walk(s))


def _unit_access(s: Stmt) -> tuple[set, set, set]:
    r: set = set()
    w: set = set()
    a: set = set()
    for x in walk(s):
        if isinstance(x, If):
            r |= _shared_loads(x.cond)
        elif isinstance(x, (For, While)):
            r |= _shared_loads(getattr(x, "cond", None), getattr(x, "extent", None))
        else:
            xr, xw, xa = _access(x)
            r |= xr
            w |= xw
            a |= xa
    return r, w, a


class _State:
    """Shared buffers read (r) and written (w) since the last barrier, and the TMA-store groups that may still be
    reading (groups: the buffers of each committed group, oldest first, since the last
    cp.async.bulk.wait_group.read that covers them; a barrier does not clear them)."""

    def __init__(self, r: set | None = None, w: set | None = None, groups: tuple = ()):
        self.r = set(r or ())
        self.w = set(w or ())
        self.groups = tuple(groups)

    @property
    def bulk(self) -> set:
        return set().union(*self.groups)

    def copy(self) -> "_State":
        return _State(self.r, self.w, self.groups)

    def merge(self, o: "_State") -> "_State":
        """Both paths' accesses; the groups of either when the other has none or the same, else one group of all
        (wait for every store: conservative)."""
        if not self.groups or self.groups == o.groups:
            groups = o.groups
        elif not o.groups:
            groups = self.groups
        else:
            groups = (frozenset(self.bulk | o.bulk),)
        return _State(self.r | o.r, self.w | o.w, groups)

    def after_barrier(self) -> "_State":
        return _State(groups=self.groups)


def _barrier_before(st: _State, r: set, w: set, a: set, loc: object) -> tuple[Stmt | None, _State]:
    """The barrier (None, a Sync, or a TMA-store read wait + Sync) an access (r, w, a) needs after state st, and
    the state after the access."""
    pre, st = _barrier_only(st, r, w, loc)
    return pre, _State(st.r | r, st.w | w, st.groups + ((frozenset(a),) if a else ()))


def _barrier_only(st: _State, r: set, w: set, loc: object) -> tuple[Stmt | None, _State]:
    """The barrier an access (r, w) needs after state st, and the state right after that barrier."""
    if w & st.bulk:
        newest = max(i for i, g in enumerate(st.groups) if w & g)
        pending = len(st.groups) - 1 - newest
        return seq(bulk_read_wait(loc, pending), Sync(loc)), _State(groups=st.groups[newest + 1:])
    if (r & st.w) or (w & (st.r | st.w)):
        return Sync(loc), st.after_barrier()
    return None, st


def _visit(s: Stmt | None, st: _State, async_group: bool) -> tuple[Stmt | None, _State]:
    if s is None:
        return None, st
    if isinstance(s, Seq):
        out = []
        for x in s.stmts:
            nx, st = _visit(x, st, async_group)
            out.append(nx)
        return seq(*out), st
    if isinstance(s, Sync):
        return s, st.after_barrier()
    if isinstance(s, WarpSpecialize):
        # The producer (one thread issuing TMA) is ordered with the consumers by the stage mbarriers, so no
        # barrier goes into it; the consumers synchronise among themselves (named barriers in codegen).
        consumer, st = _visit(s.consumer, st, async_group)
        consumer, st = _drain_at_exit(consumer, st)
        return replace(s, consumer=consumer), st
    if isinstance(s, Scope) and s.unit and not _has_sync(s.body):
        r, w, a = _unit_access(s.body)
        if async_group or s.async_group:
            w = set()
        pre, st = _barrier_before(st, r, w, a, s.loc)
        return (seq(_fenced(pre, s), s) if pre else s), st
    if isinstance(s, Scope):
        body, st = _visit(s.body, st, async_group or s.async_group)
        return replace(s, body=body), st
    if isinstance(s, If) and _divergent(s.cond):
        # A barrier inside a branch some threads skip would deadlock: treat the branch as one access.
        r, w, a = _unit_access(s)
        if async_group:
            w = set()
        if _has_sync(s):
            raise AssertionError("a barrier inside a thread-dependent branch (internal error, please report)")
        pre, st = _barrier_before(st, r, w, a, s.loc)
        return (seq(pre, s) if pre else s), st
    if isinstance(s, If):
        pre = None
        r = _shared_loads(s.cond)
        if r & st.w:
            pre, st = Sync(s.loc), st.after_barrier()
        then, s1 = _visit(s.then, st.copy(), async_group)
        other, s2 = _visit(s.else_, st.copy(), async_group)
        node = replace(s, then=then, else_=other)
        return seq(pre, node) if pre else node, s1.merge(s2)
    if isinstance(s, (For, While, TileLoop)):
        # A hazard between what precedes the loop and its body is resolved once, before the loop, rather than by a
        # barrier in every iteration (e.g. a tile loaded before a loop that only reads it).
        pre = None
        if not async_group:
            r, w, _ = _unit_access(s.body)
            pre, st = _barrier_only(st, r, w, s.loc)
            if pre is not None:
                pre = _fenced(pre, s.body)
        _, end = _visit(s.body, st.copy(), async_group)
        body, end2 = _visit(s.body, st.merge(end), async_group)
        node = replace(s, body=body)
        return (seq(pre, node) if pre else node), st.merge(end2)
    r, w, a = _access(s)
    if async_group:
        w = set()
    pre, st = _barrier_before(st, r, w, a, getattr(s, "loc", None))
    return (seq(_fenced(pre, s), s) if pre else s), st


def _fenced(pre: Stmt, s: Stmt) -> Stmt:
    """`pre` (a barrier before s), preceded by fence.proxy.async when s issues wgmmas: they read their shared operands
    through the async proxy, which sees the threads' earlier st.shared only after that fence."""
    if any(isinstance(x, DeviceCall) and x.fn.startswith("tilec::wgmma") for x in walk(s)):
        return seq(DeviceCall("tilec::fence_proxy_async_shared_cta", (), (), getattr(s, "loc", None)), pre)
    return pre


def _drain_at_exit(body: Stmt, st: _State) -> tuple[Stmt, _State]:
    """End `body` with the TMA-store read wait when stores may still be reading its shared memory."""
    if not st.groups:
        return body, st
    return seq(body, bulk_read_wait()), _State(st.r, st.w)


def insert_syncs(fn: PrimFunc, target: object = None) -> PrimFunc:
    """See the module docstring."""

    def top(s: Stmt) -> Stmt:
        if isinstance(s, Seq):
            return seq(*(top(x) for x in s.stmts))
        if isinstance(s, Kernel):
            body, st = _visit(s.body, _State(), False)
            body, _ = _drain_at_exit(body, st)
            return replace(s, body=body)
        return s

    return fn.with_body(top(fn.body))
