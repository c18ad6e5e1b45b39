"""Time the hand-written sm_90a reference GEMM (tests/gpu/include/test_gemm_sm90.cu) against torch.matmul (cuBLAS) in
one run, at 8192^3 and 4096^3, fp16/bf16, NT (x @ w.T) and NN (a @ b); print a table and save JSON.

Usage: python bench/gemm_sm90_reference.py OUT.json [--quick]
Timing: CUDA events around `reps` back-to-back launches, after warm-up; the median over `trials` is reported. Inputs
of 8192^3 (3 x 128 MiB) are larger than L2; 4096^3 operands rotate through 4 copies so no run starts warm in L2.
Each variant is checked against torch (relative Frobenius error) before it is timed.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "gpu" / "include"))
from sm90_reference import ReferenceGemm, compiled

SIZES = [(8192, 8192, 8192), (4096, 4096, 4096)]
# (bn, cluster, group_m, tma_store): the 128x256 tiles are the target; the others show what the tile, the cluster,
# the raster group and the TMA-store epilogue buy.
VARIANTS = [(256, 2, 8, True), (256, 2, 8, False), (256, 2, 4, True), (256, 1, 16, True), (256, 1, 16, False),
            (256, 1, 8, True), (128, 2, 8, False), (128, 1, 16, False)]


def time_ms(fn, inputs: list, warmup: int = 10, reps: int = 20, trials: int = 15) -> float:
    """Median over `trials` of the mean time of `reps` launches of fn(*inputs[i % len(inputs)])."""
    for i in range(warmup):
        fn(*inputs[i % len(inputs)])
    torch.cuda.synchronize()
    times = []
    for _ in range(trials):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for i in range(reps):
            fn(*inputs[i % len(inputs)])
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) / reps)
    return statistics.median(times)


def main() -> None:
    out = next((a for a in sys.argv[1:] if not a.startswith("--")), None)
    quick = "--quick" in sys.argv
    if torch.cuda.get_device_capability() != (9, 0):
        sys.exit(f"needs an sm_90 GPU (H100/H200), found {torch.cuda.get_device_name()}")
    t0 = time.time()
    res = compiled().resources
    print(f"compiled in {time.time() - t0:.1f}s: {res['registers']} registers at launch, {res['spill_bytes']} spill "
          f"bytes")
    rows = []
    for m, n, k in SIZES[1:] if quick else SIZES:
        copies = 1 if m * k >= 8192 * 8192 else 4
        flop = 2.0 * m * n * k
        for dtype in ("float16", "bfloat16"):
            td = getattr(torch, dtype)
            for layout in ("nt", "nn"):
                ins = []
                for _ in range(copies):
                    a = torch.randn(m, k, device="cuda", dtype=td)
                    b = torch.randn((n, k) if layout == "nt" else (k, n), device="cuda", dtype=td)
                    ins.append((a, b, torch.empty(m, n, device="cuda", dtype=td)))
                a, b, c = ins[0]
                ref = torch.matmul(a, b.T if layout == "nt" else b)

                def cublas(a, b, c, layout=layout):
                    torch.matmul(a, b.T if layout == "nt" else b, out=c)

                t_cublas = time_ms(cublas, ins)
                row = dict(dtype=dtype, m=m, n=n, k=k, layout=layout.upper(), cublas_ms=t_cublas,
                           cublas_tflops=flop / t_cublas / 1e9, variants=[])
                for bn, cluster, group_m, tma_store in VARIANTS[:2] if quick else VARIANTS:
                    g = ReferenceGemm(dtype, layout, bn, cluster, group_m, tma_store)
                    c.fill_(float("nan"))
                    try:
                        g(a, b, c)
                        torch.cuda.synchronize()
                    except Exception as e:  # report and go on: one variant failing must not hide the rest
                        row["variants"].append(dict(name=g.name, group_m=group_m, error=str(e)[:300]))
                        print(f"{g.name} g{group_m}: FAILED {str(e)[:200]}")
                        continue
                    err = float((c.double() - ref.double()).norm() / ref.double().norm())
                    t = time_ms(g, ins)
                    v = dict(name=g.name, group_m=group_m, ms=t, tflops=flop / t / 1e9, rel_err=err,
                             ratio_vs_cublas=t_cublas / t)
                    row["variants"].append(v)
                    print(f"{dtype:8s} {layout.upper()} {m}x{n}x{k} {g.name:38s} g{group_m:<2d} {v['tflops']:6.0f} TFLOP/s"
                          f"  cuBLAS {row['cublas_tflops']:6.0f}  x{v['ratio_vs_cublas']:.3f}  err {err:.1e}")
                best = max((v for v in row["variants"] if "tflops" in v), key=lambda v: v["tflops"], default=None)
                row["best"] = best
                rows.append(row)
                del ins, a, b, c, ref
                torch.cuda.empty_cache()
    print("\nbest per problem:")
    for r in rows:
        b = r["best"]
        if b:
            print(f"  {r['dtype']:8s} {r['layout']} {r['m']}^3: {b['tflops']:.0f} TFLOP/s ({b['name']} g{b['group_m']}) "
                  f"vs cuBLAS {r['cublas_tflops']:.0f} -> x{b['ratio_vs_cublas']:.3f}")
    if out:
        with open(out, "w") as f:
            json.dump(dict(device=torch.cuda.get_device_name(), torch=torch.__version__, cuda=torch.version.cuda,
                           ptxas=dict(registers=res["registers"], spill_bytes=res["spill_bytes"]), rows=rows), f,
                      indent=1)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
