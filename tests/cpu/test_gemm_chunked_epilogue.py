"""The catalogue's sm_90a 128x256 GEMM row (kernels/gemm.py SM90A_CONFIGS[0]: 4 stages, persistent, C through two
alternating 128x64 chunk tiles stored by TMA). It builds without spills or local memory with 64x256 HGMMA, TMA loads
and stores, fits the shared memory, serves long K too (the long-K row it replaced), and its tile program computes the
product on ragged shapes (interpreter vs float64)."""
from __future__ import annotations

import pytest

import tilec
from kernels import gemm
from tests.cpu.sm90a_gemm_helpers import assert_hopper_sass, clean_build_sass, interpret_gemm

ROWS = [v for v in gemm.variants() if v.config is gemm.SM90A_CONFIGS[0]]


def test_row_is_the_chunked_four_stage_tile() -> None:
    c = gemm.SM90A_CONFIGS[0]
    assert (c.block_m, c.block_n, c.stages, c.epilogue_n, c.epilogue_buffers) == (128, 256, 4, 64, 2)
    assert len(ROWS) == 4 and all(v.name.endswith("_128x256x64_s4_t256_persistent_epi64x2_sm90a") for v in ROWS)
    assert not any(v.config.min_k for v in gemm.variants()), "no long-K row any more"


@pytest.mark.parametrize("v", [v for v in ROWS if v.dtype == "bfloat16"], ids=lambda v: v.name)
def test_builds_clean_with_hgmma_and_tma(v: gemm.GemmVariant, tmp_path) -> None:
    kern = tilec.compile(v.build(), target="sm_90a")
    launch = kern.metadata.launches[0]
    assert launch.persistent and [t.param for t in launch.tensor_maps] == ["A", "B", "C"]
    assert launch.smem_bytes <= 227 * 1024
    assert_hopper_sass(clean_build_sass(kern, tmp_path), tma_store=True)


@pytest.mark.parametrize("dtype,trans_b,mnk", [("bfloat16", False, (130, 264, 200)), ("float16", True, (77, 520, 72))])
def test_interpreter_matches_float64(dtype: str, trans_b: bool, mnk: tuple) -> None:
    v = next(v for v in ROWS if v.dtype == dtype and v.trans_b == trans_b)
    assert interpret_gemm(tilec.compile(v.build(), target="sm_90a"), *mnk, dtype, trans_b) <= 1e-2


def test_long_k_dispatches_to_the_pick_group() -> None:
    assert gemm.select(4096, "bfloat16", False, N=8192, K=28672).config is gemm.SM90A_CONFIGS[0]
    assert gemm.select(128, "bfloat16", False, N=8192, K=65536).config.max_m == 128
