"""Shared pytest setup: skip tests marked `nvcc` when no nvcc can be found."""
from __future__ import annotations

import functools

import pytest


@functools.cache
def _nvcc_missing() -> str:
    from tilec.errors import TilecCompileError
    from tilec.toolchain import find_nvcc

    try:
        find_nvcc()
    except TilecCompileError as e:
        return str(e).splitlines()[0]
    return ""


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("nvcc") is not None:
        reason = _nvcc_missing()
        if reason:
            pytest.skip(f"needs nvcc: {reason}")
