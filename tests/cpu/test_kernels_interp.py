"""The test kernels (GEMM NN/NT, row softmax, attention) run by the numpy interpreter against numpy references."""
from __future__ import annotations

import numpy as np
import pytest

import tilec
import tilec.language as T
from tests.kernels.attention import flash_attention
from tests.kernels.gemm import matmul
from tests.kernels.softmax import softmax


def rel_err(out: np.ndarray, ref: np.ndarray) -> float:
    assert not np.isnan(out).any(), "NaN in the output: some element was never written"
    return float(np.linalg.norm(out.astype(np.float64) - ref) / np.linalg.norm(ref))


@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("mnk", [(128, 128, 64), (200, 72, 96), (33, 130, 40)])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_gemm(trans_b: bool, mnk: tuple, dtype: str) -> None:
    m, n, k = mnk
    rng = np.random.default_rng()
    kern = tilec.compile(matmul(T.symbolic("M"), n, k, block_M=64, block_N=64, block_K=32, dtype=dtype,
                                out_dtype="float32", trans_b=trans_b))
    store = np.float16 if dtype == "float16" else np.float32  # bf16 lives in float32 arrays in the interpreter
    a = rng.standard_normal((m, k)).astype(store)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(store)
    if dtype == "bfloat16":  # make the inputs exactly representable so the reference sees what the kernel sees
        from tilec.interp.interpreter import round_to
        from tilec.ir import dtypes as dt

        a, b = round_to(dt.bfloat16, a), round_to(dt.bfloat16, b)
    c = np.full((m, n), np.nan, np.float32)
    kern.interpret(a, b, c)
    ref = a.astype(np.float64) @ (b.T if trans_b else b).astype(np.float64)
    assert rel_err(c, ref) < 1e-5


def test_gemm_catches_a_wrong_kernel() -> None:
    """The check can fail: a GEMM whose K loop skips the last tile is caught."""
    kern = tilec.compile(matmul(64, 64, 96, block_M=64, block_N=64, block_K=32, out_dtype="float32"))
    a = np.random.standard_normal((64, 96)).astype(np.float16)
    b = np.random.standard_normal((96, 64)).astype(np.float16)
    c = np.full((64, 64), np.nan, np.float32)
    kern.interpret(a, b, c)
    wrong = a[:, :64].astype(np.float64) @ b[:64].astype(np.float64)
    assert rel_err(c, wrong) > 1e-2


@pytest.mark.parametrize("m, n", [(64, 128), (100, 256)])
def test_softmax(m: int, n: int) -> None:
    kern = tilec.compile(softmax(T.symbolic("M"), n))
    x = (np.random.standard_normal((m, n)) * 3).astype(np.float16)
    y = np.full_like(x, np.nan)
    kern.interpret(x, y)
    e = np.exp(x.astype(np.float64) - x.max(1, keepdims=True))
    assert rel_err(y, e / e.sum(1, keepdims=True)) < 1e-2


def attention_ref(q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool) -> np.ndarray:
    q, k, v = (a.astype(np.float64).transpose(0, 2, 1, 3) for a in (q, k, v))
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(q.shape[-1])
    if causal:  # bottom-right aligned
        sq, sk = s.shape[-2:]
        s = np.where(np.arange(sq)[:, None] + (sk - sq) < np.arange(sk)[None, :], -np.inf, s)
    p = np.exp(s - s.max(-1, keepdims=True))
    return (p / p.sum(-1, keepdims=True) @ v).transpose(0, 2, 1, 3)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("sq, sk, d", [(128, 128, 64), (100, 150, 64), (64, 200, 128)])
def test_attention(causal: bool, sq: int, sk: int, d: int) -> None:
    b, h = 1, 2
    kern = tilec.compile(flash_attention(b, h, sq, sk, d, is_causal=causal))
    q, k, v = (np.random.standard_normal((b, s, h, d)).astype(np.float16) for s in (sq, sk, sk))
    o = np.full_like(q, np.nan)
    kern.interpret(q, k, v, o)
    assert rel_err(o, attention_ref(q, k, v, causal)) < 1e-2
