"""GEMM family: C = A @ B (B row-major [K, N]) or C = A @ B.T (B row-major [N, K]); fp16/bf16 in, fp32 accumulate.

Runtime M, N, K (symbolic dims); ragged sizes are handled by the kernel's boundary predicates. The 16-byte
cp.async copies need the row pitches (K, and N for NN) to be multiples of 8 elements; the dispatch stub checks.
"""
from __future__ import annotations

from dataclasses import dataclass

import tilec.language as T
from tilec.aot.catalogue import VariantBase

FAMILY = "gemm"
DIMS = ("M", "N", "K")
TENSORS = ("A", "B", "C")
CPP_STRUCT = "GemmVariant"

_DTYPES = {"float16": ("f16", 0), "bfloat16": ("bf16", 1)}


def matmul(M, N, K, block_M=128, block_N=128, block_K=32, dtype="float16", out_dtype=None,
           accum_dtype="float32", trans_b=False, num_stages=3, threads=128, swizzle=0):
    """The tile program: one (block_M x block_N) tile of C per block, a cp.async pipeline over K."""
    out_dtype = out_dtype or dtype
    b_shape = (N, K) if trans_b else (K, N)
    b_tile = (block_N, block_K) if trans_b else (block_K, block_N)

    @T.prim_func
    def main(A: T.Tensor((M, K), dtype), B: T.Tensor(b_shape, dtype), C: T.Tensor((M, N), out_dtype)):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=threads) as (bx, by):
            A_shared = T.alloc_shared((block_M, block_K), dtype)
            B_shared = T.alloc_shared(b_tile, dtype)
            C_local = T.alloc_fragment((block_M, block_N), accum_dtype)
            if swizzle:
                T.use_swizzle(swizzle)
            T.clear(C_local)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=num_stages):
                T.copy(A[by * block_M, k * block_K], A_shared)
                if trans_b:
                    T.copy(B[bx * block_N, k * block_K], B_shared)
                else:
                    T.copy(B[k * block_K, bx * block_N], B_shared)
                T.gemm(A_shared, B_shared, C_local, transpose_B=trans_b)
            T.copy(C_local, C[by * block_M, bx * block_N])

    return main


@dataclass(frozen=True)
class TileConfig:
    """A tile shape and schedule; max_m > 0 restricts it to problems with M <= max_m."""

    block_m: int
    block_n: int
    block_k: int
    stages: int
    threads: int
    swizzle: int = 8
    max_m: int = 0


# Preference order: the first config that admits M and runs on the device wins.
CONFIGS = (
    TileConfig(64, 64, 64, 4, 128, max_m=64),    # decode-like M: more blocks along N
    TileConfig(256, 128, 64, 3, 256),            # large tiles: needs ~144 KiB smem (sm_80, sm_90, sm_100)
    TileConfig(128, 128, 32, 4, 128),            # fits the 99 KiB of sm_86/89/120
)


@dataclass(frozen=True)
class GemmVariant(VariantBase):
    dtype: str = "float16"
    trans_b: bool = False
    config: TileConfig = CONFIGS[0]

    def build(self):
        c = self.config
        M, N, K = (T.symbolic(d) for d in DIMS)
        return matmul(M, N, K, c.block_m, c.block_n, c.block_k, dtype=self.dtype, trans_b=self.trans_b,
                      num_stages=c.stages, threads=c.threads, swizzle=c.swizzle)

    def cpp_fields(self) -> list[str]:
        c = self.config
        return [str(_DTYPES[self.dtype][1]), "true" if self.trans_b else "false", f"{c.max_m}LL",
                str(c.block_m), str(c.block_n), str(c.block_k)]


def _name(dtype: str, trans_b: bool, c: TileConfig, lowering: str) -> str:
    return (f"gemm_{_DTYPES[dtype][0]}_{'nt' if trans_b else 'nn'}_{c.block_m}x{c.block_n}x{c.block_k}"
            f"_s{c.stages}_t{c.threads}_{lowering}")


def variants() -> list[GemmVariant]:
    """Every GEMM variant, grouped by (dtype, layout), each group in preference order."""
    out = []
    for dtype in _DTYPES:
        for trans_b in (False, True):
            for c in CONFIGS:
                out.append(GemmVariant(name=_name(dtype, trans_b, c, "sm80"), lowering="sm80",
                                       dtype=dtype, trans_b=trans_b, config=c))
    return out


def select(M: int, dtype: str, trans_b: bool, runnable=lambda v: True) -> GemmVariant | None:
    """The variant the C++ stub picks: the first of the (dtype, layout) group that admits M and can run."""
    for v in variants():
        if v.dtype == dtype and v.trans_b == trans_b and (v.config.max_m == 0 or M <= v.config.max_m) \
                and runnable(v):
            return v
    return None
