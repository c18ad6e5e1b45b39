"""T.Kernel, T.prim_func and thread bindings."""
from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass
from typing import Callable

from tilec.errors import TilecError
from tilec.ir.expr import Expr, ThreadIdx, as_int, const
from tilec.language.builder import current, loc


@dataclass
class KernelFrame:
    """What `T.Kernel(...)` returns; the front end's `with` handler turns it into an ir.Kernel."""

    grid: tuple
    threads: int
    cluster: tuple = (1, 1, 1)


MAX_CLUSTER = 8  # CTAs per cluster that every sm_90 part can schedule (the portable limit)


def _cluster_dims(cluster_dims: object) -> tuple:
    """cluster_dims as (cx, cy, cz): an int (x only) or 1 to 3 positive ints, at most MAX_CLUSTER CTAs in all."""
    dims = cluster_dims if isinstance(cluster_dims, (tuple, list)) else (cluster_dims,)
    vals = [as_int(d) for d in dims]
    if not 1 <= len(dims) <= 3 or any(v is None or v < 1 for v in vals):
        raise TilecError(f"T.Kernel: cluster_dims must be a positive int or 1 to 3 positive ints, got "
                         f"{cluster_dims!r}", loc())
    vals += [1] * (3 - len(vals))
    if vals[0] * vals[1] * vals[2] > MAX_CLUSTER:
        raise TilecError(f"T.Kernel: cluster_dims={tuple(vals)} is {vals[0] * vals[1] * vals[2]} CTAs per cluster; at "
                         f"most {MAX_CLUSTER} are portable", loc())
    return tuple(vals)


def Kernel(*grid: object, threads: int = 128, prelude: object = None, cluster_dims: object = 1  # noqa: N802
           ) -> KernelFrame:
    """Launch a grid of thread blocks: `with T.Kernel(gx, gy, gz, threads=128) as (bx, by, bz):`.

    Args:
        grid: 1 to 3 extents (ints or expressions of symbolic dims), x first.
        threads: threads per block (a multiple of 32, at most 1024).
        cluster_dims: thread-block cluster shape (an int for x, or up to 3 ints; at most 8 CTAs). A schedule hint:
            on sm_90a's warp-specialized pipeline the CTAs of a cluster run side by side and a tile that all of them
            load (a T.copy whose source does not depend on the block index along the cluster) is fetched once and
            multicast to all; the other lowerings launch without clusters. Never changes the result.
    """
    current("T.Kernel")
    if not 1 <= len(grid) <= 3:
        raise TilecError(f"T.Kernel: expected 1 to 3 grid dimensions, got {len(grid)}", loc())
    if isinstance(threads, (tuple, list)):
        if len(threads) != 1:
            raise TilecError("T.Kernel: only 1-D thread blocks are supported yet (threads=N)", loc())
        threads = threads[0]
    t = as_int(threads)
    if t is None or t <= 0 or t % 32 or t > 1024:
        raise TilecError(f"T.Kernel: threads must be a multiple of 32 between 32 and 1024, got {threads!r}", loc())
    dims = []
    for g in grid:
        if isinstance(g, Expr):
            dims.append(g)
        elif as_int(g) is not None and as_int(g) > 0:  # type: ignore[operator]
            dims.append(const(as_int(g)))
        else:
            raise TilecError(f"T.Kernel: grid extent {g!r} must be a positive int or an expression", loc())
    while len(dims) < 3:
        dims.append(const(1))
    return KernelFrame(tuple(dims), t, _cluster_dims(cluster_dims))


def get_thread_binding(dim: int = 0) -> Expr:
    """The thread's index in the block (threadIdx.x)."""
    current("T.get_thread_binding")
    if dim != 0:
        raise TilecError("T.get_thread_binding: only dimension 0 exists (1-D thread blocks)", loc())
    return ThreadIdx()


def get_block_binding(dim: int = 0) -> Expr:
    raise TilecError("T.get_block_binding is not supported yet; use the variables bound by T.Kernel", loc())


class PrimFuncDef:
    """A `@T.prim_func`-decorated Python function, captured with its globals and closure for parsing."""

    def __init__(self, fn: Callable, outer_locals: dict | None = None):
        self.fn = fn
        # The generator's locals at decoration time: annotations may name values (shapes, dtypes) that
        # the body never uses, so they are not in the closure (and are strings under PEP 563).
        self.outer_locals = dict(outer_locals or {})
        self.name = fn.__name__
        self.signature = inspect.signature(fn)

    def __call__(self, *a: object, **k: object) -> object:
        raise TilecError(f"{self.name} is a tile program: compile it with @tilec.jit, do not call it directly")

    def __repr__(self) -> str:
        return f"<T.prim_func {self.name}>"


def prim_func(fn: Callable) -> PrimFuncDef:
    """Mark a Python function as a tile program (its body is parsed, never run by Python)."""
    frame = sys._getframe(1)
    return PrimFuncDef(fn, frame.f_locals if frame.f_code.co_name != "<module>" else None)
