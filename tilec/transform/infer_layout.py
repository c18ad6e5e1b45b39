"""Layout inference: a Fragment for every fragment buffer and every T.Parallel loop, a warp grid per T.gemm.

Pre:  a parsed PrimFunc (tile ops, T.Parallel loops, fragments without layouts).
Post: attrs["layouts"][buf] is a Fragment for every fragment buffer; attrs["loop_layouts"][loop] is the
      Fragment that distributes each T.Parallel loop's iterations; attrs["gemm_warps"][gemm] is
      (warp_m, warp_n). Raises TilecError at the op whose constraints conflict.

Constraints, strongest first (TileLang's strict/common/free levels): a gemm fixes its accumulator
(and register A operand) to the MMA layout; a reduction's output is the projection of its input;
fragment-to-fragment copies and element-wise loops propagate layouts both ways; what remains
unconstrained gets a blocked layout (16-byte chunks when it is copied from memory).
"""
from __future__ import annotations

import numpy as np

from tilec.errors import TilecError
from tilec.ir.buffer import Buffer
from tilec.ir.expr import Load, Var, loads
from tilec.ir.func import PrimFunc
from tilec.ir.stmt import Annotate, If, Kernel, Let, Parallel, Stmt, Store, WarpSpecialize
from tilec.ir.visit import walk
from tilec.language.copy import Copy
from tilec.language.gemm import Gemm, GemmWarpPolicy
from tilec.language.reduce import Reduce
from tilec.layout.fragment import Fragment, blocked, mma_acc, project, wgmma_acc


def warp_partition(g: Gemm, num_warps: int) -> tuple[int, int]:
    """(warp_m, warp_n) for a gemm's policy: FullRow splits M only, FullCol N only, Square balances."""
    m, n, _ = g.mnk()
    cands = [(wm, num_warps // wm) for wm in range(1, num_warps + 1) if num_warps % wm == 0]
    ok = [(wm, wn) for wm, wn in cands if m % (16 * wm) == 0 and n % (8 * wn) == 0]
    if g.policy == GemmWarpPolicy.FullRow:
        ok = [c for c in ok if c[1] == 1]
    elif g.policy == GemmWarpPolicy.FullCol:
        ok = [c for c in ok if c[0] == 1]
    if not ok:
        raise TilecError(f"T.gemm: cannot split the {m}x{n} output over {num_warps} warps with policy "
                         f"{g.policy.name} (each warp needs a multiple of 16 rows and 8 columns); change the block "
                         "tile, the thread count or the policy", g.loc)
    return min(ok, key=lambda c: (abs(np.log2((m / c[0]) / (n / c[1]))), -c[0]))


def first_values(src: Fragment, keep: tuple) -> list[int] | None:
    """The v (same for every thread) at which each thread first holds each distinct `keep`-projection, or None."""
    tab = src.table()[:, :, list(keep)]
    ref = None
    for t in range(src.threads):
        seen: dict = {}
        for v in range(src.nlocal):
            seen.setdefault(tuple(tab[t, v]), v)
        order = list(seen.values())
        if ref is None:
            ref = order
        elif order != ref:
            return None
    return ref


def wgmma_ok(g: Gemm, threads: int) -> str | None:
    """Why T.gemm `g` cannot be warpgroup MMAs over `threads` consumer threads (None when it can)."""
    m, n, k = g.mnk()
    groups = threads // 128
    if threads % 128:
        return f"{threads} threads are not whole warpgroups"
    if g.a.buffer.dtype.name not in ("float16", "bfloat16") or g.b.buffer.dtype != g.a.buffer.dtype:
        return "wgmma here takes float16/bfloat16 operands"
    if g.c.buffer.dtype.name != "float32":
        return "wgmma here accumulates in float32"
    if m % (64 * groups):
        return f"M = {m} is not a multiple of 64 x {groups} warpgroups"
    if n % 8 or n > 256:
        return f"N = {n} must be a multiple of 8 and at most 256"
    if k % 16:
        return f"K = {k} is not a multiple of 16"
    if g.b.buffer.scope != "shared" or g.a.buffer.scope not in ("shared", "fragment"):
        return "wgmma needs B in shared memory and A in shared memory or registers"
    if g.a.buffer.scope == "fragment" and g.trans_a:
        return "a register A operand cannot be transposed"
    return None


class _Solver:
    def __init__(self, threads: int, kernel: Kernel, wgmma: bool = False):
        self.wgmma = wgmma
        self.threads = threads
        self.kernel = kernel
        self.layouts: dict = {}
        self.loop_layouts: dict = {}
        self.gemm_warps: dict = {}
        self.changed = False

    def assign(self, buf: Buffer, frag: Fragment, why: Stmt) -> None:
        if buf.scope != "fragment":
            return
        old = self.layouts.get(buf)
        if old is None:
            if tuple(frag.shape) != tuple(buf.shape):
                raise TilecError(f"layout of {buf.name} ({'x'.join(map(str, buf.shape))}) cannot come from a "
                                 f"{'x'.join(map(str, frag.shape))} layout here", getattr(why, "loc", None))
            self.layouts[buf] = frag
            self.changed = True
        elif old != frag:
            raise TilecError(f"conflicting layouts for fragment {buf.name}: it is already laid out as {old.key[0]} "
                             f"but this op needs {frag.key[0]}; copy it into a new fragment first",
                             getattr(why, "loc", None))

    def project_into(self, dst: Buffer, src: Fragment, keep: tuple, why: Stmt) -> None:
        if dst in self.layouts:
            return
        fv = first_values(src, keep)
        if fv is None:
            raise TilecError(f"cannot infer a layout for {dst.name} from its use here (threads do not hold the "
                             "projected elements in the same order)", getattr(why, "loc", None))
        self.assign(dst, project(src, keep, fv), why)

    # ---- constraint rules ----------------------------------------------------------------------
    def gemm(self, g: Gemm) -> None:
        if self.wgmma and wgmma_ok(g, self.threads) is None:
            m, n, k = g.mnk()
            self.gemm_warps[g] = ("wgmma", self.threads // 128)
            self.assign(g.c.buffer, wgmma_acc(m, n, self.threads), g)
            if g.a.buffer.scope == "fragment":
                self.assign(g.a.buffer, wgmma_acc(m, k, self.threads), g)
            return
        wm, wn = warp_partition(g, self.threads // 32)
        self.gemm_warps[g] = (wm, wn)
        m, n, k = g.mnk()
        self.assign(g.c.buffer, mma_acc(m, n, wm, wn, self.threads), g)
        if g.a.buffer.scope == "fragment":
            if wn != 1:
                raise TilecError("T.gemm: a fragment A operand needs every warp to own whole rows; use "
                                 "policy=T.GemmWarpPolicy.FullRow", g.loc)
            self.assign(g.a.buffer, mma_acc(m, k, wm, 1, self.threads), g)

    def reduce(self, r: Reduce) -> None:
        src = self.layouts.get(r.src)
        if src is not None and r.dst.scope == "fragment":
            keep = tuple(d for d in range(r.src.ndim) if d != r.dim)
            self.project_into(r.dst, src, keep, r)

    def copy(self, c: Copy) -> None:
        s, d = c.src.buffer, c.dst.buffer
        if s.scope == "fragment" and d.scope == "fragment" and c.src.is_full() and c.dst.is_full():
            if s in self.layouts:
                self.assign(d, self.layouts[s], c)
            elif d in self.layouts:
                self.assign(s, self.layouts[d], c)

    def parallel(self, p: Parallel) -> None:
        accesses = _fragment_accesses(p)
        lay = self.loop_layouts.get(p)
        if lay is None:
            for buf, dims in accesses:
                if dims == tuple(range(len(p.vars))) and buf in self.layouts:
                    lay = self.layouts[buf]
                    self.loop_layouts[p] = lay
                    self.changed = True
                    break
        if lay is None:
            return
        for buf, dims in accesses:
            if buf in self.layouts:
                continue
            if dims == tuple(range(len(p.vars))):
                self.assign(buf, lay, p)
            elif dims == tuple(sorted(dims)):
                self.project_into(buf, lay, dims, p)
            else:
                raise TilecError(f"{buf.name} is indexed with the loop variables out of order; transposed fragment "
                                 "access in T.Parallel is not supported yet", p.loc)


def _fragment_accesses(p: Parallel) -> list[tuple[Buffer, tuple]]:
    """(fragment, loop-dimension positions of its indices) for every fragment element access in the loop."""
    out = []
    pos = {v: i for i, v in enumerate(p.vars)}
    exprs = []
    for s in walk(p.body):
        if isinstance(s, Store):
            exprs.append(Load(s.buffer, s.indices, s.buffer.dtype, s.loc))
            exprs.append(s.value)
            exprs.extend(s.indices)
        elif isinstance(s, Let):
            exprs.append(s.value)
        elif isinstance(s, If):
            exprs.append(s.cond)
        elif isinstance(s, Parallel):
            raise TilecError("nested T.Parallel loops are not supported; use one T.Parallel with several extents",
                             s.loc)
    for e in exprs:
        for ld in loads(e):
            if ld.buffer.scope != "fragment":
                continue
            dims = []
            for i in ld.indices:
                if not (isinstance(i, Var) and i in pos):
                    raise TilecError(f"inside T.Parallel, fragment {ld.buffer.name} must be indexed by the loop "
                                     "variables themselves (e.g. x[i, j] or x[i])", ld.loc if ld.loc.line else p.loc)
                dims.append(pos[i])
            if len(set(dims)) != len(dims):
                raise TilecError(f"fragment {ld.buffer.name} is indexed twice by one loop variable", p.loc)
            item = (ld.buffer, tuple(dims))
            if item not in out:
                out.append(item)
    return out


def _default(buf: Buffer, threads: int, mem_bytes: int | None) -> Fragment:
    shape = tuple(buf.shape)
    vec = 16 // mem_bytes if mem_bytes else 1
    while vec > 1 and (shape[-1] % vec or int(np.prod(shape)) % (vec * threads) and int(np.prod(shape)) < vec):
        vec //= 2
    return blocked(shape, threads, vec)


def infer_layout(fn: PrimFunc, target: object = None) -> PrimFunc:
    """See the module docstring for pre/post-conditions."""
    layouts: dict = {}
    loop_layouts: dict = {}
    gemm_warps: dict = {}
    for k in (s for s in walk(fn.body) if isinstance(s, Kernel)):
        ws = fn.attrs.get("lowering") == "sm90a" and any(isinstance(x, WarpSpecialize) for x in walk(k.body))
        sv = _Solver(k.threads, k, wgmma=ws)
        stmts = list(walk(k.body))
        for s in stmts:
            if isinstance(s, Annotate) and s.kind == "layout":
                for buf, lay in s.value.items():  # type: ignore[union-attr]
                    if isinstance(lay, Fragment):
                        sv.assign(buf, lay, s)
        for s in stmts:
            if isinstance(s, Gemm):
                sv.gemm(s)
        frags = [s.buffer for s in stmts if hasattr(s, "buffer") and getattr(s.buffer, "scope", "") == "fragment"
                 and type(s).__name__ == "Alloc"]
        for phase in range(3):
            sv.changed = True
            while sv.changed:
                sv.changed = False
                for s in stmts:
                    if isinstance(s, Reduce):
                        sv.reduce(s)
                    elif isinstance(s, Copy):
                        sv.copy(s)
                    elif isinstance(s, Parallel):
                        sv.parallel(s)
            if phase == 0:  # unconstrained fragments: blocked, in 16-byte chunks of memory when copied from it
                mem: dict = {}
                for c in stmts:
                    if isinstance(c, Copy) and (c.src.buffer.scope == "fragment") != (c.dst.buffer.scope == "fragment"):
                        f, m = (c.dst.buffer, c.src.buffer) if c.dst.buffer.scope == "fragment" else \
                            (c.src.buffer, c.dst.buffer)
                        mem.setdefault(f, m.dtype.bytes)
                for b in frags:
                    if b not in sv.layouts and (b in mem or not any(b in _bufs(p) for p in stmts
                                                                    if isinstance(p, Parallel))):
                        sv.layouts[b] = _default(b, k.threads, mem.get(b))
            elif phase == 1:  # loops that touch no laid-out fragment: one element per thread per step
                for p in stmts:
                    if isinstance(p, Parallel) and p not in sv.loop_layouts:
                        sv.loop_layouts[p] = blocked(tuple(p.extents), k.threads, 1)
        for b in frags:
            if b not in sv.layouts:
                raise TilecError(f"cannot infer a layout for fragment {b.name}: nothing constrains it", b.loc)
        layouts.update(sv.layouts)
        loop_layouts.update(sv.loop_layouts)
        gemm_warps.update(sv.gemm_warps)
    return fn.with_attrs(layouts=layouts, loop_layouts=loop_layouts, gemm_warps=gemm_warps)


def _bufs(p: Parallel) -> set:
    return {b for b, _ in _fragment_accesses(p)}
