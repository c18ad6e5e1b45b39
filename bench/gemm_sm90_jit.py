"""tilec's sm_90a GEMM (TMA + mbarrier warp specialization + wgmma, generated from the catalogue's tile program)
against cuBLAS (torch.matmul), in one run: correctness on ragged shapes first, then TFLOP/s per tile config.

Usage: python bench/gemm_sm90_jit.py OUT.json [check|bench|all] [dtypes]
"""
from __future__ import annotations

import json
import sys
import time

import tilec
import tilec.language as T
from bench.timing import median_ms
from kernels.gemm import matmul

CONFIGS = [
    dict(block_M=128, block_N=256, block_K=64, num_stages=4, threads=256, swizzle=8),
    dict(block_M=128, block_N=256, block_K=64, num_stages=3, threads=256, swizzle=8),
    # smem_epilogue on sm_90a: C staged through a 128x256 swizzled shared tile, stored by TMA (needs N % 8 == 0).
    dict(block_M=128, block_N=256, block_K=64, num_stages=3, threads=256, swizzle=8, smem_epilogue=True),
    # persistent: min(tiles, SMs) blocks looping over tiles; the producer prefetches the next tile's stages.
    dict(block_M=128, block_N=256, block_K=64, num_stages=3, threads=256, swizzle=8, smem_epilogue=True,
         persistent=True),
    dict(block_M=128, block_N=256, block_K=64, num_stages=4, threads=256, swizzle=8, persistent=True),
]
CHECK_SHAPES = [(77, 200, 64), (1000, 1032, 520), (256, 256, 256), (4096, 4096, 4096), (1, 8192, 8192),
                (3000, 2056, 1000)]
BENCH_SHAPES = [(8192, 8192, 8192), (4096, 4096, 4096), (1024, 8192, 8192), (4096, 28672, 8192),
                (4096, 8192, 28672)]


def bench(fn) -> float:
    return median_ms(fn, warmup=25, rep=200)


def compile_cfg(dtype: str, trans_b: bool, cfg: dict):
    S = T.symbolic
    return tilec.compile(matmul(S("M"), S("N"), S("K"), dtype=dtype, trans_b=trans_b, **cfg), target="sm_90a")


def _warm(job: tuple) -> None:
    compile_cfg(*job).cubin  # fills the compile cache


def precompile(dtypes: list) -> None:
    """Compile every (dtype, layout, config) in parallel processes first (nvcc dominates a cold start)."""
    import concurrent.futures as cf

    jobs = [(d, tb, c) for d in dtypes for tb in (True, False) for c in CONFIGS]
    with cf.ProcessPoolExecutor(min(len(jobs), 12)) as ex:
        list(ex.map(_warm, jobs))


def summarize(rows: list) -> None:
    """Per config: geometric-mean and worst ratio to cuBLAS over every (dtype, layout, shape) measured."""
    import math

    for i, cfg in enumerate(CONFIGS):
        r = [x["ratio"] for x in rows if x["cfg"] is cfg]
        if r:
            geo = math.exp(sum(math.log(x) for x in r) / len(r))
            print(f"summary cfg{i} {cfg}: geomean {geo:.3f}x, min {min(r):.3f}x over {len(r)} rows", flush=True)


def main() -> None:
    import torch

    out_path = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else "all"
    dtypes = sys.argv[3].split(",") if len(sys.argv) > 3 else ["float16", "bfloat16"]
    rows, checks = [], []
    precompile(dtypes)
    torch.manual_seed(0)
    for dtype in dtypes:
        td = getattr(torch, dtype)
        for trans_b in (True, False):
            kerns = {}
            for i, cfg in enumerate(CONFIGS):
                t0 = time.time()
                try:
                    kerns[i] = compile_cfg(dtype, trans_b, cfg)
                    kerns[i].cubin
                except Exception as e:  # noqa: BLE001 - report and go on
                    print("compile failed", dtype, trans_b, cfg, str(e)[:300], flush=True)
                print(f"compiled {dtype} {'nt' if trans_b else 'nn'} cfg{i} in {time.time() - t0:.1f}s", flush=True)
            if mode in ("check", "all"):
                for i, k in kerns.items():
                    for (m, n, kk) in CHECK_SHAPES if i in (0, 3, 4) else CHECK_SHAPES[:2]:
                        a = torch.randn(m, kk, device="cuda", dtype=td)
                        b = torch.randn((n, kk) if trans_b else (kk, n), device="cuda", dtype=td)
                        c = torch.full((m, n), float("nan"), device="cuda", dtype=td)
                        k(a, b, c)
                        torch.cuda.synchronize()
                        ref = a.float() @ (b.float().T if trans_b else b.float())
                        err = float((c.float() - ref).norm() / ref.norm())
                        ok = err <= 1e-2
                        checks.append(dict(dtype=dtype, trans_b=trans_b, cfg=i, shape=(m, n, kk), rel_err=err, ok=ok))
                        print(f"check {dtype} {'nt' if trans_b else 'nn'} cfg{i} {m}x{n}x{kk}: err {err:.2e}"
                              f" {'ok' if ok else 'FAIL'}", flush=True)
            if mode in ("bench", "all"):
                for (m, n, kk) in BENCH_SHAPES:
                    a = torch.randn(m, kk, device="cuda", dtype=td)
                    b = torch.randn((n, kk) if trans_b else (kk, n), device="cuda", dtype=td)
                    c = torch.empty(m, n, device="cuda", dtype=td)
                    t_ref = bench(lambda: torch.matmul(a, b.T if trans_b else b))
                    fl = 2 * m * n * kk
                    for i, k in kerns.items():
                        t = bench(lambda: k(a, b, c))
                        rows.append(dict(dtype=dtype, layout="nt" if trans_b else "nn", shape=(m, n, kk), cfg=CONFIGS[i],
                                         ms=t, tflops=fl / t / 1e9, cublas_ms=t_ref, cublas_tflops=fl / t_ref / 1e9,
                                         ratio=t_ref / t))
                        print(f"bench {dtype} {'nt' if trans_b else 'nn'} {m}x{n}x{kk} cfg{i}: {fl / t / 1e9:.0f} TF"
                              f" vs cuBLAS {fl / t_ref / 1e9:.0f} TF = {t_ref / t:.3f}x", flush=True)
    summarize(rows)
    env = dict(device=torch.cuda.get_device_name(), torch=torch.__version__, cuda=torch.version.cuda)
    with open(out_path, "w") as f:
        json.dump(dict(env=env, checks=checks, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
