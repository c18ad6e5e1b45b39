"""Time tilec's sm80-family GEMM (mma.sync path) against cuBLAS (torch.matmul) in one run; print and save JSON.

Usage: python bench/gemm_sm80_vs_cublas.py [OUT.json]
"""
from __future__ import annotations

import json
import sys
import time

import torch

import tilec
import tilec.language as T
from bench.timing import median_ms
from tests.kernels.gemm import matmul

CONFIGS = [
    dict(block_M=128, block_N=128, block_K=32, num_stages=3, threads=128),
    dict(block_M=128, block_N=128, block_K=32, num_stages=4, threads=128, swizzle=8),
    dict(block_M=128, block_N=128, block_K=64, num_stages=3, threads=128, swizzle=8),
    dict(block_M=128, block_N=256, block_K=32, num_stages=3, threads=256, swizzle=8),
    dict(block_M=128, block_N=256, block_K=64, num_stages=3, threads=256, swizzle=8),
    dict(block_M=256, block_N=128, block_K=64, num_stages=3, threads=256, swizzle=8),
    dict(block_M=256, block_N=128, block_K=32, num_stages=4, threads=256, swizzle=8),
    dict(block_M=128, block_N=128, block_K=64, num_stages=3, threads=256, swizzle=8),
    dict(block_M=128, block_N=128, block_K=64, num_stages=4, threads=128, swizzle=16),
]


def bench(fn) -> float:
    return median_ms(fn, warmup=50, rep=300)


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else None
    rows = []
    dtypes = sys.argv[2].split(",") if len(sys.argv) > 2 else ["float16", "bfloat16"]
    for dtype in dtypes:
        for (m, n, k) in [(8192, 8192, 8192)]:
            for trans_b in (True, False):
                td = getattr(torch, dtype)
                a = torch.randn(m, k, device="cuda", dtype=td)
                b = torch.randn((n, k) if trans_b else (k, n), device="cuda", dtype=td)
                c = torch.empty(m, n, device="cuda", dtype=td)
                ref = torch.matmul(a, b.T if trans_b else b)
                t_cublas = bench(lambda: torch.matmul(a, b.T if trans_b else b))
                best = None
                for cfg in CONFIGS:
                    t0 = time.time()
                    try:
                        kern = tilec.compile(matmul(T.symbolic("M"), T.symbolic("N"), T.symbolic("K"), dtype=dtype,
                                                    out_dtype=dtype, trans_b=trans_b, **cfg))
                        kern(a, b, c)
                    except Exception as e:  # report and go on: one config failing must not hide the rest
                        print("config", cfg, "failed:", str(e)[:400])
                        continue
                    err = float((c.double() - ref.double()).norm() / ref.double().norm())
                    t = bench(lambda: kern(a, b, c))
                    tf = 2 * m * n * k / t / 1e9
                    row = dict(dtype=dtype, m=m, n=n, k=k, layout="NT" if trans_b else "NN", cfg=cfg, ms=t,
                               tflops=tf, cublas_ms=t_cublas, cublas_tflops=2 * m * n * k / t_cublas / 1e9,
                               ratio=t_cublas / t, rel_err=err, compile_s=time.time() - t0,
                               regs=kern.resources.get("registers"), spill=kern.resources.get("spill_bytes"))
                    print(json.dumps(row))
                    rows.append(row)
                    if best is None or t < best["ms"]:
                        best = row
                if best:
                    print(f"BEST {dtype} {m}x{n}x{k} {best['layout']}: {best['tflops']:.0f} TFLOP/s vs cuBLAS "
                          f"{best['cublas_tflops']:.0f} -> {best['ratio']:.2f}x  cfg={best['cfg']}")
    if out:
        with open(out, "w") as f:
            json.dump(dict(device=torch.cuda.get_device_name(), torch=torch.__version__, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
