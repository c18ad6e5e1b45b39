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
      step (wg_wait=1) and each step releases the previous step's stage instead; a wait for all wgmmas follows
      the loop.
      with s = (k - start) % S and ph = ((k - start) // S) % 2. Buffers the TMA loads write gain a leading
      stage dimension of size S. fn.attrs["lowering"] = "sm90a" and attrs["lowering_notes"] says, per kernel,
      which pipeline was chosen and why. Kernels that do not qualify go through pipeline_loops (cp.async).
Qualifies: threads a multiple of 128; exactly one T.Pipelined loop with num_stages >= 1, directly in the
kernel body; its producers are whole-tile global->shared copies (not disable_tma) whose tile rows are
16, 32, 64 or a multiple of 128 bytes, with every box dimension <= 256.
Why a full __syncthreads() after the init but only named barriers later: the producer warpgroup leaves the
block's barrier 0 after the prologue (it runs a different loop), so consumer-only barriers use id 1.
"""
from __future__ import annotations

from dataclasses import replace

from tilec.ir import dtypes as dt
from tilec.ir.buffer import Buffer, Region
from tilec.ir.expr import Const, ThreadIdx, Var, binop, const
from tilec.ir.func import PrimFunc
from tilec.ir.simplify import simplify, static_int
from tilec.ir.stmt import (Alloc, Annotate, ArrayRef, BufferPtr, DeviceCall, For, If, Kernel, Let, Seq, Stmt, Sync,
                           WarpSpecialize, seq)
from tilec.ir.visit import walk
from tilec.language.copy import Copy
from tilec.language.gemm import Gemm
from tilec.transform.pipeline_loops import is_producer, pipeline_loops, restage, subst_copy

CONSUMER_REGS = 232  # with 2 consumer warpgroups + 1 producer: 2*128*232 + 128*40 = 64512 <= 65536
PRODUCER_REGS = 40


def tma_box_ok(c: Copy) -> str | None:
    """Why copy `c` cannot be one TMA tile load (None when it can)."""
    if c.disable_tma:
        return "T.copy(..., disable_tma=True)"
    if not (c.src.buffer.scope == "global" and c.dst.buffer.scope == "shared"):
        return "not a global->shared copy"
    d = c.dst
    if d.buffer.ndim != 2 or not d.is_full():
        return f"{d.buffer.name} is not written as one whole 2-D tile"
    rows, cols = (int(x) for x in d.buffer.shape)
    row_bytes = cols * d.buffer.dtype.bytes
    if not (row_bytes in (16, 32, 64) or row_bytes % 128 == 0):
        return f"{d.buffer.name}'s rows are {row_bytes} bytes (TMA tiles here need 16, 32, 64 or k*128)"
    if rows > 256 or min(cols, 128 // d.buffer.dtype.bytes) > 256:
        return f"{d.buffer.name} is {rows}x{cols}: a TMA box dimension is limited to 256"
    if c.src.buffer.ndim < 2:
        return f"{c.src.buffer.name} has rank 1"
    if static_int(c.src.extents[-1]) != cols:
        return f"the copy does not read {c.src.buffer.name}'s innermost dimension contiguously"
    return None


def tma_bytes(c: Copy) -> int:
    return c.dst.buffer.numel() * c.dst.buffer.dtype.bytes


def _why_not(k: Kernel) -> str | list:
    if k.threads % 128:
        return f"threads={k.threads} is not a whole number of warpgroups"
    body = list(k.body.stmts) if isinstance(k.body, Seq) else [k.body]
    loops = [s for s in walk(k.body) if isinstance(s, For) and s.kind == "pipelined"]
    if len(loops) != 1:
        return f"{len(loops)} T.Pipelined loops (warp specialization handles one)"
    loop = loops[0]
    if loop not in body:
        return "the T.Pipelined loop is nested inside other statements"
    if loop.num_stages < 1:
        return "num_stages < 1"
    inner = {x.var for x in walk(loop.body) if isinstance(x, (Let, For))}
    lbody = list(loop.body.stmts) if isinstance(loop.body, Seq) else [loop.body]
    producers = [x for x in lbody if is_producer(x, loop.var, inner)]
    if not producers:
        return "the pipelined loop has no global->shared copies"
    for p in producers:
        why = tma_box_ok(p)
        if why:
            return f"T.copy into {p.dst.buffer.name}: {why}"
    return [loop, producers]


def _specialize(k: Kernel, loop: For, producers: list, names: set) -> Kernel:
    s_n = max(loop.num_stages, 1)
    lbody = list(loop.body.stmts) if isinstance(loop.body, Seq) else [loop.body]
    consumers = [x for x in lbody if x not in producers]
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
    kv, start = loop.var, loop.start
    rel = simplify(binop("-", kv, start))
    stage = simplify(binop("%", rel, s_n))
    phase = simplify(binop("%", binop("//", rel, s_n), 2))
    tx = sum(tma_bytes(p) for p in producers)

    loads = [replace(restage(subst_copy(p, kv, kv), staged, stage), mbar=BufferPtr(full, stage), async_=False)
             for p in producers]
    prod_body = seq(DeviceCall("tilec::mbarrier_wait", (BufferPtr(empty, stage), binop("^", phase, 1)), (), loop.loc),
                    DeviceCall("tilec::mbarrier_arrive_expect_tx", (BufferPtr(full, stage), const(tx)), (), loop.loc),
                    *loads)
    producer = replace(loop, kind="serial", body=prod_body)
    wait_full = DeviceCall("tilec::mbarrier_wait", (BufferPtr(full, stage), phase), (), loop.loc)
    tail: list[Stmt] = []
    if all(isinstance(x, Gemm) and x.a.buffer.scope == "shared" for x in consumers):
        # Only tensor-core work in the loop: keep one k-step of wgmmas in flight (wait_group 1) and release
        # the stage of the previous step, whose wgmmas are then known to be done (CUTLASS's mainloop).
        prev = simplify(binop("%", binop("+", rel, s_n - 1), s_n))
        gemms = [replace(restage(x, staged, stage), wg_wait=1) for x in consumers]
        cons_body = seq(wait_full, *gemms,
                        If(binop(">", rel, 0), DeviceCall("tilec::mbarrier_arrive_warp", (BufferPtr(empty, prev),),
                                                          (), loop.loc)))
        accs = {x.c.buffer: None for x in consumers}
        tail = [DeviceCall("tilec::wgmma_wait_all", (ArrayRef(c),), (), loop.loc) for c in accs]
    else:
        cons_body = seq(wait_full, restage(seq(*consumers), staged, stage),
                        DeviceCall("tilec::mbarrier_arrive_warp", (BufferPtr(empty, stage),), (), loop.loc))
    consumer_loop = replace(loop, kind="serial", body=cons_body)

    body = list(k.body.stmts) if isinstance(k.body, Seq) else [k.body]
    i = body.index(loop)
    shared, before = [], []
    for x in body[:i]:
        (shared if isinstance(x, (Alloc, Let, Annotate)) else before).append(x)
    after = body[i + 1:]
    shared = [Alloc(staged[x.buffer], x.init, x.loc) if isinstance(x, Alloc) and x.buffer in staged else x
              for x in shared]
    warps = k.threads // 32
    init = If(binop("==", ThreadIdx(extent=k.threads + 128), 0), seq(
        *(DeviceCall("tilec::mbarrier_init", (BufferPtr(full, s), const(1)), (), loop.loc) for s in range(s_n)),
        *(DeviceCall("tilec::mbarrier_init", (BufferPtr(empty, s), const(warps)), (), loop.loc) for s in range(s_n)),
        DeviceCall("tilec::fence_barrier_init", (), (), loop.loc)))
    ws = WarpSpecialize(producer, seq(*before, consumer_loop, *tail, *after), k.threads, PRODUCER_REGS,
                        CONSUMER_REGS if k.threads == 256 else 240 if k.threads == 128 else 160, loop.loc)
    new_body = seq(*shared, Alloc(full), Alloc(empty), init, Sync(loop.loc), ws)
    return replace(k, body=new_body)


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
            notes[len(notes)] = "warp-specialized TMA + mbarrier pipeline (1 producer warpgroup)"
            done = True
            return _specialize(s, why[0], why[1], names)
        return s

    body = top(fn.body)
    out = fn.with_body(body, lowering_notes=notes, lowering="sm90a")
    return pipeline_loops(out, target)  # kernels that did not qualify keep the cp.async pipeline
