"""The sm_90a long-K GEMM row (kernels/gemm.py SM90A_LONG_K: 128x256x64 tiles, 4 stages, persistent, no TMA-store
tile; dispatched for K >= min_k and M past the small-M rows). It builds without spills or local memory with 64x256
HGMMA and TMA loads (no TMA stores: C goes out from the registers), leads the large-M rows of every (dtype, layout)
group, and its tile program computes the product on ragged shapes (interpreter vs float64)."""
from __future__ import annotations

import pytest

import tilec
from kernels import gemm
from tests.cpu.sm90a_gemm_helpers import assert_hopper_sass, clean_build_sass, interpret_gemm

LONG_K = [v for v in gemm.variants() if v.config is gemm.SM90A_LONG_K]


def test_long_k_row_precedes_the_pick_group() -> None:
    assert len(LONG_K) == 4 and gemm.SM90A_LONG_K.min_k == 16384
    for v in LONG_K:
        group = [x for x in gemm.variants() if x.dtype == v.dtype and x.trans_b == v.trans_b]
        i = group.index(v)
        assert all(x.config.max_m for x in group[:i]), "only the small-M rows come before it"
        assert group[i + 1].config.pick and group[i + 1].config.max_m == 0
        assert v.archs == ("sm_90a",) and v.name.endswith("_mink16384_sm90a")


@pytest.mark.parametrize("v", [v for v in LONG_K if v.dtype == "bfloat16"], ids=lambda v: v.name)
def test_builds_clean_with_hgmma_and_tma_loads(v: gemm.GemmVariant, tmp_path) -> None:
    kern = tilec.compile(v.build(), target="sm_90a")
    launch = kern.metadata.launches[0]
    assert launch.persistent and [t.param for t in launch.tensor_maps] == ["A", "B"]
    assert launch.smem_bytes <= 227 * 1024
    assert_hopper_sass(clean_build_sass(kern, tmp_path), tma_store=False)


@pytest.mark.parametrize("dtype,trans_b,mnk", [("bfloat16", False, (130, 264, 200)), ("float16", True, (77, 520, 72))])
def test_interpreter_matches_float64(dtype: str, trans_b: bool, mnk: tuple) -> None:
    v = next(v for v in LONG_K if v.dtype == dtype and v.trans_b == trans_b)
    assert interpret_gemm(tilec.compile(v.build(), target="sm_90a"), *mnk, dtype, trans_b) <= 1e-2
