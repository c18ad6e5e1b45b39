"""The front end (tilec/frontend/parser.py): Python AST -> tile IR by partial evaluation.

Compile-time Python values fold; IR values build IR. Each test writes a small kernel here, checks the
parsed IR text where folding matters, and checks semantics with the numpy interpreter against numpy.
"""
# ruff: noqa: F841 (kernels bind block indices they do not all use)
from __future__ import annotations

import re

import numpy as np
import pytest

import tilec
import tilec.language as T
from tilec.ir import dtypes as dt
from tilec.ir.printer import func_str

RNG = np.random.default_rng(0)


# ---- helpers ------------------------------------------------------------------------------------
def rand(*shape: int, dtype: str = "float32") -> np.ndarray:
    return RNG.standard_normal(shape).astype(dtype)


def poisoned(*shape: int, dtype: str = "float32") -> np.ndarray:
    return np.full(shape, np.nan, dtype)


def rel_err(out: np.ndarray, ref: np.ndarray) -> float:
    out, ref = np.asarray(out, np.float64), np.asarray(ref, np.float64)
    assert not np.isnan(out).any(), "output has unwritten (NaN) elements"
    return float(np.abs(out - ref).max() / max(np.abs(ref).max(), 1e-6))


def ir(pf: object) -> str:
    """The parsed IR text (parse only: no target, no lowering)."""
    return func_str(tilec.compile(pf).prim_func)


def run(pf: object, *args: np.ndarray) -> tilec.JITKernel:
    k = tilec.compile(pf)
    k.interpret(*args)
    return k


def ir_lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines()]


# ---- if / else ------------------------------------------------------------------------------------
def scale_or_shift(flag: bool, n: int = 64):
    @T.prim_func
    def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            f = T.alloc_fragment((n,), "float32")
            T.copy(A[0:n], f)
            for i in T.Parallel(n):
                if flag:
                    f[i] = f[i] * 2
                else:
                    f[i] = f[i] + 1
            if not flag and n > 1000:
                T.fill(f, 0)
            T.copy(f, B[0:n])

    return main


@pytest.mark.parametrize("flag", [True, False])
def test_python_if_folds(flag: bool) -> None:
    text = ir(scale_or_shift(flag))
    assert not any(ln.startswith("if ") for ln in ir_lines(text)), text
    assert "T.fill" not in text
    a, b = rand(64), poisoned(64)
    run(scale_or_shift(flag), a, b)
    assert rel_err(b, a * 2 if flag else a + 1) < 1e-6


def block_branch(n: int = 16, blocks: int = 4):
    @T.prim_func
    def main(A: T.Tensor((blocks * n,), "float32"), B: T.Tensor((blocks * n,), "float32")):
        with T.Kernel(blocks, threads=128) as bx:
            f = T.alloc_fragment((n,), "float32")
            T.copy(A[bx * n], f)
            if bx % 2 == 0:  # a runtime condition outside T.Parallel: a uniform branch
                for i in T.Parallel(n):
                    f[i] = -f[i]
            elif bx == 1:
                for i in T.Parallel(n):
                    f[i] = f[i] * 10
            for i in T.Parallel(n):
                if f[i] > 0 and i >= 2:  # a runtime condition per element: a mask
                    f[i] = f[i] + 100
                else:
                    f[i] = 0
            T.copy(f, B[bx * n])

    return main


def test_runtime_if_becomes_ir() -> None:
    text = ir(block_branch())
    lines = ir_lines(text)
    assert "if bx % 2 == 0:" in lines and "if bx == 1:" in lines, text
    assert any(ln.startswith("if ") and "and" in ln for ln in lines), text
    a, b = rand(64), poisoned(64)
    run(block_branch(), a, b)
    ref = a.reshape(4, 16).copy()
    ref[0::2] *= -1
    ref[1] *= 10
    ref = np.where((ref > 0) & (np.arange(16) >= 2), ref + 100, 0)
    assert rel_err(b, ref.reshape(-1)) < 1e-6


def test_ifexp_on_python_and_ir_values() -> None:
    n = 32
    big = True

    @T.prim_func
    def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32")):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((n,), "float32")
            T.copy(A, f)
            for i in T.Parallel(n):
                f[i] = (f[i] * 3 if big else f[i]) if f[i] > 0 else -1.0
            T.copy(f, B)

    a, b = rand(n), poisoned(n)
    run(main, a, b)
    assert rel_err(b, np.where(a > 0, a * 3, -1)) < 1e-6


def test_chained_comparisons_and_identity() -> None:
    n = 16

    @T.prim_func
    def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32"), alpha: T.float32):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((n,), "float32")
            T.copy(A, f)
            for i in T.Parallel(n):
                if 4 <= i < 12 <= n:  # IR parts and-ed, the Python part (12 <= 16) folds away
                    f[i] = f[i] + 1
                if 5 <= 3 < i:  # noqa: PLR0133  # a false Python part makes the whole chain False at compile time
                    f[i] = 0.0
                if alpha is not None:  # `is` compares Python objects, even with an IR value
                    f[i] = f[i] * alpha
            T.copy(f, B)

    text = ir(main)
    assert "= 0.0" not in text and "if 4 <= i and i < 12:" in ir_lines(text), text
    a, b = rand(n), poisoned(n)
    run(main, a, b, 2.0)
    i = np.arange(n)
    assert rel_err(b, np.where((i >= 4) & (i < 12), a + 1, a) * 2) < 1e-6


def test_while_on_python_values_runs_at_compile_time() -> None:
    n = 20

    @T.prim_func
    def main(A: T.Tensor((32,), "float32"), B: T.Tensor((32,), "float32")):
        with T.Kernel(1) as bx:
            size = 1
            while size < n:  # next power of two, computed by Python
                size *= 2
            f = T.alloc_fragment((size,), "float32")
            T.copy(A, f)
            T.copy(f, B)

    text = ir(main)
    assert "fragment[32]" in text and "while" not in text, text
    a, b = rand(32), poisoned(32)
    run(main, a, b)
    assert rel_err(b, a) < 1e-6


# ---- loops ------------------------------------------------------------------------------------------
def loop_kinds(rows: int = 8, n: int = 16):
    @T.prim_func
    def main(A: T.Tensor((rows, n), "float32"), B: T.Tensor((5, n), "float32")):
        with T.Kernel(1, threads=128) as bx:
            row = T.alloc_fragment((1, n), "float32")
            acc = T.alloc_fragment((5, n), "float32")
            T.clear(acc)
            for r in range(rows):  # range(stop): all rows
                T.copy(A[r, 0], row)
                for i, j in T.Parallel(1, n):
                    acc[0, j] += row[i, j]
            for r in range(2, 6):  # range(start, stop)
                T.copy(A[r, 0], row)
                for j in T.Parallel(n):
                    acc[1, j] += row[0, j]
            for r in T.serial(rows - 3):
                T.copy(A[r, 0], row)
                for j in T.Parallel(n):
                    acc[2, j] = T.max(acc[2, j], row[0, j])
            for r in T.serial(1, 3):
                T.copy(A[r, 0], row)
                for j in T.Parallel(n):
                    acc[3, j] += row[0, j] * r
            for r in T.unroll(4):
                T.copy(A[r + 4, 0], row)
                for j in T.Parallel(n):
                    acc[4, j] -= row[0, j]
            T.copy(acc, B)

    return main


def test_loop_kinds() -> None:
    text = ir(loop_kinds())
    lines = ir_lines(text)
    for want in ("for r in T.serial(8):", "for r_1 in T.serial(2, 2 + 4):", "for r_2 in T.serial(5):",
                 "for r_3 in T.serial(1, 1 + 2):", "for r_4 in T.unroll(4):"):
        assert want in lines, text
    a, b = rand(8, 16), poisoned(5, 16)
    run(loop_kinds(), a, b)
    ref = np.stack([a.sum(0), a[2:6].sum(0), np.maximum(a[:5].max(0), 0), a[1] + 2 * a[2], -a[4:8].sum(0)])
    assert rel_err(b, ref) < 1e-5


def test_loop_bounds_from_runtime_values() -> None:
    S = T.symbolic("S")

    @T.prim_func
    def main(A: T.Tensor((S, 4), "float32"), B: T.Tensor((1, 4), "float32")):
        with T.Kernel(1) as bx:
            row = T.alloc_fragment((1, 4), "float32")
            acc = T.alloc_fragment((1, 4), "float32")
            T.clear(acc)
            for r in range(1, S):  # skip row 0; extent S - 1 is a runtime value
                T.copy(A[r, 0], row)
                for i, j in T.Parallel(1, 4):
                    acc[i, j] += row[i, j]
            T.copy(acc, B)

    a, b = rand(7, 4), poisoned(1, 4)
    run(main, a, b)
    assert rel_err(b, a[1:].sum(0, keepdims=True)) < 1e-5


def parallel_dims(shape: tuple):
    @T.prim_func
    def main(A: T.Tensor(shape, "float32"), B: T.Tensor(shape, "float32")):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment(shape, "float32")
            T.copy(A, f)
            if len(shape) == 1:
                for i in T.Parallel(*shape):
                    f[i] = f[i] * 2 + i
            elif len(shape) == 2:
                for i, j in T.Parallel(*shape):
                    f[i, j] = f[i, j] * 2 + i * 10 + j
            else:
                for i, j, k in T.Parallel(shape[0], shape[1], shape[2]):
                    f[i, j, k] = f[i, j, k] * 2 + i * 100 + j * 10 + k
            T.copy(f, B)

    return main


@pytest.mark.parametrize("shape", [(32,), (4, 8), (2, 4, 8)])
def test_parallel_1_to_3_dims(shape: tuple) -> None:
    text = ir(parallel_dims(shape))
    assert f"in T.Parallel({', '.join(map(str, shape))}):" in text
    a, b = rand(*shape), poisoned(*shape)
    run(parallel_dims(shape), a, b)
    idx = np.indices(shape)
    weights = [10 ** (len(shape) - 1 - d) for d in range(len(shape))]
    ref = a * 2 + sum(w * i for w, i in zip(weights, idx))
    assert rel_err(b, ref) < 1e-6


def test_python_list_is_unrolled_at_compile_time() -> None:
    n = 16
    steps = [1.0, 2.0, 4.0]

    @T.prim_func
    def main(X: T.Tensor((n,), "float32"), Y: T.Tensor((n,), "float32"), Z: T.Tensor((n,), "float32")):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((n,), "float32")
            T.copy(X, f)
            for s in steps:
                for i in T.Parallel(n):
                    f[i] = f[i] * s
            for k, out in enumerate((Y, Z)):  # a tuple of buffers, unpacked per iteration
                for i in T.Parallel(n):
                    f[i] = f[i] + k
                T.copy(f, out)

    text = ir(main)
    assert text.count("T.Parallel(16)") == 5, text
    assert "T.serial" not in text and re.search(r"f\[i_\d\] \* 4\.0", text), text
    x, y, z = rand(n), poisoned(n), poisoned(n)
    run(main, x, y, z)
    assert rel_err(y, x * 8) < 1e-6 and rel_err(z, x * 8 + 1) < 1e-6


def test_while_on_alloc_var() -> None:
    n = 8

    @T.prim_func
    def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32"), steps: T.int32):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((n,), "float32")
            k = T.alloc_var(T.int32)
            total = T.alloc_var("float32", init=0.0)
            T.copy(A, f)
            k = 0
            while k < steps:
                for i in T.Parallel(n):
                    f[i] = f[i] + 1
                k += 1
                total += 0.5
            for i in T.Parallel(n):
                f[i] = f[i] + total
            T.copy(f, B)

    text = ir(main)
    assert any(ln.startswith("while ") for ln in ir_lines(text)), text
    a, b = rand(n), poisoned(n)
    run(main, a, b, 5)
    assert rel_err(b, a + 5 + 2.5) < 1e-6
    run(main, a, b, 0)
    assert rel_err(b, a) < 1e-6


# ---- assignment ------------------------------------------------------------------------------------
def test_augmented_assignment() -> None:
    n = 16

    @T.prim_func
    def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32"), C: T.Tensor((n,), "int32")):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((n,), "float32")
            g = T.alloc_fragment((n,), "int32")
            cnt = T.alloc_var("int32")
            c = 3  # a Python int: `c *= 2` folds at compile time
            c *= 2
            cnt = 0
            T.copy(A, f)
            for i in T.Parallel(n):
                f[i] += 1
                f[i] *= c
                f[i] -= A[i]
                f[i] /= 2
                g[i] = i
                g[i] <<= 1
                g[i] |= 1
                g[i] //= 3
                g[i] %= 4
            for r in T.serial(4):
                cnt += r
            cnt *= 10
            for i in T.Parallel(n):
                g[i] += cnt
            T.copy(f, B)
            T.copy(g, C)

    text = ir(main)
    assert "* 6.0" in text and "c =" not in text, text
    a, b, c_out = rand(n), poisoned(n), np.full(n, -1, np.int32)
    run(main, a, b, c_out)
    assert rel_err(b, ((a + 1) * 6 - a) / 2) < 1e-6
    i = np.arange(n)
    np.testing.assert_array_equal(c_out, (((i << 1) | 1) // 3) % 4 + 60)


def test_tuple_unpacking_and_annotated_assignment() -> None:
    n = 8

    @T.prim_func
    def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32")):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((n,), "float32")
            lo, hi = 2, n - 2
            T.copy(A, f)
            for i in T.Parallel(n):
                x: T.float32 = i  # the annotation casts the int loop index to float32
                f[i] = T.if_then_else(i >= lo and i < hi, f[i] + x, 0)
            T.copy(f, B)

    a, b = rand(n), poisoned(n)
    run(main, a, b)
    i = np.arange(n)
    assert rel_err(b, np.where((i >= 2) & (i < 6), a + i, 0)) < 1e-6


# ---- subscripts, regions ------------------------------------------------------------------------
def test_slices_and_start_corners() -> None:
    M, N, bm, bn = 16, 24, 8, 8

    @T.prim_func
    def main(A: T.Tensor((M, N), "float32"), B: T.Tensor((M, N), "float32"), C: T.Tensor((M,), "float32")):
        with T.Kernel(N // bn, M // bm) as (bx, by):
            s = T.alloc_shared((bm, bn), "float32")
            f = T.alloc_fragment((bm, bn), "float32")
            col = T.alloc_fragment((bm,), "float32")
            T.copy(A[by * bm:(by + 1) * bm, bx * bn:(bx + 1) * bn], s)  # two slices
            T.copy(s, f)
            for i, j in T.Parallel(bm, bn):
                f[i, j] = f[i, j] + 1
            T.copy(f, B[by * bm, bx * bn])  # a start corner: the extents come from f
            T.copy(A[by * bm:(by + 1) * bm, 0], col)  # a slice and an index: a column
            for i in T.Parallel(bm):
                col[i] = col[i] * 2
            if bx == 0:
                T.copy(col, C[by * bm:(by + 1) * bm])

    a, b, c = rand(M, N), poisoned(M, N), poisoned(M)
    run(main, a, b, c)
    assert rel_err(b, a + 1) < 1e-6
    assert rel_err(c, a[:, 0] * 2) < 1e-6


def test_open_slices_and_shape_attribute() -> None:
    n = 16

    @T.prim_func
    def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32")):
        with T.Kernel(1) as bx:
            lo = T.alloc_fragment((n // 2,), "float32")
            hi = T.alloc_fragment((n // 2,), "float32")
            T.copy(A[:n // 2], lo)
            T.copy(A[n // 2:], hi)
            for i in T.Parallel(lo.shape[0]):
                lo[i] = lo[i] + hi[i]
            T.copy(lo, B[n // 2:])
            T.copy(hi, B[0:n // 2])

    a, b = rand(n), poisoned(n)
    run(main, a, b)
    assert rel_err(b, np.concatenate([a[8:], a[:8] + a[8:]])) < 1e-6


# ---- symbolic dims, dtypes, scalar parameters ------------------------------------------------------
def test_symbolic_same_name_is_same_dim() -> None:
    assert T.symbolic("M") is T.symbolic("M")
    assert T.dynamic("M") is T.symbolic("M")
    n, bm = 8, 4

    @T.prim_func
    def main(A: T.Tensor((T.symbolic("M"), n), "float32"), B: T.Tensor((T.symbolic("M"), n), "float32")):
        with T.Kernel(T.ceildiv(T.symbolic("M"), bm)) as bx:
            f = T.alloc_fragment((bm, n), "float32")
            T.copy(A[bx * bm, 0], f)
            for i, j in T.Parallel(bm, n):
                f[i, j] = f[i, j] * 3
            T.copy(f, B[bx * bm, 0])

    k = tilec.compile(main)
    assert [d.name for d in k.prim_func.sym_dims] == ["M"]
    assert "T.Tensor((M, 8), float32)" in func_str(k.prim_func)
    for m in (8, 10):  # 10: a ragged last tile, out-of-range elements are neither read nor written
        a, b = rand(m, n), poisoned(m, n)
        k.interpret(a, b)
        assert rel_err(b, a * 3) < 1e-6
    with pytest.raises(tilec.TilecError, match="M"):
        k.interpret(rand(8, n), poisoned(12, n))


@pytest.mark.parametrize("dtype", ["float16", T.float16, dt.float16])
def test_dtype_spellings(dtype: object) -> None:
    n = 16

    @T.prim_func
    def main(A: T.Tensor((n,), dtype), B: T.Tensor((n,), T.float32)):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((n,), "float32")
            h = T.alloc_fragment((n,), dtype)
            T.copy(A, h)
            for i in T.Parallel(n):
                f[i] = T.cast(h[i], "float32") * 2
            T.copy(f, B)

    k = tilec.compile(main)
    assert k.prim_func.params[0].buffer.dtype == dt.float16
    assert k.prim_func.params[1].buffer.dtype == dt.float32
    a, b = rand(n, dtype="float16"), poisoned(n)
    k.interpret(a, b)
    assert rel_err(b, a.astype(np.float32) * 2) < 1e-6


def test_scalar_parameters() -> None:
    n = 32

    @T.prim_func
    def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32"), alpha: T.float32, limit: T.int32):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((n,), "float32")
            T.copy(A, f)
            for i in T.Parallel(n):
                f[i] = T.if_then_else(i < limit, f[i] * alpha, 0.0)
            T.copy(f, B)

    k = tilec.compile(main)
    assert "alpha: float32" in func_str(k.prim_func) and "limit: int32" in func_str(k.prim_func)
    a, b = rand(n), poisoned(n)
    k.interpret(a, b, 0.5, 20)
    assert rel_err(b, np.where(np.arange(n) < 20, a * 0.5, 0)) < 1e-6


# ---- Python: closures, generator parameters, helper functions ---------------------------------------
def _relu(x: object) -> object:
    return T.max(x, 0.0)


def elementwise(op, n: int = 16, bias: float = 0.0):
    table = {"offset": bias}

    def add_bias(x: object) -> object:  # a nested helper: its body runs in Python on IR values
        return x + table["offset"]

    @T.prim_func
    def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32")):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((n,), "float32")
            T.copy(A, f)
            for i in T.Parallel(n):
                f[i] = add_bias(op(f[i]))
            T.copy(f, B)

    return main


@pytest.mark.parametrize("op,ref", [(_relu, lambda a: np.maximum(a, 0)), (T.exp, np.exp),
                                    (lambda x: x * x - 1, lambda a: a * a - 1)])
def test_generator_parameters_and_closures(op: object, ref: object) -> None:
    a, b = rand(16), poisoned(16)
    run(elementwise(op, bias=0.25), a, b)
    assert rel_err(b, ref(a) + 0.25) < 1e-5


def test_helpers_called_in_the_kernel_emit_tile_ops() -> None:
    n = 16

    def staged_copy(src: object, dst: object, tmp: object) -> None:  # plain Python, run at compile time
        T.copy(src, tmp)
        T.copy(tmp, dst)

    @T.prim_func
    def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32")):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((n,), "float32")
            staged_copy(A, B, f)

    assert ir(main).count("T.copy(") == 2
    a, b = rand(n), poisoned(n)
    run(main, a, b)
    assert rel_err(b, a) < 1e-6


@pytest.mark.parametrize("op", [lambda x: -x, lambda x: x / 2])
def test_helpers_use_python_operators_on_ir_values(op: object) -> None:
    a, b = rand(16), poisoned(16)
    run(elementwise(op), a, b)
    assert rel_err(b, op(a)) < 1e-6


def test_jit_generator_caches_per_arguments() -> None:
    @tilec.jit
    def gen(n: int, factor: float):
        @T.prim_func
        def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32")):
            with T.Kernel(1) as bx:
                f = T.alloc_fragment((n,), "float32")
                T.copy(A, f)
                for i in T.Parallel(n):
                    f[i] = f[i] * factor
                T.copy(f, B)

        return main

    k = gen(8, 3.0)
    assert gen(8, 3.0) is k and gen(8, 2.0) is not k
    a, b = rand(8), poisoned(8)
    k.interpret(a, b)
    assert rel_err(b, a * 3) < 1e-6


# ---- T.min / T.max / T.ceildiv / T.if_then_else and builtins ----------------------------------------
def test_tl_math_folds_on_python_ints() -> None:
    assert T.ceildiv(100, 32) == 4 and T.if_then_else(True, 1, 2) == 1
    n = 100

    @T.prim_func
    def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32")):
        with T.Kernel(T.ceildiv(n, 32), threads=max(32, min(128, n * 2))) as bx:
            f = T.alloc_fragment((T.if_then_else(n > 64, 32, 64),), "float32")
            T.copy(A[bx * 32], f)
            for i in T.Parallel(min(n, 32)):
                f[i] = f[i] + max(1, 2) + min(5, 6) + abs(-3)
            T.copy(f, B[bx * 32])

    text = ir(main)
    assert "T.Kernel(4, 1, 1, threads=128)" in text and "fragment[32]" in text, text
    assert "+ 10.0" in text or "+ 2.0 + 5.0 + 3.0" in text, text
    assert "T.min" not in text and "T.max" not in text and "T.ceildiv" not in text
    a, b = rand(n), poisoned(n)
    run(main, a, b)
    assert rel_err(b, a + 10) < 1e-6


def test_tl_min_max_fold_on_python_ints() -> None:
    assert T.min(3, 5) == 3 and T.max(3, 5) == 5


def test_tl_math_and_builtins_on_ir_values() -> None:
    M = T.symbolic("M")
    n = 16

    @T.prim_func
    def main(A: T.Tensor((M,), "float32"), B: T.Tensor((M,), "float32"), C: T.Tensor((M,), "float32")):
        with T.Kernel(T.ceildiv(M, n)) as bx:
            f = T.alloc_fragment((n,), "float32")
            g = T.alloc_fragment((n,), "float32")
            T.copy(A[bx * n], f)
            for i in T.Parallel(n):
                g[i] = T.min(T.max(f[i], -0.5), 0.5) + T.if_then_else(f[i] > 1.0, 1.0, 0.0)
                f[i] = max(min(f[i], 0.25), -0.25, f[i] * 0.5) + abs(f[i])
            for i in T.Parallel(n):
                # T.ceildiv / min on ints that mix runtime values: the number of valid rows of this block
                f[i] = T.if_then_else(i < T.min(n, M - bx * n), f[i], 0.0) + T.ceildiv(M, n)
            T.copy(f, B[bx * n])
            T.copy(g, C[bx * n])

    text = ir(main)
    assert "T.ceildiv" not in text and "T.min(" in text and "T.max(" in text and "T.abs(" in text, text
    m = 40
    a, b, c = rand(m), poisoned(m), poisoned(m)
    run(main, a, b, c)
    ref_b = np.maximum(np.maximum(np.minimum(a, 0.25), -0.25), a * 0.5) + np.abs(a) + 3
    assert rel_err(b, ref_b) < 1e-6
    assert rel_err(c, np.clip(a, -0.5, 0.5) + (a > 1)) < 1e-6


# ---- several kernels in one prim_func ---------------------------------------------------------------
def two_kernels(n: int = 32):
    @T.prim_func
    def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32"), C: T.Tensor((n,), "float32")):
        with T.Kernel(2) as bx:
            f = T.alloc_fragment((n // 2,), "float32")
            T.copy(A[bx * (n // 2)], f)
            for i in T.Parallel(n // 2):
                f[i] = f[i] * 2
            T.copy(f, B[bx * (n // 2)])
        with T.Kernel(1) as bx:  # runs after the first launch: sees all of B
            g = T.alloc_fragment((n,), "float32")
            T.copy(B, g)
            for i in T.Parallel(n):
                g[i] = g[i] + B[n - 1 - i]
            T.copy(g, C)

    return main


def test_several_kernels_in_one_prim_func() -> None:
    text = ir(two_kernels())
    assert text.count("with T.Kernel(") == 2, text
    assert "bx_1" in text  # block variables of the second kernel are distinct
    a, b, c = rand(32), poisoned(32), poisoned(32)
    run(two_kernels(), a, b, c)
    assert rel_err(b, a * 2) < 1e-6 and rel_err(c, a * 2 + (a * 2)[::-1]) < 1e-6
    launches = tilec.compile(two_kernels(), target="sm_80").metadata.launches
    assert [tuple(x.grid) for x in launches] == [("2", "1", "1"), ("1", "1", "1")]


def test_host_side_names_are_substituted_into_launch_grids() -> None:
    """An IR value named outside any kernel is an expression of symbolic dims: no Let, the grid uses it."""
    M = T.symbolic("M")
    bm = 16

    @T.prim_func
    def main(A: T.Tensor((M,), "float32"), B: T.Tensor((M,), "float32")):
        num_blocks = T.ceildiv(M, bm)
        with T.Kernel(num_blocks) as bx:
            f = T.alloc_fragment((bm,), "float32")
            T.copy(A[bx * bm], f)
            for i in T.Parallel(bm):
                f[i] = f[i] + num_blocks
            T.copy(f, B[bx * bm])

    text = ir(main)
    assert "num_blocks" not in text and "T.Kernel((M + 15) // 16, 1, 1" in text, text
    a, b = rand(40), poisoned(40)
    run(main, a, b)
    assert rel_err(b, a + 3) < 1e-6


# ---- misc -------------------------------------------------------------------------------------------
def test_docstring_pass_assert_and_fstrings_are_compile_time() -> None:
    n = 8

    @T.prim_func
    def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32")):
        """A docstring is ignored."""
        assert n % 4 == 0, f"n={n} must be a multiple of 4"
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((n,), "float32")
            T.copy(A, f)
            pass  # noqa: PIE790 (a pass statement is accepted)
            T.copy(f, B)

    a, b = rand(n), poisoned(n)
    run(main, a, b)
    assert rel_err(b, a) < 1e-6


def test_let_binding_of_ir_values() -> None:
    n, bm = 16, 4

    @T.prim_func
    def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32")):
        with T.Kernel(n // bm) as bx:
            base = bx * bm  # an IR value bound to a name: a Let
            f = T.alloc_fragment((bm,), "float32")
            T.copy(A[base], f)
            for i in T.Parallel(bm):
                f[i] = f[i] + base
            T.copy(f, B[base])

    text = ir(main)
    assert "base: int32 = bx * 4" in ir_lines(text), text
    a, b = rand(n), poisoned(n)
    run(main, a, b)
    assert rel_err(b, a + np.arange(n) // bm * bm) < 1e-6


def test_lowering_accepts_parsed_gemm() -> None:
    """The front end's IR for the reference GEMM goes through the sm_80 pipeline (show after parse)."""
    from tests.kernels.gemm import matmul

    k = tilec.compile(matmul(128, 128, 64, block_M=64, block_N=64), target="sm_80")
    text = k.show(after="parse")
    assert "T.pipelined(2, num_stages=3)" in text and "T.gemm(" in text, text
    a, b, c = rand(128, 64, dtype="float16"), rand(64, 128, dtype="float16"), poisoned(128, 128, dtype="float16")
    k.interpret(a, b, c)
    assert rel_err(c, a.astype(np.float32) @ b.astype(np.float32)) < 1e-2
