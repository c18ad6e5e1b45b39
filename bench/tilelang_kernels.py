"""The TileLang peer: this repository's tile-language kernels (tests/kernels/{gemm,attention}.py) compiled by TileLang.

tilec follows TileLang's public syntax, so the same kernel source runs under `tilelang.language` — the comparison is
then compiler against compiler on one program, with TileLang's usual H100 configurations. Imported only when
`tilelang` is importable; every failure inside becomes a skip note (its API moves between releases).
"""
from __future__ import annotations

import os
from typing import Any, Callable

import tilelang
import tilelang.language as T

from bench.checks import Unavailable

_KERNELS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "kernels")

GEMM_CONFIGS = [dict(block_M=128, block_N=256, block_K=64, num_stages=3, threads=256),
                dict(block_M=128, block_N=128, block_K=64, num_stages=3, threads=128)]
ATTN_CONFIG = dict(block_M=128, block_N=128, num_stages=2, threads=256)   # TileLang's example_mha_fwd on H100


def _load(name: str) -> dict[str, Any]:
    """Execute tests/kernels/<name>.py with `T` bound to tilelang.language instead of tilec.language."""
    path = os.path.join(_KERNELS, f"{name}.py")
    with open(path) as f:
        src = f.read().replace("import tilec.language as T", "")
    ns: dict[str, Any] = {"T": T, "__name__": f"tilelang_{name}"}
    exec(compile(src, path, "exec"), ns)
    return ns


def _compile(prim_func: Any) -> Any:
    try:
        return tilelang.compile(prim_func, target="cuda")
    except Exception as e:  # noqa: BLE001 - any TileLang failure is "cannot measure TileLang here"
        raise Unavailable(f"TileLang failed to compile: {type(e).__name__}: {str(e)[:300]}") from None


def gemm(case: Any) -> Callable:
    """The best of GEMM_CONFIGS at this shape (each compiled and timed once)."""
    import torch

    from bench.timing import measure

    matmul = _load("gemm")["matmul"]
    best, best_ms, errors = None, float("inf"), []
    for cfg in GEMM_CONFIGS:
        try:
            k = _compile(matmul(case.m, case.n, case.k, dtype=case.dtype, out_dtype=case.dtype,
                                trans_b=case.layout == "NT", **cfg))
        except Unavailable as e:
            errors.append(str(e))
            continue
        dt = getattr(torch, case.dtype)
        a = torch.randn(case.m, case.k, device="cuda", dtype=dt)
        b = torch.randn(*((case.n, case.k) if case.layout == "NT" else (case.k, case.n)), device="cuda", dtype=dt)
        c = torch.empty(case.m, case.n, device="cuda", dtype=dt)
        ms = measure(k, [(a, b, c)], budget_ms=50).median_ms
        if ms < best_ms:
            best, best_ms = k, ms
    if best is None:
        raise Unavailable("; ".join(errors))
    # TileLang wants B as declared: [N, K] row-major for NT (our b is its .T view), [K, N] for NN.
    if case.layout == "NT":
        return lambda a, b, c: best(a, b.T, c)
    return lambda a, b, c: best(a, b, c)


def flash_attn(case: Any) -> Callable:
    if case.heads_kv != case.heads:
        raise Unavailable("the TileLang peer kernel has no GQA")
    fa = _load("attention")["flash_attention"]
    k = _compile(fa(case.batch, case.heads, case.seqlen_q, case.seqlen_k, case.head_dim, is_causal=case.causal,
                    dtype=case.dtype, **ATTN_CONFIG))
    import torch

    def run(q: Any, kk: Any, v: Any) -> Any:
        o = torch.empty_like(q)
        k(q, kk, v, o)
        return o
    return run
