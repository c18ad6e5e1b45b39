"""Host time of one tilekernels.gemm call (Python in, launch returned) vs torch.matmul, and time to first result.

Usage:
    python bench/host_overhead.py OUT.json            # on a GPU: real launches
    python bench/host_overhead.py OUT.json --fake     # anywhere: _C's test mode (no driver; launches recorded),
                                                      # CPU tensors: the Python + C++ overhead alone

Per-call host time is measured two ways: the mean over N back-to-back calls (perf_counter_ns around the loop,
no synchronisation inside, so the GPU never stalls the host while its queue has room), and the median/p90 of
individually timed calls. The time to first result runs in a fresh process: `import torch` and the inputs are
made first, then `import tilekernels` + the first gemm + synchronize are timed (the cost a user sees once).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

_FIRST_RESULT = r"""
import json, sys, time, torch
a = torch.randn({m}, {k}, dtype=torch.float16, device="cuda")
b = torch.randn({k}, {n}, dtype=torch.float16, device="cuda")
torch.cuda.synchronize()
t0 = time.perf_counter_ns()
import tilekernels
t1 = time.perf_counter_ns()
c = tilekernels.gemm(a, b)
torch.cuda.synchronize()
t2 = time.perf_counter_ns()
c = tilekernels.gemm(a, b)
torch.cuda.synchronize()
t3 = time.perf_counter_ns()
print(json.dumps({{"import_ms": (t1 - t0) / 1e6, "first_gemm_ms": (t2 - t1) / 1e6,
                   "import_plus_first_gemm_ms": (t2 - t0) / 1e6, "second_gemm_ms": (t3 - t2) / 1e6}}))
"""


def _per_call(fn, n: int) -> dict:
    for _ in range(min(n, 1000)):
        fn()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        fn()
    mean = (time.perf_counter_ns() - t0) / n
    samples = []
    for _ in range(n):
        s = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - s)
    samples.sort()
    return {"mean_us": mean / 1e3, "median_us": statistics.median(samples) / 1e3,
            "p90_us": samples[int(0.9 * len(samples))] / 1e3, "calls": n}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="path of the JSON to write")
    ap.add_argument("--fake", action="store_true", help="test mode: no GPU, CPU tensors, launches only recorded")
    ap.add_argument("--calls", type=int, default=10_000)
    ap.add_argument("--size", default="64x64x64", help="MxNxK of the tiny GEMM")
    args = ap.parse_args()
    m, n, k = (int(v) for v in args.size.split("x"))

    import tilekernels
    import torch
    from tilekernels import _C

    result: dict = {"host": platform.node(), "cpu": platform.processor() or platform.machine(),
                    "python": sys.version.split()[0], "torch": torch.__version__,
                    "tilekernels": tilekernels.__version__, "size": [m, n, k], "fake": args.fake}
    if args.fake:
        _C._test_mode(True, (8, 0))
        dev = "cpu"
    else:
        dev = "cuda"
        result["gpu"] = torch.cuda.get_device_name()
    a = torch.randn(m, k, dtype=torch.float16, device=dev)
    b = torch.randn(k, n, dtype=torch.float16, device=dev)
    w = torch.randn(n, k, dtype=torch.float16, device=dev)
    c = torch.empty(m, n, dtype=torch.float16, device=dev)
    if args.fake:  # register torch's types, then a stream getter that CPU-only torch can answer
        sys.modules["tilekernels.gemm"]._is_torch(a)
        _C._set_torch(torch.float16, torch.bfloat16, torch.float32, abs)  # a builtin, like the real getter; abs(0) == stream 0
    tilekernels.gemm(a, b)  # the first call sets up the torch hooks and loads the kernel
    gemm = tilekernels.gemm
    runs = {
        "tilekernels.gemm(a, b)": lambda: gemm(a, b),
        "tilekernels.gemm(a, b, out=c)": lambda: gemm(a, b, out=c),
        "tilekernels.gemm(a, w.T)": lambda: gemm(a, w.T),
        "_C.gemm_torch(a, b, c, None)": lambda: _C.gemm_torch(a, b, c, None),
        "a.new_empty((M, N)) alone": lambda: a.new_empty((m, n)),
    }
    if not args.fake:
        runs["torch.matmul(a, b)"] = lambda: torch.matmul(a, b)
        runs["torch.matmul(a, b, out=c)"] = lambda: torch.matmul(a, b, out=c)
        runs["torch.mm(a, w.T)"] = lambda: torch.mm(a, w.T)
    result["per_call"] = {}
    for name, fn in runs.items():
        result["per_call"][name] = _per_call(fn, args.calls)
        if not args.fake:
            torch.cuda.synchronize()
        print(f"{name:34s} " + "  ".join(f"{k}={v:.2f}" for k, v in result["per_call"][name].items()
                                          if k != "calls"), flush=True)
    if not args.fake:
        code = _FIRST_RESULT.format(m=m, n=n, k=k)
        runs_first = []
        for _ in range(3):
            p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ),
                               check=False)
            if p.returncode != 0:
                result["first_result_error"] = p.stderr[-2000:]
                break
            runs_first.append(json.loads(p.stdout.strip().splitlines()[-1]))
        result["first_result"] = runs_first
        print("first result:", runs_first)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
