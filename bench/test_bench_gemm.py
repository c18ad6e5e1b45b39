"""GEMM: tilekernels.gemm against cuBLAS (torch.matmul), a Triton matmul and TileLang, on TARGETS.md's table.

One test per (shape, dtype, layout) × implementation (tilekernels timed in interleaved rounds with cuBLAS:
`Gpu.timing`); every implementation computes C = A @ B into a preallocated C
(NT: b = w.T of a row-major [N, K] weight; NN: b is a row-major [K, N]). Outputs are checked against cuBLAS
(‖c − ref‖/‖ref‖ ≤ 1e-2) before timing. torch is imported inside the tests only (collection runs anywhere).
"""
from __future__ import annotations

import hashlib
from typing import Any, Callable

import pytest

from bench import flops as F
from bench.checks import TOLERANCE, Unavailable, rel_err
from bench.shapes import TILELANG_GEMM_KEYS, GemmCase
from bench.timing import make_copies, record

IMPLS = ("tilekernels", "cublas", "triton", "tilelang")


def _tilekernels(case: GemmCase, gpu: Any) -> Callable:
    try:
        import tilekernels
    except ImportError as e:
        raise Unavailable(f"tilekernels is not importable: {e}") from None
    if not hasattr(tilekernels, "gemm"):
        raise Unavailable("tilekernels has no gemm")
    gemm = tilekernels.gemm
    return lambda a, b, c: gemm(a, b, out=c)


def _cublas(case: GemmCase, gpu: Any) -> Callable:
    matmul = gpu.torch.matmul
    return lambda a, b, c: matmul(a, b, out=c)


def _triton(case: GemmCase, gpu: Any) -> Callable:
    try:
        from bench.triton_matmul import matmul
    except ImportError as e:
        raise Unavailable(f"triton is not importable: {e}") from None
    return lambda a, b, c: matmul(a, b, out=c)


def _tilelang(case: GemmCase, gpu: Any) -> Callable:
    if case.key not in TILELANG_GEMM_KEYS and not gpu.all_peers:
        raise Unavailable("TileLang JIT-compiles per shape: measured only on TARGETS.md's TileLang shapes "
                          "(--bench-all-peers for all)")
    try:
        from bench.tilelang_kernels import gemm
    except ImportError as e:
        raise Unavailable(f"tilelang is not importable: {e}") from None
    return gemm(case)


MAKERS = {"tilekernels": _tilekernels, "cublas": _cublas, "triton": _triton, "tilelang": _tilelang}


def _inputs(case: GemmCase, torch: Any) -> Callable[[], tuple]:
    dt = getattr(torch, case.dtype)

    def make() -> tuple:
        a = torch.randn(case.m, case.k, device="cuda", dtype=dt)
        if case.layout == "NT":
            b = torch.randn(case.n, case.k, device="cuda", dtype=dt).T
        else:
            b = torch.randn(case.k, case.n, device="cuda", dtype=dt)
        c = torch.empty(case.m, case.n, device="cuda", dtype=dt)
        return a, b, c
    return make


@pytest.mark.parametrize("impl", IMPLS)
def test_gemm(benchmark: Any, gpu: Any, gemm_case: GemmCase, impl: str) -> None:
    case, torch = gemm_case, gpu.torch
    gpu.wanted(impl)
    benchmark.group = case.key
    flops = F.gemm_flops(case.m, case.n, case.k)
    nbytes = F.gemm_bytes(case.m, case.n, case.k, case.dtype)
    try:
        fn = MAKERS[impl](case, gpu)
    except Unavailable as e:
        gpu.record("gemm", case, impl, "skipped", str(e))
        pytest.skip(str(e))

    torch.manual_seed(int(hashlib.sha1(case.key.encode()).hexdigest()[:8], 16))
    copies = make_copies(_inputs(case, torch), nbytes)
    a, b, c = copies[0]
    c.fill_(float("nan"))                                  # poisoned: a kernel that writes nothing cannot pass
    try:
        fn(a, b, c)
        torch.cuda.synchronize()
    except Exception as e:
        if impl == "tilekernels":
            gpu.record("gemm", case, impl, "error", f"{type(e).__name__}: {e}")
            raise
        gpu.record("gemm", case, impl, "skipped", f"{type(e).__name__}: {str(e)[:300]}")
        pytest.skip(f"{impl} failed on this case: {type(e).__name__}: {str(e)[:300]}")
    err = rel_err(c, torch.matmul(a, b))
    if not err <= TOLERANCE:                               # NaN fails too
        gpu.record("gemm", case, impl, "wrong", f"relative error {err:.3g} > {TOLERANCE}", rel_err=err)
        pytest.fail(f"{impl} {case.key}: relative error {err:.3g} > {TOLERANCE} against cuBLAS")

    peer = gpu.peer_for_pairing("gemm", impl, lambda: MAKERS["cublas"](case, gpu), (a, b, c))
    t = gpu.timing("gemm", case, impl, fn, copies, flops, peer)
    figures = dict(ms=t.median_ms, tflops=F.tflops(flops, t.median_ms), gbps=F.gbps(nbytes, t.median_ms),
                   rel_err=err, flops=flops, bytes=nbytes, **{k: v for k, v in t.summary().items() if k != "ms"})
    gpu.record("gemm", case, impl, "ok", **figures)
    record(benchmark, t, impl=impl, tflops=figures["tflops"], gbps=figures["gbps"], rel_err=err)
