"""Stream-K (T.annotate_persistent(stream_k=True), matmul(..., persistent=True, stream_k=True)): the schedule's
invariants on the host (test_stream_k.cu runs tilec/include/tilec/stream_k.cuh's plan and cursor), the generated
units and fixup, the workspace in the launch metadata, the errors for programs it cannot split, and a clean nvcc
build (no spills, no local memory, HGMMA + TMA in the SASS)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import tilec
import tilec.language as T
from tests.cpu.sm90a_gemm_helpers import assert_hopper_sass, clean_build_sass, consumer, gemm, interpret_gemm
from tests.cpu.test_headers_compile import NVCC
from tilec.errors import TilecError
from tilec.metadata import KernelMetadata, stream_k_flag_bytes

ROOT = Path(__file__).resolve().parents[2]
UNIT_LOOP = "for (tilec::StreamKUnit tl_sk = tilec::stream_k_begin(tl_sk_plan);;) {"


@pytest.mark.nvcc
@pytest.mark.skipif(NVCC is None, reason="nvcc not found")
def test_schedule_covers_every_k_step_once(tmp_path: Path) -> None:
    exe = tmp_path / "stream_k_schedule"
    subprocess.run([NVCC, "-std=c++17", "-I", str(ROOT / "tilec" / "include"), "-o", str(exe),
                    str(Path(__file__).with_suffix(".cu"))], check=True, capture_output=True, timeout=300)
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.startswith("ok"), out.stdout + out.stderr


def test_both_roles_walk_stream_k_units() -> None:
    src = gemm(persistent=True, smem_epilogue=True, stream_k=True).get_kernel_source()
    assert "void* __restrict__ tl_workspace)" in src
    # the plan lives in shared memory, written by thread 0 ahead of the block's first barrier
    assert "__shared__ tilec::StreamKPlan tl_sk_plan;" in src
    assert ("if (threadIdx.x == 0) tl_sk_plan = tilec::stream_k_plan(tl_tiles, ((K + 63) / 64), tl_first, tl_step, "
            "tl_gx, tl_gy);") in src
    assert src.index("tl_sk_plan = tilec::stream_k_plan") < src.index("__syncthreads();")
    assert src.count(UNIT_LOOP) == 2  # producer and consumers
    # each unit runs its own k-steps lo .. lo + n - 1; the ring's counters advance by n
    assert src.count("for (int k = tl_sk_lo; k < (tl_sk_lo + tl_sk_n); ++k) {") == 2
    assert "tl_pbase[0] = (tl_pbase[0] + static_cast<uint32_t>(tl_sk_n));" in src
    assert "tl_cbase[0] = (tl_cbase[0] + static_cast<uint32_t>(tl_sk_n));" in src
    cons = consumer(src)
    fixup = cons.index("const bool tl_sk_store = tilec::stream_k_fixup<256>(tl_sk_plan, tl_sk, C_local, "
                       "tl_workspace, 1);")
    # after the unit's wgmmas are done, before the epilogue, which only the tile's writer runs
    assert cons.index("tilec::wgmma_wait_all(C_local);") < fixup < cons.index("if (tl_sk_store) {") < \
        cons.index("tilec::tma_store<2>")


def test_launch_metadata_asks_for_a_workspace() -> None:
    meta = gemm(persistent=True, smem_epilogue=True, stream_k=True).metadata
    spec = meta.launches[0]
    assert spec.persistent and spec.workspace_per_block == 128 * 256 * 4  # one fp32 accumulator tile per block
    assert spec.workspace_bytes(132) == stream_k_flag_bytes(132) + 132 * 128 * 256 * 4
    assert stream_k_flag_bytes(132) == 768 and stream_k_flag_bytes(64) == 256
    assert KernelMetadata.from_json(meta.to_json()) == meta
    plain = gemm(persistent=True, smem_epilogue=True).metadata.launches[0]
    assert plain.workspace_per_block == 0 and plain.workspace_bytes(132) == 0
    # small problems: 2 x tiles blocks (split-K by two) when they fit, else one block per tile
    assert spec.launch_grid((32, 1, 1), 132) == (64, 1, 1) and plain.launch_grid((32, 1, 1), 132) == (32, 1, 1)
    assert spec.launch_grid((64, 1, 1), 132) == (128, 1, 1) and spec.launch_grid((67, 1, 1), 132) == (67, 1, 1)
    assert spec.launch_grid((32, 32, 1), 132) == (132, 1, 1)
    assert "stream-K" in gemm(persistent=True, stream_k=True, num_stages=4).show()


def test_other_lowerings_walk_whole_tiles() -> None:
    kern = gemm(target="sm_80", persistent=True, smem_epilogue=True, stream_k=True, block_N=128, block_K=32)
    src = kern.get_kernel_source()
    assert "tl_workspace" not in src and "StreamK" not in src
    assert "stream_k=True not taken" in src
    assert kern.metadata.launches[0].workspace_per_block == 0


def test_stream_k_keeps_the_program_semantics_in_the_interpreter() -> None:
    kern = gemm(persistent=True, smem_epilogue=True, stream_k=True)
    assert interpret_gemm(kern, 200, 300, 130, "float16", True) < 1e-2


def _loop_program(body: str):
    """A 128x128 GEMM tile program whose pipelined loop (or what precedes it) is varied by `body`."""
    S = T.symbolic
    M, N, K = S("M"), S("N"), S("K")

    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((N, K), "float16"), C: T.Tensor((M, N), "float16")):
        with T.Kernel(T.ceildiv(N, 128), T.ceildiv(M, 128), threads=256) as (bx, by):
            A_s = T.alloc_shared((128, 64), "float16")
            B_s = T.alloc_shared((128, 64), "float16")
            acc = T.alloc_fragment((128, 128), "float32")
            T.annotate_persistent(stream_k=True)
            if body != "no_clear":
                T.clear(acc)
            for k in T.Pipelined(T.ceildiv(K, 64), num_stages=3):
                T.copy(A[by * 128, k * 64], A_s)
                T.copy(B[bx * 128, k * 64], B_s)
                T.gemm(A_s, B_s, acc, transpose_B=True)
                if body == "scale":
                    for i, j in T.Parallel(128, 128):
                        acc[i, j] = acc[i, j] * 0.5
            T.copy(acc, C[by * 128, bx * 128])

    return main


@pytest.mark.parametrize("body, why", [
    ("scale", "the pipelined loop's work must be T.gemm ops on shared tiles only"),
    ("no_clear", "the accumulator acc must be cleared"),
])
def test_programs_it_cannot_split_are_refused(body: str, why: str) -> None:
    with pytest.raises(TilecError, match=rf"T.annotate_persistent\(stream_k=True\): {why}"):
        tilec.compile(_loop_program(body), target="sm_90a").get_kernel_source()
    tilec.compile(_loop_program("ok"), target="sm_90a").get_kernel_source()


def test_stream_k_and_pairs_exclude_each_other() -> None:
    @T.prim_func
    def main(A: T.Tensor((128,), "float32")):
        with T.Kernel(1, threads=128):
            T.annotate_persistent(pairs=True, stream_k=True)

    with pytest.raises(TilecError, match="pairs=True and stream_k=True"):
        tilec.compile(main, target="sm_90a")


@pytest.mark.nvcc
@pytest.mark.skipif(NVCC is None, reason="nvcc not found")
@pytest.mark.parametrize("cfg", [dict(smem_epilogue=True), dict(smem_epilogue=True, block_N=192, num_stages=4),
                                 dict(num_stages=4)], ids=["128x256_s3_epi", "128x192_s4_epi", "128x256_s4"])
def test_clean_build(cfg: dict, tmp_path: Path) -> None:
    kern = gemm(persistent=True, stream_k=True, **cfg)
    sass = clean_build_sass(kern, tmp_path)
    if cfg.get("block_N") == 192:
        assert "HGMMA.64x192x16.F32" in sass and "UTMALDG.2D" in sass and "LDL" not in sass and "STL" not in sass
    else:
        assert_hopper_sass(sass, tma_store=bool(cfg.get("smem_epilogue")))
