"""T.gemm: C += op(A) @ op(B) on tiles, with tensor cores.

Semantics: C (a float32 fragment, M x N) += A' @ B' where A' is A (M x K) or A transposed when
transpose_A (A stored K x M), and B' is B (K x N) or B transposed when transpose_B (B stored N x K).
Products accumulate in float32. clear_accum=True sets C to 0 first (C = A' @ B'); a runtime boolean expression
decides per execution (on sm_90a the wgmma's scale-d predicate: no instructions clear C). A and B are shared tiles,
or A is a fragment (register operand).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

from tilec.errors import NO_LOC, SourceLoc, TilecError
from tilec.ir import dtypes as dt
from tilec.ir.buffer import Buffer, Region
from tilec.ir.expr import Expr
from tilec.ir.stmt import TileOp
from tilec.language.builder import current, loc
from tilec.language.regions import as_region, normalise, static_extents


class GemmWarpPolicy(enum.IntEnum):
    """How the block's warps split the M x N output tile (TileLang's names)."""

    Square = 0
    FullRow = 1  # warps split M only: every warp owns whole rows (needed for row reductions in one warp)
    FullCol = 2  # warps split N only


@dataclass(frozen=True, eq=False)
class Gemm(TileOp):
    a: Region
    b: Region
    c: Region
    trans_a: bool = False
    trans_b: bool = False
    policy: GemmWarpPolicy = GemmWarpPolicy.Square
    clear_accum: object = False  # a Python bool, or a boolean Expr evaluated when the op runs
    k_pack: int = 1
    wg_wait: int = 0
    loc: SourceLoc = field(default=NO_LOC, compare=False)

    def regions(self) -> tuple:
        return (self.a, self.b, self.c)

    def mnk(self) -> tuple[int, int, int]:
        ae, be = static_extents(self.a, "T.gemm"), static_extents(self.b, "T.gemm")
        m, k = (ae[1], ae[0]) if self.trans_a else ae
        n = be[0] if self.trans_b else be[1]
        return m, n, k

    def interpret(self, ctx: object) -> None:
        a = ctx.read_region(self.a).astype(np.float32)  # type: ignore[attr-defined]
        b = ctx.read_region(self.b).astype(np.float32)  # type: ignore[attr-defined]
        a = a.T if self.trans_a else a
        b = b.T if self.trans_b else b
        clear = bool(ctx.eval(self.clear_accum))  # type: ignore[attr-defined]
        c = np.zeros((a.shape[0], b.shape[1]), np.float32) if clear else ctx.read_region(self.c)  # type: ignore
        ctx.write_region(self.c, c.astype(np.float32) + a @ b)  # type: ignore[attr-defined]


def _buf(x: object, what: str) -> Region:
    r = normalise(as_region(x, "T.gemm", what))
    if len(static_extents(r, "T.gemm")) != 2:
        raise TilecError(f"T.gemm: {what} must be a 2-D tile, got {r.buffer.name} with shape "
                         f"{'x'.join(map(str, static_extents(r, 'T.gemm')))}", loc())
    return r


def gemm(A: object, B: object, C: object, transpose_A: bool = False, transpose_B: bool = False,  # noqa: N803
         policy: GemmWarpPolicy = GemmWarpPolicy.Square, clear_accum: bool = False, k_pack: int = 1,
         wg_wait: int = 0) -> None:
    """C += op(A) @ op(B) on tiles (see the module docstring).

    Raises TilecError for mismatched shapes, unsupported dtypes or storage scopes.
    """
    current("T.gemm")
    a, b, c = _buf(A, "A"), _buf(B, "B"), _buf(C, "C")
    ae, be, ce = (static_extents(r, "T.gemm") for r in (a, b, c))
    m, ka = (ae[1], ae[0]) if transpose_A else ae
    kb, n = (be[1], be[0]) if transpose_B else be
    an, bn = a.buffer.name, b.buffer.name
    if ka != kb:
        raise TilecError(f"T.gemm: A is {m}x{ka} but B is {kb}x{n} after transposes (A's columns must equal B's "
                         f"rows; check transpose_A/transpose_B for {an} and {bn})", loc())
    if ce != (m, n):
        raise TilecError(f"T.gemm: C is {ce[0]}x{ce[1]} but A @ B is {m}x{n}", loc())
    for r, nm in ((a, "A"), (b, "B")):
        if r.buffer.scope not in ("shared", "fragment"):
            raise TilecError(f"T.gemm: {nm} must be in shared memory or a fragment, got a {r.buffer.scope} buffer "
                             f"{r.buffer.name}; T.copy it to an T.alloc_shared tile first", loc())
    if b.buffer.scope != "shared":
        raise TilecError("T.gemm: B must be a shared-memory tile (register B operands are not supported yet)", loc())
    if c.buffer.scope != "fragment":
        raise TilecError(f"T.gemm: C must be a fragment (T.alloc_fragment), got {c.buffer.scope} {c.buffer.name}", loc())
    if a.buffer.dtype != b.buffer.dtype or a.buffer.dtype not in (dt.float16, dt.bfloat16):
        raise TilecError(f"T.gemm: A and B must both be float16 or both bfloat16, got {a.buffer.dtype} and "
                         f"{b.buffer.dtype}", loc())
    if c.buffer.dtype != dt.float32:
        raise TilecError(f"T.gemm: C must be float32 (accumulator), got {c.buffer.dtype}", loc())
    if a.buffer.scope == "fragment" and transpose_A:
        raise TilecError("T.gemm: a fragment A operand cannot be transposed", loc())
    try:
        pol = GemmWarpPolicy(int(policy))
    except ValueError:
        raise TilecError(f"T.gemm: unknown policy {policy!r}; use T.GemmWarpPolicy.Square/FullRow/FullCol", loc()) \
            from None
    current().emit(Gemm(a, b, c, bool(transpose_A), bool(transpose_B), pol, _clear_flag(clear_accum), int(k_pack),
                        int(wg_wait), loc()))


def _clear_flag(x: object) -> object:
    """clear_accum as the IR keeps it: a Python bool, or a boolean Expr (a runtime choice)."""
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, Expr):
        if x.dtype != dt.boolean:
            raise TilecError(f"T.gemm: clear_accum must be a bool or a boolean expression (a comparison), got an "
                             f"expression of type {x.dtype}", loc())
        return x
    raise TilecError(f"T.gemm: clear_accum must be a bool or a boolean expression, got {x!r}", loc())


