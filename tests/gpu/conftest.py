"""GPU tests: skip tests marked `gpu` when torch is missing or sees no CUDA device."""
from __future__ import annotations

import functools
import warnings

import pytest


@functools.cache
def _no_gpu_reason() -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's import-time warnings must not fail the run (filterwarnings=error)
        try:
            import torch
        except ImportError:
            return "torch is not installed"
        if not torch.cuda.is_available():
            return "torch.cuda.is_available() is False"
    return ""


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("gpu") is not None:
        reason = _no_gpu_reason()
        if reason:
            pytest.skip(f"needs a CUDA GPU: {reason}")
