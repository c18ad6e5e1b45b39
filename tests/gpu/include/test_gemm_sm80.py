"""tilec::gemm_ss / gemm_rs (include/tilec/gemm_sm80.cuh) on the GPU: builds test_gemm_sm80.cu, a standalone CUDA
program comparing every case with a host fp32 reference, for the GPU at hand and runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
INCLUDE = ROOT / "tilec" / "include"
DRIVER = Path(__file__).with_suffix(".cu")


def _find_nvcc() -> str | None:
    found = shutil.which("nvcc")
    if found:
        return found
    for cand in ("/usr/local/cuda/bin/nvcc", "/usr/local/bin/nvcc"):
        if os.access(cand, os.X_OK):
            return cand
    return None


def _gpu_arch() -> str | None:
    """sm_XY of GPU 0, from torch when it sees a GPU, else from nvidia-smi; None without a GPU."""
    try:
        import torch

        if torch.cuda.is_available():
            major, minor = torch.cuda.get_device_capability(0)
            return f"sm_{major}{minor}"
    except ImportError:
        pass
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    proc = subprocess.run(
        [smi, "--query-gpu=compute_cap", "--format=csv,noheader"], check=False, capture_output=True, text=True
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    major, minor = proc.stdout.splitlines()[0].strip().split(".")
    return f"sm_{major}{minor}"


NVCC = _find_nvcc()
ARCH = _gpu_arch()
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(ARCH is None, reason="needs a CUDA GPU"),
    pytest.mark.skipif(NVCC is None, reason="needs nvcc"),
]


def test_gemm_sm80_matches_host_reference(tmp_path: Path) -> None:
    assert ARCH is not None and NVCC is not None
    if int(ARCH[3:]) < 80:
        pytest.skip(f"gemm_sm80 needs sm_80 or newer, this GPU is {ARCH}")
    exe = tmp_path / "test_gemm_sm80"
    build = subprocess.run(
        [NVCC, "-std=c++17", "-O3", f"-arch={ARCH}", f"-I{INCLUDE}", str(DRIVER), "-o", str(exe)],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    run = subprocess.run([str(exe)], check=False, capture_output=True, text=True, timeout=300)
    out = run.stdout + run.stderr
    print(out)
    failed = [line for line in out.splitlines() if line.endswith("FAIL")]
    assert run.returncode == 0 and "ALL PASS" in out, "failing cases:\n" + "\n".join(failed or [out])
