"""Every test kernel compiles with nvcc for each sm80-family arch with no spills and no local memory."""
from __future__ import annotations

import pytest

import tilec
import tilec.language as T
from tests.kernels.attention import flash_attention
from tests.kernels.gemm import matmul
from tests.kernels.softmax import softmax

ARCHS = ["sm_80", "sm_86", "sm_89", "sm_90", "sm_120"]
KERNELS = {
    # 128x128 tiles over 4 warps need 128 accumulators a thread: with symbolic N the NN variant spills 16 bytes
    # on sm_80, so the NN kernel here uses 8 warps (the NT one stays at 4).
    "gemm_nn_f16": lambda: matmul(T.symbolic("M"), T.symbolic("N"), T.symbolic("K"), threads=256),
    "gemm_nt_bf16": lambda: matmul(T.symbolic("M"), T.symbolic("N"), T.symbolic("K"), dtype="bfloat16",
                                   out_dtype="bfloat16", trans_b=True),
    "softmax": lambda: softmax(T.symbolic("M"), 256),
    "attention_d64_causal": lambda: flash_attention(T.symbolic("B"), 8, T.symbolic("S"), T.symbolic("S"), 64,
                                                    is_causal=True),
    "attention_d128": lambda: flash_attention(T.symbolic("B"), 8, T.symbolic("S"), T.symbolic("S"), 128),
}


@pytest.mark.nvcc
@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("name", sorted(KERNELS))
def test_compiles_without_spills(name: str, arch: str) -> None:
    kern = tilec.compile(KERNELS[name](), target=arch)
    res = kern.resources
    assert kern.cubin[:4] == b"\x7fELF"
    assert res["spill_bytes"] == 0, f"{name} spills on {arch}: {res}"
    assert res["stack_bytes"] == 0, f"{name} uses local memory on {arch}: {res}"
    assert 0 < res["registers"] <= 255
