"""The TMA-store epilogue of the sm_90a lowering (matmul(..., smem_epilogue=True)): the generated code's structure,
its C tensor map, bank-conflict-free accumulator writes into the swizzled staging tile, the nvcc build (no spills,
HGMMA + UTMALDG + UTMASTG in the SASS, no local memory) and the tile program's semantics in the interpreter."""
from __future__ import annotations

import re

import numpy as np
import pytest

from tests.cpu.sm90a_gemm_helpers import assert_hopper_sass, consumer, gemm, interpret_gemm, sass_of
from tilec.layout.smem_tile import smem_tile_offset
from tilec.metadata import KernelMetadata, TensorMapSpec

BOXES = [0, 8192, 16384, 24576]  # C_shared offsets of the four 64-column panels of the 128 x 256 tile


def test_store_is_fenced_then_issued_by_one_thread() -> None:
    src = gemm(smem_epilogue=True).get_kernel_source()
    cons = consumer(src)
    stores = re.findall(r"tilec::tma_store<2>\(&C_tmap0, \(&C_shared\[(\d+)\]\), (.+?), \(by \* 128\)\);", cons)
    assert [int(off) for off, _ in stores] == BOXES
    assert [c for _, c in stores] == ["(bx * 256)", "((bx * 256) + 64)", "((bx * 256) + 128)", "((bx * 256) + 192)"]
    last_write = cons.rindex("tilec::store_vec<half_t, 2>(&C_shared[")
    fence = cons.index("tilec::fence_proxy_async_shared_cta();")
    barrier = cons.index("tilec::named_barrier_sync(1, 256);", fence)
    issue = cons.index("if ((((int)threadIdx.x) == 0)) {", barrier)
    commit = cons.index("tilec::cp_async_bulk_commit_group();", issue)
    assert last_write < fence < barrier < issue < cons.index("tilec::tma_store<2>") < commit
    # The consumers wait for the stores' reads of C_shared before the block exits; nothing else writes C.
    assert cons.rstrip().endswith("tilec::cp_async_bulk_wait_group_read<0>();\n  }\n}")
    assert "&C[" not in src and " C[" not in src


def test_c_tensor_map_is_registered_like_the_loads() -> None:
    kern = gemm(smem_epilogue=True, trans_b=False, dtype="bfloat16")
    launch = kern.metadata.launches[0]
    assert [t.name for t in launch.tensor_maps] == ["A_tmap0", "B_tmap0", "C_tmap0"]
    assert launch.tensor_maps[2] == TensorMapSpec("C_tmap0", "C", "bfloat16", ("N", "M"), ("(2 * N)",), (64, 128), 128)
    assert kern.get_kernel_source().count("const __grid_constant__ CUtensorMap C_tmap0)") == 1
    assert KernelMetadata.from_json(kern.metadata.to_json()) == kern.metadata
    note = kern.lowered().attrs["lowering_notes"][0]
    assert "TMA-store epilogue (C_shared -> C" in note


def test_without_smem_epilogue_nothing_changes() -> None:
    kern = gemm(num_stages=4)
    src = kern.get_kernel_source()
    for word in ("tma_store", "fence_proxy_async", "bulk", "C_tmap", "tl_tile"):
        assert word not in src
    assert [t.name for t in kern.metadata.launches[0].tensor_maps] == ["A_tmap0", "B_tmap0"]
    assert not kern.metadata.launches[0].persistent


def test_kernels_that_are_not_warp_specialized_keep_plain_stores() -> None:
    # 64 threads are not a warpgroup: the cp.async pipeline, and C_shared goes out with 16-byte vector stores.
    kern = gemm(smem_epilogue=True, block_M=64, block_N=64, block_K=32, threads=64)
    src = kern.get_kernel_source()
    assert "tma_store" not in src and "copy_bytes<16>((&C[" in src
    assert kern.metadata.launches[0].tensor_maps == ()


@pytest.mark.parametrize("dtype, elem_bytes", [("float16", 2), ("bfloat16", 2)])
def test_accumulator_writes_to_the_staging_tile_are_bank_conflict_free(dtype: str, elem_bytes: int) -> None:
    """Each store instruction of T.copy(C_local, C_shared) (a pair of adjacent columns per thread, as lowered) hits
    every bank once per warp: the 8 rows of a warp land in 8 distinct 16-byte chunks of the 128B swizzle."""
    kern = gemm(smem_epilogue=True, dtype=dtype)
    fn = kern.lowered("infer_layout")
    frag = next(f for b, f in fn.attrs["layouts"].items() if b.name == "C_local")
    tab = frag.table()  # [threads, values, (row, col)]
    assert frag.nlocal % 2 == 0 and (tab[:, 1::2, 1] == tab[:, 0::2, 1] + 1).all()
    for v in range(0, frag.nlocal, 2):
        rows, cols = tab[:, v, 0], tab[:, v, 1]
        byte = np.asarray(smem_tile_offset(rows, cols, 128, 256, elem_bytes)) * elem_bytes
        for warp in range(frag.threads // 32):
            words = np.unique(byte[32 * warp:32 * warp + 32] // 4)
            assert len(words) == 32 and np.bincount(words % 32, minlength=32).max() == 1, (v, warp)


@pytest.mark.nvcc
@pytest.mark.parametrize("dtype, trans_b", [("float16", True), ("bfloat16", False)])
def test_compiles_without_spills_and_stores_with_tma(dtype: str, trans_b: bool, tmp_path) -> None:
    kern = gemm(smem_epilogue=True, dtype=dtype, trans_b=trans_b)
    res = kern.resources
    assert res["spill_bytes"] == 0 and res["stack_bytes"] == 0, res
    assert "serialized" not in kern.compile().ptxas_log
    assert kern.metadata.launches[0].smem_bytes <= 227 * 1024
    sass = sass_of(kern, tmp_path)
    if sass is None:
        pytest.skip("cuobjdump with nvdisasm not found (pip install nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm)")
    assert_hopper_sass(sass, tma_store=True)


@pytest.mark.parametrize("mnk", [(77, 200, 64), (300, 264, 136)])
@pytest.mark.parametrize("dtype, trans_b", [("float16", True), ("bfloat16", False)])
def test_interpreter_gives_the_gemm(mnk: tuple, dtype: str, trans_b: bool) -> None:
    assert interpret_gemm(gemm(smem_epilogue=True, dtype=dtype, trans_b=trans_b), *mnk, dtype, trans_b) < 1e-2


def test_a_c_row_pitch_tma_cannot_store_is_a_clear_error() -> None:
    """C of N = 201 half values per row (402 bytes, not a multiple of 16) cannot have a tensor map: the launcher says
    which argument and why, before any driver call."""
    from tests.cpu.test_runtime_cpu import FakeCAI
    from tilec.runtime.launcher import Launcher
    from tilec.runtime.tensor_map import TensorMapError

    launcher = Launcher(b"", gemm(smem_epilogue=True).metadata)
    ptrs, _, sym_values, *_ = launcher.check_args(FakeCAI((77, 64), "float16"), FakeCAI((201, 64), "float16"),
                                                  FakeCAI((77, 201), "float16"))
    c_map = [m for m in launcher._tmaps[0] if m[0] == 2]
    with pytest.raises(TensorMapError, match="argument 'C' is moved with TMA.*multiple of 8 elements"):
        launcher._fill_tensor_maps(c_map, ptrs, dict(zip(launcher._syms, sym_values)))


def test_small_buffers_pack_after_the_tiles() -> None:
    """Tiles at 1024-byte aligned offsets first, then the mbarriers packed at 16 bytes (not one KiB each)."""
    from tests.cpu.sm90a_gemm_helpers import gemm as _gemm

    k = _gemm(persistent=True, smem_epilogue=True)
    src = k.get_kernel_source()
    offs = {m.group(1): int(m.group(2)) for m in re.finditer(r"\* (\w+) = reinterpret_cast<[\w:]+\*>\(tl_smem \+ (\d+)\)",
                                                              src)}
    assert offs["A_shared"] == 0 and offs["B_shared"] == 3 * 16384 and offs["C_shared"] == 3 * 49152
    assert offs["tl_full"] == 3 * 49152 + 65536 and offs["tl_empty"] == offs["tl_full"] + 32
    assert k.metadata.launches[0].smem_bytes == offs["tl_empty"] + 32


def test_column_chunks_reuse_one_staging_tile() -> None:
    """epilogue_n=128: C goes out in two 128 x 128 chunks through one 32 KiB tile; the second chunk's writes wait for
    the first chunk's TMA stores to have read it, and each chunk writes its own half of the accumulator."""
    kern = gemm(smem_epilogue=True, persistent=True, num_stages=4, epilogue_n=128)
    cons = consumer(kern.get_kernel_source())
    stores = re.findall(r"tilec::tma_store<2>\(&C_tmap0, \(&C_shared\[(\d+)\]\), (.+?), \(by \* 128\)\);", cons)
    assert stores == [("0", "(bx * 256)"), ("8192", "((bx * 256) + 64)"), ("0", "((bx * 256) + 128)"),
                      ("8192", "((bx * 256) + 192)")]
    first_commit = cons.index("tilec::cp_async_bulk_commit_group();")
    wait = cons.index("tilec::cp_async_bulk_wait_group_read<0>();", first_commit)
    assert cons.index("tilec::named_barrier_sync(1, 256);", wait) < cons.index("convert<half_t>(C_local[64])", wait)
    halves = cons[:first_commit], cons[first_commit:]
    used = [sorted({int(v) for v in re.findall(r"convert<half_t>\(C_local\[(\d+)\]\)", h)}) for h in halves]
    assert used == [[v for v in range(128) if v % 8 < 4], [v for v in range(128) if v % 8 >= 4]] or \
        used == [list(range(64)), list(range(64, 128))], used
    assert kern.metadata.launches[0].smem_bytes <= 227 * 1024


@pytest.mark.parametrize("mnk", [(77, 200, 64), (300, 264, 136)])
def test_interpreter_gives_the_gemm_with_column_chunks(mnk: tuple) -> None:
    kern = gemm(smem_epilogue=True, persistent=True, num_stages=4, epilogue_n=64)
    assert interpret_gemm(kern, *mnk, "float16", True) < 1e-2


@pytest.mark.nvcc
def test_column_chunks_compile_without_spills(tmp_path) -> None:
    kern = gemm(smem_epilogue=True, persistent=True, num_stages=4, epilogue_n=128, dtype="bfloat16", trans_b=False)
    res = kern.resources
    assert res["spill_bytes"] == 0 and res["stack_bytes"] == 0, res
    sass = sass_of(kern, tmp_path)
    if sass is None:
        pytest.skip("cuobjdump with nvdisasm not found (pip install nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm)")
    assert_hopper_sass(sass, tma_store=True)


def test_a_slice_across_the_threads_of_an_accumulator_is_a_clear_error() -> None:
    """Rows of a wgmma accumulator are spread over warps: a row slice would split value slots between threads."""
    import tilec
    import tilec.language as T
    from tilec.errors import TilecError

    @T.prim_func
    def main(A: T.Tensor((128, 64), "float16"), B: T.Tensor((256, 64), "float16"), C: T.Tensor((128, 256), "float16")):
        with T.Kernel(1, 1, threads=256) as (bx, by):
            A_s = T.alloc_shared((128, 64), "float16")
            B_s = T.alloc_shared((256, 64), "float16")
            C_f = T.alloc_fragment((128, 256), "float32")
            C_s = T.alloc_shared((64, 256), "float16")
            T.clear(C_f)
            T.copy(A[0, 0], A_s)
            T.copy(B[0, 0], B_s)
            T.gemm(A_s, B_s, C_f, transpose_B=True)
            T.copy(C_f[0:64, :], C_s)
            T.copy(C_s, C[0, 0])

    with pytest.raises(TilecError, match="T.copy of part of fragment C_f: the slice .* splits value slots"):
        tilec.compile(main, target="sm_90a").get_kernel_source()


def test_two_chunk_tiles_wait_only_for_the_older_stores() -> None:
    """epilogue_buffers=2: chunks alternate between two 128 x 64 tiles; before a chunk's writes the issuing thread
    waits until at most one group (the previous chunk's stores, from the other tile) is still reading, and the
    consumers end with the wait for all."""
    kern = gemm(smem_epilogue=True, persistent=True, num_stages=4, epilogue_n=64, epilogue_buffers=2)
    cons = consumer(kern.get_kernel_source())
    tiles = re.findall(r"tilec::tma_store<2>\(&C_tmap0, \(&(C_shared2?)\[0\]\)", cons)
    assert tiles == ["C_shared", "C_shared2", "C_shared", "C_shared2"]
    waits = re.findall(r"cp_async_bulk_wait_group_read<(\d)>", cons)
    assert waits == ["1", "1", "1", "1", "0"], waits
    assert kern.metadata.launches[0].smem_bytes <= 227 * 1024
