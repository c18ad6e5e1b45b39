"""The hand-written sm_90a reference GEMM (test_gemm_sm90.cu: TMA + mbarrier ring, warp specialization, setmaxnreg,
wgmma, persistent grouped tiles, optional 2-CTA multicast) against a float32 torch reference, on random fp16/bf16
inputs including sizes that are not multiples of the tiles. Runs only on sm_90 devices (sm_90a cubins run nowhere
else). The output is poisoned with NaN first, so an unwritten element fails."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sm90_reference import STAGES, ReferenceGemm, compiled

pytestmark = [pytest.mark.gpu, pytest.mark.nvcc]

# (M, N, K): ragged in every dimension, one tile, a K shorter than a k-block, tiles spanning several raster
# groups, and 4096^3. K (and N for NN) stay multiples of 8: TMA needs 16-byte row strides.
SIZES = [(77, 200, 64), (1000, 1032, 520), (128, 256, 64), (300, 8, 8), (1, 24, 40), (2500, 600, 1000),
         (513, 301, 72), (4096, 4096, 4096)]
# (bn, cluster, tma_store)
VARIANTS = [(bn, cluster, False) for bn in sorted(STAGES, reverse=True) for cluster in (1, 2)]
VARIANTS += [(256, cluster, True) for cluster in (1, 2)]


def _torch():
    import torch

    if torch.cuda.get_device_capability() != (9, 0):
        pytest.skip(f"sm_90a cubins need an sm_90 GPU, this one is {torch.cuda.get_device_name()}")
    return torch


@pytest.mark.parametrize(("bn", "cluster", "tma_store"), VARIANTS,
                         ids=[f"128x{bn}_c{c}" + ("_tma" if t else "") for bn, c, t in VARIANTS])
@pytest.mark.parametrize("layout", ["nt", "nn"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("size", SIZES, ids=["x".join(map(str, s)) for s in SIZES])
def test_reference_gemm_matches_torch(size: tuple, dtype: str, layout: str, bn: int, cluster: int,
                                      tma_store: bool) -> None:
    torch = _torch()
    m, n, k = size
    if layout == "nn" and n % 8:
        pytest.skip("NN needs N % 8 == 0 (B's rows are TMA-loaded)")
    td = getattr(torch, dtype)
    gen = torch.Generator(device="cuda").manual_seed(m * 7 + n * 3 + k)
    a = torch.randn(m, k, device="cuda", dtype=td, generator=gen)
    b = torch.randn((n, k) if layout == "nt" else (k, n), device="cuda", dtype=td, generator=gen)
    c = torch.full((m, n), float("nan"), device="cuda", dtype=td)
    ReferenceGemm(dtype, layout, bn, cluster, tma_store=tma_store)(a, b, c)
    torch.cuda.synchronize()
    ref = a.float() @ (b.float().T if layout == "nt" else b.float())
    assert not torch.isnan(c).any(), f"{int(torch.isnan(c).sum())} outputs never written"
    err = float((c.float() - ref).norm() / ref.norm())
    assert err <= 1e-2, f"relative Frobenius error {err:.3g}"


def test_reference_kernel_resources() -> None:
    # Compiles on any machine with nvcc and a GPU; the ptxas figures are what test_headers_sm90_compile checks.
    res = compiled().resources
    assert res["spill_bytes"] == 0 and res["stack_bytes"] == 0, res
