"""T.Parallel(skip_unit=f): a scaling loop `x[...] *= f[...]` lowered behind one warp vote (tilec::warp_any), so a
warp whose factors are all exactly 1.0 branches around its multiplications; the same result (the interpreter runs the
body as written), clear errors for a non-fragment factor and for a body that is not a scaling store by f, and the
attention program's use (flash_attn_fwd(skip_rescale=True): the catalogue's d128 causal persistent variant)."""
from __future__ import annotations

import numpy as np
import pytest

import tilec
import tilec.language as T
from kernels.attention import SM90A_CONFIGS, flash_attn_fwd

M, N = 64, 64


def scale_rows(skip: bool, body: str = "mul"):
    @T.prim_func
    def main(X: T.Tensor((M, N), "float32"), S: T.Tensor((M,), "float32"), Y: T.Tensor((M, N), "float32")):
        with T.Kernel(1, threads=128) as bx:
            acc = T.alloc_fragment((M, N), "float32")
            f = T.alloc_fragment((M,), "float32")
            T.copy(X, acc)
            T.reduce_max(acc, f, dim=1)  # f gets acc's row layout, as attention's alpha does
            for i in T.Parallel(M):
                f[i] = S[i]
            for i, j in T.Parallel(M, N, skip_unit=f if skip else None):
                if body == "mul":
                    acc[i, j] *= f[i]
                elif body == "add":
                    acc[i, j] += f[i]
                else:
                    acc[i, j] = X[i, j] * f[i]
            T.copy(acc, Y)

    return main


def test_the_scaling_loop_runs_behind_one_warp_vote() -> None:
    src = tilec.compile(scale_rows(True), target="sm_80").get_kernel_source()
    plain = tilec.compile(scale_rows(False), target="sm_80").get_kernel_source()
    assert "warp_any" not in plain
    assert src.count("tilec::warp_any(") == 1
    head = src.index("if (tilec::warp_any(")
    guard = src[head:src.index("{", head)]
    assert "!= 1.0f" in guard  # every factor this thread multiplies by, compared with exactly 1
    body = src[head:]
    muls = [ln.strip() for ln in plain.splitlines() if "* f[" in ln]
    assert muls and all(m in body for m in muls)  # the same multiplications, now inside the branch


def test_the_result_is_the_same() -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((M, N)).astype(np.float32)
    s = np.where(rng.random(M) < 0.5, 1.0, rng.random(M) + 0.5).astype(np.float32)
    for skip in (False, True):
        y = np.full((M, N), np.nan, np.float32)
        tilec.compile(scale_rows(skip), target="sm_80").interpret(x, s, y)
        np.testing.assert_array_equal(y, x * s[:, None])


def test_the_factor_must_be_a_fragment() -> None:
    @T.prim_func
    def main(X: T.Tensor((M, N), "float32")):
        with T.Kernel(1, threads=128) as bx:
            acc = T.alloc_fragment((M, N), "float32")
            T.copy(X, acc)
            for i, j in T.Parallel(M, N, skip_unit=2.0):
                acc[i, j] *= 2.0
            T.copy(acc, X)

    with pytest.raises(tilec.TilecError, match="skip_unit must be a fragment"):
        tilec.compile(main, target="sm_80").get_kernel_source()


@pytest.mark.parametrize("body", ["add", "other"])
def test_the_body_must_be_a_scaling_store(body: str) -> None:
    with pytest.raises(tilec.TilecError, match=r"skip_unit=f.*one scaling store"):
        tilec.compile(scale_rows(True, body), target="sm_80").get_kernel_source()


def test_attention_skips_the_rescale_of_o() -> None:
    syms = [T.symbolic(n) for n in ("batch", "seqlen_q", "seqlen_k", "heads", "kv_heads")]
    k = tilec.compile(flash_attn_fwd(*syms, 128, causal=True, block_M=128, block_N=128, num_stages=2, threads=256,
                                     persistent=True, smem_epilogue=True, overlap=True, pingpong=True,
                                     skip_rescale=True), target="sm_90a")
    src = k.get_kernel_source()
    # the main loop's and the epilogue iteration's rescale (both copies of the one T.Parallel)
    assert src.count("if (tilec::warp_any(((alpha[0] != 1.0f) || (alpha[1] != 1.0f)))) {") == 2
    i = src.index("tilec::warp_any(")
    assert "acc_o[0] = (acc_o[0] * alpha[0]);" in src[i:i + 300]
    assert "acc_o[0] = (acc_o[0] * l_i[0]);" in src  # the final normalisation is not a skip_unit loop
    assert [c.skip_rescale for c in SM90A_CONFIGS[(128, True)]] == [True, False]
