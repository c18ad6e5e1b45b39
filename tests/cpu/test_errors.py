"""User errors in kernels: every one is a tilec.TilecError located at the user's line, rendered rustc-style.

Each faulty line below ends with a marker comment `# E:<name>`; the test finds that line in this file and
checks the error's file, line (and column where it matters), the rendered source line and caret, and
that the message says what was expected.
"""
# ruff: noqa: F841 (kernels bind block indices and tiles they do not all use)
from __future__ import annotations

import os
import re

import numpy as np
import pytest

import tilec
import tilec.language as T

THIS_FILE = os.path.realpath(__file__)
with open(THIS_FILE) as _f:
    SOURCE = _f.read().splitlines()


def marked_line(marker: str) -> int:
    """The 1-based line of this file that ends with `# E:<marker>`."""
    hits = [n for n, text in enumerate(SOURCE, 1) if text.rstrip().endswith(f"# E:{marker}")]
    assert len(hits) == 1, f"marker {marker!r} found {len(hits)} times"
    return hits[0]


def check(err: tilec.TilecError, marker: str, *expected: str, at: str | None = None) -> None:
    """err points at the marked line (column of `at`, else the line's first non-blank); its text says `expected`."""
    line = marked_line(marker)
    text = SOURCE[line - 1]
    assert os.path.realpath(err.loc.file) == THIS_FILE, err.loc
    assert err.loc.line == line, f"{err.loc} is not line {line}:\n{err}"
    col = text.index(at) + 1 if at is not None else len(text) - len(text.lstrip()) + 1
    assert err.loc.col == col, f"column {err.loc.col}, expected {col}:\n{err}"
    rendered = str(err).splitlines()
    assert rendered[0] == f"error: {err.msg}"
    arrow = [r for r in rendered if r.lstrip().startswith("-->")]
    assert arrow == [f"{' ' * len(str(line))}--> {err.loc.file}:{line}:{col}"], rendered
    assert "tilec" + os.sep not in arrow[0].replace(os.path.dirname(THIS_FILE), ""), arrow
    assert f"{line} | {text}" in rendered, rendered
    caret = rendered[rendered.index(f"{line} | {text}") + 1]
    assert re.fullmatch(r" +\| +\^", caret) and caret.index("^") == len(f"{line} | ") + col - 1, caret
    for e in expected:
        assert e in err.msg, f"{e!r} not in {err.msg!r}"
    # The user sees their own error, not a chain of the compiler's internal exceptions.
    assert err.__cause__ is None


def compile_error(pf: object, target: str | None = None) -> tilec.TilecError:
    with pytest.raises(tilec.TilecError) as info:
        tilec.compile(pf, target=target)
    return info.value


# ---- names, shapes, indices -----------------------------------------------------------------------
def test_unknown_name() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32")):
        with T.Kernel(1) as bx:
            frag = T.alloc_fragment((16,), "float32")
            T.copy(A, fragg)  # noqa: F821  # E:unknown-name

    check(compile_error(main), "unknown-name", "unknown name 'fragg'", at="fragg")


def test_copy_between_tiles_of_different_shapes() -> None:
    @T.prim_func
    def main(A: T.Tensor((16, 16), "float32")):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((8, 16), "float32")
            s = T.alloc_shared((16, 8), "float32")
            T.copy(s, f)  # E:copy-shape

    check(compile_error(main), "copy-shape", "T.copy", "16x8 vs 8x16", "must match")


def test_copy_region_of_runtime_length() -> None:
    M = T.symbolic("M")

    @T.prim_func
    def main(A: T.Tensor((M,), "float32")):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((16,), "float32")
            T.copy(A[bx * 16:M], f)  # E:runtime-slice

    check(compile_error(main), "runtime-slice", "runtime length", "compile-time ints", at="A[bx")


def test_gemm_with_mismatched_k() -> None:
    @T.prim_func
    def main(A: T.Tensor((64, 64), "float16")):
        with T.Kernel(1) as bx:
            a = T.alloc_shared((64, 32), "float16")
            b = T.alloc_shared((16, 64), "float16")
            c = T.alloc_fragment((64, 64), "float32")
            T.gemm(a, b, c)  # E:gemm-k

    check(compile_error(main), "gemm-k", "A is 64x32 but B is 16x64", "A's columns must equal B's rows")


def test_too_much_shared_memory_for_the_target() -> None:
    @T.prim_func
    def main(A: T.Tensor((256, 256), "float32"), B: T.Tensor((256, 256), "float32")):
        with T.Kernel(1, threads=128) as bx:  # E:smem
            a = T.alloc_shared((256, 256), "float32")
            b = T.alloc_shared((256, 256), "float32")
            T.copy(A, a)
            T.copy(a, b)
            T.copy(b, B)

    tilec.compile(main)  # parsing alone is fine: the limit belongs to the target
    check(compile_error(main, target="sm_80"), "smem", "524288 bytes of shared memory", "sm_80", "smaller tiles")


def test_wrong_number_of_indices() -> None:
    @T.prim_func
    def main(A: T.Tensor((16, 16), "float32")):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((16, 16), "float32")
            for i in T.Parallel(16):
                f[i] = A[i, 0, 1]  # E:n-indices

    check(compile_error(main), "n-indices", "A has 2 dimensions but is indexed with 3", at="A[i")


def test_wrong_number_of_indices_in_a_store() -> None:
    @T.prim_func
    def main(A: T.Tensor((16, 16), "float32")):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((16, 16), "float32")
            for i in T.Parallel(16):
                f[i] = 0  # E:n-indices-store

    check(compile_error(main), "n-indices-store", "f has 2 dimensions but is indexed with 1")


def test_float_index() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32"), x: T.float32):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((16,), "float32")
            for i in T.Parallel(16):
                f[i] = A[x]  # E:float-index

    check(compile_error(main), "float-index", "float32", "indices must be integers", at="A[x]")


def test_bad_dtype_in_a_parameter_annotation() -> None:
    # This file uses `from __future__ import annotations`: the front end evaluates the annotation and locates
    # its error at the parameter.
    @T.prim_func
    def main(A: T.Tensor((16,), "float32"),
             B: T.Tensor((16,), "floaty")):  # E:bad-dtype
        with T.Kernel(1) as bx:
            pass

    check(compile_error(main), "bad-dtype", "unknown dtype 'floaty'", "float16", at="B:")


def test_missing_parameter_annotation() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32"), n):  # E:no-annotation
        with T.Kernel(1) as bx:
            pass

    check(compile_error(main), "no-annotation", "parameter 'n' needs an annotation", "T.int32", at="n)")


def test_location_with_an_unindented_multiline_string() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32")):
        """A docstring whose second line
starts at column 0."""
        with T.Kernel(1) as bx:
            T.copy(A, tile)  # noqa: F821  # E:dedent

    check(compile_error(main), "dedent", "unknown name 'tile'", at="tile")


# ---- runtime values where Python needs a compile-time value ----------------------------------------
def test_python_min_on_a_list_of_runtime_values() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32")):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((16,), "float32")
            for i in T.Parallel(16):
                f[i] = min([A[i], 0.0])  # E:py-min

    check(compile_error(main), "py-min", "compile-time True/False", "T.min", at="min(")


def test_python_any_on_runtime_values() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32")):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((16,), "float32")
            for i in T.Parallel(16):
                f[i] = T.if_then_else(any([A[i] > 0]), 1.0, 0.0)  # E:py-any

    check(compile_error(main), "py-any", "compile-time True/False", at="any(")


def test_range_with_a_step() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32"), step: T.int32):
        with T.Kernel(1) as bx:
            for k in range(0, 16, step):  # E:range-step
                A[k] = 0.0

    check(compile_error(main), "range-step", "range() with a step", "T.serial")


def test_assert_on_a_runtime_value() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32"), n: T.int32):
        with T.Kernel(1) as bx:
            assert n > 0  # E:assert-runtime

    check(compile_error(main), "assert-runtime", "compile-time condition")


def test_failed_compile_time_assert_and_raise() -> None:
    n = 12

    @T.prim_func
    def main(A: T.Tensor((n,), "float32")):
        assert n % 16 == 0, f"n = {n} must be a multiple of 16"  # E:assert-false
        with T.Kernel(1) as bx:
            pass

    check(compile_error(main), "assert-false", "n = 12 must be a multiple of 16")

    @T.prim_func
    def main2(A: T.Tensor((n,), "float32")):
        if n % 16:
            raise ValueError(f"n = {n} must be a multiple of 16")  # E:raise
        with T.Kernel(1) as bx:
            pass

    check(compile_error(main2), "raise", "ValueError: n = 12 must be a multiple of 16")


def test_while_condition_that_turns_runtime() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32")):
        with T.Kernel(1) as bx:
            k = 0
            while k < 4:  # E:while-turns
                k = bx + 1

    check(compile_error(main), "while-turns", "became a runtime value", "T.alloc_var", at="k < 4")


def test_python_exception_in_user_code_is_located() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32")):
        with T.Kernel(1) as bx:
            tile = 16 // 0  # E:zero-div

    err = compile_error(main)
    check(err, "zero-div", "ZeroDivisionError", at="16 // 0")
    assert err.__suppress_context__


# ---- structure ---------------------------------------------------------------------------------------
def test_nested_kernels() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32")):
        with T.Kernel(1) as bx:  # noqa: SIM117
            with T.Kernel(2) as by:  # E:nested-kernel
                pass

    check(compile_error(main), "nested-kernel", "T.Kernel blocks cannot be nested")


@pytest.mark.parametrize("extent", ["symbolic", "float"])
def test_parallel_with_non_int_extents(extent: str) -> None:
    n = T.symbolic("N") if extent == "symbolic" else 16 / 2

    @T.prim_func
    def main(A: T.Tensor((16,), "float32")):
        with T.Kernel(1) as bx:
            for i in T.Parallel(n):  # E:parallel-extent
                A[i] = 0.0

    check(compile_error(main), "parallel-extent", "T.Parallel: extents must be positive compile-time ints",
          at="T.Parallel")


def test_parallel_binds_wrong_number_of_names() -> None:
    @T.prim_func
    def main(A: T.Tensor((16, 16), "float32")):
        with T.Kernel(1) as bx:
            for i in T.Parallel(16, 16):  # E:parallel-names
                A[i, 0] = 0.0

    check(compile_error(main), "parallel-names", "T.Parallel has 2 extents but the loop binds 1 names")


def test_fragment_read_element_wise_outside_parallel() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32")):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((16,), "float32")
            T.fill(f, 1.0)
            A[0] = f[3]  # E:frag-read

    tilec.compile(main)  # the interpreter's view is fine: the rule comes from distributing f over threads
    check(compile_error(main, target="sm_80"), "frag-read", "fragment f", "inside T.Parallel", at="f[3]")


def test_fragment_written_element_wise_outside_parallel() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32")):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((16,), "float32")
            T.fill(f, 1.0)
            f[3] = 2.0  # E:frag-write
            T.copy(f, A)

    check(compile_error(main, target="sm_80"), "frag-write", "fragment f", "inside T.Parallel")


def test_parallel_outside_kernel() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32")):
        for i in T.Parallel(16):  # E:parallel-outside
            A[i] = 0.0
        with T.Kernel(1) as bx:
            pass

    check(compile_error(main), "parallel-outside", "T.Parallel loop must be inside a `with T.Kernel(...)` block")


def test_alloc_outside_kernel() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32")):
        s = T.alloc_shared((16,), "float32")  # E:alloc-outside
        with T.Kernel(1) as bx:
            T.copy(A, s)

    check(compile_error(main), "alloc-outside", "T.alloc_shared must be called inside a `with T.Kernel(...)`",
          at="T.alloc_shared")


def test_tile_op_on_a_buffer_of_another_kernel() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32")):
        with T.Kernel(1) as bx:  # E:kernel-one
            f = T.alloc_fragment((16,), "float32")
            T.copy(A, f)
        T.fill(f, 0)  # E:tile-op-outside

    check(compile_error(main), "tile-op-outside",
          f"'f' belongs to the T.Kernel block at line {marked_line('kernel-one')}", "separate launch", at="f, 0")


def test_runtime_loop_around_kernels() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32")):
        for r in range(2):  # E:host-loop
            with T.Kernel(1) as bx:
                pass

    check(compile_error(main), "host-loop", "runtime `for` around T.Kernel blocks", "Python list")


def test_rebinding_a_name_inside_a_runtime_if() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32")):
        with T.Kernel(2) as bx:
            scale = 1.0
            if bx == 0:  # E:runtime-if
                scale = 2.0  # E:rebind-if
            f = T.alloc_fragment((16,), "float32")
            for i in T.Parallel(16):
                f[i] = scale
            T.copy(f, A)

    check(compile_error(main), "rebind-if", "'scale' is assigned inside the runtime `if` at line "
          f"{marked_line('runtime-if')}", "T.alloc_var")


def test_rebinding_a_name_inside_a_runtime_loop() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32")):
        with T.Kernel(1) as bx:
            acc = bx * 0
            for k in T.serial(4):
                acc = acc + k  # E:rebind-loop

    check(compile_error(main), "rebind-loop", "'acc' is assigned inside the loop at line", "T.alloc_var")


def test_name_bound_in_a_runtime_body_used_after_it() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32")):
        with T.Kernel(2) as bx:
            if bx == 0:
                offset = 4
            else:
                offset = 8
            f = T.alloc_fragment((16,), "float32")
            for i in T.Parallel(16):
                f[i] = offset  # E:gone
            T.copy(f, A)

    check(compile_error(main), "gone", "'offset' was bound inside the `else` of the runtime `if`",
          "does not exist after it", at="offset  #")


def test_loop_variable_used_after_its_loop() -> None:
    @T.prim_func
    def main(A: T.Tensor((16,), "float32")):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((16,), "float32")
            for i in T.Parallel(16):
                f[i] = 0.0
            A[i] = 1.0  # E:loop-var-after

    check(compile_error(main), "loop-var-after", "'i' was bound inside the T.Parallel loop", at="i]")


@pytest.mark.parametrize("stmt", ["try", "break", "continue", "def", "import"])
def test_unsupported_statements(stmt: str) -> None:
    @T.prim_func
    def with_try(A: T.Tensor((16,), "float32")):
        with T.Kernel(1) as bx:
            try:  # E:try
                A[0] = 1.0
            except Exception:  # noqa: BLE001, S110
                pass

    @T.prim_func
    def with_break(A: T.Tensor((16,), "float32")):
        with T.Kernel(1) as bx:
            for k in T.serial(4):
                break  # E:break

    @T.prim_func
    def with_continue(A: T.Tensor((16,), "float32")):
        with T.Kernel(1) as bx:
            for k in T.serial(4):
                continue  # E:continue

    @T.prim_func
    def with_def(A: T.Tensor((16,), "float32")):
        with T.Kernel(1) as bx:
            def helper(x):  # E:def
                return x

    @T.prim_func
    def with_import(A: T.Tensor((16,), "float32")):
        with T.Kernel(1) as bx:
            import math  # noqa: F401  # E:import

    kernels = {"try": (with_try, "try/except is not supported", "cannot catch"),
               "break": (with_break, "break is not supported", "T.alloc_var"),
               "continue": (with_continue, "continue is not supported", "under an `if`"),
               "def": (with_def, "a nested def is not supported", "outside the @T.prim_func"),
               "import": (with_import, "import is not supported", "outside the @T.prim_func")}
    pf, *expected = kernels[stmt]
    check(compile_error(pf), stmt, *expected)


def test_error_inside_a_helper_points_at_the_call() -> None:
    def copy_tile(src: object, dst: object) -> None:  # a Python helper: runs at compile time
        T.copy(src, dst)

    @T.prim_func
    def main(A: T.Tensor((16, 16), "float32")):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((8, 8), "float32")
            copy_tile(A[0:16, 0:4], f)  # E:helper

    check(compile_error(main), "helper", "T.copy", "16x4 vs 8x8")


# ---- interpreter arguments --------------------------------------------------------------------------
def _scale_kernel():
    M = T.symbolic("M")

    @T.prim_func
    def main(X: T.Tensor((M, 8), "float32"), Y: T.Tensor((M, 8), "float16"), alpha: T.float32):
        with T.Kernel(1) as bx:
            f = T.alloc_fragment((4, 8), "float32")
            T.copy(X[0, 0], f)
            T.copy(f, Y[0, 0])

    return tilec.compile(main)


@pytest.mark.parametrize("case", ["count", "ndim", "shape", "dtype", "symbolic", "type"])
def test_interpret_with_wrong_arguments(case: str) -> None:
    k = _scale_kernel()
    x, y = np.zeros((4, 8), np.float32), np.zeros((4, 8), np.float16)
    args, expected = {
        "count": ((x, y), ["takes 3 arguments", "X, Y, alpha", "got 2"]),
        "ndim": ((x[0], y, 1.0), ["'X'", "2 dimensions"]),
        "shape": ((np.zeros((4, 9), np.float32), y, 1.0), ["'X'", "dimension 1 must be 8, got 9"]),
        "dtype": ((x, y.astype(np.float32), 1.0), ["'Y'", "float16"]),
        "symbolic": ((x, np.zeros((5, 8), np.float16), 1.0), ["'Y'", "M"]),
        "type": ((x.tolist(), y, 1.0), ["'X'", "numpy array"]),
    }[case]
    with pytest.raises(tilec.TilecError) as info:
        k.interpret(*args)
    for e in expected:
        assert e in str(info.value), str(info.value)
