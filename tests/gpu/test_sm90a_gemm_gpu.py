"""The sm_90a GEMM lowering's TMA-store epilogue and persistent tiles on the GPU (compute capability 9.0 only: the
kernels are sm_90a cubins): kernels/gemm.py::matmul against torch on ragged shapes, NaN-poisoned outputs, fp16 and
bf16, NN and NT; persistent blocks forced to loop over many tiles; the generic tile loop of the sm80 lowering;
thread-block clusters with TMA multicast (an odd number of tile rows or columns leaves a padded CTA)."""
from __future__ import annotations

import functools

import pytest

import tilec
import tilec.language as T
from kernels.gemm import matmul

pytestmark = pytest.mark.gpu

TILE = dict(block_M=128, block_N=256, block_K=64, threads=256, swizzle=8)
CONFIGS = {
    "tma_store_s3": dict(num_stages=3, smem_epilogue=True),
    "persistent_tma_store_s3": dict(num_stages=3, smem_epilogue=True, persistent=True),
    "persistent_s4": dict(num_stages=4, persistent=True),
    # thread-block clusters: B (cluster_m) or A (cluster_n) multicast by TMA; grids padded to whole clusters
    "cluster_m_tma_store_s3": dict(num_stages=3, smem_epilogue=True, cluster_m=2),
    "persistent_cluster_m_tma_store_s3": dict(num_stages=3, smem_epilogue=True, persistent=True, cluster_m=2),
    "persistent_cluster_n_s4": dict(num_stages=4, persistent=True, cluster_n=2),
    # the catalogue's second sm90a tile width
    "persistent_tma_store_128x192_s4": dict(num_stages=4, smem_epilogue=True, persistent=True, block_N=192),
    # C through shared memory in column chunks (one chunk tile reused), a fourth stage in the shared memory it frees
    "persistent_chunked_tma_store_s4": dict(num_stages=4, smem_epilogue=True, persistent=True, epilogue_n=128),
    # stream-K: the last tiles' k-loops split between blocks (4096^3: 512 tiles on 132 SMs, 248 stream-K tiles;
    # 3000x2056x1000: all 216 tiles)
    "stream_k_tma_store_s3": dict(num_stages=3, smem_epilogue=True, persistent=True, stream_k=True),
    "stream_k_128x192_s4": dict(num_stages=4, smem_epilogue=True, persistent=True, stream_k=True, block_N=192),
    "stream_k_s4": dict(num_stages=4, persistent=True, stream_k=True),
}
SHAPES = [(77, 200, 64), (1000, 1032, 520), (1, 8192, 8192), (4096, 4096, 4096), (3000, 2056, 1000)]


@pytest.fixture(autouse=True)
def _needs_sm90() -> None:
    import torch

    cc = torch.cuda.get_device_capability()
    if cc != (9, 0):
        pytest.skip(f"sm_90a cubins run on compute capability 9.0 only (this GPU is {cc[0]}.{cc[1]})")


def compile_gemm(cfg: dict, dtype: str, trans_b: bool, target: str = "sm_90a", **tile: int) -> tilec.JITKernel:
    S = T.symbolic
    return tilec.compile(matmul(S("M"), S("N"), S("K"), dtype=dtype, trans_b=trans_b, **{**TILE, **tile, **cfg}),
                         target=target)


@functools.cache
def kernel(name: str, dtype: str, trans_b: bool) -> tilec.JITKernel:
    return compile_gemm(CONFIGS[name], dtype, trans_b)


def gemm_error(kern: tilec.JITKernel, m: int, n: int, k: int, dtype: str, trans_b: bool) -> float:
    """‖C − A·op(B)‖ / ‖A·op(B)‖ of one run into a NaN-filled C (a NaN left anywhere fails the check)."""
    import torch

    torch.manual_seed(m * 7 + n * 3 + k)
    td = getattr(torch, dtype)
    a = torch.randn(m, k, device="cuda", dtype=td)
    b = torch.randn((n, k) if trans_b else (k, n), device="cuda", dtype=td)
    c = torch.full((m, n), float("nan"), device="cuda", dtype=td)
    kern(a, b, c)
    torch.cuda.synchronize()
    assert not torch.isnan(c).any(), "NaN in the output: some element was never written"
    ref = a.double() @ (b.double().T if trans_b else b.double())
    return float((c.double() - ref).norm() / ref.norm())


@pytest.mark.parametrize("mnk", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("trans_b", [False, True], ids=["nn", "nt"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_gemm_matches_torch(name: str, dtype: str, trans_b: bool, mnk: tuple) -> None:
    assert gemm_error(kernel(name, dtype, trans_b), *mnk, dtype, trans_b) < 1e-2


@pytest.mark.parametrize("blocks", [1, 3, 7])
@pytest.mark.parametrize("name", ["persistent_tma_store_s3", "persistent_s4", "persistent_cluster_m_tma_store_s3",
                                  "stream_k_tma_store_s3"])
def test_few_blocks_loop_over_many_tiles(name: str, blocks: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Launch only `blocks` persistent blocks, so each runs many tiles and the stage ring wraps across tiles at every
    offset (16 k-steps per tile over 3 or 4 stages), with ragged edges in M, N and K. Clusters of 2 round the launch
    to whole clusters (2, 2 and 6 blocks). Stream-K with 3 and 7 blocks splits the k-loops of the last 4-12 tiles
    (9 k-steps each at K = 520) between them."""
    from tilec.runtime import launcher

    monkeypatch.setattr(launcher, "persistent_grid_cap", lambda spec, func, dev: blocks if spec.persistent else 0)
    for dtype, trans_b in (("float16", True), ("bfloat16", False)):
        kern = compile_gemm(CONFIGS[name], dtype, trans_b)  # a fresh launcher: caps are taken when it loads
        for mnk in ((300, 520, 1000), (1000, 1032, 520)):
            assert gemm_error(kern, *mnk, dtype, trans_b) < 1e-2, (dtype, trans_b, mnk)


@pytest.mark.parametrize("mnk", [(77, 200, 64), (1000, 1032, 520), (3000, 2056, 1000)])
def test_generic_tile_loop_of_the_sm80_lowering(mnk: tuple) -> None:
    kern = compile_gemm(dict(num_stages=3, smem_epilogue=True, persistent=True), "float16", True, target="sm_90",
                        block_M=128, block_N=128, block_K=32)
    assert gemm_error(kern, *mnk, "float16", True) < 1e-2


def test_tma_store_needs_16_byte_rows_of_c() -> None:
    import torch

    kern = kernel("tma_store_s3", "float16", True)
    a = torch.randn(77, 64, device="cuda", dtype=torch.float16)
    b = torch.randn(201, 64, device="cuda", dtype=torch.float16)
    c = torch.empty(77, 201, device="cuda", dtype=torch.float16)
    with pytest.raises(tilec.TilecRuntimeError, match="argument 'C' is moved with TMA"):
        kern(a, b, c)


def test_stream_k_workspace_is_reused_per_stream() -> None:
    """Stream-K blocks hand partial sums over through a per-stream workspace whose flags each launch leaves zero:
    back-to-back launches on one stream, and launches on a second stream, all give the right result."""
    import torch

    kern = kernel("stream_k_tma_store_s3", "float16", True)
    m, n, k = 4096, 4096, 1000  # 512 tiles on 132 SMs: 248 stream-K tiles of 16 k-steps
    a = torch.randn(m, k, device="cuda", dtype=torch.float16)
    b = torch.randn(n, k, device="cuda", dtype=torch.float16)
    ref = a.double() @ b.double().T
    side = torch.cuda.Stream()
    for stream in (torch.cuda.current_stream(), torch.cuda.current_stream(), side, side):
        with torch.cuda.stream(stream):
            c = torch.full((m, n), float("nan"), device="cuda", dtype=torch.float16)
            for _ in range(3):
                kern(a, b, c)
        torch.cuda.synchronize()
        assert float((c.double() - ref).norm() / ref.norm()) < 1e-2
