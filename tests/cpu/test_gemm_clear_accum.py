"""T.gemm(clear_accum=<boolean expression>): a runtime choice between C = A @ B and C += A @ B.

The interpreter follows the expression per execution; the sm80 lowering clears the fragment under an `if`; the sm_90a
lowering passes the expression to the wgmma call (the scale-d predicate) instead of clearing registers; bad values
are errors.
"""
from __future__ import annotations

import numpy as np
import pytest

import tilec
import tilec.language as T
from tilec.errors import TilecError


def _program(first: object, trans_b: bool = True, M: int = 64, N: int = 64, K: int = 96, bk: int = 32):
    """clear_accum=k == first for an int `first` (parsed in the body: a runtime expression), else `first` itself."""
    runtime = isinstance(first, int) and not isinstance(first, bool)

    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((N, K), "float16"), C: T.Tensor((M, N), "float32")):
        with T.Kernel(1, threads=128) as bx:
            A_s = T.alloc_shared((M, bk), "float16")
            B_s = T.alloc_shared((N, bk), "float16")
            acc = T.alloc_fragment((M, N), "float32")
            T.fill(acc, 1000.0)  # must be dropped wherever clear_accum holds
            for k in T.Pipelined(K // bk, num_stages=2):
                T.copy(A[0, k * bk], A_s)
                T.copy(B[0, k * bk], B_s)
                if runtime:
                    T.gemm(A_s, B_s, acc, transpose_B=trans_b, clear_accum=k == first)
                else:
                    T.gemm(A_s, B_s, acc, transpose_B=trans_b, clear_accum=first)
            T.copy(acc, C[0, 0])

    return main


@pytest.mark.parametrize("first, what", [(0, "all k-blocks"), (1, "k-blocks 1 and 2"), (2, "k-block 2")])
def test_interpreter_restarts_where_the_expression_holds(first: int, what: str) -> None:
    rng = np.random.default_rng(first)
    a = rng.standard_normal((64, 96)).astype(np.float16)
    b = rng.standard_normal((64, 96)).astype(np.float16)
    c = np.full((64, 64), np.nan, np.float32)
    tilec.compile(_program(first), target="sm_80").interpret(a, b, c)
    ref = a[:, 32 * first:].astype(np.float64) @ b[:, 32 * first:].astype(np.float64).T
    assert np.linalg.norm(c - ref) / np.linalg.norm(ref) < 1e-3, what


def test_sm80_clears_the_fragment_under_the_condition() -> None:
    src = tilec.compile(_program(0), target="sm_80").get_kernel_source()
    assert "if ((k == 0)) {" in src
    static = tilec.compile(_program(True), target="sm_80").get_kernel_source()
    assert "if ((k == 0))" not in static


def test_sm90a_passes_the_condition_to_the_wgmmas() -> None:
    src = tilec.compile(_program(0, M=128, N=128, K=128, bk=64), target="sm_90a").get_kernel_source()
    call = next(line.strip() for line in src.splitlines() if "tilec::wgmma_gemm_ss" in line)
    assert call.endswith("(&acc[0]), (k == 0));") and ", false, half_t" in call, call
    # a static clear_accum stays a template argument (no runtime operand)
    static = tilec.compile(_program(True, M=128, N=128, K=128, bk=64), target="sm_90a").get_kernel_source()
    call = next(line.strip() for line in static.splitlines() if "tilec::wgmma_gemm_ss" in line)
    assert ", true, half_t" in call and call.endswith("(&acc[0]));"), call


@pytest.mark.parametrize("bad, msg", [(5, "got 5.0"), ("yes", "got 'yes'"), (None, "of type int32")])
def test_bad_clear_accum_is_an_error(bad, msg: str) -> None:
    if bad is None:  # an int expression
        @T.prim_func
        def main(A: T.Tensor((64, 32), "float16"), C: T.Tensor((64, 64), "float32")):
            with T.Kernel(1, threads=128) as bx:
                A_s = T.alloc_shared((64, 32), "float16")
                acc = T.alloc_fragment((64, 64), "float32")
                T.copy(A[0, 0], A_s)
                T.gemm(A_s, A_s, acc, transpose_B=True, clear_accum=bx + 1)
                T.copy(acc, C[0, 0])

        prog = main
    else:
        prog = _program(bad) if isinstance(bad, str) else _program(float(bad))
    with pytest.raises(TilecError, match=rf"clear_accum must be a bool or a boolean expression.*{msg}"):
        tilec.compile(prog, target="sm_80").get_kernel_source()
