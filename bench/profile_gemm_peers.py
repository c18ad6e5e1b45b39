"""tilekernels.gemm vs cuBLAS under a profiler.

  python bench/profile_gemm_peers.py names                       # the cuBLAS kernel torch.matmul runs per shape
  python bench/profile_gemm_peers.py run IMPL M N K DTYPE LAYOUT  # IMPL (tilekernels | cublas) 5x, for ncu

`run` calls cudaProfilerStart only around the measured calls, so `ncu --profile-from-start off` sees just those
(the input generation stays out). LAYOUT: NT (b = w.T of a row-major [N, K] weight) or NN.
"""
from __future__ import annotations

import sys

import torch

SHAPES = ((8192, 8192, 8192), (4096, 4096, 4096), (1024, 8192, 8192), (4096, 28672, 8192), (4096, 8192, 28672),
          (128, 8192, 8192), (16, 8192, 8192), (1, 8192, 8192))


def _inputs(m: int, n: int, k: int, dtype: str, layout: str) -> tuple:
    dt = getattr(torch, dtype)
    a = torch.randn(m, k, device="cuda", dtype=dt)
    b = torch.randn(n, k, device="cuda", dtype=dt).T if layout == "NT" else torch.randn(k, n, device="cuda", dtype=dt)
    return a, b, torch.empty(m, n, device="cuda", dtype=dt)


def _impl(name: str):
    if name == "cublas":
        return lambda a, b, c: torch.matmul(a, b, out=c)
    import tilekernels

    return lambda a, b, c: tilekernels.gemm(a, b, out=c)


def names() -> None:
    from torch.profiler import ProfilerActivity, profile

    for dtype in ("float16", "bfloat16"):
        for layout in ("NT", "NN"):
            for m, n, k in SHAPES:
                a, b, c = _inputs(m, n, k, dtype, layout)
                torch.matmul(a, b, out=c)
                torch.cuda.synchronize()
                with profile(activities=[ProfilerActivity.CUDA]) as prof:
                    torch.matmul(a, b, out=c)
                    torch.cuda.synchronize()
                kern = [e.name for e in prof.events() if e.device_type.name == "CUDA"]
                print(f"{dtype} {layout} {m}x{n}x{k}: {' | '.join(kern)}", flush=True)


def run(impl: str, m: int, n: int, k: int, dtype: str, layout: str) -> None:
    a, b, c = _inputs(m, n, k, dtype, layout)
    f = _impl(impl)
    f(a, b, c)
    torch.cuda.synchronize()
    torch.cuda.cudart().cudaProfilerStart()
    for _ in range(5):
        f(a, b, c)
    torch.cuda.synchronize()
    torch.cuda.cudart().cudaProfilerStop()


if __name__ == "__main__":
    if sys.argv[1:2] == ["names"]:
        names()
    elif sys.argv[1:2] == ["run"] and len(sys.argv) == 8:
        run(sys.argv[2], *(int(x) for x in sys.argv[3:6]), sys.argv[6], sys.argv[7])
    else:
        raise SystemExit(__doc__)
