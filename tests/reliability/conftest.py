"""Reliability suite setup: skip `gpu` tests without a CUDA GPU, and report how many bad-input cases ran."""
from __future__ import annotations

import functools
import warnings

import pytest
import reliability_report


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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reliability_report.write()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if reliability_report.total():
        terminalreporter.write_line(reliability_report.summary_line())
        terminalreporter.write_line(f"reliability: report in {reliability_report.REPORT_PATH}")
