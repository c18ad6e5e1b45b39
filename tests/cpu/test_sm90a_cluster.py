"""Thread-block clusters with TMA multicast on sm_90a (T.Kernel(cluster_dims=); matmul(cluster_m=/cluster_n=)): which
tiles are shared and how they split, the cluster-wide stage release and start/end synchronisation, the padded grid
and its guard, persistent tiles in whole clusters, launch metadata and the launch rule, the cases that drop the
cluster (with a note), bad cluster_dims, the nvcc build (no spills, multicast TMA in the SASS) and unchanged
semantics in the interpreter."""
from __future__ import annotations

import re

import pytest

import tilec
import tilec.language as T
from tests.cpu.sm90a_gemm_helpers import clean_build_sass, consumer, gemm, interpret_gemm
from tilec.errors import TilecError
from tilec.metadata import LaunchSpec


def producer(src: str) -> str:
    return src[src.index("setmaxnreg_dec"):src.index("setmaxnreg_inc")]


def notes(kern: tilec.JITKernel) -> str:
    return kern.lowered().attrs["lowering_notes"][0]


def test_nt_b_tile_is_multicast_by_rows() -> None:
    kern = gemm(smem_epilogue=True, cluster_m=2)
    src = kern.get_kernel_source()
    prod = producer(src)
    # A depends on by (the cluster's axis): each CTA its own; B (256 x 64, one 128-byte panel) in halves of 128 rows
    assert "tilec::tma_load<2>(&A_tmap0, (&A_shared[((k % 3) * 8192)])" in prod
    assert ("tilec::tma_load_multicast<2>(&B_tmap0, (&B_shared[(((k % 3) * 16384) + (tl_crank * 8192))]), "
            "(&tl_full[(k % 3)]), 3, (k * 64), ((bx * 256) + (tl_crank * 128)));") in prod
    # every CTA expects the whole stage (its A, its half of B and the partner's half)
    assert "tilec::mbarrier_arrive_expect_tx((&tl_full[(k % 3)]), 49152);" in prod
    b_map = next(m for m in kern.metadata.launches[0].tensor_maps if m.param == "B")
    assert b_map.box == (64, 128) and b_map.swizzle == 128
    assert "B_shared split by rows (128 per CTA)" in notes(kern)


def test_nn_b_tile_is_multicast_by_panels() -> None:
    src = gemm(trans_b=False, smem_epilogue=True, cluster_m=2).get_kernel_source()
    prod = producer(src)
    # B (64 x 256): four 64-column panels, two per CTA, each under a test of the CTA's rank
    for p, rank in ((0, 0), (1, 0), (2, 1), (3, 1)):
        off = f" + {p * 4096})" if p else ""
        col = f"((bx * 256) + {p * 64})" if p else "(bx * 256)"
        assert (f"if ((tl_crank == {rank})) {{\n            tilec::tma_load_multicast<2>(&B_tmap0, "
                f"(&B_shared[{'(' if p else ''}((k % 3) * 16384){off}]), (&tl_full[(k % 3)]), 3, {col}, (k * 64));"
                ) in prod


def test_cluster_along_n_multicasts_a() -> None:
    kern = gemm(smem_epilogue=True, cluster_n=2)
    prod = producer(kern.get_kernel_source())
    assert ("tilec::tma_load_multicast<2>(&A_tmap0, (&A_shared[(((k % 3) * 8192) + (tl_crank * 4096))]), "
            "(&tl_full[(k % 3)]), 3, (k * 64), ((by * 128) + (tl_crank * 64)));") in prod
    assert "tilec::tma_load<2>(&B_tmap0" in prod
    assert kern.metadata.launches[0].cluster == (2, 1, 1)
    assert "along grid x: TMA multicast of A_shared" in notes(kern)


def test_stages_are_released_in_every_cta_and_the_cluster_syncs() -> None:
    src = gemm(smem_epilogue=True, cluster_m=2).get_kernel_source()
    cons = consumer(src)
    # 8 consumer warps in each of the 2 CTAs release every stage
    assert src.count("tilec::mbarrier_init((&tl_empty[0]), 16);") == 1
    assert "tilec::mbarrier_arrive_warp_cluster<2>((&tl_empty[((k + 2) % 3)]));" in cons
    assert "tilec::mbarrier_arrive_warp(" not in cons
    # barrier init is visible cluster-wide before any multicast or remote arrive
    head = src[:src.index("setmaxnreg_dec")]
    assert head.index("tilec::fence_barrier_init();") < head.index("tilec::cluster_sync();")
    assert "__syncthreads();" not in head
    # the producer stays until the partner's consumers released every stage of this CTA
    prod = producer(src)
    assert ("for (int tl_drain = 0; tl_drain < (0 + 3); ++tl_drain) {\n        tilec::mbarrier_wait((&tl_empty[((("
            "(K + 63) / 64) + tl_drain) % 3)]), ((((((K + 63) / 64) + tl_drain) / 3) % 2) ^ 1));") in prod


def test_padded_grid_and_guarded_epilogue() -> None:
    kern = gemm(smem_epilogue=True, cluster_m=2)
    launch = kern.metadata.launches[0]
    assert launch.cluster == (1, 2, 1) and not launch.persistent
    assert launch.grid == ("((N + 255) // 256)", "(((((M + 127) // 128) + 1) // 2) * 2)", "1")
    cons = consumer(kern.get_kernel_source())
    # a CTA past the T.Kernel grid loads and computes for its partner but stores nothing; its stages are released
    guard = cons.index("if ((by < ((M + 127) / 128))) {")
    assert cons.index("tilec::mbarrier_arrive_warp_cluster<2>((&tl_empty[((((K + 63) / 64) + 2) % 3)]));") < guard
    assert guard < cons.index("tilec::tma_store<2>")
    # raster panels count clusters (8 tile rows = 4 clusters), CTAs of a cluster take neighbouring tile rows
    src = kern.get_kernel_source()
    for line in ("const int tl_gx = gridDim.x / 1, tl_gy = gridDim.y / 2;", "const int tl_h = min(4, tl_gy - tl_pan * 4);",
                 "const int by = tl_uy * 2 + blockIdx.y % 2;"):
        assert line in src


def test_no_guard_when_the_grid_is_whole_clusters() -> None:
    S = T.symbolic
    from kernels.gemm import matmul

    kern = tilec.compile(matmul(512, S("N"), S("K"), 128, 256, 64, num_stages=3, threads=256, trans_b=True,
                                cluster_m=2), target="sm_90a")
    assert "if ((by < 4))" not in kern.get_kernel_source()
    assert kern.metadata.launches[0].grid[1] == "4"


def test_persistent_tiles_come_in_whole_clusters() -> None:
    kern = gemm(smem_epilogue=True, persistent=True, cluster_m=2)
    src = kern.get_kernel_source()
    assert "const int tl_gx = ((N + 255) / 256), tl_gy = ((((M + 127) / 128) + 1) / 2), tl_gz = 1;" in src
    assert "const int tl_first = blockIdx.x / 2;" in src and "const int tl_step = gridDim.x / 2;" in src
    for role in (producer(src), consumer(src)):
        assert "const int by = tl_uy * 2 + tl_crank;" in role and "const int bx = tl_ux;" in role
    assert "tl_pbase[0] + static_cast<uint32_t>(tl_drain)" in producer(src)  # the drain follows the running k-step counter
    launch = kern.metadata.launches[0]
    assert launch.persistent and launch.cluster == (2, 1, 1)
    # whole clusters: at most the blocks the device runs at once, rounded down to clusters
    assert launch.launch_grid((32, 64, 1), 132) == (132, 1, 1)
    assert launch.launch_grid((32, 64, 1), 131) == (130, 1, 1)
    assert launch.launch_grid((1, 2, 1), 132) == (2, 1, 1)
    assert launch.launch_grid((1, 2, 1), 1) == (2, 1, 1)


def test_launch_spec_rule_without_clusters_is_unchanged() -> None:
    spec = LaunchSpec("k", ("1", "1", "1"), 384, persistent=True)
    assert spec.launch_grid((32, 32, 1), 132) == (132, 1, 1) and spec.launch_grid((3, 1, 1), 132) == (3, 1, 1)


@pytest.mark.parametrize("cluster_dims, why", [((2, 2), "more than one grid dimension")])
def test_unsupported_shapes_are_dropped_with_a_note(cluster_dims: tuple, why: str) -> None:
    S = T.symbolic

    @T.prim_func
    def main(A: T.Tensor((S("M"), S("K")), "float16"), B: T.Tensor((S("N"), S("K")), "float16"),
             C: T.Tensor((S("M"), S("N")), "float16")):
        with T.Kernel(T.ceildiv(S("N"), 128), T.ceildiv(S("M"), 128), threads=256, cluster_dims=cluster_dims) \
                as (bx, by):
            A_s = T.alloc_shared((128, 64), "float16")
            B_s = T.alloc_shared((128, 64), "float16")
            C_f = T.alloc_fragment((128, 128), "float32")
            T.clear(C_f)
            for k in T.Pipelined(T.ceildiv(S("K"), 64), num_stages=3):
                T.copy(A[by * 128, k * 64], A_s)
                T.copy(B[bx * 128, k * 64], B_s)
                T.gemm(A_s, B_s, C_f, transpose_B=True)
            T.copy(C_f, C[by * 128, bx * 128])

    kern = tilec.compile(main, target="sm_90a")
    assert f"cluster_dims={tuple(cluster_dims) + (1,)} dropped (launched without clusters)" in notes(kern)
    assert why in notes(kern)
    assert kern.metadata.launches[0].cluster == (1, 1, 1)
    assert "cluster_sync" not in kern.get_kernel_source()


def test_loop_length_depending_on_the_cluster_axis_drops_the_cluster() -> None:
    S = T.symbolic

    @T.prim_func
    def main(A: T.Tensor((S("M"), 64), "float16"), B: T.Tensor((S("M"), 64), "float16"),
             C: T.Tensor((S("M"), 64), "float32")):
        with T.Kernel(T.ceildiv(S("M"), 128), threads=128, cluster_dims=2) as bx:
            A_s = T.alloc_shared((128, 64), "float16")
            B_s = T.alloc_shared((64, 64), "float16")
            C_f = T.alloc_fragment((128, 64), "float32")
            T.clear(C_f)
            for k in T.Pipelined(bx + 1, num_stages=2):  # the causal-like loop: block bx runs bx + 1 steps
                T.copy(A[bx * 128, 0], A_s)
                T.copy(B[k * 64, 0], B_s)
                T.gemm(A_s, B_s, C_f)
            T.copy(C_f, C[bx * 128, 0])

    kern = tilec.compile(main, target="sm_90a")
    assert "dropped" in notes(kern) and "the pipelined loop's extent depends on bx" in notes(kern)


def test_no_shared_tile_drops_the_cluster() -> None:
    S = T.symbolic

    @T.prim_func
    def main(A: T.Tensor((S("M"), 64), "float16"), C: T.Tensor((S("M"), 64), "float16")):
        with T.Kernel(T.ceildiv(S("M"), 128), threads=128, cluster_dims=2) as bx:
            A_s = T.alloc_shared((128, 64), "float16")
            acc = T.alloc_fragment((128, 64), "float32")
            T.clear(acc)
            for k in T.Pipelined(4, num_stages=2):
                T.copy(A[bx * 128, 0], A_s)
                for i, j in T.Parallel(128, 64):
                    acc[i, j] += A_s[i, j]
            T.copy(acc, C[bx * 128, 0])

    kern = tilec.compile(main, target="sm_90a")
    assert "no T.copy of the pipelined loop loads the same tile in every CTA" in notes(kern)


def test_other_lowerings_launch_without_clusters() -> None:
    kern = gemm(target="sm_80", block_M=128, block_N=128, block_K=32, cluster_m=2)
    assert kern.metadata.launches[0].cluster == (1, 1, 1)
    src = kern.get_kernel_source()
    assert "cluster_sync" not in src and "tl_crank" not in src and "multicast" not in src
    assert "cluster_dims=(1, 2, 1) ignored" in notes(kern)


@pytest.mark.parametrize("bad, msg", [(0, "positive int"), ((2, 2, 4), "16 CTAs per cluster"), ("2", "positive int"),
                                      ((1, 1, 1, 2), "1 to 3")])
def test_bad_cluster_dims_are_errors(bad: object, msg: str) -> None:
    @T.prim_func
    def main(A: T.Tensor((128,), "float32")):
        with T.Kernel(1, threads=128, cluster_dims=bad) as bx:
            A[bx] = 0.0

    with pytest.raises(TilecError, match=msg):
        tilec.compile(main, target="sm_90a")


def test_printer_shows_the_cluster() -> None:
    from tilec.ir.printer import func_str

    fn = gemm(cluster_m=2).lowered("parse")
    assert "cluster_dims=(1, 2, 1)) as (bx, by, bz):" in func_str(fn)


@pytest.mark.nvcc
@pytest.mark.parametrize("kw", [dict(smem_epilogue=True, persistent=True, cluster_m=2),
                                dict(smem_epilogue=True, cluster_m=2, trans_b=False),
                                dict(num_stages=4, persistent=True, cluster_n=2, dtype="bfloat16")])
def test_compiles_without_spills_with_multicast_sass(kw: dict, tmp_path) -> None:
    sass = clean_build_sass(gemm(**kw), tmp_path)
    assert re.search(r"HGMMA\.64x256x16\.F32", sass)
    assert "UTMALDG.2D.MULTICAST" in sass and re.search(r"UTMALDG\.2D\b(?!\.MULTICAST)", sass)
    assert "UCGABAR_ARV" in sass and "UCGABAR_WAIT" in sass  # the cluster barrier after the mbarrier init
    assert "SYNCS.ARRIVE.TRANS64.RED" in sass  # remote (cluster) arrives on the partner's empty barriers
    assert not re.search(r"\b(LDL|STL)\b", sass)


@pytest.mark.parametrize("kw", [dict(cluster_m=2, persistent=True, smem_epilogue=True), dict(cluster_n=2)])
def test_interpreter_gives_the_gemm(kw: dict) -> None:
    kern = gemm(**kw)
    assert interpret_gemm(kern, 300, 264, 136, "float16", True) < 1e-2
