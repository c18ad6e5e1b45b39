"""The test kernels (GEMM, softmax, attention) compiled for the current GPU, against torch references."""
from __future__ import annotations

import pytest

import tilec
import tilec.language as T
from tests.kernels.attention import flash_attention
from tests.kernels.gemm import matmul
from tests.kernels.softmax import softmax

pytestmark = pytest.mark.gpu


def rel_err(out, ref) -> float:
    import torch

    out, ref = out.double(), ref.double()
    assert not torch.isnan(out).any(), "NaN in the output"
    return float((out - ref).norm() / ref.norm())


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("mnk", [(256, 256, 256), (1000, 1032, 520), (77, 200, 64), (2048, 1024, 4096)])
def test_gemm(dtype, trans_b, mnk):
    import torch

    m, n, k = mnk
    kern = tilec.compile(matmul(T.symbolic("M"), T.symbolic("N"), T.symbolic("K"), dtype=dtype, out_dtype=dtype,
                                trans_b=trans_b))
    td = getattr(torch, dtype)
    a = torch.randn(m, k, device="cuda", dtype=td)
    b = torch.randn((n, k) if trans_b else (k, n), device="cuda", dtype=td)
    c = torch.full((m, n), float("nan"), device="cuda", dtype=td)
    kern(a, b, c)
    ref = a.float() @ (b.float().T if trans_b else b.float())
    assert rel_err(c, ref) < 1e-2


def test_softmax():
    import torch

    kern = tilec.compile(softmax(T.symbolic("M"), 256))
    x = torch.randn(1000, 256, device="cuda", dtype=torch.float16)
    y = torch.full_like(x, float("nan"))
    kern(x, y)
    assert rel_err(y, torch.softmax(x.float(), dim=-1)) < 1e-2


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("shape", [(2, 4, 256, 256, 64), (1, 2, 200, 333, 128), (2, 2, 128, 128, 128)])
def test_attention(causal, shape):
    import torch
    import torch.nn.functional as F

    b, h, sq, sk, d = shape
    if causal and sq > sk:
        pytest.skip("rows with no key to attend to are NaN in both")
    kern = tilec.compile(flash_attention(b, h, sq, sk, d, is_causal=causal))
    q = torch.randn(b, sq, h, d, device="cuda", dtype=torch.float16)
    k = torch.randn(b, sk, h, d, device="cuda", dtype=torch.float16)
    v = torch.randn(b, sk, h, d, device="cuda", dtype=torch.float16)
    o = torch.full_like(q, float("nan"))
    kern(q, k, v, o)
    qt, kt, vt = (x.transpose(1, 2).float() for x in (q, k, v))
    mask = None
    if causal:  # bottom-right aligned, like flash-attn
        mask = torch.ones(sq, sk, dtype=torch.bool, device="cuda").tril(diagonal=sk - sq)
    ref = F.scaled_dot_product_attention(qt, kt, vt, attn_mask=mask).transpose(1, 2)
    assert rel_err(o, ref) < 1e-2


def test_wrong_arguments_raise():
    import torch

    kern = tilec.compile(matmul(T.symbolic("M"), 256, 256))
    a = torch.randn(128, 256, device="cuda", dtype=torch.float16)
    b = torch.randn(256, 256, device="cuda", dtype=torch.float16)
    c = torch.empty(128, 256, device="cuda", dtype=torch.float16)
    with pytest.raises(Exception, match="A"):
        kern(a.float(), b, c)
    with pytest.raises(Exception, match="B"):
        kern(a, b[:128], c)
    with pytest.raises(Exception, match="contiguous|stride"):
        kern(a, b.t(), c)
    with pytest.raises(Exception):
        kern(a.cpu(), b, c)
    with pytest.raises(Exception):
        kern(a, b)
