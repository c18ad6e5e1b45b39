"""FLOP and byte counts of each benchmarked family, written once (TFLOP/s and GB/s of every row come from here).

Conventions (the ones TARGETS.md uses, so figures compare with its tables):

* GEMM: 2·M·N·K FLOPs; bytes = A + B + C read/written once (the compulsory traffic, fp16/bf16 = 2 bytes).
* Attention forward: 4·B·H·Sq·Sk·D FLOPs (two matmuls, QK^T and PV, 2·Sq·Sk·D each); causal counts exactly half
  of that, the FlashAttention/TARGETS convention, also when Sq != Sk. `causal_pairs` gives the exact count of
  unmasked (query, key) pairs for either mask alignment, for anyone who wants the exact FLOPs instead
  (`attention_fwd_flops(..., exact=True)`). Bytes = Q + K + V + O once (+ the fp32 LSE when returned).
* Ratios between implementations never depend on these conventions: both sides use the same formula.
"""
from __future__ import annotations

DTYPE_BYTES = {"float16": 2, "bfloat16": 2, "float32": 4, "float8_e4m3fn": 1}


def gemm_flops(m: int, n: int, k: int) -> int:
    """2·M·N·K."""
    return 2 * m * n * k


def gemm_bytes(m: int, n: int, k: int, dtype: str = "float16", out_dtype: str | None = None) -> int:
    """Compulsory global-memory traffic: read A[M,K] and B[K,N] once, write C[M,N] once."""
    e = DTYPE_BYTES[dtype]
    return (m * k + k * n) * e + m * n * DTYPE_BYTES[out_dtype or dtype]


def causal_pairs(sq: int, sk: int, align: str = "bottom_right") -> int:
    """Exact number of (query i, key j) pairs a causal mask keeps.

    align="top_left" keeps j <= i (torch SDPA's `is_causal`); "bottom_right" keeps j <= i + (sk - sq)
    (FlashAttention >= 2.1, the KV-cache convention). Rows with no key left count zero.
    """
    off = sk - sq if align == "bottom_right" else 0
    total = 0
    # Closed form of sum_i clamp(i + off + 1, 0, sk) for i in [0, sq).
    lo = max(0, -off)                       # first row with at least one key
    full = max(0, min(sq, sk - off - 1))    # rows below `full` are not clipped at sk
    if full > lo:
        a, b = lo + off + 1, full - 1 + off + 1
        total += (a + b) * (full - lo) // 2
    total += max(0, sq - max(full, lo)) * sk
    return total


def attention_fwd_flops(b: int, h: int, sq: int, sk: int, d: int, causal: bool = False, exact: bool = False,
                        align: str = "bottom_right", dv: int | None = None) -> int:
    """4·B·H·Sq·Sk·D (2·Sq·Sk·D for QK^T plus 2·Sq·Sk·Dv for PV); causal: half of it, or the exact pair count."""
    dv = d if dv is None else dv
    pairs = sq * sk
    if causal:
        pairs = causal_pairs(sq, sk, align) if exact else pairs / 2
    return int(2 * b * h * pairs * (d + dv))


def attention_fwd_bytes(b: int, h: int, sq: int, sk: int, d: int, dtype: str = "float16", h_kv: int | None = None,
                        return_lse: bool = False) -> int:
    """Q, K, V read once and O written once (K/V with h_kv heads for GQA), plus the fp32 LSE when returned."""
    e = DTYPE_BYTES[dtype]
    h_kv = h if h_kv is None else h_kv
    n = (2 * b * h * sq * d + 2 * b * h_kv * sk * d) * e
    return n + (4 * b * h * sq if return_lse else 0)


def tflops(flops: float, ms: float) -> float:
    return flops / (ms * 1e-3) / 1e12


def gbps(nbytes: float, ms: float) -> float:
    return nbytes / (ms * 1e-3) / 1e9
