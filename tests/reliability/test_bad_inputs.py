"""Bad inputs to every public function of tilekernels: a clear Python exception, never a crash or a wrong answer.

The cases live in bad_input_gemm.py and bad_input_attention.py (flash_attn and flash_attn_varlen), the judging in
bad_input_harness.py.
Each case is one call built by a *mutation* of a valid call (wrong dtype, rank, shape, stride, device, alignment,
size, `out=`, argument kind) with sizes and dtypes drawn by hypothesis. A case is either

* **must_fail**: the call has to raise TypeError, ValueError or a tilekernels error (NoGPUError, CudaError, ...),
  with a non-empty message that names the offending argument (TypeError/ValueError); or
* **ambiguous**: the API may support it (a column-major `a`, an empty matrix, a ragged K...): it must then either
  raise as above or, on a GPU, return the right answer (checked against torch in fp32).

Anything else — another exception type, a silently accepted bad input, a wrong result, a CUDA error left behind —
fails the test; a crash kills the run, which is the point. Where the cases run:

* GPU machine (torch sees CUDA): real calls on CUDA tensors, results checked.
* CPU machine with tilekernels installed: `_C._test_mode` (a fake GPU, launches recorded, no memory touched) lets
  every argument check run on CPU tensors; without it, every call must fail (no GPU).
* torch missing: the non-tensor mutations (None, lists, numpy arrays, fake `__cuda_array_interface__` objects,
  bad keyword arguments) still run. tilekernels not importable: everything skips.

The number of cases tried goes to tests/reliability/last_run.json and the end of the pytest output.
Huge sizes never allocate: they use expanded (stride-0) views, meta tensors and fake array-interface objects.
"""
from __future__ import annotations

import os
import warnings
from typing import Any

import pytest
import reliability_report
from bad_input_attention import ATTN_MUTATIONS, VARLEN_MUTATIONS
from bad_input_gemm import GEMM_MUTATIONS, KNOWN_BUGS, TORCH_FREE
from bad_input_harness import Case, Env, import_tilekernels, judge
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# hypothesis' failure report imports mypy_extensions, whose DeprecationWarning would turn a failing case into an
# INTERNALERROR under the project's filterwarnings=error.
pytestmark = pytest.mark.filterwarnings("ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning")

EXAMPLES = int(os.environ.get("TILEKERNELS_FUZZ_EXAMPLES", "10"))   # hypothesis examples per mutation
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def env() -> Env:
    import numpy as np

    tk = import_tilekernels()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import torch
        except ImportError:
            torch = None
    errors = tuple(v for v in vars(tk).values() if isinstance(v, type) and issubclass(v, Exception)
                   and v.__module__.startswith("tilekernels"))
    allowed = (TypeError, ValueError) + errors
    if torch is not None and torch.cuda.is_available():
        mode, device = "gpu", "cuda"
    elif hasattr(getattr(tk, "_C", None), "_test_mode"):
        mode, device = "cpu-test-mode", "cpu"
    else:
        mode, device = "cpu", "cpu"
    reliability_report.MODE.update(mode=mode, torch=getattr(torch, "__version__", "missing"),
                                   tilekernels=getattr(tk, "__version__", "?"))
    return Env(tk, torch, np, mode, device, allowed)


# ----------------------------------------------------------------------------------------------------------------
# The tests.

def _needs(env: Env, fn_name: str, mutation: str, torch_free: bool) -> None:
    if not hasattr(env.tk, fn_name):
        pytest.skip(f"tilekernels has no {fn_name} yet")
    if env.torch is None and not torch_free:
        pytest.skip("needs torch to build the tensors of this case")


@pytest.mark.parametrize("mutation", [pytest.param(m, marks=pytest.mark.xfail(strict=False, reason=KNOWN_BUGS[m]))
                                      if m in KNOWN_BUGS else m for m in sorted(GEMM_MUTATIONS)])
@FUZZ
@given(data=st.data())
def test_gemm_bad_inputs(env: Env, mutation: str, data: st.DataObject) -> None:
    _needs(env, "gemm", mutation, mutation in TORCH_FREE)
    judge(env, "gemm", mutation, GEMM_MUTATIONS[mutation](env, data))


ATTN_CASES = {"flash_attn": ATTN_MUTATIONS, "flash_attn_varlen": VARLEN_MUTATIONS}


@pytest.mark.parametrize("fn_name,mutation", [(f, m) for f, muts in ATTN_CASES.items() for m in sorted(muts)])
@FUZZ
@given(data=st.data())
def test_flash_attn_bad_inputs(env: Env, fn_name: str, mutation: str, data: st.DataObject) -> None:
    _needs(env, fn_name, mutation, False)
    judge(env, fn_name, mutation, ATTN_CASES[fn_name][mutation](env, data))


# A wrong type must be a TypeError naming `device` (not pybind11's RuntimeError cast error).
DEVICE_ARGS = ["x", -1, 99, 2**70, 1.5, [0], "cuda:0", True]


@pytest.mark.parametrize("fn_name", ["device_info", "warmup"])
@pytest.mark.parametrize("device", DEVICE_ARGS, ids=lambda d: repr(d)[:24])
def test_device_argument(env: Env, fn_name: str, device: Any) -> None:
    """`device=` of the introspection functions: a bad ordinal is a clear error (CudaError on a GPU machine,
    NoGPUError without one), a wrong type a TypeError — never pybind11's RuntimeError cast error."""
    if not hasattr(env.tk, fn_name):
        pytest.skip(f"tilekernels has no {fn_name}")
    judge(env, fn_name, f"device={device!r}", Case((device,), blame=("device",)), fake_gpu=False)


def test_every_public_function_is_covered(env: Env) -> None:
    """A new public function gets bad-input cases here (or is listed as taking no tensors)."""
    no_tensors = {"built_archs", "kernels", "device_info", "warmup"}
    covered = {"gemm", "flash_attn", "flash_attn_varlen"} | no_tensors
    public = [n for n in getattr(env.tk, "__all__", dir(env.tk)) if not n.startswith("_")
              and callable(getattr(env.tk, n, None)) and not isinstance(getattr(env.tk, n), type)]
    missing = sorted(set(public) - covered)
    assert not missing, f"public functions without bad-input cases in {__file__}: {missing}"


@pytest.mark.parametrize("fn_name", ["built_archs", "kernels"])
def test_no_argument_functions(env: Env, fn_name: str) -> None:
    """Functions without arguments: reject a stray one with TypeError; called right, return a list."""
    if not hasattr(env.tk, fn_name):
        pytest.skip(f"tilekernels has no {fn_name}")
    judge(env, fn_name, "stray_argument", Case((1,)), fake_gpu=False)
    result = getattr(env.tk, fn_name)()
    assert isinstance(result, list)
    reliability_report.count(fn_name, "valid", "accepted")


def test_error_classes(env: Env) -> None:
    """The GPU-side errors are RuntimeError subclasses exported at the top level (documented contract)."""
    for name in ("NoGPUError", "CudaError"):
        cls = getattr(env.tk, name, None)
        assert isinstance(cls, type) and issubclass(cls, RuntimeError), f"tilekernels.{name} must subclass RuntimeError"
