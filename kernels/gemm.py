"""GEMM family: C = A @ B (B row-major [K, N]) or C = A @ B.T (B row-major [N, K]); fp16/bf16 in, fp32 accumulate.

Runtime M, N, K (symbolic dims); ragged sizes are handled by the kernel's boundary predicates. The 16-byte
cp.async copies need the row pitches (K, and N for NN) to be multiples of 8 elements; the dispatch stub checks.
That also covers the sm90a variants' TMA descriptors (16-byte aligned bases, row strides multiples of 16 bytes).

Two lowerings: "sm80" (cp.async + mma.sync; every arch) and "sm90a" (TMA producer warpgroup + mbarriers + wgmma
consumers; sm_90a only, entry parameters end with one CUtensorMap per LaunchSpec.tensor_maps entry, for A and B).
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
           accum_dtype="float32", trans_b=False, num_stages=3, threads=128, swizzle=0, smem_epilogue=False,
           persistent=False, cluster_m=1, cluster_n=1, stream_k=False, epilogue_n=0,
           epilogue_buffers=1):
    """The tile program: one (block_M x block_N) tile of C per block, a software pipeline over K.

    smem_epilogue: stage C through shared memory so the global stores are whole 16-byte rows (on sm_90a: TMA
    stores, which need N % 8 == 0 for 16-bit C).
    persistent: T.annotate_persistent (one block per SM looping over the tiles; same result).
    epilogue_n: with smem_epilogue, stage C through a (block_M x epilogue_n) shared tile, one column chunk after
    another (0: the whole tile at once); the shared memory it saves can hold another pipeline stage.
    epilogue_buffers: 2 alternates two chunk tiles, so a chunk's writes wait only for the stores of the chunk before
    the previous one.
    stream_k: with persistent, T.annotate_persistent(stream_k=True): the last tiles' k-loops split between blocks
    (sm_90a; the launcher provides the workspace).
    cluster_m / cluster_n: thread-block clusters of that many tile rows / columns (T.Kernel cluster_dims along M,
    which B's tile does not depend on, or along N, which A's does not: on sm_90a each CTA of a cluster loads a share
    of that tile and TMA multicasts it to all).
    """
    out_dtype = out_dtype or dtype
    b_shape = (N, K) if trans_b else (K, N)
    b_tile = (block_N, block_K) if trans_b else (block_K, block_N)
    chunk = epilogue_n or block_N
    if block_N % chunk:
        raise ValueError(f"matmul: epilogue_n={epilogue_n} must divide block_N={block_N}")
    if epilogue_buffers not in (1, 2):
        raise ValueError(f"matmul: epilogue_buffers={epilogue_buffers}; expected 1 or 2 chunk tiles")
    chunks = tuple(range(block_N // chunk))

    @T.prim_func
    def main(A: T.Tensor((M, K), dtype), B: T.Tensor(b_shape, dtype), C: T.Tensor((M, N), out_dtype)):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=threads,
                      cluster_dims=(cluster_n, cluster_m)) as (bx, by):
            A_shared = T.alloc_shared((block_M, block_K), dtype)
            B_shared = T.alloc_shared(b_tile, dtype)
            C_local = T.alloc_fragment((block_M, block_N), accum_dtype)
            if swizzle:
                T.use_swizzle(swizzle)
            if persistent:
                T.annotate_persistent(stream_k=stream_k)
            T.clear(C_local)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=num_stages):
                T.copy(A[by * block_M, k * block_K], A_shared)
                if trans_b:
                    T.copy(B[bx * block_N, k * block_K], B_shared)
                else:
                    T.copy(B[k * block_K, bx * block_N], B_shared)
                T.gemm(A_shared, B_shared, C_local, transpose_B=trans_b)
            if smem_epilogue and chunk < block_N:
                C_shared = T.alloc_shared((block_M, chunk), out_dtype)
                C_shared2 = T.alloc_shared((block_M, chunk), out_dtype) if epilogue_buffers > 1 else C_shared
                for j in chunks:
                    C_chunk = C_shared if j % 2 == 0 else C_shared2
                    T.copy(C_local[:, j * chunk:(j + 1) * chunk], C_chunk)
                    T.copy(C_chunk, C[by * block_M, bx * block_N + j * chunk])
            elif smem_epilogue:
                C_shared = T.alloc_shared((block_M, block_N), out_dtype)
                T.copy(C_local, C_shared)
                T.copy(C_shared, C[by * block_M, bx * block_N])
            else:
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
    persistent: bool = False      # T.annotate_persistent: one block per SM loops over the tiles
    smem_epilogue: bool = False   # C through shared memory (TMA stores on sm_90a)
    pick: int = 0                 # > 0: alternatives of one group, chosen per problem by wave_efficiency (select)
    min_k: int = 0                # > 0: only for problems with K >= min_k
    stream_k: bool = False        # with persistent: T.annotate_persistent(stream_k=True) (sm_90a: the last tiles'
    #                               k-loops split between blocks; the stub passes a workspace)
    epilogue_n: int = 0           # with smem_epilogue: C through shared memory in chunks of this many columns
    epilogue_buffers: int = 1     # ... alternating between this many chunk tiles (matmul's arguments)


# Tile configs of the sm80 lowering (cp.async + mma.sync; runs on every arch we build).
# Decode-like and small M (memory-bound: the B read dominates): many 64 x 64 blocks. Also ahead of the sm90a
# kernel, whose 128 x 256 tiles leave most SMs idle at M <= 128 (H100, M = 128 x 8192 x 8192: 0.60x cuBLAS,
# bench/results/2026-11-23-h100-80gb-hbm3.md; the 64 x 64 tile reached 0.87x at M = 16).
SMALL_M = TileConfig(64, 64, 64, 4, 128, max_m=128)
CONFIGS = (
    SMALL_M,
    # Large tiles: 96 KiB smem fits the 99 KiB of sm_86/89/120 too. (256 x 128 x 64 with 3 stages spilled 96 bytes
    # on sm_80 for bf16 at the 255-register cap; BK = 32 with 4 stages keeps the same bytes in flight.)
    TileConfig(256, 128, 32, 4, 256),
)
# The sm90a lowering (TMA producer warpgroup + mbarriers + wgmma consumers; launches threads + 128 = 384 threads,
# ~194 KiB smem, two TMA tensor maps) runs on compute capability 9.0 only.
# Measured on the H100 (bench/results/2026-11-23-h100-gemm-sm90a-jit-run3.json): persistent + TMA-store epilogue
# with 3 stages, geomean 0.952x cuBLAS over TARGETS.md's shapes, vs 0.925x for the non-persistent 4-stage kernel.
# Two tile widths, picked per problem by wave efficiency (the share of the SMs' tile slots doing work): 128 x 256 with
# 3 stages and 128 x 192 with 4 (both ~208 KiB with the TMA-store tile). H200, one run
# (bench/results/2026-12-02-h200-gemm-sm90a-jit-tiles.json), ours / cuBLAS fp16 NT, NN, bf16 NT, NN: 8192^3 (15.5 vs
# 20.8 waves of 132 SMs) 128x192 1.026 / 1.017 / 1.006 / 1.016 vs 128x256 0.978 / 0.942 / 0.977 / 0.962;
# 4096x28672x8192 (27.2 vs 36.4 waves) 1.001 / 0.993 / 0.972 / 0.948 vs 0.963 / 0.958 / 0.960 / 0.942; 4096^3 (3.9 vs
# 5.3 waves) 0.904 / 0.895 / 0.896 / 0.891 vs 0.945 / 0.957 / 0.970 / 0.958; the rule picks the better one on each of
# them. Clusters with B multicast (matmul(cluster_m=2)) measured 0.955x vs 0.966x geomean without
# (bench/results/2026-12-02-h200-gemm-sm90a-jit-cluster.json), so none here.
# The 128 x 256 tile now runs 4 stages, C going out through two alternating 128 x 64 chunk tiles (32 KiB instead of
# the whole 64 KiB tile): H200, one run, all timed interleaved with cuBLAS
# (bench/results/2026-12-02-h200-gemm-sm90a-jit-epi-chunk.json; TARGETS.md's 5 large shapes x fp16/bf16 x NT/NN):
# geomean 1.004x cuBLAS (min 0.968x) vs 0.951x (min 0.932x) for 3 stages with the whole C tile, 0.999x for one
# 128 x 128 chunk tile, 0.995x for one 128 x 64, 0.998x for 256 x 128 s4 with 256 x 64 chunks; per shape (fp16 NT /
# NN, bf16 NT / NN) 4096^3 0.968 / 0.995 / 0.994 / 0.991, 1024 x 8192^2 0.999 / 0.988 / 0.986 / 0.996, 4096 x 8192 x
# 28672 0.997 / 1.002 / 1.000 / 1.024. (Deeper rings of 32-deep K steps instead, 128 x 256 x 32 s5 / s6 with the
# whole C tile: 0.935 / 0.938x, bench/results/2026-12-02-h200-gemm-sm90a-jit-bk32.json.) 128 x 192 with a 5th stage
# and 64-column chunks measured 0.880x, so that tile keeps its whole C tile and 4 stages.
SM90A_CONFIGS = (TileConfig(128, 256, 64, 4, 256, swizzle=8, persistent=True, smem_epilogue=True, pick=1,
                            epilogue_n=64, epilogue_buffers=2),
                 TileConfig(128, 192, 64, 4, 256, swizzle=8, persistent=True, smem_epilogue=True, pick=1))
# Small M on sm_90a (memory-bound: streaming B dominates): the same TMA/wgmma lowering with narrow tiles and deep
# pipelines, so each SM keeps 64-128 KiB of B in flight (the sm80 small tile: 24 KiB). One block per SM (~194 KiB
# smem); TMA zero-fills the A rows past M without reading them. M <= 64: 64 x 64 x 128, 6 stages; 64 < M <= 128:
# 64 x 128 x 64, 8 stages (both one consumer warpgroup). History of the M <= 128 row below.
# H100 (bench/results/2026-11-23-h100-gemm-sm90a-jit-small-m.json, ratio to cuBLAS in the same run, fp16/bf16 x NN/NT):
# 64x64x128 s6 at M = 1 / 16 / 64: 0.937-0.958x / 0.953-0.958x / 0.98-1.00x; 128x64x128 s4 at M = 128: 0.977-0.987x;
# the sm80 small tile 0.79-0.90x in that run.
# M <= 128 on the H200 (bench/results/2026-12-02-h200-gemm-sm90a-jit-m128.json, same run, fp16/bf16 x NT/NN at
# 128 x 8192 x 8192): 128x64x64 with 8 stages 0.931 / 0.960 / 0.949 / 0.960x cuBLAS vs 0.907-0.926x for 128x64x128 s4
# (the same bytes in flight in shorter steps); A multicast over clusters of 2 / 4 tile columns was slower (0.88-0.93x,
# 0.60-0.62x).
# 64 < M <= 128 now takes 64 x 128 tiles (one consumer warpgroup, 8 stages of 64-deep K; two tile rows at M = 128,
# 128 blocks at N = 8192), the shape cuBLAS's nvjet 128x64_64x8_1x2 kernel reads in its column-major terms: H200, one
# run, interleaved with cuBLAS (bench/results/2026-12-02-h200-gemm-sm90a-jit-m128-cluster.json; fp16 NT / NN, bf16
# NT / NN): M = 128 0.961 / 0.923 / 0.983 / 0.946x vs 0.927 / 0.910 / 0.936 / 0.929x for 128 x 64 s8; M = 96
# 0.919-0.928x vs 0.720-0.760x. With clusters of 2 tile rows sharing B by TMA multicast (cuBLAS's 1x2): 0.954 / 0.942 /
# 0.982 / 0.943x at M = 128 but 0.81-0.86x at M = 64; 128 x 128 tiles (64 blocks) 0.63-0.73x, split in two by
# stream-K (128 blocks) 0.81-0.85x.
SM90A_SMALL_M = (TileConfig(64, 64, 128, 6, 128, max_m=64), TileConfig(64, 128, 64, 8, 128, max_m=128))
# Long K (K >= 16384) had its own row until the chunked epilogue gave the pick group's 128 x 256 tile 4 stages too (it
# measured 0.997-1.024x at 4096 x 8192 x 28672, where this one had 0.96-0.98x): 4 stages and no TMA-store tile (its 64
# KiB held a fourth stage); the epilogue is a small share of a long tile. H200
# (bench/results/2026-12-02-h200-gemm-sm90a-jit-desc.json, same run) at 4096 x 8192 x 28672, fp16 NT/NN, bf16 NT/NN:
# 0.984 / 0.981 / 0.961 / 0.966x cuBLAS vs 0.947 / 0.938 / 0.934 / 0.930x (128x256 s3 epi, the wave-efficiency pick)
# and 0.969 / 0.961 / 0.966 / 0.956x (128x192 s4 epi); at K = 8192 it lost to both (0.93-0.97x). (TileConfig(128, 256,
# 64, 4, 256, swizzle=8, persistent=True, min_k=16384).) It stayed ahead of cuBLAS's tile shape: H200, two runs,
# cuBLAS and the configs timed in interleaved rounds (bench/results/2026-12-02-h200-gemm-sm90a-jit-longk{,-run2}.json;
# K = 16384..28672, 5 shapes x fp16/bf16 x NT/NN): geomean 0.985 / 0.981x cuBLAS vs 0.980 / 0.978x for 256 x 128 tiles
# with A multicast over clusters of 2 (4 stages), 0.979 / 0.976x without the multicast, 0.979 / 0.976x for 128 x 256
# with B multicast. At K = 8192 (bench/results/2026-12-02-h200-gemm-sm90a-jit-cublas-like.json) the 256 x 128 tiles
# lost to the catalogue's widths everywhere (geomean 0.919-0.954x vs 0.949x / 0.956x), B multicast on 128 x 256 tied
# (0.953x).
# Stream-K (TileConfig.stream_k, T.annotate_persistent(stream_k=True)) is in none of these: H200 JIT, one run
# (bench/results/2026-12-02-h200-gemm-sm90a-jit-streamk.json), each of the three sm90a tiles above with / without it,
# geomean over TARGETS.md's large shapes: 0.864 vs 0.966x cuBLAS (128x256 s3), 0.880 vs 0.954x (128x192 s4), 0.858 vs
# 0.945x (long-K); 1024 x 8192 x 8192 (every tile split) 0.71-0.81x vs 0.91-1.04x. The split tiles' blocks run at
# different k offsets, so the A/B panels they share are no longer read by all of them at once (DP waves walk k in
# step and hit L2); the fixup itself is 2 x 128 KiB per block. cuBLAS's kernels here (nvjet 320x128 / 256x128 tiles,
# clusters of 2, bench/results/2026-12-02-h200-cublas-kernel-names.txt) run after a memset (of a workspace?) from
# 4096 x 4096 x 4096 on; what they split, if anything, is not known.

# M <= 16 (decode, GEMV-like): 16-row mma.sync tiles (sm80 lowering: cp.async, any arch with 160 KiB of shared
# memory) keep 112 KiB of B in flight per SM, where a 64-row wgmma tile spends as much on zero-filled A rows.
# H100 (bench/results/2026-11-23-h100-gemm-sm90-jit-gemv.json, same run): M = 1 / 16 at 0.99-1.03x cuBLAS, the sm90a
# 64x64x128 tile 0.94-0.96x.
GEMV = TileConfig(16, 64, 128, 8, 128, swizzle=0, max_m=16)

# Preference order within each (dtype, layout) group: the first (config, lowering) that admits M and K and runs on the
# device wins. M <= 16 takes the GEMV tile where its shared memory fits; small M the sm90a small tiles on sm_90a and
# the sm80 small tile elsewhere (more blocks than the large tiles); otherwise sm_90a takes its TMA/wgmma pick group.
SCHEDULE = (
    (GEMV, "sm80"),
    *((c, "sm90a") for c in SM90A_SMALL_M),
    (SMALL_M, "sm80"),
    *((c, "sm90a") for c in SM90A_CONFIGS),
    *((c, "sm80") for c in CONFIGS if c is not SMALL_M),
)
_LOWERING_ARCHS = {"sm80": (), "sm90a": ("sm_90a",)}


@dataclass(frozen=True)
class GemmVariant(VariantBase):
    dtype: str = "float16"
    trans_b: bool = False
    config: TileConfig = CONFIGS[0]

    def build(self):
        c = self.config
        M, N, K = (T.symbolic(d) for d in DIMS)
        return matmul(M, N, K, c.block_m, c.block_n, c.block_k, dtype=self.dtype, trans_b=self.trans_b,
                      num_stages=c.stages, threads=c.threads, swizzle=c.swizzle, persistent=c.persistent,
                      smem_epilogue=c.smem_epilogue, stream_k=c.stream_k, epilogue_n=c.epilogue_n,
                      epilogue_buffers=c.epilogue_buffers)

    def cpp_fields(self) -> list[str]:
        c = self.config
        return [str(_DTYPES[self.dtype][1]), "true" if self.trans_b else "false", f"{c.max_m}LL",
                str(c.block_m), str(c.block_n), str(c.block_k), str(c.pick), f"{c.min_k}LL"]


def _name(dtype: str, trans_b: bool, c: TileConfig, lowering: str) -> str:
    return (f"gemm_{_DTYPES[dtype][0]}_{'nt' if trans_b else 'nn'}_{c.block_m}x{c.block_n}x{c.block_k}"
            f"_s{c.stages}_t{c.threads}{'_persistent' if c.persistent else ''}{'_epi' if c.smem_epilogue else ''}"
            f"{f'{c.epilogue_n}x{c.epilogue_buffers}' if c.smem_epilogue and c.epilogue_n else ''}"
            f"{f'_mink{c.min_k}' if c.min_k else ''}{'_sk' if c.stream_k else ''}_{lowering}")


def variants() -> list[GemmVariant]:
    """Every GEMM variant, grouped by (dtype, layout), each group in preference order."""
    out = []
    for dtype in _DTYPES:
        for trans_b in (False, True):
            for c, lowering in SCHEDULE:
                out.append(GemmVariant(name=_name(dtype, trans_b, c, lowering), lowering=lowering,
                                       archs=_LOWERING_ARCHS[lowering], dtype=dtype, trans_b=trans_b, config=c))
    return out


def runs_on(v: GemmVariant, cc: tuple[int, int]) -> bool:
    """Whether the variant's code can run on compute capability `cc` (the C++ arch rule, shared memory aside): a
    variant restricted to an `a` arch (the sm90a ones: sm_90a) only on exactly that cc; sm80 ones on any cc >= 8.0
    (the build makes cubins or PTX for every arch it targets)."""
    from tilec.toolchain.arch import parse_target

    cc = tuple(cc)
    if not v.archs:
        return cc >= (8, 0)
    for t in map(parse_target, v.archs):
        if (t.cc == cc) if t.suffix == "a" else (t.cc[0] == cc[0] and cc[1] >= t.cc[1]):
            return True
    return False


def wave_efficiency(c: TileConfig, M: int, N: int, sm_count: int) -> float:
    """The share of the SMs' tile slots that does useful work: tiles / (SMs x whole waves), times the share of the
    tiles' area inside C (the C++ stub's formula)."""
    tm, tn = -(-M // c.block_m), -(-N // c.block_n)
    tiles, slots = tm * tn, max(sm_count, 1)
    if tiles == 0:
        return 1.0
    return tiles / (-(-tiles // slots) * slots) * (M / (tm * c.block_m)) * (N / (tn * c.block_n))


def select(M: int, dtype: str, trans_b: bool, runnable=lambda v: True, cc: tuple[int, int] | None = None,
           N: int = 8192, sm_count: int = 132, K: int = 8192) -> GemmVariant | None:
    """The variant the C++ stub picks: the first of the (dtype, layout) group that admits M and K and can run; when its
    config has a pick group, the runnable one of that group (same max_m) with the best wave_efficiency for M x N on
    sm_count SMs (the earlier one on a tie).

    runnable(v): whether the build holds it and the device can run it (archs, shared memory); cc, when given,
    also applies the arch rule for that compute capability (runs_on). Without either every variant counts as
    runnable, so a large M picks an sm90a variant.
    """
    def ok(v: GemmVariant) -> bool:
        return v.dtype == dtype and v.trans_b == trans_b and (v.config.max_m == 0 or M <= v.config.max_m) \
            and K >= v.config.min_k and (cc is None or runs_on(v, cc)) and runnable(v)

    vs = variants()
    for i, v in enumerate(vs):
        if not ok(v):
            continue
        if not v.config.pick:
            return v
        best, eff = v, wave_efficiency(v.config, M, N, sm_count)
        for q in vs[i + 1:]:
            if q.config.pick == v.config.pick and q.config.max_m == v.config.max_m and ok(q):
                e = wave_efficiency(q.config, M, N, sm_count)
                if e > eff + 1e-9:
                    best, eff = q, e
        return best
    return None
