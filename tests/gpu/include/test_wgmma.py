"""tilec::wgmma_gemm_ss / _ss_async / _rs (include/tilec/gemm_sm90.cuh) on an sm_90 GPU, one case per layout family:
test_wgmma.cu writes the operands as SmemTile tiles element by element, so a wrong descriptor (swizzle width, LBO/SBO,
major-ness, k-step advance), N chunking or fragment mapping shows up as O(1) errors against torch."""

from __future__ import annotations

import ctypes
import functools
import re
from pathlib import Path

import pytest

from tilec.runtime import driver
from tilec.toolchain import compile_cubin

pytestmark = [pytest.mark.gpu, pytest.mark.nvcc]

SOURCE = Path(__file__).with_suffix(".cu")
# name -> (dtype, M, N, K, GROUPS, TRANS_A, TRANS_B, CLEAR, MODE), read from the CASE lines.
_CASE = re.compile(r"^CASE\((\w+), (\w+), (\d+), (\d+), (\d+), (\d+), (\w+), (\w+), (\w+), (\d)\)", re.MULTILINE)
CASES = {m[0]: ("float16" if m[1] == "half_t" else "bfloat16", *map(int, m[2:6]), m[6] == "true", m[7] == "true",
                m[8] == "true", int(m[9])) for m in _CASE.findall(SOURCE.read_text())}
# What each case covers (descriptor family: A / B; the swizzle is the one SmemTile picks for the row bytes).
COVERS = {
    "ss_f16_128x256x64_g2_nt": "K-major A / K-major B, 128B, 2 warpgroups",
    "ss_bf16_128x256x64_g2_nn": "K-major A / N-major B over 4 panels (LBO), 128B",
    "ss_f16_128x128x64_g1_tn": "M-major A (2 panels, 2 slabs per warpgroup) / N-major B",
    "ss_bf16_128x64x128_g2_tt_clear": "M-major A / K-major B with 2 K panels, scale-d 0",
    "ss_f16_64x80x32_g1_nt": "64B K-major, N = 64 + 16 chunks",
    "ss_bf16_64x32x16_g1_nn": "32B K-major A / 64B N-major B",
    "ss_f16_64x16x32_g1_tn": "128B M-major A / 32B N-major B",
    "ss_f16_64x200x64_g1_nt": "N = 192 + 8 chunks (K-major B rows offset)",
    "ss_bf16_64x192x64_g1_nn_clear": "N-major B spanning 3 panels in one m64n192, scale-d 0",
    "ss_async_f16_128x256x64_g2_nn": "wgmma_gemm_ss_async<..., 0> + wgmma_wait_all",
    "rs_f16_128x128x64_g2_nn": "register A (wgmma_acc fragment), N-major B",
    "rs_bf16_64x256x32_g1_nt": "register A, 64B K-major B, m64n256",
    "rs_f16_128x96x16_g1_nt_clear": "register A over 2 slabs, 32B K-major B, scale-d 0",
}


def _torch():
    import torch

    if torch.cuda.get_device_capability() != (9, 0):
        pytest.skip(f"sm_90a cubins need an sm_90 GPU, this one is {torch.cuda.get_device_name()}")
    return torch


@functools.cache
def _module() -> int:
    driver.ensure_context(None)
    return driver.module_load_data(compile_cubin(SOURCE.read_text(), "sm_90a", name="test_wgmma").cubin, "test_wgmma")


def test_every_case_is_described() -> None:
    assert set(CASES) == set(COVERS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_wgmma_gemm_matches_torch(name: str) -> None:
    torch = _torch()
    dtype, m, n, k, groups, trans_a, trans_b, clear, _ = CASES[name]
    td = getattr(torch, dtype)
    gen = torch.Generator(device="cuda").manual_seed(len(name))
    a = torch.randn((k, m) if trans_a else (m, k), device="cuda", dtype=td, generator=gen)
    b = torch.randn((n, k) if trans_b else (k, n), device="cuda", dtype=td, generator=gen)
    c0 = torch.randn(m, n, device="cuda", dtype=torch.float32, generator=gen)
    out = torch.full((m, n), float("nan"), device="cuda", dtype=torch.float32)
    func = driver.module_get_function(_module(), name)
    smem = -(-m * k * 2 // 1024) * 1024 + n * k * 2 + 1024
    driver.func_set_attribute(func, driver.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem, name)
    args = [ctypes.c_void_p(t.data_ptr()) for t in (a, b, c0, out)]
    params = (ctypes.c_void_p * 4)(*[ctypes.addressof(x) for x in args])
    driver.launch_kernel(func, (1, 1, 1), (128 * groups, 1, 1), smem, torch.cuda.current_stream().cuda_stream, params,
                         name)
    torch.cuda.synchronize()
    op_a = a.float().T if trans_a else a.float()
    op_b = b.float().T if trans_b else b.float()
    ref = op_a @ op_b + (0 if clear else c0)
    assert not torch.isnan(out).any(), f"{name}: {int(torch.isnan(out).sum())} accumulator elements never stored"
    err = float((out - ref).norm() / ref.norm())
    assert err <= 1e-4, f"{name} ({COVERS[name]}): relative error {err:.3g}"
