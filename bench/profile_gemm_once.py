"""Run one GEMM config once (for ncu): python bench/profile_gemm_once.py BM BN BK STAGES THREADS [nt|nn]."""
from __future__ import annotations

import sys

import torch

import tilec
import tilec.language as T
from kernels.gemm import matmul

bm, bn, bk, st, th = (int(x) for x in sys.argv[1:6])
nt = len(sys.argv) < 7 or sys.argv[6] == "nt"
m = n = k = 8192
kern = tilec.compile(matmul(T.symbolic("M"), T.symbolic("N"), T.symbolic("K"), block_M=bm, block_N=bn, block_K=bk,
                            num_stages=st, threads=th, trans_b=nt, swizzle=8))
a = torch.randn(m, k, device="cuda", dtype=torch.float16)
b = torch.randn((n, k) if nt else (k, n), device="cuda", dtype=torch.float16)
c = torch.empty(m, n, device="cuda", dtype=torch.float16)
kern(a, b, c)
torch.cuda.synchronize()
