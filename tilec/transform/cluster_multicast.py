"""Thread-block clusters on sm_90a: which pipelined TMA loads the CTAs of a cluster share, and how they split them.

Used by specialize_warps (the pass that owns the pipeline); this module only decides.

A kernel asks for clusters with T.Kernel(..., cluster_dims=(cx, cy, cz)). Supported: one dimension `axis` > 1 of
size n (2..8), so the n CTAs of a cluster differ only in the block index along that axis (b_axis = n * u + rank).
A producer copy of the pipelined loop whose global coordinates do not depend on b_axis (through the kernel's Lets)
loads the same tile in every CTA of the cluster: it is *shared*. Each CTA then loads one n-th of the tile and the
TMA unit writes that piece into every CTA of the cluster (multicast), completing on each one's stage mbarrier; a
stage may be refilled only when the consumers of every CTA released it, so the consumer warps arrive on the empty
barriers of all n CTAs.

How a shared tile splits (MulticastSplit): by 128-byte column panels when their count is a multiple of n (CTA r
loads panels r * P/n ..), else by rows when the tile's rows are a multiple of 8 n (CTA r loads rows r * R/n ..
of every panel: whole 8-row swizzle atoms, so the pieces land exactly where one whole-tile load would write them).

The plan also requires, for every CTA of a cluster to run the same pipeline steps: a loop start and extent, and the
kernel's Lets they use, independent of b_axis; no coordinate of a loop copy that reads memory (a padded block past
the grid would read with an index out of range). Otherwise the cluster is dropped (launched without clusters) and
plan_cluster says why. When no copy is shared there is nothing to gain either, and the cluster is dropped too.
"""
from __future__ import annotations

from dataclasses import dataclass

from tilec.ir import dtypes as dt
from tilec.ir.expr import Expr, Var, free_vars, loads
from tilec.ir.stmt import For, Kernel, Let
from tilec.ir.visit import walk
from tilec.language.copy import Copy


# The CTA's rank in its cluster (%cluster_ctarank), as generated code names it: codegen defines it in clustered kernels.
CLUSTER_RANK = Var("tl_crank", dt.int32, nonneg=True)


@dataclass(frozen=True)
class MulticastSplit:
    """How the CTAs of a cluster share one tile: `size` CTAs, each loading the panels [rank * panels, (rank + 1) *
    panels) (by == "panels"; `panels` per CTA) or the rows [rank * rows, (rank + 1) * rows) of every panel (by ==
    "rows"; `rows` per CTA)."""

    size: int
    by: str
    panels: int = 0
    rows: int = 0


@dataclass(frozen=True)
class ClusterPlan:
    """The cluster a warp-specialized kernel is launched with: dims (cx, cy, cz), size = cx * cy * cz, axis (the
    dimension > 1) and the shared producer copies (by destination buffer) with their splits."""

    dims: tuple
    size: int
    axis: int
    splits: dict

    def shares(self, c: Copy) -> MulticastSplit | None:
        return self.splits.get(c.dst.buffer)


def _lets(k: Kernel) -> dict:
    return {s.var: s.value for s in walk(k.body) if isinstance(s, Let)}


def depends_on(e: Expr, var: Var, lets: dict) -> bool:
    """Whether expression `e` depends on `var`, directly or through the Lets that bind its free variables."""
    seen: set = set()
    todo = list(free_vars(e))
    while todo:
        v = todo.pop()
        if v == var:
            return True
        if v in seen:
            continue
        seen.add(v)
        if v in lets:
            todo += list(free_vars(lets[v]))
    return False


def split_for(c: Copy, n: int) -> MulticastSplit | str:
    """How n CTAs share the tile of TMA load `c` (its destination a 2-D shared tile of 128-byte panels, or of
    16/32/64-byte rows: one panel), or why they cannot."""
    rows, cols = (int(x) for x in c.dst.buffer.shape[-2:])
    row_bytes = cols * c.dst.buffer.dtype.bytes
    panels = row_bytes // 128 if row_bytes % 128 == 0 else 1
    if panels % n == 0:
        return MulticastSplit(n, "panels", panels=panels // n)
    if rows % (8 * n) == 0:
        return MulticastSplit(n, "rows", rows=rows // n)
    return (f"{c.dst.buffer.name} ({rows}x{cols}) splits into {n} pieces neither by its {panels} 128-byte column "
            f"panels nor by whole 8-row groups")


def plan_cluster(k: Kernel, loop: For, producers: list) -> ClusterPlan | str | None:
    """The cluster plan of warp-specialized kernel `k` (its pipelined `loop` and TMA `producers`): None when no
    cluster was asked for, a string saying why the requested one is dropped, else the plan."""
    dims = tuple(int(d) for d in k.cluster)
    size = dims[0] * dims[1] * dims[2]
    if size == 1:
        return None
    if sum(d > 1 for d in dims) != 1:
        return f"cluster_dims={dims}: clusters along more than one grid dimension are not supported yet"
    axis = next(i for i, d in enumerate(dims) if d > 1)
    bvar = k.block_vars[axis]
    lets = _lets(k)
    name = f"{bvar.name} (grid {'xyz'[axis]})"
    for what, e in (("start", loop.start), ("extent", loop.extent)):
        if depends_on(e, bvar, lets):
            return (f"the pipelined loop's {what} depends on {name}, so the CTAs of a cluster would run different "
                    "numbers of pipeline steps")
    lets_read = any(loads(v) for v in lets.values())
    for p in producers:
        if lets_read or any(loads(e) for e in p.src.starts):
            return (f"the coordinates of the T.copy into {p.dst.buffer.name} read memory (a CTA past the grid, "
                    "which a cluster may add, would read out of range)")
    splits, why = {}, []
    for p in producers:
        if any(depends_on(e, bvar, lets) for e in p.src.starts):
            continue
        s = split_for(p, size)
        if isinstance(s, str):
            why.append(s)
        else:
            splits[p.dst.buffer] = s
    if not splits:
        return (f"no T.copy of the pipelined loop loads the same tile in every CTA of the cluster (each depends on "
                f"{name})" + (f"; {'; '.join(why)}" if why else ""))
    return ClusterPlan(dims, size, axis, splits)
