"""Run one sm_90a attention config once (for ncu): python bench/profile_attention_once.py D S CAUSAL CFG
(CFG: a Python tuple as in bench/attention_sm90_jit.py, e.g. "(128, 128, 2, 256, True, True)"; total tokens 16k:
batch = 16384 / S, heads = 2048 / D, fp16)."""
from __future__ import annotations

import ast
import sys

import torch

from bench.attention_sm90_jit import compile_cfg

d, s = int(sys.argv[1]), int(sys.argv[2])
causal = sys.argv[3] in ("1", "true", "True", "causal")
cfg = tuple(ast.literal_eval(sys.argv[4]))
kern = compile_cfg("float16", d, causal, cfg)
b, h = 16384 // s, 2048 // d
q, k, v = (torch.randn(b, s, h, d, device="cuda", dtype=torch.float16) for _ in range(3))
o = torch.empty_like(q)
lse = torch.empty(b, h, s, device="cuda")
kern(q, k, v, o, lse, d ** -0.5)
torch.cuda.synchronize()
