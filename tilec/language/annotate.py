"""Schedule annotations: T.annotate_layout, T.use_swizzle, T.annotate_persistent and T.annotate_pingpong."""
from __future__ import annotations

from tilec.errors import TilecError
from tilec.ir.buffer import Buffer
from tilec.ir.stmt import Annotate
from tilec.language.builder import current, loc


def annotate_layout(layouts: dict) -> None:
    """Fix the layout of some buffers: `T.annotate_layout({A_shared: layout})` (layouts from tilec.layout)."""
    b = current("T.annotate_layout")
    if not isinstance(layouts, dict) or not all(isinstance(k, Buffer) for k in layouts):
        raise TilecError("T.annotate_layout expects a dict {buffer: layout}", loc())
    b.emit(Annotate("layout", dict(layouts), loc()))


def use_swizzle(panel_size: int = 8, order: str = "row", enable: bool = True) -> None:
    """Rasterize thread blocks in panels of `panel_size` rows for L2 reuse (block index remapping)."""
    b = current("T.use_swizzle")
    if not isinstance(panel_size, int) or panel_size <= 0:
        raise TilecError(f"T.use_swizzle: panel_size must be a positive int, got {panel_size!r}", loc())
    if order not in ("row", "column"):
        raise TilecError(f"T.use_swizzle: order must be 'row' or 'column', got {order!r}", loc())
    b.emit(Annotate("swizzle", (panel_size, order, bool(enable)), loc()))


def annotate_persistent(enable: bool = True, pairs: bool = False, stream_k: bool = False) -> None:
    """Make the kernel persistent: launch min(#tiles, #SMs x resident blocks per SM) blocks that each loop over
    tiles t = b, b + B, b + 2B, ... (b: the block's index, B: the blocks launched; #tiles = the product of the
    T.Kernel grid), with the block variables bound from t (after T.use_swizzle's rasterization). A schedule choice
    only: the program computes the same result. On sm_90a's warp-specialized pipeline the producer then prefetches
    the next tile's stages while the consumers run the epilogue.

    pairs: each block takes its tiles in pairs (x, gx - 1 - x) of the same y and z (gx: the grid's x extent; with
    an odd gx the middle x goes alone), pair p = b, b + B, ... . When a tile's work grows linearly with x (the query
    blocks of a causal attention) every pair is the same work, so the static schedule stays balanced, and a block's
    consecutive tiles share y and z (their K/V rows stay in L2). Taken only when there are at least as many pairs as
    blocks launched (otherwise the plain order: one tile per block is better balanced then). Not with
    T.use_swizzle.

    stream_k: on sm_90a's warp-specialized pipeline, when the tiles do not fill whole waves of blocks, split the k-loop
    of the last tiles between blocks (stream-K: the last tiles % B + B tiles' k-iterations in B equal ranges) and
    add the partial accumulators up through a workspace the launcher provides (one per stream). For a loop whose
    body is T.gemm ops only, into an accumulator cleared right before it, followed by the epilogue; not with pairs
    or clusters. Other lowerings (sm_80) walk whole tiles and say so in their lowering notes. Measured slower than
    whole tiles for the GEMM on the H200 (the split tiles' blocks read A/B at different k offsets; kernels/gemm.py)."""
    b = current("T.annotate_persistent")
    if not isinstance(enable, bool):
        raise TilecError(f"T.annotate_persistent: enable must be a bool, got {enable!r}", loc())
    if not isinstance(pairs, bool):
        raise TilecError(f"T.annotate_persistent: pairs must be a bool, got {pairs!r}", loc())
    if not isinstance(stream_k, bool):
        raise TilecError(f"T.annotate_persistent: stream_k must be a bool, got {stream_k!r}", loc())
    if pairs and stream_k:
        raise TilecError("T.annotate_persistent: pairs=True and stream_k=True are two different tile orders; pick "
                         "one", loc())
    b.emit(Annotate("persistent", (enable, pairs, stream_k), loc()))


def annotate_pingpong(enable: bool = True) -> None:
    """On sm_90a's warp-specialized pipeline with several consumer warpgroups: make them take turns at the tensor
    cores (each T.gemm of the pipelined loop is one turn; warpgroup 0, 1, ..., 0, ...), so one warpgroup's
    element-wise work (e.g. an attention softmax) overlaps another's wgmmas. Off by default (a turn lasts until its
    wgmmas complete; the H100 attention kernel measured slower with it). A schedule choice only."""
    b = current("T.annotate_pingpong")
    if not isinstance(enable, bool):
        raise TilecError(f"T.annotate_pingpong: enable must be a bool, got {enable!r}", loc())
    b.emit(Annotate("pingpong", enable, loc()))


def annotate_defer_reductions(enable: bool = True) -> None:
    """Let the compiler combine row sums across lanes once after their loop instead of every step (on by default;
    see tilec/transform/defer_lane_reductions.py for when it applies). False keeps every T.reduce_sum whole. The
    results differ only in the order of the additions."""
    b = current("T.annotate_defer_reductions")
    if not isinstance(enable, bool):
        raise TilecError(f"T.annotate_defer_reductions: enable must be a bool, got {enable!r}", loc())
    b.emit(Annotate("defer_reductions", enable, loc()))
