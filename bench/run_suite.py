"""Run the whole benchmark suite on this GPU and record it: bench/results/<date>-<gpu>.{json,md,png}.

Usage (from the repository root, on a GPU machine):
    python3 -m bench.run_suite                      # the default set (TARGETS.md's tables), ~6 minutes on an H100
    python3 -m bench.run_suite --set quick          # a smoke run (seconds)
    python3 -m bench.run_suite --set default -- --bench-impls tilekernels,cublas   # extra pytest arguments after --

The JSON holds the environment (device, driver, torch/CUDA/cuDNN/triton/tilelang/tilekernels versions, git commit),
every figure of every implementation (ms and its spread, TFLOP/s, GB/s, relative error, skip notes) and every ratio
to the peers measured in the same run; bench/render.py turns it into the .md table and the .png chart (it also runs
on the CPU machine: `python3 -m bench.render FILE.json`). pytest-benchmark's own JSON is kept beside it
(`<name>.pytest-benchmark.json`).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if not __package__:  # run as a script (python3 bench/run_suite.py): make `bench` importable
    sys.path.insert(0, REPO)


def gpu_slug(device: str) -> str:
    """'NVIDIA H100 80GB HBM3' -> 'h100-80gb-hbm3'."""
    words = [w for w in re.split(r"[^a-z0-9]+", device.lower()) if w and w not in ("nvidia", "geforce")]
    return "-".join(words) or "gpu"


def free_name(out_dir: str, stem: str) -> str:
    name, n = stem, 2
    while os.path.exists(os.path.join(out_dir, name + ".json")):
        name, n = f"{stem}-{n}", n + 1
    return os.path.join(out_dir, name)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="default", help="shape set of bench/shapes.py (default, quick, extended, all)")
    ap.add_argument("--out-dir", default=os.path.join(REPO, "bench", "results"))
    ap.add_argument("--suffix", default="", help="appended to the file name, e.g. 'sm90a'")
    ap.add_argument("--budget-ms", type=float, default=None, help="GPU ms per measurement (--bench-budget-ms)")
    ap.add_argument("--sequential", action="store_true",
                    help="time tilekernels and the reference peer one after the other (--bench-sequential)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        ours, pb = os.path.join(tmp, "bench.json"), os.path.join(tmp, "pytest-benchmark.json")
        cmd = [sys.executable, "-m", "pytest", "bench", "-q", "-p", "no:cacheprovider", f"--bench-set={args.set}",
               f"--bench-json={ours}", f"--benchmark-json={pb}", "--benchmark-columns=median,min,max,rounds",
               "--benchmark-sort=name"]
        if args.budget_ms is not None:
            cmd.append(f"--bench-budget-ms={args.budget_ms}")
        if args.sequential:
            cmd.append("--bench-sequential")
        cmd += extra
        print("+", " ".join(cmd), flush=True)
        rc = subprocess.call(cmd, cwd=REPO)
        if not os.path.exists(ours):
            print(f"run_suite: pytest exited {rc} without writing results", file=sys.stderr)
            return rc or 1
        with open(ours) as f:
            doc = json.load(f)
        if "environment" not in doc:
            print("run_suite: no GPU benchmark ran (no CUDA device or torch?): nothing recorded", file=sys.stderr)
            return rc or 2
        env = doc["environment"]
        stem = f"{env['date'][:10]}-{gpu_slug(env['device'])}" + (f"-{args.suffix}" if args.suffix else "")
        os.makedirs(args.out_dir, exist_ok=True)
        base = free_name(args.out_dir, stem)
        doc["pytest_exitstatus"] = rc
        doc["command"] = " ".join(cmd[1:])
        with open(base + ".json", "w") as f:
            json.dump(doc, f, indent=1, default=str)
        if os.path.exists(pb):
            os.replace(pb, base + ".pytest-benchmark.json")

    from bench.render import render, summary
    written = [base + ".json"] + render(base + ".json")
    for k, v in summary(doc).items():
        print(f"tilekernels vs {v['peer']:<10} {k:<22} geomean {v['geomean']:.2f}x  min {v['min']:.2f}x "
              f"({v['min_case']}) over {v['n']} cases")
    for w in written:
        print("wrote", os.path.relpath(w, REPO))
    return rc


if __name__ == "__main__":
    sys.exit(main())
