"""FlashAttention forward: tilekernels.flash_attn against torch SDPA (cuDNN and flash backends) and TileLang.

Inputs are [batch, seqlen, heads, head_dim] (tilekernels' layout); SDPA gets `.transpose(1, 2)` views of the same
storage ([B, H, S, D] with strides, no copy — both backends take strided inputs). Outputs are checked against SDPA
(cuDNN, else flash) before timing. When tilekernels has no `flash_attn` yet its rows skip with a note and the peers
are still measured. torch is imported inside the tests only.
"""
from __future__ import annotations

import hashlib
from typing import Any, Callable

import pytest

from bench import flops as F
from bench.checks import TOLERANCE, Unavailable, rel_err
from bench.shapes import TILELANG_ATTN_KEYS, AttnCase
from bench.timing import make_copies, record

IMPLS = ("tilekernels", "sdpa_cudnn", "sdpa_flash", "tilelang")


def _tilekernels(case: AttnCase, gpu: Any) -> Callable:
    try:
        import tilekernels
    except ImportError as e:
        raise Unavailable(f"tilekernels is not importable: {e}") from None
    if not hasattr(tilekernels, "flash_attn"):
        raise Unavailable("tilekernels has no flash_attn yet")
    fa = tilekernels.flash_attn
    return lambda q, k, v: fa(q, k, v, causal=case.causal)


def _sdpa(backend_name: str) -> Callable:
    def make(case: AttnCase, gpu: Any) -> Callable:
        torch = gpu.torch
        try:
            from torch.nn.attention import SDPBackend, sdpa_kernel
        except ImportError as e:
            raise Unavailable(f"torch.nn.attention.sdpa_kernel missing: {e}") from None
        backend = getattr(SDPBackend, backend_name)
        sdpa = torch.nn.functional.scaled_dot_product_attention
        kw = dict(enable_gqa=True) if case.heads_kv != case.heads else {}

        def run(q: Any, k: Any, v: Any) -> Any:
            with sdpa_kernel([backend]):
                o = sdpa(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=case.causal, **kw)
            return o.transpose(1, 2)
        return run
    return make


def _tilelang(case: AttnCase, gpu: Any) -> Callable:
    if case.key not in TILELANG_ATTN_KEYS and not gpu.all_peers:
        raise Unavailable("TileLang JIT-compiles per shape: measured only on TARGETS.md's TileLang shapes "
                          "(--bench-all-peers for all)")
    try:
        from bench.tilelang_kernels import flash_attn
    except ImportError as e:
        raise Unavailable(f"tilelang is not importable: {e}") from None
    return flash_attn(case)


MAKERS = {"tilekernels": _tilekernels, "sdpa_cudnn": _sdpa("CUDNN_ATTENTION"), "sdpa_flash": _sdpa("FLASH_ATTENTION"),
          "tilelang": _tilelang}


def _inputs(case: AttnCase, torch: Any) -> Callable[[], tuple]:
    dt = getattr(torch, case.dtype)

    def make() -> tuple:
        q = torch.randn(case.batch, case.seqlen_q, case.heads, case.head_dim, device="cuda", dtype=dt)
        k = torch.randn(case.batch, case.seqlen_k, case.heads_kv, case.head_dim, device="cuda", dtype=dt)
        v = torch.randn(case.batch, case.seqlen_k, case.heads_kv, case.head_dim, device="cuda", dtype=dt)
        return q, k, v
    return make


def _reference(case: AttnCase, q: Any, k: Any, v: Any, torch: Any) -> Any:
    """SDPA with whatever fused backend torch picks (its math backend is O(S^2) memory); flash_attn's bottom-right
    causal mask is spelled out as a boolean mask when Sq != Sk (SDPA's `is_causal` is top-left aligned)."""
    qt, kt, vt = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
    gqa = case.heads_kv != case.heads
    kw = dict(enable_gqa=True) if gqa else {}
    if case.causal and case.seqlen_q != case.seqlen_k:
        i = torch.arange(case.seqlen_q, device="cuda")[:, None]
        j = torch.arange(case.seqlen_k, device="cuda")[None, :]
        mask = j <= i + (case.seqlen_k - case.seqlen_q)
        return torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, attn_mask=mask, **kw).transpose(1, 2)
    return torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, is_causal=case.causal, **kw).transpose(1, 2)


def _sdpa_mismatch(case: AttnCase) -> bool:
    return case.causal and case.seqlen_q != case.seqlen_k


@pytest.mark.parametrize("impl", IMPLS)
def test_attention(benchmark: Any, gpu: Any, attn_case: AttnCase, impl: str) -> None:
    case, torch = attn_case, gpu.torch
    gpu.wanted(impl)
    benchmark.group = case.key
    if impl.startswith("sdpa") and _sdpa_mismatch(case):
        note = "SDPA's is_causal is top-left aligned: not the same problem as flash_attn's bottom-right mask"
        gpu.record("attention", case, impl, "skipped", note)
        pytest.skip(note)
    flops = F.attention_fwd_flops(case.batch, case.heads, case.seqlen_q, case.seqlen_k, case.head_dim, case.causal)
    nbytes = F.attention_fwd_bytes(case.batch, case.heads, case.seqlen_q, case.seqlen_k, case.head_dim, case.dtype,
                                   case.heads_kv)
    try:
        fn = MAKERS[impl](case, gpu)
    except Unavailable as e:
        gpu.record("attention", case, impl, "skipped", str(e))
        pytest.skip(str(e))

    torch.manual_seed(int(hashlib.sha1(case.key.encode()).hexdigest()[:8], 16))
    copies = make_copies(_inputs(case, torch), nbytes)
    q, k, v = copies[0]
    try:
        out = fn(q, k, v)
        if isinstance(out, tuple):      # return_lse-style results: the output comes first
            out = out[0]
        torch.cuda.synchronize()
    except Exception as e:
        if impl == "tilekernels":
            gpu.record("attention", case, impl, "error", f"{type(e).__name__}: {e}")
            raise
        gpu.record("attention", case, impl, "skipped", f"{type(e).__name__}: {str(e)[:300]}")
        pytest.skip(f"{impl} cannot run this case: {type(e).__name__}: {str(e)[:300]}")
    err = rel_err(out, _reference(case, q, k, v, torch))
    if not err <= TOLERANCE:
        gpu.record("attention", case, impl, "wrong", f"relative error {err:.3g} > {TOLERANCE}", rel_err=err)
        pytest.fail(f"{impl} {case.key}: relative error {err:.3g} > {TOLERANCE} against SDPA")
    del out

    peer = None if _sdpa_mismatch(case) else \
        gpu.peer_for_pairing("attention", impl, lambda: MAKERS["sdpa_cudnn"](case, gpu), (q, k, v))
    t = gpu.timing("attention", case, impl, fn, copies, flops, peer)
    figures = dict(ms=t.median_ms, tflops=F.tflops(flops, t.median_ms), gbps=F.gbps(nbytes, t.median_ms),
                   rel_err=err, flops=flops, bytes=nbytes, **{k: v for k, v in t.summary().items() if k != "ms"})
    gpu.record("attention", case, impl, "ok", **figures)
    record(benchmark, t, impl=impl, tflops=figures["tflops"], gbps=figures["gbps"], rel_err=err)
