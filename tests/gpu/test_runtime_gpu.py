"""GPU tests of tilec.runtime: compile small kernels with compile_cubin and launch them through Launcher."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from tilec.errors import TilecRuntimeError
from tilec.metadata import KernelMetadata, LaunchSpec, ParamSpec
from tilec.runtime import Launcher, driver
from tilec.toolchain import compile_cubin, current_device_target, parse_target

pytestmark = [pytest.mark.gpu, pytest.mark.nvcc]

VADD = r"""
extern "C" __global__ void vadd(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ c,
                                float alpha, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) c[i] = alpha * a[i] + b[i];
}
"""

VADD_META = KernelMetadata(
    name="vadd",
    params=(ParamSpec("A", "tensor", "float32", ("N",)), ParamSpec("B", "tensor", "float32", ("N",)),
            ParamSpec("C", "tensor", "float32", ("N",)), ParamSpec("alpha", "scalar", "float32")),
    sym_dims=("N",), launches=(LaunchSpec("vadd", ("(N + 255) // 256", "1", "1"), 256),))

# Two entries launched in sequence (like a split + combine), 64 KiB of dynamic shared memory in the first one
# (above the 48 KiB default), fp16 tensors and an fp16 + int32 scalar.
TWO_STAGE = r"""
#include <cuda_fp16.h>
extern "C" __global__ void reverse_blocks(const __half* __restrict__ x, __half* __restrict__ tmp, __half scale,
                                          int shift, int m, int n) {
  extern __shared__ __half buf[];  // 32768 halves = 64 KiB
  int row = blockIdx.x;
  for (int j = threadIdx.x; j < n; j += blockDim.x) buf[j] = x[row * n + j];
  __syncthreads();
  for (int j = threadIdx.x; j < n; j += blockDim.x) tmp[row * n + j] = __hmul(buf[n - 1 - j], scale);
}
extern "C" __global__ void add_shift(const __half* __restrict__ x, __half* __restrict__ tmp, __half scale,
                                     int shift, int m, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < m * n) tmp[i] = __hadd(tmp[i], __int2half_rn(shift));
}
"""

TWO_STAGE_META = KernelMetadata(
    name="two_stage",
    params=(ParamSpec("X", "tensor", "float16", ("M", "N")), ParamSpec("T", "tensor", "float16", ("M", "N")),
            ParamSpec("scale", "scalar", "float16"), ParamSpec("shift", "scalar", "int32")),
    sym_dims=("M", "N"),
    launches=(LaunchSpec("reverse_blocks", ("M", 1, 1), 128, 64 * 1024),
              LaunchSpec("add_shift", ("(M * N + 127) // 128", 1, 1), 128)))

CLUSTER = r"""
extern "C" __global__ void cluster_rank(int* out, int n) {
  unsigned r;
  asm volatile("mov.u32 %0, %%cluster_ctarank;" : "=r"(r));
  if (threadIdx.x == 0 && blockIdx.x < n) out[blockIdx.x] = (int)r;
}
"""


@pytest.fixture(scope="module")
def torch():
    import torch

    return torch


@pytest.fixture(scope="module")
def vadd() -> Launcher:
    res = compile_cubin(VADD, current_device_target(), name="vadd")
    assert res.resources["spill_bytes"] == 0
    return Launcher(res.cubin, VADD_META)


@pytest.mark.parametrize("n", [1, 1000, 1 << 20])
def test_vadd_torch(torch, vadd: Launcher, n: int) -> None:
    a, b = torch.randn(n, device="cuda"), torch.randn(n, device="cuda")
    c = torch.full((n,), float("nan"), device="cuda")
    vadd(a, b, c, 2.5)
    torch.cuda.synchronize()
    torch.testing.assert_close(c, 2.5 * a + b)


def test_vadd_empty_and_errors(torch, vadd: Launcher) -> None:
    e = torch.empty(0, device="cuda")
    vadd(e, e, e, 1.0)  # an empty grid launches nothing
    a = torch.randn(8, 2, device="cuda")
    with pytest.raises(TilecRuntimeError, match="call .contiguous"):
        vadd(a[:, 0], a[:, 1], torch.empty(8, device="cuda"), 1.0)
    with pytest.raises(TilecRuntimeError, match="expected a float32 tensor, got float16"):
        vadd(a[:, 0].contiguous().half(), a[:, 0].contiguous(), a[:, 1].contiguous(), 1.0)
    with pytest.raises(TilecRuntimeError, match="expected a CUDA tensor"):
        vadd(torch.zeros(8), torch.zeros(8), torch.zeros(8), 1.0)


def test_vadd_on_a_side_stream(torch, vadd: Launcher) -> None:
    n = 1 << 22
    s = torch.cuda.Stream()
    with torch.cuda.stream(s):
        a, b = torch.randn(n, device="cuda"), torch.randn(n, device="cuda")
        c = torch.empty(n, device="cuda")
        vadd(a, b, c, -1.0)  # launched on s, ordered after the randn on s
        ref = b - a
    s.synchronize()
    torch.testing.assert_close(c, ref)


def test_vadd_from_threads(torch, vadd: Launcher) -> None:
    # fresh threads have no current CUDA context until the launcher makes the device's primary one current
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            g = torch.Generator(device="cuda").manual_seed(seed)
            a = torch.randn(5000, device="cuda", generator=g)
            b = torch.randn(5000, device="cuda", generator=g)
            c = torch.empty_like(a)
            for _ in range(20):
                vadd(a, b, c, 2.0)
            torch.cuda.synchronize()
            torch.testing.assert_close(c, 2 * a + b)
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_vadd_dlpack_and_cai(torch, vadd: Launcher) -> None:
    class DLPackOnly:
        def __init__(self, t):
            self.t = t

        def __dlpack__(self, stream=None):
            return self.t.__dlpack__()

        def __dlpack_device__(self):
            return self.t.__dlpack_device__()

    class CAIOnly:  # like a numba device array: no device attribute, the runtime asks the driver
        def __init__(self, t):
            self.__cuda_array_interface__ = {"shape": tuple(t.shape), "typestr": "<f4", "data": (t.data_ptr(), False),
                                             "version": 3, "strides": None}

    n = 4097
    a, b, c = (torch.randn(n, device="cuda") for _ in range(3))
    torch.cuda.synchronize()
    vadd(DLPackOnly(a), CAIOnly(b), DLPackOnly(c), 3.0)
    driver.ctx_synchronize()
    torch.testing.assert_close(c, 3.0 * a + b)


def test_vadd_raw_driver_memory(vadd: Launcher) -> None:
    n = 3000
    driver.ensure_context(None)
    ha, hb = np.arange(n, dtype=np.float32), np.ones(n, dtype=np.float32)
    ptrs = [driver.mem_alloc(n * 4) for _ in range(3)]
    try:
        driver.memcpy_htod(ptrs[0], ha, n * 4)
        driver.memcpy_htod(ptrs[1], hb, n * 4)

        class Arr:
            def __init__(self, p):
                self.__cuda_array_interface__ = {"shape": (n,), "typestr": "<f4", "data": (p, False), "version": 3}

        vadd(*(Arr(p) for p in ptrs), 0.5)
        driver.ctx_synchronize()
        out = np.empty(n, np.float32)
        driver.memcpy_dtoh(out, ptrs[2], n * 4)
        np.testing.assert_allclose(out, 0.5 * ha + hb)
    finally:
        for p in ptrs:
            driver.mem_free(p)


def test_two_launches_big_smem_and_half_scalars(torch) -> None:
    res = compile_cubin(TWO_STAGE, current_device_target(), name="two_stage")
    launcher = Launcher(res.cubin, TWO_STAGE_META)
    m, n = 37, 1000
    x = torch.randn(m, n, device="cuda", dtype=torch.float16)
    t = torch.full_like(x, float("nan"))
    launcher(x, t, 0.5, 3)
    launcher(x, t, 0.5, 3)  # second call: module and smem attribute already set up
    torch.cuda.synchronize()
    torch.testing.assert_close(t, x.flip(1) * 0.5 + 3)


def test_cluster_launch(torch) -> None:
    dev = torch.cuda.current_device()
    if torch.cuda.get_device_capability(dev) < (9, 0):
        pytest.skip("thread block clusters need sm_90+")
    res = compile_cubin(CLUSTER, parse_target("90"), name="cluster_rank")
    meta = KernelMetadata("cluster_rank", (ParamSpec("out", "tensor", "int32", ("N",)),), ("N",),
                          (LaunchSpec("cluster_rank", ("N", 1, 1), 32, 0, (4, 1, 1)),))
    out = torch.full((16,), -1, dtype=torch.int32, device="cuda")
    Launcher(res.cubin, meta)(out)
    torch.cuda.synchronize()
    assert out.tolist() == [i % 4 for i in range(16)]


def test_wrong_arch_cubin_is_explained(torch) -> None:
    cc = torch.cuda.get_device_capability()
    other = "sm_120" if cc[0] != 12 else "sm_80"
    res = compile_cubin(VADD, other, name="vadd")
    meta = KernelMetadata(VADD_META.name, VADD_META.params, VADD_META.sym_dims, VADD_META.launches, target=other)
    a = torch.zeros(4, device="cuda")
    with pytest.raises(TilecRuntimeError, match=rf"compiled for {other}\) cannot be loaded on GPU .*compute "
                                                rf"capability {cc[0]}\.{cc[1]}.*CUDA_ERROR_NO_BINARY_FOR_GPU"):
        Launcher(res.cubin, meta)(a, a, a, 1.0)


def test_driver_queries(torch) -> None:
    dev = driver.current_device()
    assert driver.compute_capability(dev) == torch.cuda.get_device_capability(dev)
    assert driver.multiprocessor_count(dev) == torch.cuda.get_device_properties(dev).multi_processor_count
    assert driver.max_shared_memory_optin(dev) >= 99 * 1024
    assert driver.driver_version() >= 12000 and driver.device_name(dev)
    t = current_device_target()
    assert t.suffix == "" and t.cc[0] == torch.cuda.get_device_capability(dev)[0]
