"""The attention program (kernels/attention.py) through the sm_90a lowering: the Q tile as a TMA prologue load issued
by the producer (with a release barrier and tile counters when persistent), ping-pong turns of the consumer
warpgroups around the loop's T.gemm ops (opt-in: T.annotate_pingpong), setmaxnreg sized to the register file for
three consumer warpgroups, a barrier hoisted out of a loop with a proxy fence before wgmmas that read st.shared data,
and the nvcc build (HGMMA with a register A operand, TMA loads, no spills, no local memory)."""
from __future__ import annotations

import re

import pytest

import tilec
import tilec.language as T
from kernels.attention import flash_attn_fwd
from tests.cpu.sm90a_gemm_helpers import consumer, sass_of
from tilec.transform.specialize_warps import consumer_regs

SYMS = ("batch", "seqlen_q", "seqlen_k", "heads", "kv_heads")


def attn(d: int = 128, block_M: int = 128, block_N: int = 128, threads: int = 256, **kw) -> tilec.JITKernel:
    return tilec.compile(flash_attn_fwd(*(T.symbolic(s) for s in SYMS), d, block_M=block_M, block_N=block_N,
                                        num_stages=2, threads=threads, **kw), target="sm_90a")


def notes(k: tilec.JITKernel) -> str:
    return k.lowered().attrs["lowering_notes"][0]


def loop_body(src: str) -> str:
    """The consumers' pipelined loop (from its full-barrier wait to its empty-barrier arrive)."""
    cons = consumer(src)
    start = cons.index("tilec::mbarrier_wait((&tl_full")
    return cons[start:cons.index("tilec::mbarrier_arrive_warp((&tl_empty", start)]


def test_q_is_a_tma_prologue_load_and_gemms_take_turns() -> None:
    k = attn(causal=True, pingpong=True)
    src = k.get_kernel_source()
    assert "TMA prologue load (Q_shared" in notes(k) and "ping-pong: the 2 consumer warpgroups" in notes(k)
    prod = src[src.index("setmaxnreg_dec"):src.index("setmaxnreg_inc")]
    assert "tilec::mbarrier_arrive_expect_tx((&tl_pre[0]), 32768);" in prod  # 128 x 128 fp16
    assert prod.count("tilec::tma_load<4>(&Q_tmap0") == 2  # two 128-byte panels
    cons = consumer(src)
    assert "tilec::mbarrier_wait((&tl_pre[0]), 0);" in cons and "copy_bytes" not in cons[:cons.index("tl_full")]
    body = loop_body(src)
    assert "named_barrier_sync" not in body  # no consumer-wide barrier in the loop (Q arrives through TMA)
    assert body.count("tilec::pingpong_enter<2>();") == 2 and body.count("tilec::pingpong_leave<2>();") == 2
    assert re.search(r"pingpong_enter<2>\(\);\s*\{\s*tilec::wgmma_gemm_ss<", body)
    assert re.search(r"pingpong_enter<2>\(\);\s*\{\s*tilec::wgmma_gemm_rs<", body)
    assert cons.index("tilec::pingpong_start<2>();") < cons.index("tl_full")
    assert "setmaxnreg_inc<232>" in src


def test_pingpong_is_opt_in() -> None:
    k = attn()
    assert "pingpong" not in k.get_kernel_source() and "ping-pong" not in notes(k)
    assert "TMA prologue load (Q_shared" in notes(k)
    assert "named_barrier_sync" not in loop_body(k.get_kernel_source())


def test_three_consumer_warpgroups_fit_the_register_file() -> None:
    assert [consumer_regs(t) for t in (128, 256, 384)] == [240, 232, 152]
    for t in (128, 256, 384, 512):
        assert t * consumer_regs(t) + 128 * 40 <= 65536
    src = attn(d=64, block_M=192, threads=384, pingpong=True).get_kernel_source()
    assert "setmaxnreg_inc<152>" in src and "pingpong_enter<3>" in src


def test_persistent_prologue_load_is_released_per_tile() -> None:
    k = attn(persistent=True, smem_epilogue=True)
    src = k.get_kernel_source()
    assert "released after the loop for the next tile" in notes(k) and "TMA-store epilogue (O_shared -> O" in notes(k)
    prod = src[src.index("setmaxnreg_dec"):src.index("setmaxnreg_inc")]
    assert "tilec::mbarrier_wait((&tl_pre_empty[0]), ((tl_ptile[0] % 2) ^ 1));" in prod
    # the next tile's Q after its first K tile (the wait for Q's release does not hold up K), and also when the tile
    # has no k-step
    assert prod.index("&K_tmap0") < prod.index("&Q_tmap0")
    assert "if ((k == 0)) {" in prod and "if ((n_blocks <= 0)) {" in prod
    assert "tl_ptile[0] = (tl_ptile[0] + 1);" in prod
    cons = consumer(src)
    assert "tilec::mbarrier_wait((&tl_pre[0]), (tl_ctile[0] % 2));" in cons
    assert "tilec::mbarrier_arrive_warp((&tl_pre_empty[0]));" in cons
    assert "tilec::mbarrier_init((&tl_pre_empty[0]), 8);" in src  # one arrive per consumer warp


def test_persistent_scheduled_loop_releases_q_before_the_last_p_v() -> None:
    """With the order/stage schedule Q is read only by stage-0 Q.K^T: released after the steady-state loop (and when
    the tile has no k-step), ahead of the epilogue iteration's P.V, not after it."""
    k = attn(persistent=True, smem_epilogue=True, overlap=True, pingpong=True)
    assert "released once the last k-step's stage-0 groups are done" in notes(k)
    cons = consumer(k.get_kernel_source())
    rel = "tilec::mbarrier_arrive_warp((&tl_pre_empty[0]));"
    assert cons.count(rel) == 2
    first = cons.index(rel)
    assert cons.index("for (int k_it") < first < cons.rindex("tilec::wgmma_gemm_rs_async")
    assert "} else {\n" + " " * 8 + rel in cons


def _generic_a_then_gemm_loop():
    """A tile loaded with disable_tma before a pipelined loop whose wgmma reads it (plus element-wise work)."""
    M, N, K = 128, 128, 256

    @T.prim_func
    def main(A: T.Tensor((M, 64), "float16"), B: T.Tensor((K, 64), "float16"), C: T.Tensor((M, N), "float32")):
        with T.Kernel(1, threads=256) as bx:
            A_s = T.alloc_shared((M, 64), "float16")
            B_s = T.alloc_shared((N, 64), "float16")
            acc = T.alloc_fragment((M, N), "float32")
            T.copy(A[0:M, 0:64], A_s, disable_tma=True)
            T.clear(acc)
            for k in T.Pipelined(K // N, num_stages=2):
                T.copy(B[k * N:(k + 1) * N, 0:64], B_s)
                T.gemm(A_s, B_s, acc, transpose_B=True)
                for i, j in T.Parallel(M, N):
                    acc[i, j] = acc[i, j] * 0.5
            T.copy(acc, C[0:M, 0:N])

    return main


def test_barrier_before_the_loop_with_a_proxy_fence() -> None:
    src = tilec.compile(_generic_a_then_gemm_loop(), target="sm_90a").get_kernel_source()
    cons = consumer(src)
    loop = cons.index("tilec::mbarrier_wait((&tl_full")
    head, body = cons[:loop], loop_body(src)
    assert "named_barrier_sync" not in body  # hoisted: A_s is only read in the loop
    assert re.search(r"fence_proxy_async_shared_cta\(\);\s*tilec::named_barrier_sync\(1, 256\);\s*#pragma unroll 1",
                     head), head[-400:]


@pytest.mark.nvcc
def test_attention_sm90a_builds_hgmma_without_spills(tmp_path) -> None:
    k = attn(persistent=True, smem_epilogue=True)
    res = k.resources
    assert res["spill_bytes"] == 0 and res["stack_bytes"] == 0, res
    sass = sass_of(k, tmp_path)
    if sass is None:
        pytest.skip("cuobjdump/nvdisasm not installed")
    assert re.search(r"HGMMA\.64x128x16\.F32", sass), "no 64x128 HGMMA"
    assert "UTMALDG.4D" in sass and "UTMASTG.4D" in sass
    assert not re.search(r"\b(LDL|STL)\b", sass), "local memory traffic"


def _between(text: str, a: str, b: str) -> str:
    i = text.index(a)
    return text[i:text.index(b, i)]


@pytest.mark.parametrize("causal", [False, True])
def test_pingpong_on_the_order_stage_schedule_turns_at_issue(causal: bool) -> None:
    """With the overlap schedule a warpgroup's turn spans only its T.gemm issues (FA3's warp scheduler barriers):
    one turn per scheduled iteration (prologue, steady loop, epilogue), the waits for its wgmmas after the turn."""
    k = attn(causal=causal, pingpong=True, overlap=True, smem_epilogue=True)
    cons = consumer(k.get_kernel_source())
    assert "take turns at the T.gemm issues of each scheduled iteration" in notes(k)
    assert cons.count("tilec::pingpong_enter<2>();") == 3 and cons.count("tilec::pingpong_leave<2>();") == 3
    steady = cons[cons.index("for (int k_it = 1;"):]
    turn = _between(steady, "tilec::pingpong_enter<2>();", "tilec::pingpong_leave<2>();")
    # Q.K^T of k, the rescale of O and P.V of k - 1 are issued inside the turn; nothing waits for a wgmma there
    assert turn.index("wgmma_gemm_ss_async<") < turn.index("acc_o[0] = (acc_o[0] * alpha[0]);") < \
        turn.index("wgmma_gemm_rs_async<")
    assert "wgmma_wait" not in turn and "named_barrier" not in turn
    after = steady[steady.index("tilec::pingpong_leave<2>();"):]
    assert after.index("tilec::wgmma_wait<1>(acc_s);") < after.index("tilec::wgmma_wait<0>(acc_o);")
    assert cons.index("tilec::pingpong_start<2>();") < cons.index("tl_full")


def test_one_tile_per_block_stages_o_in_the_q_tile() -> None:
    k = attn(smem_epilogue=True, overlap=True, pingpong=True)
    src = k.get_kernel_source()
    assert "TMA-store epilogue (Q_shared -> O" in notes(k) and "O_shared" not in src
    assert k.metadata.launches[0].smem_bytes < (128 + 4 * 128) * 128 * 2 + 1024  # Q + 2 x 2 K/V stages + barriers
    persistent = attn(smem_epilogue=True, persistent=True)
    assert "TMA-store epilogue (O_shared -> O" in notes(persistent)  # the next tile's Q lands meanwhile


def _persistent_epilogue_in_prologue_tile(overlap: bool):
    """A persistent kernel whose T.gemm reads a TMA prologue tile (A_s) and whose epilogue stages C through it."""
    M, N, K = 128, 64, 512

    @T.prim_func
    def main(A: T.Tensor((M * 4, 64), "float16"), B: T.Tensor((K, 64), "float16"), C: T.Tensor((M * 4, 64), "float16")):
        with T.Kernel(4, threads=256) as bx:
            T.annotate_persistent()
            A_s = T.alloc_shared((M, 64), "float16")
            B_s = T.alloc_shared((N, 64), "float16")
            acc = T.alloc_fragment((M, N), "float32")
            out = T.alloc_fragment((M, 64), "float32")
            T.copy(A[bx * M:(bx + 1) * M, 0:64], A_s)
            T.clear(acc)
            T.clear(out)
            pipe = dict(order=[-1, 0, 1], stage=[-1, 0, 0]) if overlap else {}
            for k in T.Pipelined(K // N, num_stages=2, **pipe):
                T.copy(B[k * N:(k + 1) * N, 0:64], B_s)
                T.gemm(A_s, B_s, acc, transpose_B=True)
                for i, j in T.Parallel(M, 64):
                    out[i, j] = out[i, j] + acc[i, j]
            T.copy(out, A_s)
            T.copy(A_s, C[bx * M:(bx + 1) * M, 0:64])
    return main


@pytest.mark.parametrize("overlap", [False, True])
def test_persistent_prologue_tile_used_by_the_epilogue_is_released_at_the_tile_end(overlap: bool) -> None:
    """The epilogue writes the prologue tile A_s: releasing it after the loop would let the producer load the next
    tile's A over C's staging data, so the release waits for the end of the tile (after the TMA store's commit)."""
    k = tilec.compile(_persistent_epilogue_in_prologue_tile(overlap), target="sm_90a")
    assert "released at the end of the tile (the epilogue uses them)" in notes(k)
    cons = consumer(k.get_kernel_source())
    rel = "tilec::mbarrier_arrive_warp((&tl_pre_empty[0]));"
    assert cons.count(rel) == 1
    assert cons.index(rel) > cons.rindex("tilec::cp_async_bulk_commit_group();")
