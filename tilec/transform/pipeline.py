"""The compiler pipeline: one flat list of passes, each with the reason it sits where it does."""
from __future__ import annotations

from typing import Callable

from tilec.ir.func import PrimFunc
from tilec.transform.defer_lane_reductions import defer_lane_reductions
from tilec.transform.infer_layout import infer_layout
from tilec.transform.insert_syncs import insert_syncs
from tilec.transform.lower_tile_ops import lower_tile_ops
from tilec.transform.persistent_tiles import persistent_tiles
from tilec.transform.pipeline_loops import pipeline_loops
from tilec.transform.plan_shared_memory import plan_shared_memory
from tilec.transform.specialize_warps import specialize_warps

PASSES: list[tuple[str, Callable]] = [
    # Pipelining works on tile ops (whole copies), before they become per-thread code; it adds stage
    # dimensions to shared buffers and rebuilds the ops it touches, so it runs before the analyses that
    # attach results to ops.
    ("pipeline_loops", pipeline_loops),
    # Persistent kernels wrap their (pipelined) work in a tile loop; still on tile ops, so the later passes see
    # the loop like any other.
    ("persistent_tiles", persistent_tiles),
    # Layouts next: every later pass needs to know which thread holds which element.
    ("infer_layout", infer_layout),
    # Needs the layouts (which lanes share a row) and still-whole tile ops (reductions, fills, T.Parallel updates).
    ("defer_lane_reductions", defer_lane_reductions),
    # Tile ops and T.Parallel -> per-thread code using the layouts.
    ("lower_tile_ops", lower_tile_ops),
    # Barriers are placed on the per-thread code, where every shared access is visible.
    ("insert_syncs", insert_syncs),
    # Last: all shared buffers (including lowering's scratch) are known.
    ("plan_shared_memory", plan_shared_memory),
]

PASS_NAMES = ["parse", "specialize_warps"] + [n for n, _ in PASSES]


def passes_for(target: object) -> list[tuple[str, Callable]]:
    """The pass list of a target: sm_90a replaces cp.async pipelining by TMA + mbarrier warp specialization
    (kernels it cannot specialize still get the cp.async pipeline inside specialize_warps)."""
    if getattr(target, "has_wgmma", False) and getattr(target, "has_tma", False):
        return [("specialize_warps", specialize_warps)] + PASSES[1:]
    return PASSES


def run_pipeline(fn: PrimFunc, target: object, stop_after: str | None = None) -> PrimFunc:
    """Run the target's passes in order (stopping after `stop_after` if given) and return the result."""
    if stop_after == "parse":
        return fn
    for name, p in passes_for(target):
        fn = p(fn, target)
        if name == stop_after or (stop_after == "pipeline_loops" and name == "specialize_warps"):
            break
    return fn
