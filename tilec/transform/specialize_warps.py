"""Warp specialization of T.Pipelined loops for sm_90a: a TMA producer warpgroup and wgmma consumers.

Pre:  a parsed PrimFunc; the target has TMA and wgmma (sm_90a).
Post: in each kernel that qualifies (below), the pipelined loop is replaced by mbarrier-synchronised
      producer/consumer code; the kernel body becomes
        Allocs, Lets, Annotates (shared by both sides),
        barrier init (thread 0) + fence + __syncthreads(),
        WarpSpecialize(producer = for k: wait empty[s] (parity ph^1); arrive_expect_tx full[s];
                                         the loop's global->shared T.copy ops as TMA loads into stage s,
                       consumer = statements before the loop;
                                  for k: wait full[s] (parity ph); the loop's other statements on stage s;
                                         release empty[s] (one arrive per consumer warp);
                                  statements after the loop)
      When the loop's other statements are only T.gemm on shared operands, their wgmmas stay in flight for one
      step (wg_wait=1) and each step releases the previous step's stage instead; a wait for all wgmmas and the
      release of the last stage follow the loop.
      with s = (k - start) % S and ph = ((k - start) // S) % 2. Buffers the TMA loads write gain a leading
      stage dimension of size S. fn.attrs["lowering"] = "sm90a" and attrs["lowering_notes"] says, per kernel,
      which pipeline was chosen and why. Kernels that do not qualify go through pipeline_loops (cp.async).
Qualifies: threads a multiple of 128; exactly one T.Pipelined loop with num_stages >= 1, directly in the
kernel body; its producers are whole-tile global->shared copies (not disable_tma) whose tile rows are
16, 32, 64 or a multiple of 128 bytes, with every box dimension <= 256.
Why a full __syncthreads() after the init but only named barriers later: the producer warpgroup leaves the
block's barrier 0 after the prologue (it runs a different loop), so consumer-only barriers use id 1.

TMA prologue loads: top-level whole-tile global->shared copies ahead of the loop (e.g. an attention kernel's Q
tile) whose coordinates read no buffer are issued by the producer before its loop, completing on one more mbarrier
(tl_pre); the consumers wait on it where the copy stood. Persistent kernels also get tl_pre_empty: the consumers
release the tiles after the pipelined loop (one arrive per warp), and the producer waits for that before it loads
the next tile's; each role counts its tiles for the phases.

TMA-store epilogue: a top-level statement after the loop that copies a whole shared tile to global memory (the
accumulator staged through shared memory: T.copy(C_local, C_shared); T.copy(C_shared, C[...])) and meets the
TMA box rules above is marked Copy.tma_store; lower_tma issues it as TMA tile stores from one thread after a
proxy fence and a consumer barrier (rows/columns outside C are clipped by the TMA unit), and insert_syncs makes
the consumers wait for the stores' shared-memory reads before that tile is written again. C's row pitch must
then be a multiple of 16 bytes, like the loaded tensors' (the launcher's tensor-map check says so otherwise).

Ping-pong (T.annotate_pingpong(); several consumer warpgroups, a loop mixing T.gemm with other work, e.g. attention;
see pingpong_why): the warpgroups take turns around each T.gemm of the loop (tilec::pingpong_enter / _leave, named
barriers 2..), so one warpgroup's softmax runs while another's wgmmas use the tensor cores. Opt-in: a turn ends only
when its wgmmas are done (the T.gemm waits), and on the H100 the attention kernel lost 12-31% with it
(bench/results/2026-11-23-h100-attention-sm90a-jit-pingpong-d*.json): the warpgroups' own interleaving did better. A loop scheduled by order/stage
annotations (schedule_consumers) takes one turn per iteration instead, spanning only the issue of its T.gemm ops
(their waits come after the turn), as FA3 does.

Persistent kernels (T.annotate_persistent): each role loops over tiles (TileLoop, see persistent_tiles) and
numbers its k-steps with a running counter base + (k - start) (base: a per-thread int starting at 0, advanced by
the loop's extent after each tile), so the stage/phase sequence continues across tiles: the producer fills the
next tile's stages while the consumers still run the epilogue of the current one. Then
  producer = for tile: Lets; for k: (as above with the running counter); base += n
  consumer = for tile: Lets; statements before the loop (e.g. T.clear of the accumulator); the loop; the wait
             for all wgmmas and the release of the tile's last stage; statements after the loop; base += n
Lets and initialised var allocations before the loop are evaluated in each role, inside the tile loop.
"""
from __future__ import annotations

from dataclasses import replace

from tilec.ir import dtypes as dt
from tilec.ir.buffer import Buffer, Region
from tilec.errors import TilecError
from tilec.ir.expr import Call, Const, Expr, Load, ThreadIdx, Var, binop, const, free_vars, loads
from tilec.ir.func import PrimFunc
from tilec.ir.simplify import simplify, static_int
from tilec.ir.stmt import (Alloc, Annotate, ArrayRef, BufferPtr, DeviceCall, For, If, Kernel, Let, Seq, Stmt, Store,
                           Sync, TileLoop, WarpSpecialize, seq)
from tilec.ir.visit import walk
from tilec.language.copy import Copy
from tilec.language.fill import Fill
from tilec.language.gemm import Gemm
from tilec.transform.cluster_multicast import ClusterPlan, plan_cluster
from tilec.transform.persistent_tiles import wants_pairs, wants_persistent, wants_stream_k
from tilec.transform.pipeline_loops import is_producer, pipeline_loops, restage, subst_copy
from tilec.transform.schedule_consumers import (Rings, access, annotated, check_dependences, parse_groups,
                                                schedule_consumers)

PRODUCER_REGS = 40
REGISTER_FILE = 65536  # 32-bit registers per SM (one block per SM)


def consumer_regs(threads: int) -> int:
    """setmaxnreg for `threads` consumer threads beside one producer warpgroup at PRODUCER_REGS: the most (a multiple
    of 8, at most 240) that fits the register file. setmaxnreg.inc waits until the registers are free, so a total
    above the file would deadlock (3 warpgroups: 152, not 160). 2 warpgroups: 232."""
    return min(240, (REGISTER_FILE - 128 * PRODUCER_REGS) // threads // 8 * 8)


def tma_tile_why(shared: Region, glob: Region) -> str | None:
    """Why the whole shared tile `shared` and the global region `glob` cannot be one TMA tile transfer (None
    when they can): 2-D whole tiles whose rows are 16, 32, 64 or k*128 bytes, box dimensions <= 256, and a
    global region that spans its tensor's innermost dimension contiguously."""
    b = shared.buffer
    if b.ndim != 2 or not shared.is_full():
        return f"{b.name} is not one whole 2-D tile"
    rows, cols = (int(x) for x in b.shape)
    row_bytes = cols * b.dtype.bytes
    if not (row_bytes in (16, 32, 64) or row_bytes % 128 == 0):
        return f"{b.name}'s rows are {row_bytes} bytes (TMA tiles here need 16, 32, 64 or k*128)"
    if rows > 256 or min(cols, 128 // b.dtype.bytes) > 256:
        return f"{b.name} is {rows}x{cols}: a TMA box dimension is limited to 256"
    if glob.buffer.ndim < 2:
        return f"{glob.buffer.name} has rank 1"
    if static_int(glob.extents[-1]) != cols:
        return f"the copy does not cover {glob.buffer.name}'s innermost dimension contiguously"
    return None


def tma_box_ok(c: Copy) -> str | None:
    """Why copy `c` cannot be one TMA tile load (None when it can)."""
    if c.disable_tma:
        return "T.copy(..., disable_tma=True)"
    if not (c.src.buffer.scope == "global" and c.dst.buffer.scope == "shared"):
        return "not a global->shared copy"
    return tma_tile_why(c.dst, c.src)


def tma_store_ok(s: Stmt) -> bool:
    """Whether statement `s` is a copy of a whole shared tile to global memory that TMA can store."""
    return (isinstance(s, Copy) and not s.disable_tma and s.src.buffer.scope == "shared"
            and s.dst.buffer.scope == "global" and tma_tile_why(s.src, s.dst) is None)


def tma_bytes(c: Copy) -> int:
    return c.dst.buffer.numel() * c.dst.buffer.dtype.bytes


def _stmts(s: Stmt) -> list:
    return list(s.stmts) if isinstance(s, Seq) else [s]


def _why_not(k: Kernel) -> str | list:
    if k.threads % 128:
        return f"threads={k.threads} is not a whole number of warpgroups"
    body = _stmts(k.body)
    loops = [s for s in walk(k.body) if isinstance(s, For) and s.kind == "pipelined"]
    if len(loops) != 1:
        return f"{len(loops)} T.Pipelined loops (warp specialization handles one)"
    loop = loops[0]
    if loop not in body:
        return "the T.Pipelined loop is nested inside other statements"
    if loop.num_stages < 1:
        return "num_stages < 1"
    inner = {x.var for x in walk(loop.body) if isinstance(x, (Let, For))}
    producers = [x for x in _stmts(loop.body) if is_producer(x, loop.var, inner)]
    if not producers:
        return "the pipelined loop has no global->shared copies"
    for p in producers:
        why = tma_box_ok(p)
        if why:
            return f"T.copy into {p.dst.buffer.name}: {why}"
    return [loop, producers]


class _Ring:
    """The stage ring of one specialized loop: its mbarriers and the stage/phase of each k-step.

    base: the running k-step counter of a persistent role (a var buffer), or None (one tile per block).
    cluster: the CTAs that share the ring's tiles (multicast; 1: none): each consumer warp releases a stage in all."""

    def __init__(self, loop: For, full: Buffer, empty: Buffer, base: Buffer | None, cluster: int = 1):
        self.loop, self.full, self.empty, self.base, self.cluster = loop, full, empty, base, cluster
        self.n = max(loop.num_stages, 1)
        self.rel = simplify(binop("-", loop.var, loop.start))
        self.it = self._count(loop.var)
        self.stage, self.phase = self.at(loop.var)

    def _count(self, step: Expr) -> Expr:
        """The running k-step number of the k-step whose loop-variable value is `step`."""
        rel = simplify(binop("-", step, self.loop.start))
        return rel if self.base is None else simplify(binop("+", Load(self.base, (const(0),), self.base.dtype), rel))

    def at(self, step: Expr) -> tuple[Expr, Expr]:
        """(stage, phase) of the k-step whose loop-variable value is `step`."""
        it = self._count(step)
        return simplify(binop("%", it, self.n)), simplify(binop("%", binop("//", it, self.n), 2))

    def previous_stage(self) -> Expr:
        """The stage of the k-step before this one (valid when rel > 0)."""
        return simplify(binop("%", binop("+", self.it, self.n - 1), self.n))

    def last_stage(self) -> Expr:
        """The stage of the tile's last k-step (valid when the loop ran at least once)."""
        end = simplify(binop("+", self.loop.extent, self.n - 1))
        return simplify(binop("%", end if self.base is None else binop("+", Load(self.base, (const(0),), self.base.dtype),
                                                                         end), self.n))

    def release(self, stage: Expr, empty: Buffer | None = None) -> Stmt:
        """One arrive per consumer warp on the empty barrier of `stage` (of every CTA of the cluster, when shared)."""
        ptr = BufferPtr(self.empty if empty is None else empty, stage)
        if self.cluster > 1:
            return DeviceCall("tilec::mbarrier_arrive_warp_cluster", (ptr,), (self.cluster,), self.loop.loc)
        return DeviceCall("tilec::mbarrier_arrive_warp", (ptr,), (), self.loop.loc)

    def drain(self, var: Var, after_tiles: bool) -> Stmt:
        """The producer's last waits (clusters): until the latest use of every stage was released by the consumers
        of every CTA, whose arrivals reach this CTA's barriers, so it must not exit before. after_tiles: placed
        after a persistent role's tile loop (the counter already advanced), else after the one loop."""
        step = binop("+", self.loop.start, var if after_tiles else binop("+", self.loop.extent, var))
        stage, phase = self.at(step)
        wait = DeviceCall("tilec::mbarrier_wait", (BufferPtr(self.empty, stage), binop("^", phase, 1)), (),
                          self.loop.loc)
        return For(var, const(0), const(self.n), wait, kind="unroll", loc=self.loop.loc)

    def advance(self) -> Stmt:
        """base += the loop's extent (after each tile of a persistent role)."""
        assert self.base is not None
        return Store(self.base, (const(0),), binop("+", Load(self.base, (const(0),), self.base.dtype), self.loop.extent),
                     self.loop.loc)


def _producer_loop(ring: _Ring, producers: list, staged: dict, bars: dict | None = None,
                   plan: ClusterPlan | None = None, first: list | None = None) -> Stmt:
    """The producer's loop: per k-step, for each mbarrier pair (one for all copies, or bars[copy's tile] per copy),
    wait until the consumers released the stage, expect its bytes (a shared tile's in full: every CTA of the cluster
    writes its piece into all), issue its TMA loads (multicast pieces of the tiles `plan` shares).
    first: statements issued in the first k-step right after its first pair's loads (a persistent kernel's prologue
    loads of the tile: their wait for the consumers' release of the previous tile then does not hold up the tile's
    first stage), and once after the loop when it runs no k-step, so that they are always issued."""
    loop, loc = ring.loop, ring.loop.loc
    kv = loop.var
    pairs: dict = {}
    for p in producers:
        pairs.setdefault(bars[p.dst.buffer] if bars else (ring.full, ring.empty), []).append(p)
    body: list = []
    for j, ((full, empty), ps) in enumerate(pairs.items()):
        body += [DeviceCall("tilec::mbarrier_wait", (BufferPtr(empty, ring.stage), binop("^", ring.phase, 1)), (),
                            loc),
                 DeviceCall("tilec::mbarrier_arrive_expect_tx", (BufferPtr(full, ring.stage),
                                                                 const(sum(tma_bytes(p) for p in ps))), (), loc)]
        body += [replace(restage(subst_copy(p, kv, kv), staged, ring.stage), mbar=BufferPtr(full, ring.stage),
                         async_=False, multicast=plan.shares(p) if plan else None) for p in ps]
        if first and j == 0:
            body.append(If(binop("==", ring.rel, 0), seq(*first)))
    out = replace(loop, kind="serial", body=seq(*body))
    if not first:
        return out
    return seq(out, If(simplify(binop("<=", loop.extent, 0)), seq(*first)))


def pingpong_why(k: Kernel, consumers: list) -> str | None:
    """Why the consumer warpgroups of kernel `k` do not take turns around the loop's T.gemm ops (None: they do).
    Requires several consumer warpgroups, a loop mixing T.gemm with other statements, no T.gemm outside the loop's
    top level, and no shared-memory writes by the consumers in the loop (insert_syncs would put a consumer-wide
    barrier there, which a warpgroup waiting for its turn would never reach)."""
    flags = [bool(x.value) for x in walk(k.body) if isinstance(x, Annotate) and x.kind == "pingpong"]
    if not (flags and flags[-1]):
        return "not requested (T.annotate_pingpong)"
    if k.threads < 256:
        return "one consumer warpgroup"
    gemms = [x for x in consumers if isinstance(x, Gemm)]
    if not gemms or len(gemms) == len(consumers):
        return "the loop is not T.gemm mixed with other work"
    if any(isinstance(y, Gemm) for x in consumers if not isinstance(x, Gemm) for y in walk(x)):
        return "a T.gemm nested in the loop's statements"
    for x in consumers:
        for y in walk(x):
            if isinstance(y, Store) and y.buffer.scope == "shared" or \
                    isinstance(y, Copy) and y.dst.buffer.scope == "shared":
                return "the loop writes shared memory"
    return None


def _pingpong(consumers: list, groups: int, loc: object) -> list:
    """The consumers' loop statements with each T.gemm as one ping-pong turn (see tilec::pingpong_enter)."""
    out = []
    for x in consumers:
        if isinstance(x, Gemm):
            out += [DeviceCall("tilec::pingpong_enter", (), (groups,), loc), x,
                    DeviceCall("tilec::pingpong_leave", (), (groups,), loc)]
        else:
            out.append(x)
    return out


def _consumer_loop(ring: _Ring, consumers: list, staged: dict, pingpong: int = 0) -> tuple[For, list]:
    """The consumers' loop and what follows it (wait for in-flight wgmmas, release of the last stage).
    pingpong: the number of consumer warpgroups taking turns around the T.gemm ops (0: no ping-pong)."""
    loop, loc = ring.loop, ring.loop.loc
    wait_full = DeviceCall("tilec::mbarrier_wait", (BufferPtr(ring.full, ring.stage), ring.phase), (), loc)
    if not all(isinstance(x, Gemm) and x.a.buffer.scope == "shared" for x in consumers):
        work = _pingpong(consumers, pingpong, loc) if pingpong else consumers
        body = seq(wait_full, restage(seq(*work), staged, ring.stage), ring.release(ring.stage))
        return replace(loop, kind="serial", body=body), []
    # Only tensor-core work in the loop: keep one k-step of wgmmas in flight (wait_group 1) and release the stage
    # of the previous step, whose wgmmas are then known to be done (CUTLASS's mainloop).
    gemms = [replace(restage(x, staged, ring.stage), wg_wait=1) for x in consumers]
    release_prev = ring.release(ring.previous_stage())
    body = seq(wait_full, *gemms, If(binop(">", ring.rel, 0), release_prev))
    accs = {x.c.buffer: None for x in consumers}
    tail: list[Stmt] = [DeviceCall("tilec::wgmma_wait_all", (ArrayRef(c),), (), loc) for c in accs]
    # Release the last stage too: a persistent block's next tile reuses it. The branch also keeps the epilogue's
    # accumulator reads out of the basic block of the final wgmma wait, which ptxas (CUDA 13.0) otherwise counts
    # as inside the wgmma pipeline stage, serializing every wgmma of the kernel (C7514).
    release_last = ring.release(ring.last_stage())
    tail.append(If(simplify(binop(">", loop.extent, 0)), release_last))
    return replace(loop, kind="serial", body=body), tail


def _mark_tma_stores(stmts: list) -> tuple[list, list]:
    """The statements with their top-level TMA-storable copies marked, and the names of the stored tiles."""
    out, names = [], []
    for x in stmts:
        if tma_store_ok(x):
            x = replace(x, tma_store=True)
            names.append(f"{x.src.buffer.name} -> {x.dst.buffer.name}")
        out.append(x)
    return out, names


def _split_prologue(stmts: list, persistent: bool) -> tuple[list, list, list]:
    """(kernel-level statements, per-role statements, consumer-only statements) of what precedes the loop.

    One tile per block: Allocs, Lets and Annotates are kernel-level (seen by both roles). Persistent: Lets and
    initialised var allocations are evaluated per tile in each role instead."""
    shared, per_role, before = [], [], []
    for x in stmts:
        if persistent and (isinstance(x, Let) or (isinstance(x, Alloc) and x.init is not None)):
            per_role.append(x)
            before.append(x)
        elif isinstance(x, (Alloc, Let, Annotate)):
            shared.append(x)
        else:
            before.append(x)
    return shared, per_role, before


def _prologue_loads(before: list) -> list:
    """The statements of `before` (consumer-only statements ahead of the loop) that become TMA loads issued by the
    producer: top-level whole-tile global->shared copies whose coordinates read no buffer (they may use the kernel's
    Lets, which both roles evaluate)."""
    return [x for x in before if isinstance(x, Copy) and tma_box_ok(x) is None
            and not any(loads(e) for e in x.src.starts)]


class _Prologue:
    """The prologue loads of a specialized kernel and their mbarriers: `full` (the loads landed; the consumers wait on
    it where the first copy stood) and, in a persistent kernel, `empty` (the consumers are done with the tiles: one
    arrive per consumer warp after the pipelined loop) with a per-role tile counter giving the phases."""

    def __init__(self, loads_: list, fresh, persistent: bool, warps: int, loc: object):
        self.loads, self.warps, self.loc = loads_, warps, loc
        self.full = Buffer(fresh("tl_pre"), (1,), dt.uint64, "shared", loc)
        self.empty = Buffer(fresh("tl_pre_empty"), (1,), dt.uint64, "shared", loc) if persistent else None
        self.tiles = [Buffer(fresh(n), (1,), dt.int32, "var", loc) for n in ("tl_ptile", "tl_ctile")] \
            if persistent else [None, None]

    def _phase(self, role: int) -> Expr:
        t = self.tiles[role]
        return const(0) if t is None else binop("%", Load(t, (const(0),), dt.int32), 2)

    def producer(self) -> list:
        """Per tile, ahead of the producer's loop: (wait until the consumers released the tiles,) expect the bytes,
        issue the loads."""
        out = []
        if self.empty is not None:
            out.append(DeviceCall("tilec::mbarrier_wait", (BufferPtr(self.empty, 0), binop("^", self._phase(0), 1)),
                                  (), self.loc))
        tx = sum(tma_bytes(c) for c in self.loads)
        out.append(DeviceCall("tilec::mbarrier_arrive_expect_tx", (BufferPtr(self.full, 0), const(tx)), (), self.loc))
        out += [replace(c, mbar=BufferPtr(self.full, 0), async_=False) for c in self.loads]
        return out

    def consumer_wait(self, before: list) -> list:
        """`before` with the copies replaced by one wait where the first of them stood."""
        first = before.index(self.loads[0])
        wait = DeviceCall("tilec::mbarrier_wait", (BufferPtr(self.full, 0), self._phase(1)), (), self.loc)
        return [wait if j == first else x for j, x in enumerate(before) if j == first or x not in self.loads]

    def consumer_release(self) -> list:
        if self.empty is None:
            return []
        return [DeviceCall("tilec::mbarrier_arrive_warp", (BufferPtr(self.empty, 0),), (), self.loc)]

    def allocs(self) -> list:
        return [Alloc(b) for b in (self.full, self.empty) if b is not None]

    def counter(self, role: int) -> tuple[list, list]:
        """(allocation before the tile loop, increment at the end of each tile) of role's tile counter
        (0: producer, 1: consumers); nothing when the kernel is not persistent."""
        t = self.tiles[role]
        if t is None:
            return [], []
        return [Alloc(t, const(0), self.loc)], [Store(t, (const(0),), binop("+", Load(t, (const(0),), dt.int32), 1),
                                                      self.loc)]

    def inits(self) -> list:
        out = [DeviceCall("tilec::mbarrier_init", (BufferPtr(self.full, 0), const(1)), (), self.loc)]
        if self.empty is not None:
            out.append(DeviceCall("tilec::mbarrier_init", (BufferPtr(self.empty, 0), const(self.warps)), (), self.loc))
        return out


def _stream_k_why(k: Kernel, loop: For, consumers: list, before: list) -> str | None:
    """Why kernel `k` cannot take the stream-K schedule (None: it can): a loop of T.gemm ops on shared operands into
    one float32 accumulator, cleared right before the loop, a trip count over the kernel's parameters only, no
    tile pairs, no clusters."""
    if wants_pairs(k):
        return "not with pairs=True"
    if tuple(int(c) for c in k.cluster) != (1, 1, 1):
        return "not with thread-block clusters"
    if not consumers or not all(isinstance(x, Gemm) and x.a.buffer.scope == "shared" for x in consumers):
        return "the pipelined loop's work must be T.gemm ops on shared tiles only (partial sums are added up)"
    accs = {x.c.buffer for x in consumers}
    if len(accs) != 1:
        return f"the loop's T.gemm ops write {len(accs)} accumulators (one is supported)"
    acc = next(iter(accs))
    if acc.dtype != dt.float32:
        return f"the accumulator {acc.name} is {acc.dtype.name} (float32 partial sums are added up)"
    if any(x.clear_accum is not False for x in consumers):
        return "T.gemm(..., clear_accum=True) in the loop"
    fills = [x for x in before if isinstance(x, Fill) and x.dst.buffer is acc]
    if not fills or not (isinstance(fills[-1].value, Const) and float(fills[-1].value.value) == 0.0):
        return f"the accumulator {acc.name} must be cleared (T.clear) before the loop"
    local = {x.var.name for x in walk(k.body) if isinstance(x, (Let, For))} | {v.name for v in k.block_vars}
    used = {e.name for e in free_vars(loop.extent)}
    if used & local:
        return f"the loop's trip count reads {', '.join(sorted(used & local))}, not only the kernel's parameters"
    return None


def _stream_k_fixup(k: Kernel, consumers: list, after: list, loc: object) -> list:
    """The consumers' statements after a stream-K unit's loop: tilec::stream_k_fixup (store the partial sums, or add
    the other blocks' to the owner's), then `after` (the epilogue) only where this block writes the tile.
    Allocations stay outside the branch."""
    acc = consumers[0].c.buffer
    keep = Var("tl_sk_store", dt.boolean)
    args = (Var("tl_sk_plan"), Var("tl_sk"), Var(acc.name), Var("tl_workspace"), const(1))
    fixup = Let(keep, Call(f"tilec::stream_k_fixup<{k.threads}>", args, dt.boolean), loc)
    allocs = [x for x in after if isinstance(x, Alloc)]
    rest = [x for x in after if not isinstance(x, Alloc)]
    return [*allocs, fixup, If(keep, seq(*rest))]


def _specialize(k: Kernel, loop: For, producers: list, names: set, persistent: bool) -> tuple[Kernel, list]:
    """The warp-specialized kernel and the notes on its epilogue."""
    s_n = max(loop.num_stages, 1)
    consumers = [x for x in _stmts(loop.body) if x not in producers]
    orig = loop
    stream_k = None
    if persistent and wants_stream_k(k):
        why = _stream_k_why(k, loop, consumers, _stmts(k.body)[:_stmts(k.body).index(loop)])
        if why:
            raise TilecError(f"T.annotate_persistent(stream_k=True): {why}", k.loc)
        acc = consumers[0].c.buffer
        stream_k = (loop.extent, acc.numel() * 4)
        # Each unit runs k-iterations start + lo .. start + lo + n - 1 of its tile (tilec::StreamKUnit, bound per unit).
        loop = replace(loop, start=simplify(binop("+", loop.start, Var("tl_sk_lo", dt.int32, nonneg=True))),
                       extent=Var("tl_sk_n", dt.int32, nonneg=True))
    staged: dict = {}
    for p in producers:
        b = p.dst.buffer
        staged.setdefault(b, Buffer(b.name, (s_n,) + tuple(b.shape), b.dtype, "shared", b.loc))

    def fresh(base: str) -> str:
        n, i = base, 0
        while n in names:
            i += 1
            n = f"{base}_{i}"
        names.add(n)
        return n

    full = Buffer(fresh("tl_full"), (s_n,), dt.uint64, "shared", loop.loc)
    empty = Buffer(fresh("tl_empty"), (s_n,), dt.uint64, "shared", loop.loc)
    # unsigned: ptxas keeps attention's softmax ahead of the P.V wait only when the stage/phase arithmetic of the
    # running counter needs no sign fix-ups (signed: the wait moved up, the persistent d128 kernel ran 5-8% slower)
    bases = [Buffer(fresh(n), (1,), dt.uint32, "var", loop.loc) for n in ("tl_pbase", "tl_cbase")] if persistent \
        else [None, None]
    schedule = annotated(loop)
    plan = plan_cluster(k, loop, producers)
    if isinstance(plan, ClusterPlan) and schedule:
        plan = "the loop has order/stage annotations (not supported with clusters yet)"
    if isinstance(plan, ClusterPlan) and wants_pairs(k):
        plan = "T.annotate_persistent(pairs=True) takes tiles in pairs (not supported with clusters yet)"
    dropped = f"cluster_dims={tuple(k.cluster)} dropped (launched without clusters): {plan}" \
        if isinstance(plan, str) else None
    plan = plan if isinstance(plan, ClusterPlan) else None
    csize = plan.size if plan else 1
    pring, cring = (_Ring(loop, full, empty, b, csize) for b in bases)
    bars: dict = {}
    if schedule:  # order/stage annotations: one mbarrier pair per producer tile, consumers scheduled by groups
        sched_groups = parse_groups(loop, _stmts(loop.body), producers)
        check_dependences(sched_groups, _stmts(loop.body), set(staged), loop.loc)
        for p in producers:
            b = p.dst.buffer
            bars[b] = tuple(Buffer(fresh(f"tl_{role}_{b.name}"), (s_n,), dt.uint64, "shared", loop.loc)
                            for role in ("full", "empty"))
    no_pingpong = pingpong_why(k, consumers)
    groups = 0 if no_pingpong else k.threads // 128
    body = _stmts(k.body)
    i = body.index(orig)
    shared, per_role, before = _split_prologue(body[:i], persistent)
    after, stored = _mark_tma_stores(body[i + 1:])
    if stream_k is not None:
        after = _stream_k_fixup(k, consumers, after, loop.loc)
    if plan:
        after = _guard_padded(k, plan, after)
    warps = k.threads // 32
    pre_loads = _prologue_loads(before)
    pro = _Prologue(pre_loads, fresh, persistent, warps, loop.loc) if pre_loads else None
    if pro:  # the producer issues them first; the consumers wait where the first of them stood
        before = pro.consumer_wait(before)
    shared = [Alloc(staged[x.buffer], x.init, x.loc) if isinstance(x, Alloc) and x.buffer in staged else x
              for x in shared]
    pre_p = pro.producer() if pro else []
    # A persistent kernel releases its prologue tiles (release: [] otherwise) for the next tile's: at the tile's end
    # when the epilogue uses them (e.g. C staged in Q's shared tile); once the last k-step's stage-0 groups are done
    # when only those read them (attention's Q, by Q.K^T), ahead of the epilogue iteration; else after the loop.
    release = pro.consumer_release() if pro else []
    pre_bufs = {c.dst.buffer for c in pro.loads} if pro else set()
    to_end = bool(release) and _touches(after, pre_bufs)
    early = bool(release) and not to_end and schedule and \
        all(g.stage == 0 for g in sched_groups for x in g.stmts if _touches([x], pre_bufs))
    if schedule:
        rings = Rings(cring.at, bars, lambda x: restage(x, staged, cring.stage))
        consumer_loop, sched_note = schedule_consumers(loop, sched_groups, rings, fresh, groups,
                                                       after_stage0=release if early else None)
        tail = []
    else:
        consumer_loop, tail = _consumer_loop(cring, consumers, staged, groups)
    producer = _producer_loop(pring, producers, staged, bars or None, plan, first=pre_p if persistent else None)
    prod_stmts = [*pre_p, producer]
    drain = [pring.drain(Var(fresh("tl_drain"), dt.int32, nonneg=True), persistent)] if plan else []
    start = [DeviceCall("tilec::pingpong_start", (), (groups,), loop.loc)] if groups else []
    prod_stmts += [] if persistent else drain
    cons_stmts = [*start, *before, consumer_loop, *tail, *after]
    if persistent:
        (p_ctr, p_next), (c_ctr, c_next) = (pro.counter(0), pro.counter(1)) if pro else (([], []), ([], []))
        prod_stmts = [Alloc(bases[0], const(0), loop.loc), *p_ctr,
                      TileLoop(seq(*per_role, producer, pring.advance(), *p_next), k.loc), *drain]
        after_loop, at_end = ([] if early or to_end else release), (release if to_end else [])
        cons_stmts = [*start, Alloc(bases[1], const(0), loop.loc), *c_ctr,
                      TileLoop(seq(*before, consumer_loop, *tail, *after_loop, cring.advance(), *after, *at_end,
                                   *c_next), k.loc)]
    pairs = list(bars.values()) or [(full, empty)]
    init = If(binop("==", ThreadIdx(extent=k.threads + 128), 0), seq(
        *(DeviceCall("tilec::mbarrier_init", (BufferPtr(f, s), const(1)), (), loop.loc) for f, _ in pairs
          for s in range(s_n)),
        *(DeviceCall("tilec::mbarrier_init", (BufferPtr(e, s), const(warps * csize)), (), loop.loc) for _, e in pairs
          for s in range(s_n)),
        *(pro.inits() if pro else []),
        DeviceCall("tilec::fence_barrier_init", (), (), loop.loc)))
    ws = WarpSpecialize(seq(*prod_stmts), seq(*cons_stmts), k.threads, PRODUCER_REGS, consumer_regs(k.threads),
                        loop.loc)
    # Clusters: every CTA's barriers must be initialised before any multicast or remote arrive reaches them.
    start_sync = DeviceCall("tilec::cluster_sync", (), (), loop.loc) if plan else Sync(loop.loc)
    new_body = seq(*shared, *(Alloc(b) for pair in pairs for b in pair), *(pro.allocs() if pro else []), init,
                   start_sync, ws)
    notes = [f"TMA prologue load{'s' if len(pre_loads) > 1 else ''} "
             f"({', '.join(c.dst.buffer.name for c in pre_loads)}: {_prologue_note(persistent, early, to_end)})"] \
        if pre_loads else []
    note = (f"TMA-store epilogue ({', '.join(stored)}: one thread stores 128-byte-swizzled boxes after a proxy "
            "fence and a consumer barrier)")
    notes += [note] if stored else []
    if schedule:
        notes.append(sched_note + f"; one mbarrier pair per producer tile ({', '.join(b.name for b in bars)})")
    if plan:
        notes.append(cluster_note(plan))
    elif dropped:
        notes.append(dropped)
    if groups:
        turn = "the T.gemm issues of each scheduled iteration" if schedule else "each T.gemm of the loop"
        notes.append(f"ping-pong: the {groups} consumer warpgroups take turns at {turn} (named barriers), so one's "
                     "element-wise work overlaps another's wgmmas")
    if stream_k is not None:
        notes.append("stream-K: the k-loops of the tiles past the last whole waves are split between blocks, partial "
                     "sums added up through the launcher's workspace (tilec::stream_k_fixup)")
    return replace(k, body=new_body, cluster=plan.dims if plan else (1, 1, 1), stream_k=stream_k), notes


def _touches(stmts: list, bufs: set) -> bool:
    """Whether any of `stmts` reads or writes one of `bufs`."""
    return any((r | w) & bufs for r, w in map(access, stmts))


def _prologue_note(persistent: bool, early: bool, to_end: bool) -> str:
    """What lowering_notes say of the prologue loads: when they are issued and, persistent, released."""
    if not persistent:
        return "issued by the producer before its loop, one mbarrier"
    when = "at the end of the tile (the epilogue uses them)" if to_end else \
        "once the last k-step's stage-0 groups are done (before the epilogue iteration)" if early else "after the loop"
    return (f"issued by the producer after each tile's first stage, one mbarrier; released {when} for the next "
            "tile")


def cluster_note(plan: ClusterPlan) -> str:
    """What lowering_notes say of a cluster plan."""
    parts = [f"{b.name} split by {s.by} ({s.panels or s.rows} per CTA)" for b, s in plan.splits.items()]
    return (f"clusters of {plan.size} CTAs along grid {'xyz'[plan.axis]}: TMA multicast of {', '.join(parts)}; "
            "each consumer warp releases a stage in every CTA of its cluster")


def _guard_padded(k: Kernel, plan: ClusterPlan, after: list) -> list:
    """The consumers' statements after the loop, run only by CTAs inside the T.Kernel grid: a launch grid padded to
    whole clusters has CTAs past it, which load and compute (their cluster partners need their pieces of the shared
    tiles) but write nothing. Allocations stay outside the guard."""
    ext = k.grid[plan.axis]
    n = static_int(ext)
    if n is not None and n % plan.size == 0:
        return after
    allocs = [x for x in after if isinstance(x, Alloc)]
    rest = [x for x in after if not isinstance(x, Alloc)]
    return [*allocs, If(binop("<", k.block_vars[plan.axis], ext), seq(*rest))] if rest else allocs


def specialize_warps(fn: PrimFunc, target: object = None) -> PrimFunc:
    """See the module docstring."""
    if not (getattr(target, "has_wgmma", False) and getattr(target, "has_tma", False)):
        return pipeline_loops(fn, target)
    names = {b.name for s in walk(fn.body) for b in [getattr(s, "buffer", None)] if b is not None}
    names |= {p.name for p in fn.params}
    notes: dict = {}
    done = False

    def top(s: Stmt) -> Stmt:
        nonlocal done
        if isinstance(s, Seq):
            return seq(*(top(x) for x in s.stmts))
        if isinstance(s, Kernel):
            why = _why_not(s)
            if isinstance(why, str):
                notes[len(notes)] = f"cp.async multistage pipeline: {why}"
                return s
            persistent = wants_persistent(s)
            kernel, extra = _specialize(s, why[0], why[1], names, persistent)
            note = "warp-specialized TMA + mbarrier pipeline (1 producer warpgroup)"
            if persistent:
                extra.append("persistent tiles: the stage ring runs on across tiles, so the producer loads the next "
                             "tile while the consumers run the epilogue")
            notes[len(notes)] = "; ".join([note, *extra])
            done = True
            return kernel
        return s

    body = top(fn.body)
    out = fn.with_body(body, lowering_notes=notes, lowering="sm90a")
    return pipeline_loops(out, target)  # kernels that did not qualify keep the cp.async pipeline
