"""Sustained speed, SM clock and board power of tilekernels vs its peer on one shape, implementations alternating.

  python bench/power_clock.py OUT.json [seconds per turn] [turns]

For GEMM 4096x28672x8192 bf16 NN and 8192^3 bf16 NT (tilekernels.gemm vs torch.matmul) and attention d128
S = 4096 fp16 non-causal (tilekernels.flash_attn vs cuDNN SDPA): each implementation runs back to back for
`seconds` per turn, turns alternating A B A B ..., while a thread samples nvidia-smi (SM clock, power) every 50 ms.
At the power limit the clock follows the power a kernel draws, so a kernel that moves fewer bytes per FLOP runs
faster sustained than per launch: this separates the two.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import torch


def _sampler(stop: threading.Event, out: list) -> None:
    cmd = ["nvidia-smi", "--query-gpu=clocks.sm,power.draw,temperature.gpu", "--format=csv,noheader,nounits",
           "-lms", "50"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    while not stop.is_set():
        line = p.stdout.readline()
        if not line:
            break
        try:
            clk, pw, temp = (float(x) for x in line.split(","))
            out.append((time.time(), clk, pw, temp))
        except ValueError:
            pass
    p.terminate()


def _cases() -> list:
    import tilekernels

    out = []
    for (m, n, k, layout) in ((4096, 28672, 8192, "NN"), (8192, 8192, 8192, "NT")):
        a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
        b = torch.randn(n, k, device="cuda", dtype=torch.bfloat16).T if layout == "NT" else \
            torch.randn(k, n, device="cuda", dtype=torch.bfloat16)
        c = torch.empty(m, n, device="cuda", dtype=torch.bfloat16)
        out.append((f"gemm-bf16-{layout}-{m}x{n}x{k}", 2.0 * m * n * k,
                    {"tilekernels": lambda a=a, b=b, c=c: tilekernels.gemm(a, b, out=c),
                     "cublas": lambda a=a, b=b, c=c: torch.matmul(a, b, out=c)}))
    bsz, h, s, d = 4, 16, 4096, 128
    q, kk, v = (torch.randn(bsz, s, h, d, device="cuda", dtype=torch.float16) for _ in range(3))
    qt, kt, vt = (x.transpose(1, 2) for x in (q, kk, v))
    from torch.nn.attention import SDPBackend, sdpa_kernel

    def cudnn():
        with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
            return torch.nn.functional.scaled_dot_product_attention(qt, kt, vt)

    out.append(("attn-fp16-d128-s4096-full", 4.0 * bsz * h * s * s * d,
                {"tilekernels": lambda: tilekernels.flash_attn(q, kk, v), "cudnn": cudnn}))
    return out


def _turn(fn, seconds: float) -> tuple:
    """(calls, GPU seconds by events) of running fn back to back for about `seconds`."""
    fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    t0 = time.time()
    start.record()
    n = 0
    while time.time() - t0 < seconds:
        for _ in range(10):
            fn()
        n += 10
        torch.cuda.synchronize()
    end.record()
    torch.cuda.synchronize()
    return n, start.elapsed_time(end) / 1e3, t0, time.time()


def main() -> None:
    out_path = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1.5
    turns = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    samples: list = []
    stop = threading.Event()
    th = threading.Thread(target=_sampler, args=(stop, samples), daemon=True)
    th.start()
    time.sleep(0.5)
    results = []
    for name, flops, impls in _cases():
        for t in range(turns):
            for impl, fn in impls.items():
                n, gpu_s, t0, t1 = _turn(fn, seconds)
                win = [x for x in samples if t0 + 0.3 <= x[0] <= t1]
                clk = sum(x[1] for x in win) / max(len(win), 1)
                pw = sum(x[2] for x in win) / max(len(win), 1)
                temp = max((x[3] for x in win), default=0)
                tf = flops * n / gpu_s / 1e12
                results.append(dict(case=name, impl=impl, turn=t, calls=n, tflops=tf, sm_mhz=clk, watts=pw,
                                    max_temp_c=temp, samples=len(win), tflop_per_joule=tf / max(pw, 1)))
                print(f"{name} {impl} turn {t}: {tf:.0f} TFLOP/s at {clk:.0f} MHz, {pw:.0f} W, {temp:.0f} C "
                      f"({tf / max(pw, 1):.2f} TFLOP/J)", flush=True)
    stop.set()
    env = dict(device=torch.cuda.get_device_name(), torch=torch.__version__, seconds=seconds, turns=turns)
    with open(out_path, "w") as f:
        json.dump(dict(env=env, rows=results), f, indent=1)


if __name__ == "__main__":
    main()
