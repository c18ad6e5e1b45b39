"""The default benchmark sets: TARGETS.md's shape tables, as plain data (no torch import).

Each case has a stable `key` (used as the pytest id, the pytest-benchmark group and the row key in the results JSON)
and `reps_scale` (< 1 for the largest problems, so one GPU run of the whole default suite stays within ~6 minutes).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GemmCase:
    m: int
    n: int
    k: int
    layout: str        # "NT": C = A @ W.T with W [N, K] row-major (b = w.T); "NN": B [K, N] row-major
    dtype: str         # "float16" | "bfloat16"

    @property
    def key(self) -> str:
        return f"gemm-{self.dtype}-{self.layout}-{self.m}x{self.n}x{self.k}"

    @property
    def memory_bound(self) -> bool:
        return self.m <= 128          # decode-like: judged by GB/s of the weights, TARGETS.md's last GEMM row


@dataclass(frozen=True)
class AttnCase:
    batch: int
    seqlen_q: int
    seqlen_k: int
    heads: int
    heads_kv: int
    head_dim: int
    causal: bool
    dtype: str

    @property
    def key(self) -> str:
        s = f"{self.seqlen_q}" if self.seqlen_q == self.seqlen_k else f"{self.seqlen_q}x{self.seqlen_k}"
        g = "" if self.heads_kv == self.heads else f"-gqa{self.heads // self.heads_kv}"
        return (f"attn-{self.dtype}-d{self.head_dim}-s{s}-b{self.batch}h{self.heads}{g}-"
                f"{'causal' if self.causal else 'full'}")


def _gemm_table() -> list[GemmCase]:
    """TARGETS.md § GEMM: every row, fp16 and bf16."""
    rows = [
        (8192, 8192, 8192, "NT"), (4096, 4096, 4096, "NT"), (1024, 8192, 8192, "NT"),
        (4096, 28672, 8192, "NT"), (4096, 28672, 8192, "NN"),
        (4096, 8192, 28672, "NT"), (4096, 8192, 28672, "NN"),
        (1, 8192, 8192, "NT"), (16, 8192, 8192, "NT"), (128, 8192, 8192, "NT"),
    ]
    return [GemmCase(m, n, k, lay, dt) for dt in ("float16", "bfloat16") for (m, n, k, lay) in rows]


def _attn_table() -> list[AttnCase]:
    """TARGETS.md § FlashAttention forward: 16k tokens (B = 16384/S), H·D = 2048, causal and not, fp16; and bf16 at
    D = 128 ("bf16 as fast as fp16")."""
    grid = {64: (1024, 4096, 16384), 128: (1024, 4096, 8192, 16384), 256: (1024, 4096, 16384)}
    out = []
    for dtype, dims in (("float16", (64, 128, 256)), ("bfloat16", (128,))):
        for d in dims:
            for s in grid[d]:
                for causal in (False, True):
                    out.append(AttnCase(16384 // s, s, s, 2048 // d, 2048 // d, d, causal, dtype))
    return out


GEMM_CASES: list[GemmCase] = _gemm_table()
ATTN_CASES: list[AttnCase] = _attn_table()

# `--bench-quick`: one case per kind, for a smoke run of the machinery (seconds).
GEMM_QUICK = [GemmCase(4096, 4096, 4096, "NT", "float16"), GemmCase(16, 8192, 8192, "NT", "bfloat16")]
ATTN_QUICK = [AttnCase(4, 4096, 4096, 16, 16, 128, True, "float16")]

# `--bench-set tiny`: small ragged problems that run in a blink anywhere (CI-style checks of the machinery itself).
GEMM_TINY = [GemmCase(200, 264, 136, "NT", "float16"), GemmCase(200, 264, 136, "NN", "bfloat16")]
ATTN_TINY = [AttnCase(2, 200, 200, 4, 4, 64, False, "float16"), AttnCase(2, 200, 200, 4, 4, 64, True, "bfloat16")]

# Extra sets, not in the default run (`--bench-set extended`): TARGETS.md's "GQA and Sq != Sk at the same speed per
# FLOP", and NN for the square shapes.
ATTN_EXTENDED = [
    AttnCase(4, 4096, 4096, 32, 8, 128, True, "float16"),
    AttnCase(4, 4096, 4096, 32, 4, 128, False, "bfloat16"),
    AttnCase(8, 512, 8192, 16, 16, 128, False, "float16"),
    AttnCase(8, 512, 8192, 16, 16, 128, True, "float16"),
]
GEMM_EXTENDED = [GemmCase(s, s, s, "NN", dt) for s in (4096, 8192) for dt in ("float16", "bfloat16")]

SETS = {
    "default": (GEMM_CASES, ATTN_CASES),
    "quick": (GEMM_QUICK, ATTN_QUICK),
    "tiny": (GEMM_TINY, ATTN_TINY),
    "extended": (GEMM_EXTENDED, ATTN_EXTENDED),
    "all": (GEMM_CASES + GEMM_EXTENDED, ATTN_CASES + ATTN_EXTENDED),
}

# Peers that JIT-compile per shape (TileLang: 4-7 s per kernel) run only on the shapes TARGETS.md has a figure for,
# unless `--bench-all-peers`.
TILELANG_GEMM_KEYS = {GemmCase(8192, 8192, 8192, "NT", "float16").key}
TILELANG_ATTN_KEYS = {AttnCase(4, 4096, 4096, 16, 16, 128, c, "float16").key for c in (False, True)}
