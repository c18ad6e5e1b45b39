"""Time the tile-language attention (sm80-family lowering) against torch SDPA (cuDNN and flash backends).

Usage: python bench/attention_sm80_vs_sdpa.py [OUT.json]. Total tokens 16k (B = 16384 / S), H * D = 2048.
"""
from __future__ import annotations

import json
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

import tilec
from bench.timing import median_ms
from tests.kernels.attention import flash_attention

CONFIGS = {64: [dict(block_M=64, block_N=64, threads=128, num_stages=2),
                dict(block_M=128, block_N=64, threads=256, num_stages=2)],
           128: [dict(block_M=64, block_N=64, threads=128, num_stages=2),
                 dict(block_M=128, block_N=64, threads=256, num_stages=2)]}


def bench(fn) -> float:
    return median_ms(fn, warmup=25, rep=200)


def main() -> None:
    rows = []
    for d in (64, 128):
        for s in (1024, 4096):
            for causal in (False, True):
                b, h = 16384 // s, 2048 // d
                q, k, v = (torch.randn(b, s, h, d, device="cuda", dtype=torch.float16) for _ in range(3))
                qt, kt, vt = (x.transpose(1, 2) for x in (q, k, v))
                flops = 4 * b * h * s * s * d / (2 if causal else 1)
                peers = {}
                for name, be in (("cudnn", SDPBackend.CUDNN_ATTENTION), ("flash", SDPBackend.FLASH_ATTENTION)):
                    try:
                        with sdpa_kernel(be):
                            peers[name] = bench(lambda: F.scaled_dot_product_attention(qt, kt, vt, is_causal=causal))
                    except Exception as e:
                        print(name, "unavailable:", str(e)[:200])
                ref = F.scaled_dot_product_attention(qt.float(), kt.float(), vt.float(), is_causal=causal).transpose(1, 2)
                for cfg in CONFIGS[d]:
                    try:
                        kern = tilec.compile(flash_attention(b, h, s, s, d, is_causal=causal, **cfg))
                        o = torch.full_like(q, float("nan"))
                        kern(q, k, v, o)
                        err = float((o.double() - ref.double()).norm() / ref.double().norm())
                        t = bench(lambda: kern(q, k, v, o))
                    except Exception as e:
                        print("config", cfg, "failed:", str(e)[:300])
                        continue
                    row = dict(d=d, s=s, causal=causal, cfg=cfg, ms=t, tflops=flops / t / 1e9, rel_err=err,
                               **{f"{p}_ms": pt for p, pt in peers.items()},
                               **{f"{p}_tflops": flops / pt / 1e9 for p, pt in peers.items()},
                               regs=kern.resources.get("registers"), spill=kern.resources.get("spill_bytes"))
                    rows.append(row)
                    print(f"D={d} S={s} causal={causal} {cfg}: {row['tflops']:.0f} TFLOP/s err={err:.1e} | " +
                          " ".join(f"{p} {flops / pt / 1e9:.0f}" for p, pt in peers.items()))
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as f:
            json.dump(dict(device=torch.cuda.get_device_name(), torch=torch.__version__, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
