"""Host side of the hand-written sm_90a reference GEMM (test_gemm_sm90.cu): compile it, build its TMA tensor maps,
launch it on torch tensors. Shared by test_gemm_sm90.py and bench/gemm_sm90_reference.py.

ReferenceGemm(dtype, layout, bn, cluster)(a, b, c) computes c = a @ b.T (layout "nt": b is N x K) or c = a @ b
("nn": b is K x N), all row-major and contiguous along their rows, on torch's current stream.
"""
from __future__ import annotations

import ctypes
import functools
from pathlib import Path

from tilec.runtime import driver
from tilec.runtime.tensor_map import tensor_map_2d
from tilec.toolchain import compile_cubin

SOURCE = Path(__file__).with_name("test_gemm_sm90.cu")
BM, BK, THREADS = 128, 64, 384
STAGES = {256: 4, 128: 6}  # must match the TILEC_GEMM_SM90_KERNEL lines of test_gemm_sm90.cu
DTYPES = {"float16": "f16", "bfloat16": "bf16"}


def smem_bytes(bn: int, tma_store: bool) -> int:
    """Dynamic shared memory of a variant (test_gemm_sm90.cu's Smem<BN, STAGES, TMA_STORE>::kBytes)."""
    s = STAGES[bn]
    return s * (BM * BK * 2 + bn * BK * 2) + (4 * 64 * 64 * 2 if tma_store else 0) + 2 * s * 8 + 1024


def kernel_name(dtype: str, layout: str, bn: int, cluster: int, tma_store: bool = False) -> str:
    return f"gemm_sm90_{DTYPES[dtype]}_{layout}_128x{bn}x64_s{STAGES[bn]}_c{cluster}" + ("_tma" if tma_store else "")


@functools.cache
def compiled():
    """The sm_90a cubin of test_gemm_sm90.cu (content-hashed compile cache) with its ptxas report."""
    return compile_cubin(SOURCE.read_text(), "sm_90a", name="test_gemm_sm90")


_modules: dict[int, int] = {}  # context -> CUmodule


def _function(name: str, smem: int) -> int:
    ctx, _ = driver.ensure_context(None)
    mod = _modules.get(ctx)
    if mod is None:
        mod = _modules[ctx] = driver.module_load_data(compiled().cubin, "test_gemm_sm90")
    func = driver.module_get_function(mod, name)
    driver.func_set_attribute(func, driver.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem, name)
    return func


@functools.cache
def _sm_count(dev: int) -> int:
    return driver.multiprocessor_count(dev)


class ReferenceGemm:
    """One variant of the reference kernel. group_m: tile rows (in clusters) swept per raster group; tma_store: the
    epilogue stages C in shared memory and stores it with TMA (only the 128 x 256 tiles have that variant)."""

    def __init__(self, dtype: str = "float16", layout: str = "nt", bn: int = 256, cluster: int = 1,
                 group_m: int | None = None, tma_store: bool = False):
        if (dtype not in DTYPES or layout not in ("nt", "nn") or bn not in STAGES or cluster not in (1, 2)
                or (tma_store and bn != 256)):
            raise ValueError(f"no reference variant {dtype}/{layout}/128x{bn}/cluster {cluster}/tma_store {tma_store}")
        self.dtype, self.layout, self.bn, self.cluster, self.tma_store = dtype, layout, bn, cluster, tma_store
        self.group_m = group_m or max(16 // cluster, 1)
        self.name = kernel_name(dtype, layout, bn, cluster, tma_store)
        self.smem = smem_bytes(bn, tma_store)
        self._func = None
        self._resident: int | None = None
        self._maps: dict = {}

    def tensor_maps(self, a, b, c) -> tuple:
        """(A, B, C) kernel arguments for these tensors, cached on (pointer, shape, stride)."""
        key = tuple((t.data_ptr(), tuple(t.shape), tuple(t.stride())) for t in (a, b, c))
        maps = self._maps.get(key)
        if maps is None:
            ta = tensor_map_2d(a, BM, BK)
            if self.layout == "nt":  # B is N x K: each CTA of a cluster loads bn / cluster rows
                tb = tensor_map_2d(b, self.bn // self.cluster, BK)
            else:  # B is K x N: 64 x 64 boxes, one per 128-byte column panel
                tb = tensor_map_2d(b, BK, 64)
            # C: 64 x 64 store boxes. With N % 8 != 0 rows are not 16-byte aligned, TMA cannot store them, and the
            # kernel uses its register epilogue without reading this (zeroed) argument.
            tc = tensor_map_2d(c, 64, 64).kernel_arg() if self.tma_store and c.shape[1] % 8 == 0 else None
            maps = self._maps[key] = (ta.kernel_arg(), tb.kernel_arg(), tc or (ctypes.c_char * 128)())
        return maps

    def resident_clusters(self) -> int:
        """How many clusters of this kernel fit on the GPU at once (the persistent grid must not exceed it, or the
        last clusters would run after a whole wave): cuOccupancyMaxActiveClusters, else SMs / cluster size."""
        if self._resident is None:
            sms = _sm_count(driver.current_device())
            self._resident = sms // self.cluster
            fn = getattr(driver.lib(), "cuOccupancyMaxActiveClusters", None)
            if fn is not None and self.cluster > 1:
                cfg = driver.make_launch_config((sms, 1, 1), (THREADS, 1, 1), self.smem, (self.cluster, 1, 1))
                n = ctypes.c_int()
                if fn(ctypes.byref(n), ctypes.c_void_p(self._func), ctypes.byref(cfg)) == 0 and n.value > 0:
                    self._resident = min(self._resident, n.value)
        return self._resident

    def grid(self, m: int, n: int) -> int:
        num_m = -(-m // BM)
        tiles = -(-num_m // self.cluster) * -(-n // self.bn)
        return max(min(tiles, self.resident_clusters()), 1) * self.cluster

    def __call__(self, a, b, c, stream: int | None = None) -> None:
        import torch

        m, k = a.shape
        n = b.shape[0] if self.layout == "nt" else b.shape[1]
        kb = b.shape[1] if self.layout == "nt" else b.shape[0]
        if kb != k or tuple(c.shape) != (m, n):
            raise ValueError(f"shapes: a {tuple(a.shape)}, b {tuple(b.shape)} ({self.layout}), c {tuple(c.shape)}")
        if k == 0:
            raise ValueError("K = 0: nothing for the tensor cores to do (and TMA needs non-empty dims)")
        td = getattr(torch, self.dtype)
        if a.dtype != td or b.dtype != td or c.dtype != td or not c.is_contiguous():
            raise ValueError(f"{self.name} takes {self.dtype} a, b and a contiguous {self.dtype} c")
        if self._func is None:
            self._func = _function(self.name, self.smem)
        ta, tb, tc = self.tensor_maps(a, b, c)
        args = [ta, tb, tc, ctypes.c_void_p(c.data_ptr()), ctypes.c_int(m), ctypes.c_int(n), ctypes.c_int(k),
                ctypes.c_int(self.group_m)]
        params = (ctypes.c_void_p * len(args))(*[ctypes.addressof(x) for x in args])
        if stream is None:
            stream = torch.cuda.current_stream().cuda_stream
        driver.launch_kernel_ex(self._func, (self.grid(m, n), 1, 1), (THREADS, 1, 1), self.smem, stream, params,
                                cluster=(self.cluster, 1, 1), kernel=self.name)
