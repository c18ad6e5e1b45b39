"""Fixtures of the tilekernels CPU tests (test_tilekernels_cpu.py, test_tilekernels_attention_cpu.py): the real _C
built once per session from bindings/ with the hand-written table bindings/tests/fake_catalogue_table.inc, imported
as `tilekernels`, and its test mode (a fake GPU: no driver calls, launches recorded)."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PKG_SRC = ROOT / "bindings" / "tilekernels"


@pytest.fixture(scope="session")
def built_pkg(tmp_path_factory) -> Path:
    if shutil.which(os.environ.get("CXX", "g++")) is None:
        pytest.skip("no C++ compiler")
    if importlib.util.find_spec("pybind11") is None:
        pytest.skip("pybind11 is not installed (pip install pybind11)")
    root = tmp_path_factory.mktemp("tk_fake")
    pkg = root / "tilekernels"
    shutil.copytree(PKG_SRC, pkg, ignore=shutil.ignore_patterns("_C*.so", "__pycache__", "fatbins"))
    env = dict(os.environ, PYTHON=sys.executable, TILEKERNELS_CUDA_VERSION="13.0", TILEKERNELS_VERSION="0.1.0",
               TK_OPT="-O1")
    subprocess.run(["bash", str(ROOT / "bindings" / "build_local.sh"), "", str(pkg)], check=True, env=env,
                   capture_output=True)
    return root


@pytest.fixture(scope="session")
def tk(built_pkg):
    saved = {n: m for n, m in sys.modules.items() if n == "tilekernels" or n.startswith("tilekernels.")}
    for n in saved:
        del sys.modules[n]
    sys.path.insert(0, str(built_pkg))
    try:
        import tilekernels
    finally:
        sys.path.remove(str(built_pkg))
    assert tilekernels.__file__.startswith(str(built_pkg))
    yield tilekernels
    tilekernels._C._test_mode(False)
    for n in [n for n in sys.modules if n == "tilekernels" or n.startswith("tilekernels.")]:
        del sys.modules[n]
    sys.modules.update(saved)


@pytest.fixture
def fake_gpu(tk):
    """Turn on _C's test mode: fake_gpu((major, minor), smem_optin) picks the device."""
    def set_gpu(cc=(9, 0), smem=227 * 1024, name="Fake H100"):
        tk._C._test_mode(True, cc, name, smem)
    set_gpu()
    if importlib.util.find_spec("torch") is not None:  # CPU-only torch has no streams: a builtin stands in
        import torch

        sys.modules["tilekernels.gemm"]._is_torch(torch.empty(0))
        tk._C._set_torch(torch.float16, torch.bfloat16, torch.float32, abs)
    yield set_gpu
    tk._C._test_mode(False)


@pytest.fixture
def torch():
    t = pytest.importorskip("torch")
    return t
