"""defer_lane_reductions: a running sum `l = l * a + rowsum(S)` keeps per-lane partials inside its loop and is
combined across the lanes of a row once after it. Where the pass applies (attention on sm_80 and sm_90a, one tile
and persistent), where it must not (the sum read inside the loop, a fill that is not 0, the row sums read elsewhere,
no fill, rows split over warps), and its switch T.annotate_defer_reductions."""
from __future__ import annotations

import re

import pytest

import tilec
import tilec.language as T
from kernels.attention import flash_attn_fwd

M, N, KB, NK = 64, 64, 32, 4
SUM = "tilec::shfl_xor_allreduce<tilec::SumOp"


def running_sum(variant: str = "plain"):
    """S_k = A_k B_k^T on the tensor cores (rows over the lanes of a quad); l = l * a + rowsum(S_k) over k."""

    @T.prim_func
    def main(A: T.Tensor((M, KB * NK), "float16"), B: T.Tensor((N, KB * NK), "float16"),
             L: T.Tensor((M,), "float32"), R: T.Tensor((M,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            if variant == "off":
                T.annotate_defer_reductions(False)
            A_s = T.alloc_shared((M, KB), "float16")
            B_s = T.alloc_shared((N, KB), "float16")
            s = T.alloc_fragment((M, N), "float32")
            a = T.alloc_fragment((M,), "float32")
            r = T.alloc_fragment((M,), "float32")
            acc = T.alloc_fragment((M,), "float32")
            if variant == "no_fill":
                T.copy(L, acc)
            else:
                T.fill(acc, 1.0 if variant == "fill_one" else 0.0)
            for k in T.serial(NK):
                T.copy(A[0:M, k * KB:(k + 1) * KB], A_s)
                T.copy(B[0:N, k * KB:(k + 1) * KB], B_s)
                T.fill(s, 0.0)
                policy = T.GemmWarpPolicy.Square if variant == "rows_over_warps" else T.GemmWarpPolicy.FullRow
                T.gemm(A_s, B_s, s, transpose_B=True, policy=policy)
                T.reduce_max(s, a, dim=1)
                for i in T.Parallel(M):
                    a[i] = T.exp2(a[i] * 0.001)
                T.reduce_sum(s, r, dim=1)
                for i in T.Parallel(M):
                    acc[i] = acc[i] * a[i] + r[i]
                if variant == "read_inside":
                    for i in T.Parallel(M):
                        a[i] = acc[i]
                if variant == "r_elsewhere":
                    T.copy(r, R)
            T.copy(acc, L)

    return main


def _source(fn, target: str = "sm_80") -> str:
    return tilec.compile(fn, target=target).get_kernel_source()


def test_the_running_sum_is_combined_once_after_the_loop() -> None:
    src = _source(running_sum())
    loop_end = src.rindex("acc[0] = ((acc[0] * a[0]) + r[0]);")
    sums = [m.start() for m in re.finditer(re.escape(SUM), src)]
    assert len(sums) == 2 and all(p > loop_end for p in sums)  # acc's two rows a thread holds, after the loop
    assert "acc[0] = tilec::shfl_xor_allreduce<tilec::SumOp, 3>(acc[0]);" in src  # the quad of an MMA row
    assert src.count("tilec::shfl_xor_allreduce<tilec::MaxOp") == 2  # the max stays whole every step
    notes = tilec.compile(running_sum(), target="sm_80").lowered().attrs["lowering_notes"][0]
    assert "row sums into acc: combined across lanes once after the loop" in notes


@pytest.mark.parametrize("variant", ["off", "read_inside", "fill_one", "r_elsewhere", "no_fill"])
def test_the_sums_stay_whole_where_partials_would_be_wrong(variant: str) -> None:
    src = _source(running_sum(variant))
    loop_end = src.rindex("acc[0] = ((acc[0] * a[0]) + r[0]);")
    sums = [m.start() for m in re.finditer(re.escape(SUM), src)]
    assert len(sums) == 2 and all(p < loop_end for p in sums), variant  # every step's rowsum combined in the loop
    assert "acc[0] = tilec::shfl_xor_allreduce" not in src


def test_rows_split_over_warps_stay_whole() -> None:
    src = _source(running_sum("rows_over_warps"))  # 2 x 2 warps: a row's sum needs shared memory across warps
    assert "acc[0] = tilec::shfl_xor_allreduce" not in src and "red_smem" in src


def test_the_switch_takes_a_bool() -> None:
    @T.prim_func
    def main(X: T.Tensor((M,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            T.annotate_defer_reductions("yes")

    with pytest.raises(tilec.TilecError, match="annotate_defer_reductions: enable must be a bool"):
        tilec.compile(main, target="sm_80").get_kernel_source()


ATTENTION = [("sm_80", dict(block_M=64, block_N=64, threads=128)),
             ("sm_90a", dict(block_M=128, block_N=128, threads=256, smem_epilogue=True, overlap=True, pingpong=True)),
             ("sm_90a", dict(block_M=128, block_N=128, threads=256, smem_epilogue=True, overlap=True, pingpong=True,
                             persistent=True, skip_rescale=True))]


@pytest.mark.parametrize("target,kw", ATTENTION)
@pytest.mark.parametrize("defer", [True, False])
def test_attention_row_sums(target: str, kw: dict, defer: bool) -> None:
    syms = [T.symbolic(n) for n in ("batch", "seqlen_q", "seqlen_k", "heads", "kv_heads")]
    src = _source(flash_attn_fwd(*syms, 128, causal=True, num_stages=2, defer_reductions=defer, **kw), target)
    sums = [m.start() for m in re.finditer(re.escape(SUM), src)]
    last_update = src.rindex("l_i[0] = ((l_i[0] * alpha[0]) + row_sum[0]);")
    epilogue = src.index("lse[0] = ")
    if defer:
        assert len(sums) == 2 and all(last_update < p < epilogue for p in sums)
    else:  # every step (the peeled first iteration on sm_90a's overlap schedule, and the loop)
        assert len(sums) == (4 if target == "sm_90a" else 2) and all(p < last_update for p in sums)
