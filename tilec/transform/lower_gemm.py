"""Lowering rules of T.gemm, T.fill and T.clear for the sm80 family.

T.gemm calls the block-level tensor-core GEMM of tilec/include/tilec/gemm_sm80.cuh (ldmatrix + mma.sync over
the swizzled shared tiles, the accumulator in the mma_acc fragment layout): gemm_ss for shared A,
gemm_rs for a fragment A.
"""
from __future__ import annotations

from tilec.errors import TilecError
from tilec.ir import dtypes as dt
from tilec.ir.buffer import Region
from tilec.ir.expr import Cast, Var, const
from tilec.ir.simplify import static_int
from tilec.ir.stmt import BufferPtr, DeviceCall, If, Parallel, Stmt, Store, seq
from tilec.language.fill import Fill
from tilec.language.gemm import Gemm
from tilec.layout.fragment import blocked
from tilec.transform.lower_tile_ops import LowerCtx, lower_parallel, rule


def _tile_ptr(ctx: LowerCtx, r: Region) -> BufferPtr:
    """Pointer to the first element of a shared tile region (whole trailing 2-D tile, any stage)."""
    b = r.buffer
    tile_dims = [d for d, e in enumerate(r.extents) if static_int(e) != 1]
    if tile_dims != [b.ndim - 2, b.ndim - 1] or any(static_int(s) != 0 for s in r.starts[-2:]):
        raise TilecError(f"T.gemm operands must be whole shared tiles; {b.name} is used partially", None)
    return BufferPtr(b, ctx.flat(b, tuple(r.starts[:-2]) + (0, 0)))


@rule(Gemm, "sm80")
def lower_gemm(ctx: LowerCtx, g: Gemm) -> Stmt:
    m, n, k = g.mnk()
    wm, wn = ctx.gemm_warps[g]
    if k % 16:
        raise TilecError(f"T.gemm: K = {k} must be a multiple of 16 for mma.sync", g.loc)
    ctype = g.a.buffer.dtype.ctype
    clear = []
    if g.clear_accum is not False:
        f = ctx.frag(g.c.buffer)
        clear = [seq(*(Store(g.c.buffer, (const(u),), const(0.0)) for u in range(f.nlocal)))]
        if g.clear_accum is not True:  # a runtime choice
            clear = [If(g.clear_accum, clear[0], None, g.loc)]
    c_ptr = BufferPtr(g.c.buffer, 0)
    if g.a.buffer.scope == "fragment":
        call = DeviceCall("tilec::gemm_rs", (BufferPtr(g.a.buffer, 0), _tile_ptr(ctx, g.b), c_ptr),
                          (m, n, k, wm, wn, _b(g.trans_b), ctype, ctype), g.loc)
    else:
        call = DeviceCall("tilec::gemm_ss", (_tile_ptr(ctx, g.a), _tile_ptr(ctx, g.b), c_ptr),
                          (m, n, k, wm, wn, _b(g.trans_a), _b(g.trans_b), ctype, ctype), g.loc)
    return seq(*clear, call)


def _b(x: bool) -> str:
    return "true" if x else "false"


@rule(Fill, "sm80")
def lower_fill(ctx: LowerCtx, f: Fill) -> Stmt:
    b = f.dst.buffer
    value = f.value if f.value.dtype == b.dtype else Cast(f.value, b.dtype)
    if b.scope == "fragment":
        if not f.dst.is_full():
            raise TilecError(f"T.fill of part of fragment {b.name} is not supported yet", f.loc)
        return seq(*(Store(b, (const(u),), value) for u in range(ctx.frag(b).nlocal)))
    ext = tuple(static_int(e) for e in f.dst.extents)
    vars_ = tuple(Var(ctx.fresh("fi"), dt.int32) for _ in ext)
    idx = tuple(s + v for s, v in zip(f.dst.starts, vars_)) if any(static_int(s) != 0 for s in f.dst.starts) \
        else vars_
    p = Parallel(vars_, ext, Store(b, idx, value, f.loc), f.loc)
    return lower_parallel(ctx, p, blocked(ext, ctx.threads, 1))
