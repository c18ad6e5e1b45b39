"""T.Pipelined's order/stage/group annotations on sm_90a (tilec/transform/schedule_consumers.py): malformed
annotations and schedules that break a dependence of the loop get clear errors; the attention kernel's overlap
schedule issues wgmmas without waiting, waits where a later statement needs a result (wait_group 1 before the
softmax reads S while P.V runs, 0 before O is rescaled), gives K and V their own mbarrier rings, and builds without
spills or serialized wgmmas; the annotated program still computes attention (interpreter vs float64)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import kernels.attention as attention
import tilec
import tilec.language as T
from kernels.attention import flash_attn_fwd
from tests.cpu.sm90a_gemm_helpers import consumer
from tilec.errors import TilecError

SYMS = ("batch", "seqlen_q", "seqlen_k", "heads", "kv_heads")


def gemm_kernel(**sched):
    M, N, K = (T.symbolic(s) for s in ("M", "N", "K"))

    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((K, N), "float16"), C: T.Tensor((M, N), "float32")):
        with T.Kernel(T.ceildiv(N, 128), T.ceildiv(M, 128), threads=256) as (bx, by):
            A_s = T.alloc_shared((128, 64), "float16")
            B_s = T.alloc_shared((64, 128), "float16")
            C_l = T.alloc_fragment((128, 128), "float32")
            T.clear(C_l)
            for k in T.Pipelined(T.ceildiv(K, 64), num_stages=2, **sched):
                T.copy(A[by * 128:(by + 1) * 128, k * 64:(k + 1) * 64], A_s)
                T.copy(B[k * 64:(k + 1) * 64, bx * 128:(bx + 1) * 128], B_s)
                T.gemm(A_s, B_s, C_l)
            T.copy(C_l, C[by * 128:(by + 1) * 128, bx * 128:(bx + 1) * 128])

    return main


@pytest.mark.parametrize("sched, message", [
    (dict(order=[-1, 0], stage=[-1, 0], group=[[0, 1]]), "group must list each"),
    (dict(order=[-1, -1, 0], stage=[-1, -1], group=[[0], [1], [2]]), "one entry per group"),
    (dict(order=[0, -1, 1], stage=[0, -1, 0]), "holds producer copies"),
    (dict(order=[-1, -1, 0], stage=[-1, -1, 2]), "has stage 2"),
    (dict(order=[-1, -1, 0], group=[[0, 2], [1]], stage=[-1, -1]), "one entry per group"),
    (dict(order=[-1, 0], stage=[-1, 0], group=[[0, 2], [1]]), "holds producer copies"),
])
def test_malformed_annotations_are_reported(sched: dict, message: str) -> None:
    with pytest.raises(TilecError, match=message):
        tilec.compile(gemm_kernel(**sched), target="sm_90a").lowered()


def test_duplicate_orders_are_reported() -> None:
    M, N = T.symbolic("M"), T.symbolic("N")

    @T.prim_func
    def main(A: T.Tensor((M, 64), "float16"), C: T.Tensor((M, 128), "float32")):
        with T.Kernel(T.ceildiv(M, 128), threads=256) as bx:
            A_s = T.alloc_shared((128, 64), "float16")
            X = T.alloc_fragment((128, 128), "float32")
            Y = T.alloc_fragment((128, 128), "float32")
            T.clear(Y)
            for k in T.Pipelined(4, num_stages=2, order=[-1, 0, 0], stage=[-1, 0, 0]):
                T.copy(A[bx * 128:(bx + 1) * 128, :], A_s)
                T.gemm(A_s, A_s, X, transpose_B=True, clear_accum=True)
                for i, j in T.Parallel(128, 128):
                    Y[i, j] += X[i, j]
            T.copy(Y, C[bx * 128:(bx + 1) * 128, :])

    with pytest.raises(TilecError, match="distinct"):
        tilec.compile(main, target="sm_90a").lowered()


def test_a_schedule_that_breaks_a_dependence_is_reported(monkeypatch) -> None:
    """P.V of step k - 1 after the softmax of step k would read the P (acc_s_cast) that softmax overwrote."""
    monkeypatch.setattr(attention, "OVERLAP_SCHEDULE", dict(attention.OVERLAP_SCHEDULE, order=[-1, 0, 1, 2, -1, 3]))
    with pytest.raises(TilecError, match=r"acc_s_cast|alpha"):
        tilec.compile(flash_attn_fwd(*(T.symbolic(s) for s in SYMS), 128, block_M=128, block_N=128, threads=256,
                                     num_stages=2, overlap=True), target="sm_90a").lowered()


def attn_overlap(d: int, causal: bool, **kw) -> tilec.JITKernel:
    bn = 64 if d == 256 else 128
    return tilec.compile(flash_attn_fwd(*(T.symbolic(s) for s in SYMS), d, causal=causal, block_M=128, block_N=bn,
                                        num_stages=2, threads=256, overlap=True, **kw), target="sm_90a")


def test_overlap_schedule_lowering() -> None:
    k = attn_overlap(128, True)
    note = k.lowered().attrs["lowering_notes"][0]
    assert "consumer schedule from order/stage" in note and "group 3 on k-step k-1" in note
    assert "one mbarrier pair per producer tile (K_shared, V_shared)" in note
    cons = consumer(k.get_kernel_source())
    loop = cons[cons.index("for (int k_it"):]
    # In the loop: K's full barrier, Q.K^T issued, O rescaled (no wait: the previous P.V was retired at the end of
    # the last iteration), V's full barrier, P.V issued, wait_group 1 (Q.K^T done, P.V running) before the softmax
    # reads S, K released; the iteration ends waiting for P.V and releasing V.
    order = [m.group(0) for m in re.finditer(
        r"tl_full_K_shared|wgmma_gemm_ss_async<[^>]*, -1>|tl_full_V_shared|wgmma_gemm_rs_async<[^>]*, -1>|"
        r"wgmma_wait<1>\(acc_s\)|tl_empty_K_shared|wgmma_wait<0>\(acc_o\)|tl_empty_V_shared", loop)]
    assert [re.sub(r"<.*", "", x) for x in order[:8]] == [
        "tl_full_K_shared", "wgmma_gemm_ss_async", "tl_full_V_shared", "wgmma_gemm_rs_async", "wgmma_wait",
        "tl_empty_K_shared", "wgmma_wait", "tl_empty_V_shared"], order
    body = loop[:loop.index("wgmma_wait<1>(acc_s)")]
    assert "acc_o[" in body  # the rescale of O runs while Q.K^T is in flight
    assert "wgmma_wait" not in body


@pytest.mark.parametrize("d, causal", [(128, True), (128, False), (256, False)])
def test_overlap_builds_without_spills_or_serialized_wgmmas(d: int, causal: bool) -> None:
    k = attn_overlap(d, causal, persistent=not causal)
    r = k.resources
    assert r["spill_bytes"] == 0 and r["stack_bytes"] == 0, r
    assert "serialized" not in k.compile().ptxas_log, k.compile().ptxas_log


def test_overlap_program_computes_attention() -> None:
    """The annotated loop is the same program: the interpreter (which ignores schedules) matches float64."""
    b, sq, sk, h, d = 1, 70, 150, 2, 64
    kern = tilec.compile(flash_attn_fwd(b, sq, sk, h, h, d, causal=True, block_M=64, block_N=64, num_stages=2,
                                        threads=128, overlap=True))
    rng = np.random.default_rng(7)
    q, kk, v = (rng.standard_normal(s).astype(np.float16) for s in ((b, sq, h, d), (b, sk, h, d), (b, sk, h, d)))
    o = np.full_like(q, np.nan)
    lse = np.full((b, h, sq), np.nan, np.float32)
    kern.interpret(q, kk, v, o, lse, d ** -0.5)
    qf, kf, vf = (x.astype(np.float64)[0].transpose(1, 0, 2) for x in (q, kk, v))
    s = qf @ kf.transpose(0, 2, 1) * d ** -0.5
    s = np.where(np.arange(sk)[None, :] <= np.arange(sq)[:, None] + sk - sq, s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    ref = (p / p.sum(-1, keepdims=True)) @ vf
    err = np.linalg.norm(o[0].transpose(1, 0, 2) - ref) / np.linalg.norm(ref)
    assert err < 1e-2, err
