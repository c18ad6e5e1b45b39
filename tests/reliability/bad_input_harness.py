"""The machinery of the bad-input suite (test_bad_inputs.py): the environment, a case, how a case is judged, and
the helpers that build tensors, wrong dtypes and ranks, misaligned views and fake arrays.

A case is **must_fail** (TypeError, ValueError or a tilekernels error with a non-empty message naming the argument)
or **ambiguous** (the API may support it: then it must either raise like that or, on a GPU, return the right answer).
"""
from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
import reliability_report
from hypothesis import strategies as st

TOLERANCE = 1e-2


@dataclass
class Env:
    tk: Any
    torch: Any | None
    np: Any
    mode: str              # "gpu" | "cpu-test-mode" | "cpu"
    device: str            # where the tensors of a "valid" call live
    allowed: tuple         # exception types a rejection may raise

    @property
    def gpu(self) -> bool:
        return self.mode == "gpu"

    @contextlib.contextmanager
    def calling(self):
        """Around each call: the fake GPU of _C in cpu-test-mode (off again afterwards, also on failure)."""
        if self.mode != "cpu-test-mode":
            yield
            return
        self.tk._C._test_mode(True)
        try:
            yield
        finally:
            self.tk._C._test_mode(False)


def import_tilekernels() -> Any:
    try:
        import tilekernels
    except ImportError as e:
        pytest.skip(f"tilekernels is not importable (build and install the wheel first): {e}")
    return tilekernels


@dataclass
class Case:
    args: tuple
    kwargs: dict = field(default_factory=dict)
    blame: tuple[str, ...] = ()              # argument names an argument error should mention (empty: any text)
    must_fail: bool = True
    check: Callable[[Any], None] | None = None   # for ambiguous cases that returned: asserts the result (GPU only)
    mixed: bool = False      # torch tensors next to other objects: the generic path, where _C's fake GPU does not
                             # take CPU tensors for GPU ones (so in cpu-test-mode another argument may be blamed)


def _names(message: str, names: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message) for n in names)


def judge(env: Env, fn_name: str, mutation: str, case: Case, fake_gpu: bool = True) -> None:
    """Call and judge one case (see the module docstring); `fake_gpu=False` keeps _C's test mode off."""
    fn = getattr(env.tk, fn_name)
    kwargs = case.kwargs
    if env.mode == "cpu-test-mode" and fake_gpu and fn_name in STREAM_FUNCTIONS and "stream" not in kwargs:
        kwargs = {**kwargs, "stream": 0}   # CPU torch has no current CUDA stream for _C to ask for
    try:
        with env.calling() if fake_gpu else contextlib.nullcontext():
            result = fn(*case.args, **kwargs)
            if env.gpu:
                env.torch.cuda.synchronize()   # an asynchronous kernel fault must surface here, not later
    except env.allowed as e:
        msg = str(e)
        reliability_report.count(fn_name, mutation, "rejected", e)
        assert msg.strip(), f"{fn_name}/{mutation}: {type(e).__name__} with an empty message"
        # With _C's fake GPU a device-only fault is no fault, so another (valid) rejection need not name it.
        strict = env.gpu or (env.mode == "cpu-test-mode" and not case.mixed and not (fake_gpu and mutation in DEVICE_ONLY))
        if strict and case.blame and isinstance(e, (TypeError, ValueError)):
            assert _names(msg, case.blame), (
                f"{fn_name}/{mutation}: the message does not name {' or '.join(case.blame)}: {type(e).__name__}: {msg}")
        assert "internal error" not in msg, f"{fn_name}/{mutation}: internal error on a user mistake: {msg}"
        if env.gpu:
            env.torch.cuda.synchronize()       # the rejection left no CUDA error behind
        return
    except BaseException as e:  # noqa: BLE001 - any other type is the finding this test exists for
        reliability_report.count(fn_name, mutation, "wrong-exception", e)
        raise AssertionError(f"{fn_name}/{mutation}: raised {type(e).__name__} (expected one of "
                             f"{', '.join(t.__name__ for t in env.allowed)}): {e}") from e
    # Without a GPU nothing can run; with _C's fake GPU, CPU tensors count as on the GPU by design.
    must_fail = case.must_fail or env.mode == "cpu"
    if env.mode == "cpu-test-mode" and fake_gpu and mutation in DEVICE_ONLY:
        must_fail = False
    if must_fail:
        reliability_report.count(fn_name, mutation, "accepted-bad-input")
        raise AssertionError(f"{fn_name}/{mutation}: accepted an invalid call and returned {type(result).__name__}")
    if env.gpu and case.check is not None:
        case.check(result)
    reliability_report.count(fn_name, mutation, "accepted")


# Mutations whose only fault is "not on a GPU", which _C's fake GPU (cpu-test-mode) accepts by design.
DEVICE_ONLY = {"a_on_cpu", "b_on_cpu", "out_on_cpu", "a_on_meta", "q_on_cpu", "cu_seqlens_on_cpu"}
# The functions that launch on a stream: CPU torch has no current CUDA stream for _C to ask for in cpu-test-mode.
STREAM_FUNCTIONS = {"gemm", "flash_attn", "flash_attn_varlen"}


# Building arguments.

def tensor(env: Env, shape: tuple, dtype: str, device: str | None = None) -> Any:
    t = env.torch
    return t.randn(*shape, dtype=getattr(t, dtype), device=device or env.device)


def offset_view(env: Env, shape: tuple, dtype: str, elements: int = 1) -> Any:
    """A contiguous-strided view whose data pointer is `elements` elements past an allocation (misaligned)."""
    n = 1
    for s in shape:
        n *= s
    return tensor(env, (n + elements,), dtype)[elements:].view(*shape)


class FakeCudaArray:
    """A fake `__cuda_array_interface__` array: describes memory that is never touched (must-fail cases only)."""

    def __init__(self, shape: tuple, typestr: str = "<f2", ptr: int = 1 << 40, strides: tuple | None = None):
        self.__cuda_array_interface__ = dict(shape=shape, typestr=typestr, data=(ptr, False), strides=strides,
                                             version=3)


BAD_DTYPES = ["float32", "float64", "int32", "int8", "uint8", "bool", "complex64", "float8_e4m3fn", "int64"]


def bad_dtype(env: Env, data: st.DataObject, shape: tuple) -> Any:
    dt = data.draw(st.sampled_from([d for d in BAD_DTYPES if hasattr(env.torch, d)]), "bad dtype")
    return env.torch.ones(*shape, device=env.device).to(getattr(env.torch, dt))


def bad_rank(env: Env, data: st.DataObject, t: Any) -> Any:
    kind = data.draw(st.sampled_from(["1d", "3d", "0d", "4d"]), "rank")
    return {"1d": lambda: t.reshape(-1), "3d": lambda: t.unsqueeze(0), "0d": lambda: t.reshape(-1)[0],
            "4d": lambda: t[None, None]}[kind]()


def host_value(env: Env, data: st.DataObject, shape: tuple) -> Any:
    kind = data.draw(st.sampled_from(["numpy", "list", "none", "float", "str", "int", "dict", "object"]), "kind")
    if kind == "numpy":
        return env.np.ones(shape, dtype=env.np.float16)
    if kind == "list":
        return [[1.0] * shape[1]] * shape[0]
    if kind == "object":
        return object()
    return {"none": None, "float": 1.5, "str": "a", "int": 3, "dict": {"shape": shape}}[kind]


def partner(env: Env, shape: tuple, dtype: str) -> Any:
    """A valid operand when torch is there; else a numpy array (itself invalid: blame then cannot be checked)."""
    if env.torch is not None:
        return tensor(env, shape, dtype)
    return env.np.ones(shape, dtype=env.np.float16)
