"""tilekernels.flash_attn / flash_attn_varlen on a GPU: the installed (or PYTHONPATH) build of the real catalogue
against torch.nn.functional.scaled_dot_product_attention in float32.

Random inputs, causal and not, GQA/MQA, seqlen_q != seqlen_k (the causal mask is bottom-right aligned, as in
flash-attn >= 2.1: the reference passes that mask explicitly, since SDPA's is_causal is top-left), sizes that are not
multiples of the tiles, varlen against per-sequence SDPA, return_lse against torch.logsumexp of the scores. Outputs
are poisoned with NaN before each call; the tolerance is ||out - ref|| / ||ref|| <= 1e-2 (DESIGN §8). A row with no
visible key must come out as 0 with lse = +inf (flash-attn's convention)."""
from __future__ import annotations

import math

import pytest

from tests.gpu.test_tilekernels_gpu import _rel_err

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def tk():
    return pytest.importorskip("tilekernels", reason="tilekernels is not built/installed")


def _call(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except ValueError as e:
        if "this tilekernels build has no" in str(e):
            pytest.skip(str(e))
        raise


def _inputs(torch, b, sq, sk, h, hkv, d, dtype, seed=0):
    g = torch.Generator(device="cuda").manual_seed(seed)
    q = torch.randn(b, sq, h, d, dtype=dtype, device="cuda", generator=g)
    k = torch.randn(b, sk, hkv, d, dtype=dtype, device="cuda", generator=g)
    v = torch.randn(b, sk, hkv, d, dtype=dtype, device="cuda", generator=g)
    return q, k, v


def _visible(torch, sq, sk, causal):
    """[sq, sk] bool: query row i sees key j (bottom-right aligned causal mask)."""
    m = torch.ones(sq, sk, dtype=torch.bool, device="cuda")
    return m.tril(sk - sq) if causal else m


def _reference(torch, q, k, v, causal, scale=None):
    """(out [b, sq, h, d], lse [b, h, sq]) in float32 with SDPA; rows with no visible key: out 0, lse +inf."""
    import torch.nn.functional as F

    b, sq, h, d = q.shape
    sk, hkv = k.shape[1], k.shape[2]
    scale = d ** -0.5 if scale is None else scale
    qf, kf, vf = (x.float().transpose(1, 2) for x in (q, k, v))  # [b, heads, s, d]
    kf, vf = kf.repeat_interleave(h // hkv, 1), vf.repeat_interleave(h // hkv, 1)
    mask = _visible(torch, sq, sk, causal)
    empty = ~mask.any(-1)  # [sq]
    if sk == 0:
        out = torch.zeros(b, h, sq, d, device="cuda")
    else:
        out = F.scaled_dot_product_attention(qf, kf, vf, attn_mask=mask, scale=scale)
        out = out.masked_fill(empty[None, None, :, None], 0.0)
    scores = (qf @ kf.transpose(-1, -2)) * scale
    lse = torch.logsumexp(scores.masked_fill(~mask, float("-inf")), -1) if sk else torch.full(
        (b, h, sq), float("-inf"), device="cuda")
    lse = lse.masked_fill(empty[None, None, :], float("inf"))
    return out.transpose(1, 2), lse


CASES = [
    # batch, seqlen_q, seqlen_k, heads, kv_heads, head_dim
    (2, 128, 128, 4, 4, 64),
    (1, 77, 133, 8, 2, 64),      # GQA, ragged, seqlen_q < seqlen_k
    (2, 133, 77, 4, 1, 128),     # MQA, seqlen_q > seqlen_k: causal rows with no key
    (1, 1, 300, 4, 4, 128),      # decode: one query row
    (3, 513, 1000, 2, 2, 128),
    (1, 70, 130, 2, 1, 256),
    (1, 200, 200, 2, 2, 256),
    # More tiles than SMs: the persistent sm90a rows loop over several tiles per block (stage ring, Q barrier and
    # TMA-store phases across tiles).
    (3, 1000, 1100, 48, 8, 128),
    (2, 777, 900, 64, 16, 64),
    (2, 520, 600, 40, 40, 256),
    # Causal sm90a rows by key length (kernels/attention.py SM90A_CONFIGS): persistent tiles in pairs with an odd
    # number of query blocks (middle blocks paired across rows), the 192-row d64 tier, and past 8192 keys the rows
    # with one tile per block.
    (2, 1300, 1300, 20, 4, 64),
    (1, 3000, 3000, 30, 6, 64),
    (1, 300, 8300, 2, 2, 128),
    (1, 200, 8250, 2, 1, 64),
    (1, 130, 8200, 2, 2, 256),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "b{}-q{}-k{}-h{}/{}-d{}".format(*c))
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
def test_flash_attn_matches_sdpa(tk, case, causal, dtype_name):
    b, sq, sk, h, hkv, d = case
    dtype = getattr(torch, dtype_name)
    q, k, v = _inputs(torch, b, sq, sk, h, hkv, d, dtype, seed=sq + sk)
    ref, ref_lse = _reference(torch, q, k, v, causal)
    out = torch.full_like(q, float("nan"))
    assert _call(tk.flash_attn, q, k, v, causal=causal, out=out) is out
    assert _rel_err(torch, out, ref) <= 1e-2
    got, lse = _call(tk.flash_attn, q, k, v, causal=causal, return_lse=True)  # allocated by tilekernels
    assert got.shape == q.shape and got.dtype == dtype and got.device == q.device
    assert _rel_err(torch, got, ref) <= 1e-2
    _check_lse(torch, lse, ref_lse)


def _check_lse(torch, lse, ref) -> None:
    assert lse.dtype == torch.float32 and lse.shape == ref.shape
    assert not torch.isnan(lse).any(), "NaN in the LSE"
    fin = torch.isfinite(ref)
    assert torch.equal(torch.isposinf(lse), ~fin), "rows with no visible key must have lse = +inf, the others finite"
    if fin.any():
        assert _rel_err(torch, lse[fin], ref[fin]) <= 1e-3


def test_softmax_scale(tk):
    q, k, v = _inputs(torch, 2, 100, 90, 4, 2, 64, torch.float16, seed=3)
    for scale in (0.05, 0.3, 1.0):
        ref, ref_lse = _reference(torch, q, k, v, True, scale)
        out, lse = _call(tk.flash_attn, q, k, v, causal=True, softmax_scale=scale, return_lse=True)
        assert _rel_err(torch, out, ref) <= 1e-2, scale
        _check_lse(torch, lse, ref_lse)


def test_no_keys_and_empty(tk):
    q, k, v = _inputs(torch, 2, 50, 0, 2, 1, 64, torch.float16)
    out = torch.full_like(q, float("nan"))
    _, lse = _call(tk.flash_attn, q, k, v, out=out, return_lse=True)
    assert torch.equal(out, torch.zeros_like(out)) and torch.isposinf(lse).all()
    q, k, v = _inputs(torch, 0, 50, 30, 2, 1, 64, torch.float16)
    assert _call(tk.flash_attn, q, k, v).shape == (0, 50, 2, 64)
    torch.cuda.synchronize()


def test_runs_on_the_current_stream(tk):
    q, k, v = _inputs(torch, 2, 300, 300, 4, 4, 128, torch.bfloat16, seed=5)
    ref, _ = _reference(torch, q, k, v, True)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        out = torch.full_like(q, float("nan"))
        _call(tk.flash_attn, q, k, v, causal=True, out=out)
    side.synchronize()
    assert _rel_err(torch, out, ref) <= 1e-2
    out2 = torch.full_like(q, float("nan"))
    _call(tk.flash_attn, q, k, v, causal=True, out=out2, stream=side.cuda_stream)
    side.synchronize()
    assert torch.equal(out, out2)


class _CAI:
    """A torch tensor seen only through __cuda_array_interface__: the raw path (LSE in stream-ordered scratch)."""

    def __init__(self, t):
        self.t = t
        self.__cuda_array_interface__ = t.__cuda_array_interface__


def test_raw_path(tk):
    q, k, v = _inputs(torch, 2, 77, 133, 8, 2, 64, torch.float16, seed=7)
    ref, _ = _reference(torch, q, k, v, True)
    out = torch.full_like(q, float("nan"))
    stream = torch.cuda.current_stream().cuda_stream
    got = _call(tk.flash_attn, _CAI(q), _CAI(k), _CAI(v), causal=True, out=_CAI(out), stream=stream)
    assert got.t is out
    torch.cuda.synchronize()
    assert _rel_err(torch, out, ref) <= 1e-2


def _varlen_inputs(torch, lens_q, lens_k, h, hkv, d, dtype, pad=0, seed=0):
    g = torch.Generator(device="cuda").manual_seed(seed)
    cq = torch.tensor([0, *torch.tensor(lens_q).cumsum(0).tolist()], dtype=torch.int32, device="cuda")
    ck = torch.tensor([0, *torch.tensor(lens_k).cumsum(0).tolist()], dtype=torch.int32, device="cuda")
    q = torch.randn(sum(lens_q) + pad, h, d, dtype=dtype, device="cuda", generator=g)
    k = torch.randn(sum(lens_k), hkv, d, dtype=dtype, device="cuda", generator=g)
    v = torch.randn(sum(lens_k), hkv, d, dtype=dtype, device="cuda", generator=g)
    return q, k, v, cq, ck


VARLEN = [
    # seqlens_q, seqlens_k, heads, kv_heads, head_dim
    ((77, 133, 20), (90, 133, 5), 4, 2, 64),
    ((1, 64, 129, 0, 300), (200, 64, 100, 7, 300), 8, 1, 128),  # an empty sequence, one shorter than its keys
    ((130, 5), (0, 70), 2, 2, 128),                             # a sequence with no keys
    ((65, 190), (65, 250), 2, 1, 256),
]


@pytest.mark.parametrize("case", VARLEN, ids=lambda c: f"q{'_'.join(map(str, c[0]))}-h{c[2]}/{c[3]}-d{c[4]}")
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
def test_varlen_matches_per_sequence_sdpa(tk, case, causal, dtype_name):
    lens_q, lens_k, h, hkv, d = case
    dtype = getattr(torch, dtype_name)
    q, k, v, cq, ck = _varlen_inputs(torch, lens_q, lens_k, h, hkv, d, dtype, pad=9, seed=sum(lens_q))
    out = torch.full_like(q, float("nan"))
    got = _call(tk.flash_attn_varlen, q, k, v, cq, ck, max(lens_q), max(lens_k), causal=causal, out=out)
    assert got is out
    torch.cuda.synchronize()
    ref = torch.zeros(q.shape, device="cuda")
    for i in range(len(lens_q)):
        if lens_q[i] == 0:
            continue
        qs, ks = slice(int(cq[i]), int(cq[i + 1])), slice(int(ck[i]), int(ck[i + 1]))
        ref[qs] = _reference(torch, q[None, qs], k[None, ks], v[None, ks], causal)[0][0]
    rows = int(cq[-1])
    assert _rel_err(torch, out[:rows], ref[:rows]) <= 1e-2
    assert torch.isnan(out[rows:]).all(), "rows past cu_seqlens_q[-1] belong to no sequence and must not be written"
    fresh = _call(tk.flash_attn_varlen, q[:rows], k, v, cq, ck, max(lens_q), max(lens_k), causal=causal)
    assert _rel_err(torch, fresh, ref[:rows]) <= 1e-2


def test_varlen_matches_dense(tk):
    """Equal lengths: varlen over the flattened batch equals the dense kernel: bit for bit where both are the cp.async
    kernel (same tiles, same order); on sm_90 the dense one is the TMA + wgmma kernel (other tiles, other rounding)."""
    q, k, v = _inputs(torch, 3, 100, 150, 4, 2, 128, torch.float16, seed=11)
    dense = _call(tk.flash_attn, q, k, v, causal=True)
    cq = torch.arange(0, 301, 100, dtype=torch.int32, device="cuda")
    ck = torch.arange(0, 451, 150, dtype=torch.int32, device="cuda")
    packed = _call(tk.flash_attn_varlen, q.flatten(0, 1), k.flatten(0, 1), v.flatten(0, 1), cq, ck, 100, 150,
                   causal=True)
    if torch.cuda.get_device_capability() == (9, 0):
        assert _rel_err(torch, packed.view_as(dense), dense) <= 2e-3
    else:
        assert torch.equal(packed.view_as(dense), dense)


def test_default_scale_is_inverse_sqrt_head_dim(tk):
    q, k, v = _inputs(torch, 1, 64, 64, 2, 2, 128, torch.float16, seed=13)
    a = _call(tk.flash_attn, q, k, v)
    b = _call(tk.flash_attn, q, k, v, softmax_scale=1 / math.sqrt(128))
    assert torch.equal(a, b)
