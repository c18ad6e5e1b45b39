"""Golden checks of each pass on the GEMM and attention kernels (what each pass must have done)."""
from __future__ import annotations

import re

import tilec
import tilec.language as T
from tests.kernels.attention import flash_attention
from tests.kernels.gemm import matmul


def gemm(**kw: object) -> tilec.JITKernel:
    return tilec.compile(matmul(T.symbolic("M"), 1024, T.symbolic("K"), trans_b=True, **kw), target="sm_80")


def test_parse_keeps_tile_ops() -> None:
    text = gemm().show("parse")
    assert "T.pipelined(" in text and "T.gemm(" in text and "T.copy(" in text
    assert "alloc A_shared: shared[128, 32] float16" in text


def test_pipeline_loops_stages_buffers_and_issues_ahead() -> None:
    text = gemm(num_stages=3).show("pipeline_loops")
    assert "alloc A_shared: shared[3, 128, 32] float16" in text
    assert text.count("tilec::cp_async_commit_group()") == 3  # two prologue stages + one per iteration
    assert "tilec::cp_async_wait_group<1>()" in text and "tilec::cp_async_wait_group<0>()" in text
    assert "A_shared[(k + 2) % 3" in text and "async_=True" in text
    assert "T.pipelined" not in text


def test_pipeline_loops_without_stages_is_serial() -> None:
    text = gemm(num_stages=1).show("pipeline_loops")
    assert "T.serial(" in text and "cp_async" not in text


def test_infer_layout_gemm_accumulator() -> None:
    f = gemm().lowered("infer_layout")
    lay = {b.name: l for b, l in f.attrs["layouts"].items()}
    assert lay["C_local"].key == ("mma_acc", 128, 128, 2, 2, 128)
    assert list(f.attrs["gemm_warps"].values()) == [(2, 2)]


def test_infer_layout_attention_row_statistics() -> None:
    k = tilec.compile(flash_attention(1, 2, 128, 128, 64), target="sm_80")
    lay = {b.name: l for b, l in k.lowered("infer_layout").attrs["layouts"].items()}
    assert lay["acc_s"].key[0] == "mma_acc" and lay["acc_s"] == lay["acc_s_cast"]
    for name in ("scores_max", "scores_sum", "logsum"):
        assert lay[name].key[0] == "project" and lay[name].nlocal == 2  # rows r and r + 8 of one m16 tile


def test_lower_tile_ops_leaves_no_tile_ops() -> None:
    text = gemm().show("lower_tile_ops")
    assert "T.copy" not in text and "T.gemm" not in text and "T.fill" not in text
    assert "tilec::gemm_ss<128, 128, 32, 2, 2, false, true, half_t, half_t>" in text
    assert "cp.async16(" in text  # pipelined copies became 16-byte cp.async


def test_insert_syncs_one_barrier_per_pipelined_iteration() -> None:
    src = gemm().get_kernel_source()
    loop = src[src.index("for (int k"):]
    assert loop.count("__syncthreads()") == 1


def test_plan_shared_memory() -> None:
    f = gemm(num_stages=3).lowered()
    assert list(f.attrs["smem_bytes"].values()) == [2 * 3 * 128 * 32 * 2]


def test_codegen_signature_and_launch_metadata() -> None:
    k = gemm()
    src = k.get_kernel_source()
    assert re.search(r'extern "C" __global__ void __launch_bounds__\(128, 1\) main_kernel\(half_t\* __restrict__ A, '
                     r'half_t\* __restrict__ B, half_t\* __restrict__ C, int M, int K\)', src)
    meta = k.metadata
    assert meta.sym_dims == ("M", "K")
    (launch,) = meta.launches
    assert launch.grid == ("8", "((M + 127) // 128)", "1") and launch.threads == 128
    assert launch.smem_bytes == 49152
