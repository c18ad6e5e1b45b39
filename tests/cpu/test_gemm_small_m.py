"""The small-M GEMM variants: the M <= 16 GEMV tile (kernels/gemm.py GEMV: 16-row mma.sync tiles, sm80 lowering)
and the sm_90a ones (SM90A_SMALL_M: the TMA/wgmma lowering with narrow tiles (64 x 64, 64 x 128) and deep pipelines of K tiles). They build without spills or local memory (the sm_90a ones with HGMMA and TMA loads in the SASS); the
dispatch rule takes the GEMV tile for M <= 16 where its shared memory fits, the sm_90a ones for M <= 128 on compute
capability 9.0 only (other devices keep the sm80 small tile); their tile programs compute the product on ragged
small shapes (interpreter vs float64)."""
from __future__ import annotations

import re

import pytest

import tilec
from kernels import gemm
from tests.cpu.sm90a_gemm_helpers import interpret_gemm, sass_of

SMALL = [v for v in gemm.variants() if v.lowering == "sm90a" and v.config in gemm.SM90A_SMALL_M]


def test_small_m_rows_lead_every_group() -> None:
    assert len(SMALL) == 4 * len(gemm.SM90A_SMALL_M)
    for dtype in ("float16", "bfloat16"):
        for trans_b in (False, True):
            group = [v for v in gemm.variants() if v.dtype == dtype and v.trans_b == trans_b]
            # the M <= 16 GEMV tile (sm80 lowering, every arch with its shared memory), then the sm90a small tiles
            assert group[0].config is gemm.GEMV and group[0].lowering == "sm80" and group[0].archs == ()
            n = len(gemm.SM90A_SMALL_M)
            assert [v.config for v in group[1:1 + n]] == list(gemm.SM90A_SMALL_M)
            assert all(v.archs == ("sm_90a",) for v in group[1:1 + n])


@pytest.mark.parametrize("v", SMALL, ids=lambda v: v.name)
def test_builds_without_spills_with_hgmma_and_tma(v: gemm.GemmVariant, tmp_path) -> None:
    c = v.config
    kern = tilec.compile(v.build(), target="sm_90a")
    r = kern.resources
    assert r["spill_bytes"] == 0 and r["stack_bytes"] == 0, r
    launch = kern.metadata.launches[0]
    assert launch.threads == c.threads + 128  # the consumer warpgroups plus the TMA producer warpgroup
    assert launch.smem_bytes <= 220 * 1024
    assert [t.param for t in launch.tensor_maps] == ["A", "B"]
    sass = sass_of(kern, tmp_path)
    if sass is None:
        pytest.skip("cuobjdump/nvdisasm not installed")
    bf16 = r"\.BF16" if v.dtype == "bfloat16" else ""
    assert re.search(rf"HGMMA\.64x{c.block_n}x16\.F32{bf16}", sass), "no wgmma of the tile's width"
    assert "UTMALDG.2D" in sass, "no TMA load"
    assert not re.search(r"\b(LDL|STL)\b", sass), "local memory traffic"


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("trans_b", [False, True], ids=["nn", "nt"])
def test_select_prefers_them_on_sm90a_only(dtype: str, trans_b: bool) -> None:
    by_m = sorted(gemm.SM90A_SMALL_M, key=lambda c: c.max_m)
    for m in (1, 16):  # the GEMV tile first wherever its 160 KiB of shared memory fit
        assert gemm.select(m, dtype, trans_b, cc=(9, 0)).config is gemm.GEMV
    for m in (17, 63, 64, 65, 100, 128):
        v = gemm.select(m, dtype, trans_b, cc=(9, 0))
        assert v.lowering == "sm90a" and v.config == next(c for c in by_m if m <= c.max_m), (m, v.name)
    assert gemm.select(129, dtype, trans_b, cc=(9, 0)).config in gemm.SM90A_CONFIGS
    small_smem = lambda v: v.config is not gemm.GEMV  # noqa: E731 - the 99 KiB archs: the GEMV tile does not fit
    for cc in ((8, 0), (8, 6), (8, 9), (10, 0), (12, 0)):
        assert gemm.select(16, dtype, trans_b, cc=cc).config is gemm.GEMV, cc
        for m in (1, 16, 17, 128):
            assert gemm.select(m, dtype, trans_b, small_smem, cc=cc).config is gemm.SMALL_M, (cc, m)
    # A build without the sm_90a code (runnable says no) falls back to the sm80 small tile on the H100 too.
    no_sm90a = lambda v: v.lowering != "sm90a"  # noqa: E731
    assert gemm.select(17, dtype, trans_b, no_sm90a, cc=(9, 0)).config is gemm.SMALL_M


def test_gemv_tile_builds_without_spills() -> None:
    for v in (v for v in gemm.variants() if v.config is gemm.GEMV):
        for target in ("sm_80", "sm_90"):
            kern = tilec.compile(v.build(), target=target)
            r = kern.resources
            assert r["spill_bytes"] == 0 and r["stack_bytes"] == 0, (v.name, target, r)
            assert kern.metadata.launches[0].smem_bytes == 8 * (16 + 64) * 128 * 2  # 160 KiB: sm_80/90/100 only


@pytest.mark.parametrize("dtype,trans_b,mnk", [("float16", True, (1, 200, 328)), ("bfloat16", False, (16, 72, 264)),
                                               ("float16", False, (13, 136, 1000))])
def test_gemv_tile_interpreter_matches_float64(dtype: str, trans_b: bool, mnk: tuple) -> None:
    v = next(v for v in gemm.variants() if v.config is gemm.GEMV and v.dtype == dtype and v.trans_b == trans_b)
    assert interpret_gemm(tilec.compile(v.build(), target="sm_80"), *mnk, dtype, trans_b) <= 1e-2


@pytest.mark.parametrize("config", gemm.SM90A_SMALL_M, ids=lambda c: f"{c.block_m}x{c.block_n}x{c.block_k}")
@pytest.mark.parametrize("dtype,trans_b,mnk", [
    ("float16", True, (5, 200, 328)),     # M << block_M, N and K ragged (the last K tile half outside)
    ("bfloat16", False, (77, 136, 96)),   # K < block_K, M over one 64-row tile
    ("float16", False, (1, 72, 264)),
])
def test_interpreter_matches_float64(config: gemm.TileConfig, dtype: str, trans_b: bool, mnk: tuple) -> None:
    v = next(v for v in SMALL if v.config == config and v.dtype == dtype and v.trans_b == trans_b)
    kern = tilec.compile(v.build(), target="sm_90a")
    assert interpret_gemm(kern, *mnk, dtype, trans_b) <= 1e-2
