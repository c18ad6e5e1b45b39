"""Persistent tiles (T.annotate_persistent, matmul(..., persistent=True)): the warp-specialized roles loop over tiles
with the stage ring running on across them, the launch metadata carries the rule a launcher applies, the generic
tile loop of kernels that are not warp-specialized, the nvcc build (no spills, no wgmma serialization, HGMMA +
UTMALDG (+ UTMASTG) in the SASS, no local memory) and unchanged semantics in the interpreter."""
from __future__ import annotations

import re

import pytest

import tilec
import tilec.language as T
from tests.cpu.sm90a_gemm_helpers import assert_hopper_sass, clean_build_sass, consumer, gemm, interpret_gemm
from tests.cpu.test_runtime_cpu import FakeCAI
from tilec.cli import main as tilec_main
from tilec.metadata import KernelMetadata, LaunchSpec, ParamSpec
from tilec.runtime.launcher import Launcher, persistent_grid_cap

TILE_LOOP = "for (int tl_tile = tl_first; tl_tile < tl_tiles; tl_tile += tl_step) {"


def producer(src: str) -> str:
    return src[src.index("setmaxnreg_dec"):src.index("setmaxnreg_inc")]


def test_each_role_loops_over_the_tiles() -> None:
    src = gemm(persistent=True, smem_epilogue=True).get_kernel_source()
    assert "const int tl_gx = ((N + 255) / 256), tl_gy = ((M + 127) / 128), tl_gz = 1;" in src
    assert "const int tl_tiles = tl_gx * tl_gy * tl_gz;" in src
    # any launch grid covers every tile once: from the linear block index in steps of the blocks launched
    assert "const int tl_first = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);" in src
    assert "const int tl_step = gridDim.x * gridDim.y * gridDim.z;" in src
    prod, cons = producer(src), consumer(src)
    for role in (prod, cons):
        assert role.count(TILE_LOOP) == 1
        body = role[role.index(TILE_LOOP):]
        # the tile's block variables, rasterized in panels of 8 tile rows (T.use_swizzle(8)) from the tile index
        for line in ("const int tl_xy = tl_tile % (tl_gx * tl_gy);", "const int tl_lin = tl_xy;",
                     "const int by = tl_pan * 8 + tl_in % tl_h;", "const int bx = tl_in / tl_h;"):
            assert line in body


def test_the_stage_ring_runs_on_across_tiles() -> None:
    src = gemm(persistent=True, smem_epilogue=True).get_kernel_source()
    prod, cons = producer(src), consumer(src)
    # Per role a k-step counter that starts at 0 and grows by the tile's k-steps: stage and phase follow from it. It
    # is unsigned (no sign fix-ups in its % and /; with a signed counter ptxas ordered attention's loop worse).
    nk = "static_cast<uint32_t>(((K + 63) / 64))"
    assert "uint32_t tl_pbase[1];" in prod and "tl_pbase[0] = 0u;" in prod and f"tl_pbase[0] = ({nk} + tl_pbase[0]);" in prod
    assert ("tilec::mbarrier_wait((&tl_empty[((tl_pbase[0] + static_cast<uint32_t>(k)) % 3u)]), ((((tl_pbase[0] + "
            "static_cast<uint32_t>(k)) / 3u) % 2u) ^ 1u));") in prod
    assert "uint32_t tl_cbase[1];" in cons and "tl_cbase[0] = 0u;" in cons and f"tl_cbase[0] = ({nk} + tl_cbase[0]);" in cons
    assert ("tilec::mbarrier_wait((&tl_full[((tl_cbase[0] + static_cast<uint32_t>(k)) % 3u)]), (((tl_cbase[0] + "
            "static_cast<uint32_t>(k)) / 3u) % 2u));") in cons
    # The accumulator is cleared per tile; the tile's last stage is released after its wgmmas are done.
    loop = cons[cons.index(TILE_LOOP):]
    assert loop.index("C_local[0] = 0.0f;") < loop.index("tilec::wgmma_gemm_ss_async")
    wait_all = loop.index("tilec::wgmma_wait_all(C_local);")
    assert loop.index(f"tilec::mbarrier_arrive_warp((&tl_empty[((({nk} + tl_cbase[0]) + 2u) % 3u)]));") > wait_all
    # Before the accumulator overwrites C_shared, the previous tile's TMA store must be done reading it.
    first_write = loop.index("tilec::store_vec<half_t, 2>(&C_shared[")
    drain = loop.index("tilec::cp_async_bulk_wait_group_read<0>();\n      tilec::named_barrier_sync(1, 256);")
    assert wait_all < drain < first_write < loop.index("tilec::tma_store<2>")
    assert cons.rstrip().endswith("tilec::cp_async_bulk_wait_group_read<0>();\n  }\n}")


def test_launch_metadata_carries_the_rule() -> None:
    kern = gemm(persistent=True, num_stages=4)
    launch = kern.metadata.launches[0]
    assert launch.persistent and launch.grid == ("((N + 255) // 256)", "((M + 127) // 128)", "1")
    assert KernelMetadata.from_json(kern.metadata.to_json()) == kern.metadata
    assert launch.launch_grid((32, 32, 1), 132) == (132, 1, 1)
    assert launch.launch_grid((4, 3, 1), 132) == (12, 1, 1)
    plain = gemm(num_stages=4).metadata.launches[0]
    assert not plain.persistent and plain.launch_grid((32, 32, 1), 132) == (32, 32, 1)
    assert "persistent tiles" in kern.lowered().attrs["lowering_notes"][0]


def test_json_without_the_flag_reads_as_not_persistent() -> None:
    text = gemm(num_stages=4).metadata.to_json().replace(', "persistent": false', "")
    assert '"persistent"' not in text and not KernelMetadata.from_json(text).launches[0].persistent


def test_launcher_takes_tiles_beyond_the_grid_y_limit() -> None:
    meta = KernelMetadata("k", (ParamSpec("A", "tensor", "float32", ("N",)),), ("N",),
                          (LaunchSpec("k", ("2", "N", "1"), 128, persistent=True),))
    launcher = Launcher(b"", meta)
    assert launcher.check_args(FakeCAI((70000,)))[3] == [(2, 70000, 1)]
    assert persistent_grid_cap(LaunchSpec("k", ("1", "1", "1"), 32), 0, 0) == 0  # not persistent: no driver call


def test_disabled_annotation_changes_nothing() -> None:
    S = T.symbolic

    def program(flag: object):
        @T.prim_func
        def main(A: T.Tensor((S("M"), 64), "float16"), B: T.Tensor((S("M"), 64), "float16")):
            with T.Kernel(T.ceildiv(S("M"), 128), threads=128) as bx:
                if flag is not None:
                    T.annotate_persistent(flag)
                A_s = T.alloc_shared((128, 64), "float16")
                T.copy(A[bx * 128, 0], A_s)
                T.copy(A_s, B[bx * 128, 0])

        return main

    base = tilec.compile(program(None), target="sm_80").get_kernel_source()
    assert tilec.compile(program(False), target="sm_80").get_kernel_source() == base
    assert tilec.compile(program(True), target="sm_80").get_kernel_source() != base


def test_kernels_that_are_not_warp_specialized_get_one_tile_loop() -> None:
    kern = gemm(persistent=True, smem_epilogue=True, block_M=128, block_N=128, block_K=32, target="sm_80")
    src = kern.get_kernel_source()
    assert src.count(TILE_LOOP) == 1 and kern.metadata.launches[0].persistent
    body = src[src.index(TILE_LOOP):]
    assert re.search(r"__syncthreads\(\);\n  }\n}", body), "the tile loop must end with a barrier"
    assert "each block loops over tiles" in kern.lowered().attrs["lowering_notes"][0]


def test_show_prints_the_tile_loop_and_the_notes(capsys: pytest.CaptureFixture) -> None:
    args = ["show", "tests/kernels/gemm.py:matmul", "--target", "sm_90a", "--after", "persistent_tiles"]
    for kv in ("M=sym:M", "N=sym:N", "K=sym:K", "block_M=128", "block_N=256", "block_K=64", "threads=256",
               "persistent=True", "smem_epilogue=True"):
        args += ["--param", kv]
    assert tilec_main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("# lowering of kernel 0: warp-specialized TMA + mbarrier pipeline")
    assert "TMA-store epilogue" in out.splitlines()[0] and "persistent tiles" in out.splitlines()[0]
    assert out.count("for tile in T.persistent_tiles():") == 2
    assert "persistent=True) as (bx, by, bz):" in out


@pytest.mark.nvcc
@pytest.mark.parametrize("kw, tma_store", [(dict(smem_epilogue=True, num_stages=3), True),
                                           (dict(num_stages=4), False)])
@pytest.mark.parametrize("dtype, trans_b", [("float16", True), ("bfloat16", False)])
def test_compiles_without_spills_or_serialization(kw: dict, tma_store: bool, dtype: str, trans_b: bool,
                                                  tmp_path) -> None:
    kern = gemm(persistent=True, dtype=dtype, trans_b=trans_b, **kw)
    assert_hopper_sass(clean_build_sass(kern, tmp_path), tma_store=tma_store)


@pytest.mark.nvcc
def test_generic_tile_loop_compiles_for_sm80_without_spills() -> None:
    kern = gemm(persistent=True, smem_epilogue=True, block_M=128, block_N=128, block_K=32, target="sm_80")
    assert kern.resources["spill_bytes"] == 0 and kern.resources["stack_bytes"] == 0, kern.resources


@pytest.mark.parametrize("mnk", [(77, 200, 64), (300, 264, 136)])
@pytest.mark.parametrize("smem_epilogue", [False, True])
@pytest.mark.parametrize("dtype, trans_b", [("float16", False), ("bfloat16", True)])
def test_interpreter_gives_the_gemm(mnk: tuple, smem_epilogue: bool, dtype: str, trans_b: bool) -> None:
    kern = gemm(persistent=True, smem_epilogue=smem_epilogue, dtype=dtype, trans_b=trans_b)
    assert interpret_gemm(kern, *mnk, dtype, trans_b) < 1e-2
