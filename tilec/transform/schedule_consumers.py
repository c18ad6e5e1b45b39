"""The consumer side of a warp-specialized loop scheduled by T.Pipelined's order/stage/group annotations (sm_90a).

Used by specialize_warps when the T.Pipelined loop carries them, e.g. FlashAttention's
    T.Pipelined(n, num_stages=2, order=[-1, 0, 3, 1, -1, 2], stage=[-1, 0, 0, 1, -1, 1],
                group=[[0], [1, 2], [3, ..., 9], [10], [11], [12]])
group: the loop body's top-level statements (by index) split into groups (default: one per statement); stage[g]
and order[g] per group. Producer groups (the global->shared copies the producer warp issues as TMA) have stage -1
and order -1. A consumer group of stage d works, in iteration k, on k-step k - d (d = 0 or 1): with d = 1 it runs
one iteration late. order is the position of the group in the scheduled iteration.

Pre:  groups, stages and orders as above (parse_groups raises TilecError otherwise); the schedule keeps every
      dependence of the source loop between consumer groups (check_dependences raises TilecError, naming the two
      statements and the buffer, when it does not); each producer copy has its own full/empty mbarrier ring.
Post: the consumers' code for the loop, in place of the source loop:
        if n > 0:
          iteration start      : the stage-0 groups for k-step start               (the prologue)
          for kk in start+1 .. start+n-1: every group in `order`, stage d on k-step kk - d
          iteration start + n  : the stage-1 groups for k-step start + n - 1      (the epilogue)
      Each group instance runs in a scope binding the loop variable to its k-step. T.gemm ops are issued without
      waiting (wg_wait=-1); a wgmma.wait_group<N> (N = groups issued since) is placed before the first statement
      that touches the accumulator (or writes a shared operand) of a wgmma still in flight, so wgmmas overlap
      the element-wise work that does not depend on them (softmax of step k runs while P.V of step k - 1 is on
      the tensor cores); the iteration ends with every wgmma retired (one left in flight across the loop's back edge
      makes ptxas serialize every wgmma of the kernel, C7514: it cannot follow the wait counts around). A producer
      buffer's consumers wait on its full barrier before its first reader of a k-step and release its empty
      barrier once its last reader is done, wgmmas included. The epilogue ends with every wgmma retired and every
      stage released.
Ping-pong (T.annotate_pingpong, pingpong > 0 consumer warpgroups): each iteration's T.gemm issues form one turn,
tilec::pingpong_enter before the first issue and pingpong_leave right after the last one (FA3's warp scheduler
barriers), so a warpgroup hands the tensor cores on as soon as its wgmmas are queued and runs its softmax while the
other warpgroup's wgmmas execute; the waits for its own wgmmas come after the turn.
Measured (H100, FlashAttention d128, bench/results/2026-11-23-h100-attention-sm90a-jit-overlap*.json): ptxas (CUDA 13.0)
schedules the element-wise work between the waits as it likes: it hoists a stage release (mbarrier arrive), and the
wait before it, above independent work, so part of the softmax still runs after the P.V wait (all of it in the
persistent kernel). Releases moved to the next iteration kept the softmax in place but cost registers (local-memory
spills) and measured slower; so did waiting for P.V before the fp16 cast of P.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Callable

from tilec.errors import TilecError
from tilec.ir.buffer import Buffer, Region
from tilec.ir.expr import Expr, Var, binop, loads
from tilec.ir.simplify import simplify, static_int
from tilec.ir.stmt import ArrayRef, BufferPtr, DeviceCall, For, If, Let, Scope, Stmt, Store, TileOp, seq
from tilec.ir.visit import walk
from tilec.language.gemm import Gemm

MAX_STAGE = 1


@dataclass
class Group:
    """Statements of the loop body scheduled together: k-step k - stage, position `order` in the iteration."""

    index: int
    stmts: list
    stage: int
    order: int


def annotated(loop: For) -> bool:
    return bool(loop.order or loop.stage or loop.group)


def parse_groups(loop: For, body: list, producers: list) -> list[Group]:
    """The consumer groups of an annotated loop in scheduled order (raises TilecError for malformed annotations)."""
    n = len(body)
    spec = [list(g) for g in loop.group] if loop.group else [[i] for i in range(n)]
    where = f"T.Pipelined at line {loop.loc.line}" if getattr(loop.loc, "line", 0) else "T.Pipelined"
    seen = sorted(i for g in spec for i in g)
    if seen != list(range(n)):
        raise TilecError(f"{where}: group must list each of the loop body's {n} top-level statements (0..{n - 1}) "
                         f"exactly once, got {[list(g) for g in spec]}", loop.loc)
    if len(loop.order) != len(spec) or len(loop.stage) != len(spec):
        raise TilecError(f"{where}: order and stage need one entry per group ({len(spec)}), got {len(loop.order)} "
                         f"and {len(loop.stage)}", loop.loc)
    groups, orders = [], []
    for gi, (idx, st, od) in enumerate(zip(spec, loop.stage, loop.order)):
        stmts = [body[i] for i in sorted(idx)]
        prod = [x in producers for x in stmts]
        if any(prod):
            if not all(prod) or st != -1 or od != -1:
                raise TilecError(f"{where}: group {gi} {sorted(idx)} holds producer copies (global->shared T.copy "
                                 "issued by the TMA warp); such a group holds only them and has stage -1 and order -1",
                                 loop.loc)
            continue
        if not (isinstance(st, int) and 0 <= st <= MAX_STAGE):
            raise TilecError(f"{where}: group {gi} {sorted(idx)} has stage {st!r}; consumer groups take stage 0 (this "
                             f"k-step) or 1 (one iteration late)", loop.loc)
        if not (isinstance(od, int) and od >= 0) or od in orders:
            raise TilecError(f"{where}: group {gi} {sorted(idx)} has order {od!r}; consumer groups need distinct "
                             "orders >= 0", loop.loc)
        orders.append(od)
        groups.append(Group(gi, stmts, st, od))
    return sorted(groups, key=lambda g: g.order)


# ---- accesses ------------------------------------------------------------------------------------------------
def _expr_loads(s: Stmt) -> set:
    """The buffers that the expressions of statement `s` itself (not its body) load from."""
    out: set = set()
    for f in fields(s):
        v = getattr(s, f.name)
        for e in (v if isinstance(v, tuple) else (v,)):
            exprs = e.starts if isinstance(e, Region) else (e,)
            for x in exprs:
                if isinstance(x, Expr):
                    out |= {ld.buffer for ld in loads(x)}
    return out


def access(s: Stmt) -> tuple[set, set]:
    """(buffers read, buffers written) by statement `s` (tile level; a tile op's last region counts as written
    and read)."""
    reads: set = set()
    writes: set = set()
    for x in walk(s):
        if isinstance(x, TileOp):
            regs = x.regions()
            reads |= {r.buffer for r in regs}
            if regs:
                writes.add(regs[-1].buffer)
            reads |= _expr_loads(x)
        elif isinstance(x, Store):
            writes.add(x.buffer)
            reads |= _expr_loads(x)
        else:
            reads |= _expr_loads(x)
    return reads, writes


def _conflict(a: tuple, b: tuple, skip: set) -> Buffer | None:
    (ra, wa), (rb, wb) = a, b
    for buf in (wa & (rb | wb)) | (ra & wb):
        if buf not in skip:
            return buf
    return None


def check_dependences(groups: list, body: list, skip: set, loc: object) -> None:
    """Raise TilecError when the schedule would reorder two dependent statements of different k-steps or groups.
    A statement of group A on k-step j runs, in the source loop, before one of group B on step j' iff j < j' or
    (j == j' and A's statement comes first); the schedule must keep that for every pair that touches a common
    buffer (one writing it); body: the loop body's statements in source order; skip: buffers ordered otherwise (the producer's staged tiles)."""
    pos = {id(x): i for i, x in enumerate(body)}
    stmts = [(x, g) for g in groups for x in g.stmts]
    acc = {id(x): access(x) for x, _ in stmts}
    for xa, ga in stmts:
        for xb, gb in stmts:
            buf = _conflict(acc[id(xa)], acc[id(xb)], skip)
            if buf is None:
                continue
            for d in (-1, 0, 1):  # xb on k-step j + d
                if d == 0 and xa is xb:
                    continue
                src_before = d > 0 or (d == 0 and pos[id(xa)] < pos[id(xb)])
                new_before = (ga.stage, ga.order, pos[id(xa)]) < (d + gb.stage, gb.order, pos[id(xb)])
                if src_before != new_before:
                    la, lb = getattr(xa.loc, "line", 0), getattr(xb.loc, "line", 0)
                    raise TilecError(
                        f"T.Pipelined order/stage: the statement at line {la} (group {ga.index}, stage {ga.stage}) "
                        f"and the one at line {lb} (group {gb.index}, stage {gb.stage}) both touch {buf.name}, one "
                        f"writing it, but the schedule runs them in the other order than the loop does (k-steps "
                        f"j and j{d:+d}); give the reader a stage/order that keeps it after the writer", loc)


# ---- scheduling ----------------------------------------------------------------------------------------------
@dataclass
class _Inflight:
    """A T.gemm issued but not known complete: its accumulator, the shared tiles it reads, the k-step offset
    (k-step = iteration - off) and the stage releases waiting for it."""

    acc: Buffer
    shared: set
    off: int
    releases: list = field(default_factory=list)  # (buffer, off)


@dataclass
class Rings:
    """The producer tiles' mbarrier rings: at(step) -> (stage, phase) of a k-step; bars[tile] = (full, empty);
    restage(stmt) rewrites the statement's accesses to the tiles into their stage (of the loop variable's k-step)."""

    at: Callable
    bars: dict
    restage: Callable


class _Emitter:
    """One scheduled iteration (a list of groups, each on k-step it - stage) as statements; `pending` lists the
    wgmmas in flight (issued, not yet waited for)."""

    def __init__(self, loop: For, groups: list, rings: Rings, pingpong: int = 0):
        self.rings, self.loc, self.pingpong = rings, loop.loc, pingpong
        self.access = {id(x): access(x) for g in groups for x in g.stmts}
        stages: dict = {}  # producer tile -> the stages of the groups reading it
        for g in groups:
            for x in g.stmts:
                for b in self.access[id(x)][0] & set(rings.bars):
                    stages.setdefault(b, []).append(g.stage)
        self.first_stage = {b: min(v) for b, v in stages.items()}
        self.last_stage = {b: max(v) for b, v in stages.items()}

    def _step(self, it: object, off: int) -> object:
        return simplify(binop("-", it, off)) if off else it

    def _wait_full(self, b: Buffer, it: object, off: int) -> Stmt:
        stage, phase = self.rings.at(self._step(it, off))
        return DeviceCall("tilec::mbarrier_wait", (BufferPtr(self.rings.bars[b][0], stage), phase), (), self.loc)

    def _release(self, b: Buffer, it: object, off: int) -> Stmt:
        stage, _ = self.rings.at(self._step(it, off))
        return DeviceCall("tilec::mbarrier_arrive_warp", (BufferPtr(self.rings.bars[b][1], stage),), (), self.loc)

    def _retire(self, pending: list, upto: int, it: object) -> list:
        """wait_group so that pending[:upto + 1] are complete, then their stage releases."""
        done, rest = pending[:upto + 1], pending[upto + 1:]
        accs = list(dict.fromkeys(p.acc for p in done))
        out = [DeviceCall("tilec::wgmma_wait", tuple(ArrayRef(a) for a in accs), (len(rest),), self.loc)]
        for p in done:
            out += [self._release(b, it, off) for b, off in p.releases]
        del pending[:upto + 1]
        return out

    def retire_all(self, pending: list, it: object) -> list:
        return self._retire(pending, len(pending) - 1, it) if pending else []

    def iteration(self, instances: list, it: object, kvar: Var, pending: list) -> list:
        """The statements of one iteration `it` (an expression) running `instances`; updates `pending`."""
        out = []
        last_reader = {}
        for g in instances:
            for x in g.stmts:
                for b in self.access[id(x)][0] & set(self.rings.bars):
                    if g.stage == self.last_stage[b]:
                        last_reader[b] = x
        waited: set = set()
        bodies: list = []
        issues: list = []  # (group position, statement position) of each T.gemm issue
        for g in instances:
            body: list = [Let(kvar, self._step(it, g.stage), self.loc)]
            bodies.append(body)
            for x in g.stmts:
                reads, writes = self.access[id(x)]
                for b in sorted(reads & set(self.rings.bars), key=lambda b: b.name):
                    if g.stage == self.first_stage[b] and b not in waited:
                        waited.add(b)
                        body.append(self._wait_full(b, it, g.stage))
                gemm = x if isinstance(x, Gemm) else None
                hit = [i for i, p in enumerate(pending) if self._touches(p, x, gemm, reads, writes)]
                if hit:
                    body += self._retire(pending, max(hit), it)
                body.append(self.rings.restage(replace(x, wg_wait=-1) if gemm else x))
                if gemm is not None:
                    issues.append((len(bodies) - 1, len(body) - 1))
                    shared = {r.buffer for r in (x.a, x.b) if r.buffer.scope == "shared"}
                    pending.append(_Inflight(x.c.buffer, shared, g.stage))
                for b in sorted(reads & set(self.rings.bars), key=lambda b: b.name):
                    if last_reader.get(b) is x:  # the k-step's last reader of b: release once it is complete
                        holders = [p for p in pending if b in p.shared and p.off == g.stage]
                        if holders:
                            holders[-1].releases.append((b, g.stage))
                        else:
                            body.append(self._release(b, it, g.stage))
        if self.pingpong and issues:  # one turn per iteration: from its first T.gemm issue to its last
            (gl, sl), (gf, sf) = issues[-1], issues[0]
            bodies[gl].insert(sl + 1, DeviceCall("tilec::pingpong_leave", (), (self.pingpong,), self.loc))
            bodies[gf].insert(sf, DeviceCall("tilec::pingpong_enter", (), (self.pingpong,), self.loc))
        return out + [Scope(seq(*body), self.loc) for body in bodies]

    @staticmethod
    def _touches(p: _Inflight, x: Stmt, gemm: Gemm | None, reads: set, writes: set) -> bool:
        if gemm is not None:  # wgmmas on one accumulator run in issue order; a register A operand is read at issue
            return gemm.a.buffer == p.acc or bool(writes & p.shared - {gemm.c.buffer})
        return p.acc in reads or p.acc in writes or bool(writes & p.shared)


def schedule_consumers(loop: For, groups: list, rings: Rings, fresh: Callable, pingpong: int = 0,
                       after_stage0: list | None = None) -> tuple[Stmt, str]:
    """The consumers' statements replacing `loop` (see the module docstring) and a note for `tilec show`.
    pingpong: the number of consumer warpgroups taking turns (0: none); a turn spans an iteration's T.gemm issues.
    after_stage0: statements placed where every stage-0 group of every k-step is done, wgmmas retired (after the
    steady-state loop, before the epilogue iteration; in place of the loop when it runs no k-step), e.g. the
    release of a tile that only stage-0 groups read."""
    after_stage0 = list(after_stage0 or [])
    start, n = loop.start, loop.extent
    em = _Emitter(loop, groups, rings, pingpong)
    kk = Var(fresh(f"{loop.var.name}_it"), loop.var.dtype)
    stage0 = [g for g in groups if g.stage == 0]
    late = [g for g in groups if g.stage > 0]
    pending: list = []
    prologue = em.iteration(stage0, start, loop.var, pending)
    prologue += em.retire_all(pending, start)
    body = em.iteration(groups, kk, loop.var, pending)
    overlapped = [f"T.gemm into {p.acc.name}" for p in pending]
    body += em.retire_all(pending, kk)
    end = simplify(binop("+", start, n))
    epilogue = em.iteration(late, end, loop.var, pending)
    epilogue += em.retire_all(pending, end)
    main = For(kk, simplify(binop("+", start, 1)), simplify(binop("-", n, 1)), seq(*body), "serial", loc=loop.loc)
    code = seq(*prologue, main, *after_stage0, *epilogue)
    if static_int(n) is None or static_int(n) <= 0:
        code = If(simplify(binop(">", n, 0)), code, seq(*after_stage0) if after_stage0 else None, loop.loc)
    sched = "; ".join(f"group {g.index} on k-step k-{g.stage}" if g.stage else f"group {g.index}" for g in groups)
    note = (f"consumer schedule from order/stage: iteration k runs {sched}; each T.gemm waits only where a later "
            f"statement needs its result ({', '.join(overlapped) or 'none'} still running at the iteration's last "
            "statements)")
    return code, note
