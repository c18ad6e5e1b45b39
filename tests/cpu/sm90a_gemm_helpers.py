"""Shared by the sm_90a GEMM lowering tests (TMA-store epilogue, persistent tiles): the catalogue's tile program at
the 128x256x64 tile, its consumer code, and its SASS (None without cuobjdump + nvdisasm)."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import numpy as np

import tilec
import tilec.language as T
from kernels.gemm import matmul
from tests.cpu.test_headers_sm90_compile import _find_cuobjdump, parse_sass

TILE = dict(block_M=128, block_N=256, block_K=64, threads=256, swizzle=8)


def gemm(dtype: str = "float16", trans_b: bool = True, target: str = "sm_90a", **kw: object) -> tilec.JITKernel:
    """The catalogue GEMM (symbolic M, N, K) at the 128x256x64 tile, 2 consumer warpgroups, raster panels of 8."""
    S = T.symbolic
    cfg = {**TILE, "num_stages": 3, **kw}
    return tilec.compile(matmul(S("M"), S("N"), S("K"), dtype=dtype, trans_b=trans_b, **cfg), target=target)


def consumer(src: str) -> str:
    """The consumer branch of a warp-specialized kernel's source (after its setmaxnreg_inc)."""
    return src[src.index("setmaxnreg_inc"):]


def sass_of(kern: tilec.JITKernel, tmp_path: Path) -> str | None:
    """The SASS of the kernel's cubin, or None when cuobjdump with nvdisasm is not installed."""
    tool = _find_cuobjdump()
    if tool is None:
        return None
    cubin = tmp_path / f"{kern.name}.cubin"
    cubin.write_bytes(kern.cubin)
    env = dict(os.environ, PATH=f"{Path(tool).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    dump = subprocess.run([tool, "--dump-sass", str(cubin)], check=True, capture_output=True, text=True, env=env,
                          timeout=300)
    return "\n".join(parse_sass(dump.stdout).values())


def clean_build_sass(kern: tilec.JITKernel, tmp_path: Path) -> str:
    """Assert the kernel compiled without spills, stack or serialized wgmmas; its SASS (skips the test without
    cuobjdump + nvdisasm)."""
    import pytest

    res = kern.resources
    assert res["spill_bytes"] == 0 and res["stack_bytes"] == 0, res
    assert "serialized" not in kern.compile().ptxas_log, kern.compile().ptxas_log
    sass = sass_of(kern, tmp_path)
    if sass is None:
        pytest.skip("cuobjdump with nvdisasm not found (pip install nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm)")
    return sass


def assert_hopper_sass(sass: str, tma_store: bool) -> None:
    """HGMMA and TMA loads (and TMA stores when asked; none otherwise), no local memory."""
    assert re.search(r"HGMMA\.64x256x16\.F32", sass), "no 64x256 HGMMA"
    assert "UTMALDG.2D" in sass, "no TMA load"
    assert ("UTMASTG.2D" in sass) == tma_store, "TMA stores not as expected"
    assert not re.search(r"\b(LDL|STL)\b", sass), "local memory traffic"


def interpret_gemm(kern: tilec.JITKernel, m: int, n: int, k: int, dtype: str, trans_b: bool) -> float:
    """Run the kernel's tile program in the numpy interpreter on random inputs; the relative error vs float64."""
    from tilec.interp.interpreter import round_to
    from tilec.ir import dtypes as dt

    rng = np.random.default_rng(0)
    store = np.float16 if dtype == "float16" else np.float32  # bf16 lives in float32 arrays in the interpreter
    a = rng.standard_normal((m, k)).astype(store)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(store)
    if dtype == "bfloat16":
        a, b = round_to(dt.bfloat16, a), round_to(dt.bfloat16, b)
    c = np.full((m, n), np.nan, store)
    kern.interpret(a, b, c)
    assert not np.isnan(c).any(), "NaN in the output: some element was never written"
    ref = a.astype(np.float64) @ (b.T if trans_b else b).astype(np.float64)
    return float(np.linalg.norm(c.astype(np.float64) - ref) / np.linalg.norm(ref))
