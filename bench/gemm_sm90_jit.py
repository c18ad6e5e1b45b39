"""tilec's sm_90a GEMM (TMA + mbarrier warp specialization + wgmma, generated from the catalogue's tile program)
against cuBLAS (torch.matmul), in one run: correctness on ragged shapes first, then speed per tile config (cuBLAS and
the configs timed in interleaved rounds per shape, bench.timing.measure_interleaved).

Usage: python bench/gemm_sm90_jit.py OUT.json [check|bench|all|small] [dtypes] [set]
set: a CONFIG_SETS name, default "large" (TFLOP/s on large shapes); "small" (mode "small" = "all" with it) runs the
small-M (decode-like) configs on M = 1..128 x 8192 x 8192, reporting TB/s of operand bytes ((M*K + N*K + M*N) * 2 /
time). Cubins can be compiled ahead of time (no GPU needed): precompile_small(["float16", "bfloat16"]) fills the
compile cache (TILEC_CACHE_DIR, default ~/.cache/tilec).
"""
from __future__ import annotations

import json
import math
import sys
import time

import tilec
import tilec.language as T
from bench.timing import measure_interleaved
from kernels.gemm import SM90A_CONFIGS, matmul
from tilec.toolchain import CompileOptions

CONFIGS = [
    dict(block_M=128, block_N=256, block_K=64, num_stages=4, threads=256, swizzle=8),
    dict(block_M=128, block_N=256, block_K=64, num_stages=3, threads=256, swizzle=8),
    # smem_epilogue on sm_90a: C staged through a 128x256 swizzled shared tile, stored by TMA (needs N % 8 == 0).
    dict(block_M=128, block_N=256, block_K=64, num_stages=3, threads=256, swizzle=8, smem_epilogue=True),
    # persistent: min(tiles, SMs) blocks looping over tiles; the producer prefetches the next tile's stages.
    dict(block_M=128, block_N=256, block_K=64, num_stages=3, threads=256, swizzle=8, smem_epilogue=True,
         persistent=True),
    dict(block_M=128, block_N=256, block_K=64, num_stages=4, threads=256, swizzle=8, persistent=True),
]
CHECK_SHAPES = [(77, 200, 64), (1000, 1032, 520), (256, 256, 256), (4096, 4096, 4096), (1, 8192, 8192),
                (3000, 2056, 1000)]
BENCH_SHAPES = [(8192, 8192, 8192), (4096, 4096, 4096), (1024, 8192, 8192), (4096, 28672, 8192),
                (4096, 8192, 28672)]

# Small M (memory-bound: streaming B dominates). One block per SM (~194 KiB smem; 240 or 168 registers), so the
# pipeline depth sets the bytes in flight: B stage bytes x stages = 64-96 KiB per SM. TMA zero-fills the A rows past
# M without reading them. The first two are the catalogue's sm90a small-M variants (M <= 64, M <= 128); the last
# ("target": "sm_90") is the catalogue's sm80 small tile (cp.async + mma.sync) as the baseline.
SMALL_CONFIGS = [
    dict(block_M=64, block_N=64, block_K=128, num_stages=6, threads=128, swizzle=8),
    dict(block_M=128, block_N=64, block_K=128, num_stages=4, threads=256, swizzle=8),
    dict(block_M=64, block_N=64, block_K=64, num_stages=12, threads=128, swizzle=8),
    dict(block_M=64, block_N=64, block_K=256, num_stages=3, threads=128, swizzle=8),
    dict(block_M=128, block_N=64, block_K=64, num_stages=8, threads=256, swizzle=8),
    dict(block_M=64, block_N=32, block_K=128, num_stages=8, threads=128, swizzle=8),  # 256 blocks at N = 8192
    dict(block_M=64, block_N=64, block_K=64, num_stages=4, threads=128, swizzle=8, target="sm_90"),
]
SMALL_CHECK_SHAPES = [(1, 8192, 8192), (7, 1000, 520), (100, 4104, 8192), (128, 200, 64)]
SMALL_BENCH_SHAPES = [(1, 8192, 8192), (16, 8192, 8192), (64, 8192, 8192), (128, 8192, 8192)]

# Decode-like M <= 16 (GEMV): 16-row mma.sync tiles (the sm80 lowering compiled for sm_90, cp.async) need 4 KiB of
# A per stage where wgmma's 64 rows need 16 KiB, so more of the shared memory holds B in flight; against the
# catalogue's sm90a 64-row tile (the first).
GEMV_CONFIGS = [
    dict(block_M=64, block_N=64, block_K=128, num_stages=6, threads=128, swizzle=8),
    dict(block_M=16, block_N=64, block_K=128, num_stages=8, threads=128, swizzle=0, target="sm_90"),
    dict(block_M=16, block_N=64, block_K=64, num_stages=12, threads=128, swizzle=0, target="sm_90"),
    dict(block_M=16, block_N=64, block_K=256, num_stages=4, threads=128, swizzle=0, target="sm_90"),
    dict(block_M=16, block_N=32, block_K=128, num_stages=10, threads=128, swizzle=0, target="sm_90"),
]
GEMV_CHECK_SHAPES = [(1, 8192, 8192), (7, 1000, 520), (16, 4104, 8192), (13, 200, 64)]
GEMV_BENCH_SHAPES = [(1, 8192, 8192), (16, 8192, 8192)]

# Thread-block clusters with TMA multicast (T.Kernel cluster_dims; matmul(cluster_m=2): two tile rows share B's tile,
# each CTA loading half; cluster_n=2: two tile columns share A's) against the catalogue's sm90a kernel (the first).
_CAT = dict(block_M=128, block_N=256, block_K=64, num_stages=3, threads=256, swizzle=8, smem_epilogue=True,
            persistent=True)
CLUSTER_CONFIGS = [
    _CAT,
    dict(_CAT, cluster_m=2),
    dict(_CAT, cluster_n=2),
    dict(_CAT, cluster_m=2, persistent=False),
    dict(_CAT, cluster_m=2, smem_epilogue=False, num_stages=4),
]
# Tile widths and depths against the catalogue kernel: 128x192 tiles (fewer idle SMs in the last wave of the TARGETS.md
# shapes: 2752 tiles at 8192^3 = 20.8 waves of 132, where 128x256 gives 15.5) with 4 stages; 4 stages without the
# TMA-store epilogue.
TILE_CONFIGS = [
    _CAT,
    dict(_CAT, block_N=192, num_stages=4),
    dict(_CAT, smem_epilogue=False, num_stages=4),
    dict(_CAT, block_N=192, num_stages=4, cluster_m=2),
]
# M = 128 (one block row, B streamed once; A's 2 MiB tile re-read by every block): the catalogue's 128x64x128 s4 tile
# against A multicast over clusters of 2 / 4 tile columns, and deeper rings of shorter K tiles.
_M128 = dict(block_M=128, block_N=64, block_K=128, num_stages=4, threads=256, swizzle=8)
M128_CONFIGS = [_M128, dict(_M128, cluster_n=2), dict(_M128, cluster_n=4), dict(_M128, block_K=64, num_stages=8),
                dict(_M128, cluster_n=2, block_K=64, num_stages=8)]
M128_CHECK_SHAPES = [(128, 200, 64), (100, 4104, 8192), (77, 1000, 520), (128, 8192, 1024)]
M128_BENCH_SHAPES = [(128, 8192, 8192), (96, 8192, 8192), (64, 8192, 8192)]
CLUSTER_CHECK_SHAPES = [(77, 200, 64), (1000, 1032, 520), (256, 256, 256), (3000, 2056, 1000), (129, 8192, 1024),
                        (4096, 4096, 4096)]

# Stream-K (T.annotate_persistent(stream_k=True)): each catalogue sm90a tile (128x256 s3 and 128x192 s4 with the
# TMA-store epilogue, the long-K 128x256 s4) without and with the last tiles' k-loops split between blocks.
_C192 = dict(_CAT, block_N=192, num_stages=4)
_LONGK = dict(_CAT, smem_epilogue=False, num_stages=4)
STREAM_K_CONFIGS = [_CAT, dict(_CAT, stream_k=True), _C192, dict(_C192, stream_k=True), _LONGK,
                    dict(_LONGK, stream_k=True)]

# cuBLAS's tile shape (nvjet 256x128 with clusters of 2, bench/results/2026-12-02-h200-cublas-kernel-names.txt): 256 x
# 128 tiles (each consumer warpgroup 128 x 128: two m64n128 wgmmas per k16) with and without A multicast over 2 tile
# columns, and the 128 x 256 tile with B multicast over 2 tile rows (a third less L2 -> shared traffic per CTA),
# against the catalogue's two widths.
_T256 = dict(_CAT, block_M=256, block_N=128)
CUBLAS_LIKE_CONFIGS = [_CAT, _C192, dict(_CAT, cluster_m=2), _T256, dict(_T256, cluster_n=2),
                       dict(_T256, cluster_n=2, smem_epilogue=False, num_stages=4)]

# Long K (the catalogue's K >= 16384 kernel: 128 x 256, 4 stages, no TMA-store tile) against 256 x 128 tiles with 4
# stages, with A multicast over 2 tile columns (the cublas-like set's best on 4096 x 8192 x 28672) and without, and the
# 128 x 256 tile with B multicast; K from 16384 (the catalogue's threshold) to 28672.
LONG_K_CONFIGS = [_LONGK, dict(_T256, cluster_n=2, smem_epilogue=False, num_stages=4),
                  dict(_T256, smem_epilogue=False, num_stages=4), dict(_LONGK, cluster_m=2)]
LONG_K_BENCH_SHAPES = [(4096, 8192, 28672), (4096, 4096, 16384), (2048, 8192, 16384), (8192, 8192, 16384),
                       (1024, 8192, 28672)]

# Shorter K steps, deeper rings (the same TMA-store epilogue): with wgmma keeping one group in flight the consumers
# hold two stages, so 3 stages of 64 leave the producer one stage of lookahead; 6 stages of 32 leave it four (the
# same 144 KiB). 128 x 256 x 32 s6 / s5, 128 x 192 x 32 s8, against the catalogue's two widths.
BK32_CONFIGS = [_CAT, _C192, dict(_CAT, block_K=32, num_stages=6), dict(_CAT, block_K=32, num_stages=5),
                dict(_C192, block_K=32, num_stages=8)]
# C through shared memory in column chunks (matmul(epilogue_n=...): one chunk tile, reused after its TMA store has
# read it), so that the freed 32-48 KiB hold a fourth pipeline stage of 128 x 256 (cuBLAS's kernels here run 4 stages
# of 256 x 128) or a fifth of 128 x 192; against the catalogue's two widths. epilogue_buffers=2: two chunk tiles
# alternating (a chunk waits only for the stores of the one before the previous).
EPI_CHUNK_CONFIGS = [_CAT, _C192, dict(_CAT, num_stages=4, epilogue_n=128), dict(_CAT, num_stages=4, epilogue_n=64),
                     dict(_T256, num_stages=4, epilogue_n=64), dict(_C192, num_stages=5, epilogue_n=64),
                     dict(_CAT, num_stages=4, epilogue_n=64, epilogue_buffers=2),
                     dict(_C192, num_stages=5, epilogue_n=64, epilogue_buffers=2)]

# The same at M = 128: the catalogue's 128 x 64 x 64 s8 against 32-deep K steps in 12 and 16 stages.
M128_BK32_CONFIGS = [dict(_M128, block_K=64, num_stages=8), dict(_M128, block_K=32, num_stages=16),
                     dict(_M128, block_K=32, num_stages=12)]
# M = 128 the way cuBLAS's nvjet 128x64_64x8_1x2 kernel reads (in cuBLAS's column-major terms: 128 columns of C by 64
# rows, clusters of 2 along M): 64 x 128 tiles, two tile rows sharing B's tile by TMA multicast (cluster_m=2), so B
# crosses L2 once and A's 2 MiB is read by 64 blocks of a row instead of 128; against the catalogue's 128 x 64 s8,
# the same tiles without the cluster, and 128 x 128 s6 (64 blocks; and split-K by two on 128 blocks).
_M64N128 = dict(block_M=64, block_N=128, block_K=64, num_stages=8, threads=128, swizzle=8)
M128_CLUSTER_CONFIGS = [dict(_M128, block_K=64, num_stages=8), dict(_M64N128, cluster_m=2), _M64N128,
                        dict(_M64N128, block_K=128, num_stages=4, cluster_m=2),
                        dict(_M128, block_N=128, block_K=64, num_stages=6),
                        # split-K by two: 64 tiles of 128 x 128 on 128 blocks (stream-K with 2 x tiles blocks)
                        dict(_M128, block_N=128, block_K=64, num_stages=6, persistent=True, stream_k=True)]

# The catalogue's large-shape sm90a tiles (kernels/gemm.py SM90A_CONFIGS), e.g. for compiler A/B runs.
CATALOGUE_CONFIGS = [dict(block_M=c.block_m, block_N=c.block_n, block_K=c.block_k, num_stages=c.stages, threads=c.threads,
                          swizzle=c.swizzle, persistent=c.persistent, smem_epilogue=c.smem_epilogue,
                          stream_k=c.stream_k, epilogue_n=c.epilogue_n, epilogue_buffers=c.epilogue_buffers)
                     for c in SM90A_CONFIGS]

# name: (configs, check shapes (config index -> shapes), bench shapes, metric)
CONFIG_SETS = {
    "catalogue": (CATALOGUE_CONFIGS, lambda i: CLUSTER_CHECK_SHAPES, BENCH_SHAPES, "tflops"),
    "large": (CONFIGS, lambda i: CHECK_SHAPES if i in (0, 3, 4) else CHECK_SHAPES[:2], BENCH_SHAPES, "tflops"),
    "small": (SMALL_CONFIGS, lambda i: SMALL_CHECK_SHAPES, SMALL_BENCH_SHAPES, "tbps"),
    "gemv": (GEMV_CONFIGS, lambda i: GEMV_CHECK_SHAPES, GEMV_BENCH_SHAPES, "tbps"),
    "cluster": (CLUSTER_CONFIGS, lambda i: CLUSTER_CHECK_SHAPES, BENCH_SHAPES, "tflops"),
    "tiles": (TILE_CONFIGS, lambda i: CLUSTER_CHECK_SHAPES, BENCH_SHAPES, "tflops"),
    "m128": (M128_CONFIGS, lambda i: M128_CHECK_SHAPES, M128_BENCH_SHAPES, "tbps"),
    "streamk": (STREAM_K_CONFIGS, lambda i: CLUSTER_CHECK_SHAPES, BENCH_SHAPES, "tflops"),
    "cublas-like": (CUBLAS_LIKE_CONFIGS, lambda i: CLUSTER_CHECK_SHAPES, BENCH_SHAPES, "tflops"),
    "bk32": (BK32_CONFIGS, lambda i: CLUSTER_CHECK_SHAPES, BENCH_SHAPES, "tflops"),
    "epi-chunk": (EPI_CHUNK_CONFIGS, lambda i: CLUSTER_CHECK_SHAPES, BENCH_SHAPES, "tflops"),
    "m128-cluster": (M128_CLUSTER_CONFIGS, lambda i: M128_CHECK_SHAPES, M128_BENCH_SHAPES, "tbps"),
    "m128-bk32": (M128_BK32_CONFIGS, lambda i: M128_CHECK_SHAPES, M128_BENCH_SHAPES, "tbps"),
    "longk": (LONG_K_CONFIGS, lambda i: CLUSTER_CHECK_SHAPES + [(1000, 1032, 16400)], LONG_K_BENCH_SHAPES, "tflops"),
}


BUDGET_MS = 150.0  # GPU time per implementation and shape


def compile_cfg(dtype: str, trans_b: bool, cfg: dict):
    S = T.symbolic
    kw = {k: v for k, v in cfg.items() if k not in ("target", "flags")}
    options = CompileOptions(extra_flags=cfg["flags"]) if cfg.get("flags") else None
    return tilec.compile(matmul(S("M"), S("N"), S("K"), dtype=dtype, trans_b=trans_b, **kw),
                         target=cfg.get("target", "sm_90a"), options=options)


def _warm(job: tuple) -> str:
    """Compile one job (fills the compile cache); a line with its resources or the error."""
    try:
        k = compile_cfg(*job)
        r = k.resources
        return (f"{job}: regs {r['registers']} spill {r['spill_bytes']} stack {r['stack_bytes']}"
                f" smem {k.metadata.launches[0].smem_bytes}")
    except Exception as e:  # noqa: BLE001 - report and go on
        return f"{job}: FAILED {str(e)[:300]}"


def precompile(dtypes: list, configs: list | None = None) -> list:
    """Compile every (dtype, layout, config) in parallel processes first (nvcc dominates a cold start)."""
    import concurrent.futures as cf
    import os

    jobs = [(d, tb, c) for d in dtypes for tb in (True, False) for c in (configs or CONFIGS)]
    with cf.ProcessPoolExecutor(min(len(jobs), max(2, os.cpu_count() or 2), 12)) as ex:
        lines = list(ex.map(_warm, jobs))
    for line in lines:
        print("precompile", line, flush=True)
    return lines


def precompile_small(dtypes: list) -> list:
    return precompile(dtypes, SMALL_CONFIGS)


def summarize(rows: list, configs: list) -> None:
    """Per config: geometric-mean and worst ratio to cuBLAS over every (dtype, layout, shape) measured."""
    for i, cfg in enumerate(configs):
        r = [x["ratio"] for x in rows if x["cfg"] is cfg]
        if r:
            geo = math.exp(sum(math.log(x) for x in r) / len(r))
            print(f"summary cfg{i} {cfg}: geomean {geo:.3f}x, min {min(r):.3f}x over {len(r)} rows", flush=True)
    best = {}
    for x in rows:
        key = (x["dtype"], x["layout"], tuple(x["shape"]))
        if key not in best or x["ratio"] > best[key]["ratio"]:
            best[key] = x
    for key, x in best.items():
        print(f"best {key}: cfg{configs.index(x['cfg'])} {x['ratio']:.3f}x", flush=True)


def _speed(metric: str, m: int, n: int, k: int, ms: float) -> float:
    """TFLOP/s, or TB/s of operand bytes (A, B read and C written once, 2-byte elements)."""
    if metric == "tflops":
        return 2 * m * n * k / ms / 1e9
    return (m * k + n * k + m * n) * 2 / ms / 1e9


def main() -> None:
    import torch

    out_path = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else "all"
    dtypes = sys.argv[3].split(",") if len(sys.argv) > 3 else ["float16", "bfloat16"]
    set_name = sys.argv[4] if len(sys.argv) > 4 else ("small" if mode == "small" else "large")
    mode = "all" if mode == "small" else mode
    configs, check_shapes, bench_shapes, metric = CONFIG_SETS[set_name]
    unit = "TF" if metric == "tflops" else "TB/s"
    rows, checks = [], []
    precompile(dtypes, configs)
    torch.manual_seed(0)
    for dtype in dtypes:
        td = getattr(torch, dtype)
        for trans_b in (True, False):
            kerns = {}
            for i, cfg in enumerate(configs):
                t0 = time.time()
                try:
                    kerns[i] = compile_cfg(dtype, trans_b, cfg)
                    kerns[i].cubin
                except Exception as e:  # noqa: BLE001 - report and go on
                    kerns.pop(i, None)
                    print("compile failed", dtype, trans_b, cfg, str(e)[:300], flush=True)
                print(f"compiled {dtype} {'nt' if trans_b else 'nn'} cfg{i} in {time.time() - t0:.1f}s", flush=True)
            if mode in ("check", "all"):
                for i, k in kerns.items():
                    for (m, n, kk) in check_shapes(i):
                        a = torch.randn(m, kk, device="cuda", dtype=td)
                        b = torch.randn((n, kk) if trans_b else (kk, n), device="cuda", dtype=td)
                        c = torch.full((m, n), float("nan"), device="cuda", dtype=td)
                        k(a, b, c)
                        torch.cuda.synchronize()
                        ref = a.float() @ (b.float().T if trans_b else b.float())
                        err = float((c.float() - ref).norm() / ref.norm())
                        ok = err <= 1e-2
                        checks.append(dict(dtype=dtype, trans_b=trans_b, cfg=i, shape=(m, n, kk), rel_err=err, ok=ok))
                        print(f"check {dtype} {'nt' if trans_b else 'nn'} cfg{i} {m}x{n}x{kk}: err {err:.2e}"
                              f" {'ok' if ok else 'FAIL'}", flush=True)
            if mode in ("bench", "all"):
                for (m, n, kk) in bench_shapes:
                    a = torch.randn(m, kk, device="cuda", dtype=td)
                    b = torch.randn((n, kk) if trans_b else (kk, n), device="cuda", dtype=td)
                    c = torch.empty(m, n, device="cuda", dtype=td)
                    bt = b.T if trans_b else b
                    # cuBLAS and every config timed in interleaved rounds (bench.timing.measure_interleaved)
                    fns = [lambda a_, b_, c_: torch.matmul(a_, b_, out=c_)] + \
                          [lambda a_, b_, c_, k=k: k(a_, b_.T if trans_b else b_, c_) for k in kerns.values()]
                    ts = [t.median_ms for t in measure_interleaved(fns, [(a, bt, c)], budget_ms=BUDGET_MS)]
                    t_ref = ts[0]
                    ref_speed = _speed(metric, m, n, kk, t_ref)
                    for i, t in zip(kerns, ts[1:]):
                        speed = _speed(metric, m, n, kk, t)
                        rows.append(dict(dtype=dtype, layout="nt" if trans_b else "nn", shape=(m, n, kk),
                                         cfg=configs[i], ms=t, cublas_ms=t_ref, ratio=t_ref / t,
                                         **{metric: speed, f"cublas_{metric}": ref_speed}))
                        print(f"bench {dtype} {'nt' if trans_b else 'nn'} {m}x{n}x{kk} cfg{i}: {speed:.2f} {unit}"
                              f" vs cuBLAS {ref_speed:.2f} {unit} = {t_ref / t:.3f}x", flush=True)
    summarize(rows, configs)
    env = dict(device=torch.cuda.get_device_name(), torch=torch.__version__, cuda=torch.version.cuda, set=set_name)
    with open(out_path, "w") as f:
        json.dump(dict(env=env, checks=checks, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
