"""What the last, partly filled wave of blocks costs d128 non-causal attention: TFLOP/s of the catalogue's sm_90a
kernels (one tile per block, persistent) and of cuDNN SDPA at fixed seqlen over head counts whose tile counts
(ceildiv(S, 128) * heads * batch) fall just below, on and just above a multiple of the SM count. If the tail costs
what wave quantization predicts, TFLOP/s follows tiles / (SMs * ceil(tiles / SMs)).

Usage: python bench/attention_tail.py OUT.json [dtype]
"""
from __future__ import annotations

import json
import math
import sys

from bench.attention_sm90_jit import _ONE, _PERS, compile_cfg
from bench.timing import measure_interleaved

# (batch, seqlen, heads): 4 x 4k x 16 is the TARGETS row (2048 tiles = 15.5 waves on 132 SMs)
SHAPES = [(4, 4096, 16), (1, 4096, 58), (1, 4096, 62), (1, 4096, 64), (1, 4096, 66), (1, 4096, 67),
          (1, 8192, 31), (1, 8192, 32), (1, 8192, 33), (1, 16384, 16), (1, 16384, 17)]


def main() -> None:
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel

    out_path = sys.argv[1]
    dtype = sys.argv[2] if len(sys.argv) > 2 else "float16"
    td = getattr(torch, dtype)
    d = 128
    sms = torch.cuda.get_device_properties(0).multi_processor_count
    kerns = {"one_tile": compile_cfg(dtype, d, False, _ONE), "persistent": compile_cfg(dtype, d, False, _PERS)}
    rows = []
    for b, s, h in SHAPES:
        q, k, v = (torch.randn(b, s, h, d, device="cuda", dtype=td) for _ in range(3))
        o = torch.empty_like(q)
        lse = torch.empty(b, h, s, device="cuda")

        def cudnn(q_, k_, v_):
            with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
                return F.scaled_dot_product_attention(q_.transpose(1, 2), k_.transpose(1, 2), v_.transpose(1, 2))

        names = ["cudnn"] + list(kerns)
        fns = [cudnn] + [lambda q_, k_, v_, kk=kk: kk(q_, k_, v_, o, lse, d ** -0.5) for kk in kerns.values()]
        times = dict(zip(names, (t.median_ms for t in measure_interleaved(fns, [(q, k, v)], budget_ms=120.0))))
        tiles = math.ceil(s / 128) * h * b
        waves = tiles / sms
        fl = 4 * b * h * s * s * d
        row = dict(batch=b, seqlen=s, heads=h, tiles=tiles, waves=waves, fill=waves / math.ceil(waves),
                   **{f"{n}_tflops": fl / t / 1e9 for n, t in times.items()})
        rows.append(row)
        print(f"B{b} S{s} H{h}: {tiles} tiles = {waves:.2f} waves (fill {row['fill']:.3f}) | " +
              " ".join(f"{n} {fl / t / 1e9:.0f}" for n, t in times.items()) +
              f" | one_tile/cudnn {times['cudnn'] / times['one_tile']:.3f}", flush=True)
    with open(out_path, "w") as f:
        json.dump(dict(device=torch.cuda.get_device_name(), sms=sms, dtype=dtype, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
