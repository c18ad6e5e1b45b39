"""tilekernels without a GPU: the Python layer over a mocked _C, and the real _C (built here with the hand-written
table bindings/tests/fake_catalogue_table.inc, in its test mode: no driver calls, launches recorded) for the
checks, the dispatch rules, the launch arguments and the error messages; plus an installed wheel when present."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import threading
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PKG_SRC = ROOT / "bindings" / "tilekernels"


def _has_libcuda() -> bool:
    import ctypes

    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    return True


# -- the Python layer over a mocked _C -------------------------------------------------------------------------

class _FakeC(types.ModuleType):
    """Records what the Python layer hands to _C."""

    def __init__(self):
        super().__init__("tk_mock._C")
        self.calls = []
        self.__version__ = "9.9.9"
        self.cuda_version = "13.0"

    def _init(self, pkg_dir):
        self.calls.append(("_init", pkg_dir))

    def gemm_torch(self, a, b, out, stream):
        self.calls.append(("gemm_torch", a, b, out, stream))
        return "torch-out"

    def gemm_check(self, a, b):
        self.calls.append(("gemm_check", a, b))
        return a[1][0], b[1][1]

    def gemm_raw(self, a, b, out, stream):
        self.calls.append(("gemm_raw", a, b, out, stream))

    def _set_torch(self, *args):
        self.calls.append(("_set_torch",) + args)

    def dlpack_info(self, capsule):
        return capsule  # the fake producers below hand out the tuple itself

    def built_archs(self):
        return ["sm_80"]


@pytest.fixture
def mock_tk():
    """The package sources imported as `tk_mock` with a fake `_C`."""
    fake = _FakeC()
    names = [n for n in sys.modules if n == "tk_mock" or n.startswith("tk_mock.")]
    for n in names:
        del sys.modules[n]
    sys.modules["tk_mock._C"] = fake
    spec = importlib.util.spec_from_file_location("tk_mock", PKG_SRC / "__init__.py",
                                                  submodule_search_locations=[str(PKG_SRC)])
    mod = importlib.util.module_from_spec(spec)
    sys.modules["tk_mock"] = mod
    spec.loader.exec_module(mod)
    yield mod, fake, sys.modules["tk_mock.gemm"]
    for n in [n for n in sys.modules if n == "tk_mock" or n.startswith("tk_mock.")]:
        del sys.modules[n]


class _CAIArray:
    """A device array known only through __cuda_array_interface__ (like numba's)."""

    def __init__(self, shape, typestr="<f2", strides=None, ptr=0x7F0000000000, device=None):
        self.__cuda_array_interface__ = {"shape": shape, "typestr": typestr, "strides": strides,
                                         "data": (ptr, False), "version": 3}
        if device is not None:
            self.device = types.SimpleNamespace(id=device)


class _DLPackArray:
    def __init__(self, dev_type, info):
        self._dev, self._info = dev_type, info

    def __dlpack_device__(self):
        return (self._dev, 0)

    def __dlpack__(self, stream=None):
        self.stream = stream
        return self._info


def test_exceptions_hierarchy(mock_tk):
    tk, _, _ = mock_tk
    assert issubclass(tk.NoGPUError, tk.CudaError) and issubclass(tk.UnsupportedGPUError, tk.CudaError)
    assert issubclass(tk.CudaError, tk.TilekernelsError) and issubclass(tk.TilekernelsError, RuntimeError)
    assert set(tk.__all__) >= {"gemm", "built_archs", "kernels", "warmup", "__version__", "CudaError", "NoGPUError"}
    assert tk.__version__ == "9.9.9"


def test_init_passes_package_dir(mock_tk):
    _, fake, _ = mock_tk
    assert fake.calls[0] == ("_init", str(PKG_SRC))


def test_cai_array_described_in_elements(mock_tk):
    tk, fake, _ = mock_tk
    a = _CAIArray((64, 32), strides=(64, 2), device=1)
    b = _CAIArray((32, 16), device=1)
    out = _CAIArray((64, 16), device=1)
    assert tk.gemm(a, b, out=out, stream=5) is out
    name, ra, rb, _, stream = fake.calls[-1]
    assert name == "gemm_raw" and stream == 5
    assert ra == (0x7F0000000000, (64, 32), (32, 1), "float16", 1)
    assert rb == (0x7F0000000000, (32, 16), None, "float16", 1)


def test_cai_without_device_is_unknown_and_odd_strides_rejected(mock_tk):
    tk, fake, _ = mock_tk
    a, b = _CAIArray((8, 8), typestr="<f4"), _CAIArray((8, 8), typestr="<f4")
    tk.gemm(a, b, out=_CAIArray((8, 8)))
    ra = fake.calls[-1][1]
    assert ra[3] == "float32" and ra[4] == -2  # _C asks the driver where the memory lives
    with pytest.raises(ValueError, match="not multiples of its element size 2"):
        tk.gemm(_CAIArray((8, 8), strides=(16, 3)), b, out=b)


def test_non_torch_output_needs_out(mock_tk):
    tk, _, _ = mock_tk
    with pytest.raises(TypeError, match=r"pass out= \(an \[8, 4\] float16 CUDA array\)"):
        tk.gemm(_CAIArray((8, 16)), _CAIArray((16, 4)))


def test_host_and_foreign_arguments(mock_tk):
    tk, _, _ = mock_tk
    np = pytest.importorskip("numpy")
    with pytest.raises(ValueError, match=r"a \(numpy.ndarray\) lives on the CPU; expected a CUDA array"):
        tk.gemm(np.ones((8, 8), np.float16), np.ones((8, 8), np.float16))

    class Host:
        __array_interface__: dict = {}  # noqa: RUF012 - a marker only

    with pytest.raises(ValueError, match="a is a host array.*copy it to the GPU"):
        tk.gemm(Host(), Host())
    with pytest.raises(TypeError, match="a is a list; expected a CUDA array"):
        tk.gemm([[1.0]], [[1.0]])


def test_dlpack_device_checked_before_export(mock_tk):
    tk, fake, _ = mock_tk
    with pytest.raises(ValueError, match="lives on the CPU; expected a CUDA array"):
        tk.gemm(_DLPackArray(1, None), _DLPackArray(1, None))
    info = (0x1000, (8, 8), None, "bfloat16", 2, 3)
    a, b, o = _DLPackArray(2, info), _DLPackArray(2, info), _DLPackArray(2, info)
    tk.gemm(a, b, out=o)
    assert a.stream == 1  # no stream given: the legacy default stream, told to the producer
    assert fake.calls[-1][1] == (0x1000, (8, 8), None, "bfloat16", 3)


def test_torch_tensors_take_one_call(mock_tk):
    torch = pytest.importorskip("torch")
    tk, fake, gemm_mod = mock_tk
    a, b = torch.empty(4, 8, dtype=torch.float16), torch.empty(8, 8, dtype=torch.float16)
    assert tk.gemm(a, b) == "torch-out"
    assert fake.calls[-1] == ("gemm_torch", a, b, None, None)
    setup = [c for c in fake.calls if c[0] == "_set_torch"]
    assert len(setup) == 1 and setup[0][1:4] == (torch.float16, torch.bfloat16, torch.float32)
    assert type(a) in gemm_mod._TORCH_TYPES
    p = torch.nn.Parameter(torch.empty(8, 8, dtype=torch.float16))
    tk.gemm(a, p, stream=7)
    assert fake.calls[-1] == ("gemm_torch", a, p, None, 7)


def test_import_does_not_import_torch():
    code = ("import sys, types\n"
            "c = types.ModuleType('tilekernels._C'); c._init = lambda d: None; c.__version__ = '0'\n"
            "c.gemm_torch = None; sys.modules['tilekernels._C'] = c\n"
            "import tilekernels\n"
            "bad = [m for m in ('torch', 'tilec', 'numpy') if m in sys.modules]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT / "bindings")


# -- the real _C, built with the fake table ----------------------------------------------------------------------

def _mats(torch, m, n, k, dtype=None, trans=False):
    dtype = dtype or torch.float16
    a = torch.randn(m, k).to(dtype)
    b = torch.randn(n, k).to(dtype).T if trans else torch.randn(k, n).to(dtype)
    return a, b


def test_real_c_metadata(tk):
    assert tk.__version__ == "0.1.0" and tk._C.cuda_version == "13.0"
    assert tk.built_archs() == ["sm_80", "sm_90a"]
    ks = tk.kernels()
    # then the attention rows; the fake's row 0 (min_k 4096) reuses kernel 2, which reports its later row (3)
    assert [k["preference"] for k in ks if k["family"] == "gemm"] == list(range(1, 8))
    assert [k["min_k"] for k in ks if k["family"] == "gemm"] == [0] * 7
    assert ks[5]["trans_b"] and ks[5]["archs"] == ["sm_80"] and ks[0]["cluster"] == (2, 1, 1)
    assert ks[0]["tensor_maps"] == [{"tensor": 0, "data_type": 6, "box": [64, 128], "swizzle": 3},
                                    {"tensor": 1, "data_type": 6, "box": [64, 64], "swizzle": 3}]
    assert ks[1]["tensor_maps"] == []


@pytest.mark.parametrize("arch,cc,ok", [
    ("sm_90a", (9, 0), True), ("sm_90a", (10, 0), False), ("sm_80", (8, 6), True), ("sm_86", (8, 0), False),
    ("sm_80", (9, 0), False), ("compute_80", (12, 0), True), ("compute_90", (8, 9), False),
    ("compute_90a", (10, 0), False), ("sm_100f", (10, 3), True), ("sm_120f", (12, 1), True),
    ("sm_100f", (12, 0), False), ("sm_100a", (10, 0), True), ("bogus", (9, 0), False), ("sm_9", (9, 0), False),
])
def test_arch_runs_on(tk, arch, cc, ok):
    assert tk._C.arch_runs_on(arch, *cc) is ok


@pytest.mark.parametrize("cc,smem,m,want", [
    ((9, 0), 227 * 1024, 1000, "gemm_f16_nn_128x256x64_s4_t384_sm90a"),  # exact `a` arch first
    ((9, 0), 227 * 1024, 1, "gemm_f16_nn_128x256x64_s4_t384_sm90a"),
    ((8, 0), 163 * 1024, 32, "gemm_f16_nn_64x64x32_s3_t128_sm80"),  # max_m admits small M
    ((8, 0), 163 * 1024, 65, "gemm_f16_nn_128x128x64_s4_t256_sm80"),
    ((8, 6), 99 * 1024, 1000, "gemm_f16_nn_128x128x32_s2_t128_sm80"),  # 128 KiB of smem does not fit sm_86
    ((12, 0), 99 * 1024, 1000, "gemm_f16_nn_128x128x32_s2_t128_sm80"),  # through compute_80 PTX
    ((10, 0), 227 * 1024, 1000, "gemm_f16_nn_128x128x64_s4_t256_sm80"),  # sm_90a does not carry forward
])
def test_dispatch_rules(tk, fake_gpu, torch, cc, smem, m, want):
    fake_gpu(cc, smem)
    a, b = _mats(torch, m, 64, 64)
    tk.gemm(a, b)
    assert tk._C._test_last_launch()["kernel"] == want


@pytest.mark.parametrize("k,want", [(4088, "gemm_f16_nn_128x256x64_s4_t384_sm90a"),
                                    (4096, "gemm_f16_nn_128x128x64_s4_t256_sm80"),  # the fake's min_k row
                                    (8200, "gemm_f16_nn_128x128x64_s4_t256_sm80")])
def test_dispatch_min_k(tk, fake_gpu, torch, k, want):
    """A row with min_k serves only K >= min_k; below it the next matching row does."""
    fake_gpu((9, 0), 227 * 1024)
    a, b = _mats(torch, 200, 64, k)
    tk.gemm(a, b)
    assert tk._C._test_last_launch()["kernel"] == want


def test_launch_arguments(tk, fake_gpu, torch):
    a, b = _mats(torch, 300, 520, 64)
    c = tk.gemm(a, b)
    r = tk._C._test_last_launch()
    assert r["grid"] == (3, 3, 1) and r["block"] == 384 and r["smem"] == 200 * 1024 and r["cluster"] == (2, 1, 1)
    assert r["tensors"] == [a.data_ptr(), b.data_ptr(), c.data_ptr()] and r["ints"] == [300, 520, 64]
    assert c.shape == (300, 520) and c.dtype == torch.float16
    fake_gpu((8, 0), 163 * 1024)  # an sm80 row: pointers and int32 dims only, no tensor maps
    c = tk.gemm(a, b)
    r = tk._C._test_last_launch()
    assert r["kernel"] == "gemm_f16_nn_128x128x64_s4_t256_sm80" and r["tmaps"] == [] and r["encodes"] == 0
    assert [len(p) for p in r["params"]] == [8, 8, 8, 4, 4, 4]
    assert [int.from_bytes(p, "little") for p in r["params"]] == [a.data_ptr(), b.data_ptr(), c.data_ptr(),
                                                                    300, 520, 64]


# -- TMA tensor maps (the sm90a rows of the fake table) --------------------------------------------------------

# The fake table's sm90a rows mirror the real sm90a GEMM variants (kernels/gemm.py, lowering "sm90a"): these are
# their LaunchSpec.tensor_maps (test_fake_tensor_maps_mirror_the_real_sm90a_variants checks it).
def _sm90a_tensor_maps(trans_b: bool) -> tuple:
    from tilec.metadata import TensorMapSpec

    a = TensorMapSpec("A_tmap0", "A", "float16", ("K", "M"), ("(2 * K)",), (64, 128), 128)
    if trans_b:
        return a, TensorMapSpec("B_tmap0", "B", "float16", ("K", "N"), ("(2 * K)",), (64, 256), 128)
    return a, TensorMapSpec("B_tmap0", "B", "float16", ("N", "K"), ("(2 * N)",), (64, 64), 128)


def _jit_encode_args(specs, ptrs: dict, env: dict, monkeypatch) -> list[dict]:
    """What the JIT launcher hands cuTensorMapEncodeTiled for these TensorMapSpecs: its own code path
    (Launcher._fill_tensor_maps -> tilec.runtime.tensor_map.encode_tiled, which validates and reverses the
    outermost-first arguments back) with the driver call recorded instead of made."""
    import ctypes

    from tilec.runtime import driver, launcher

    calls = []

    def encode(data_type, address, dims, strides, box, element_strides, interleave, swizzle, l2, oob):
        calls.append({"data_type": data_type, "rank": len(dims), "address": address, "dims": list(dims),
                      "strides": list(strides), "box": list(box), "element_strides": list(element_strides),
                      "interleave": interleave, "swizzle": swizzle, "l2_promotion": l2, "oob_fill": oob})
        return bytes(128)

    monkeypatch.setattr(driver, "tensor_map_encode_tiled", encode)
    names = frozenset(env)
    order = list(ptrs)
    maps = [(order.index(t.param), t.dtype, [launcher._compile_expr(d, names) for d in t.dims],
             [launcher._compile_expr(d, names) for d in t.strides_bytes], tuple(t.box), int(t.swizzle),
             (ctypes.c_char * 128)()) for t in specs]
    launcher.Launcher._fill_tensor_maps(types.SimpleNamespace(_tmap_cache={}), maps, list(ptrs.values()), env)
    return calls


@pytest.mark.parametrize("trans_b", [False, True], ids=["nn", "nt"])
def test_tensor_map_params_match_the_jit(tk, fake_gpu, torch, monkeypatch, trans_b):
    M, N, K = 1000, 1032, 520
    a, b = _mats(torch, M, N, K, trans=trans_b)
    c = tk.gemm(a, b)
    r = tk._C._test_last_launch()
    assert r["kernel"] == f"gemm_f16_{'nt' if trans_b else 'nn'}_128x256x64_s4_t384_sm90a"
    # kernelParams: A, B, C pointers, the int32 dims (dim_order), then one 128-byte CUtensorMap per map, in order.
    ints = [M, N, K] if not trans_b else [M, K, N]
    assert [len(p) for p in r["params"]] == [8, 8, 8, 4, 4, 4, 128, 128]
    assert [int.from_bytes(p, "little") for p in r["params"][:6]] == [a.data_ptr(), b.data_ptr(), c.data_ptr(), *ints]
    assert all(addr % 64 == 0 for addr in r["param_addrs"][6:])  # CUtensorMap buffers are aligned (128 here)
    assert [r["params"][6 + j] for j in range(2)] == [t["fake_bytes"] for t in r["tmaps"]]
    assert r["params"][6][:8] == b"TKFAKEMP" and r["encodes"] == 2
    # The encode arguments equal the JIT's for the same kernel (B's data pointer is b's: w.T views share it).
    want = _jit_encode_args(_sm90a_tensor_maps(trans_b), {"A": a.data_ptr(), "B": b.data_ptr(), "C": c.data_ptr()},
                            {"M": M, "N": N, "K": K}, monkeypatch)
    got = [{k: v for k, v in t.items() if k != "fake_bytes"} for t in r["tmaps"]]
    assert got == want
    # Spelled out: A [M, K] -> dims (K, M), row stride 2K bytes, box 64 x 128, SWIZZLE_128B, L2 256B, zero fill.
    assert want[0]["dims"] == [K, M] and want[0]["strides"] == [2 * K] and want[0]["box"] == [64, 128]
    assert want[1]["dims"] == ([K, N] if trans_b else [N, K]) and want[1]["strides"] == [2 * K if trans_b else 2 * N]
    assert {(t["data_type"], t["swizzle"], t["l2_promotion"], t["oob_fill"], t["interleave"]) for t in want} == {
        (6, 3, 3, 0, 0)}


def test_fake_tensor_maps_mirror_the_real_sm90a_variants():
    """The hand-written sm90a rows of fake_catalogue_table.inc describe what the compiler emits for the real sm90a
    GEMM variants (if the sm90a lowering changes its TMA boxes, update _sm90a_tensor_maps and the fake table)."""
    import tilec
    from kernels import gemm

    for trans_b in (False, True):
        v = next(v for v in gemm.variants() if v.lowering == "sm90a" and v.dtype == "float16" and v.trans_b == trans_b
                 and v.config.max_m == 0 and v.config.smem_epilogue)  # the large-tile pick group's first row (the
        # small-M rows have smaller boxes and no C map, the long-K row no C map)
        got = tilec.compile(v.build(), target="sm_90a").metadata.launches[0].tensor_maps
        # The loads of A and B as the fake rows have them; the real variant adds C's (its TMA-store epilogue).
        assert got[:2] == _sm90a_tensor_maps(trans_b), v.name
        assert [t.param for t in got[2:]] == ["C"], v.name


def test_tensor_map_cache(tk, fake_gpu, torch):
    a, b = _mats(torch, 1000, 1032, 520)
    c = torch.empty(1000, 1032, dtype=torch.float16)
    tk.gemm(a, b, out=c)
    assert tk._C._test_last_launch()["encodes"] == 2
    for _ in range(3):
        tk.gemm(a, b, out=c)  # same kernel, pointers and sizes: both maps come from the cache
    assert tk._C._test_last_launch()["encodes"] == 2
    a2 = a.clone()
    tk.gemm(a2, b, out=c)  # a new A: one encode (B's map still cached)
    assert tk._C._test_last_launch()["encodes"] == 3
    tk.gemm(a[:999], b, out=c[:999])  # another M: A's map changes
    r = tk._C._test_last_launch()
    assert r["encodes"] == 4 and r["tmaps"][0]["dims"] == [520, 999]
    for m in range(65, 999):  # many other maps go through: the cache is bounded (128 maps), the first A is evicted
        tk.gemm(a[:m], b, out=c[:m])  # (B, used by every call, stays: a miss replaces the less recently used way)
    before = tk._C._test_last_launch()["encodes"]
    tk.gemm(a, b, out=c)
    assert tk._C._test_last_launch()["encodes"] == before + 1
    fake_gpu()  # the test mode restarts cold (fake descriptors never outlive it)
    tk.gemm(a, b, out=c)
    assert tk._C._test_last_launch()["encodes"] == 2


def test_tensor_map_cache_threads(tk, fake_gpu, torch):
    """Threads launching with their own tensors and sizes through the shared cache: no errors, far fewer encodes
    than launches, and a launch afterwards still carries its own tensors' maps."""
    mats = [_mats(torch, 128 + 64 * i, 256, 64 + 8 * i) for i in range(6)]
    errors = []

    def work(i):
        try:
            a, b = mats[i % len(mats)]
            for _ in range(100):
                assert tk.gemm(a, b).shape == (a.shape[0], 256)
        except Exception as e:  # noqa: BLE001 - collected and re-raised below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    r = tk._C._test_last_launch()
    assert not errors and r["count"] >= 600
    assert 12 <= r["encodes"] < r["count"]  # 6 x (A, B) maps; a set shared by 3 of them may thrash, no more
    a, b = mats[0]
    c = tk.gemm(a, b)
    r = tk._C._test_last_launch()
    assert r["tmaps"][0]["address"] == a.data_ptr() and r["tmaps"][1]["address"] == b.data_ptr()
    assert r["params"][6][8:16] == a.data_ptr().to_bytes(8, "little") and c.shape == (128, 256)


@pytest.mark.parametrize("case,pattern", [
    ("misaligned", r"reads tensor 1 through a TMA descriptor .* its address 8200 is not 16-byte aligned"),
    ("stride", r"the stride of dim 1 is 2068 bytes, not a positive multiple of 16 .*; HINT"),
    ("zero", r"dim 0 is 0 \(TMA needs 1\.\.2\^32\)"),
])
def test_tensor_map_checks_before_encoding(tk, fake_gpu, case, pattern):
    dims, ptrs = [1000, 1032, 520], [0x1000, 0x2000, 0x3000]
    if case == "misaligned":
        ptrs[1] += 8
    elif case == "stride":
        dims[1] = 1034  # NN B: row stride 2N bytes (the gemm stub rejects N % 8 != 0 before this)
    else:
        dims[1] = 0
    with pytest.raises(ValueError, match=pattern):
        tk._C._test_launch("gemm_f16_nn_128x256x64_s4_t384_sm90a", dims, ptrs, "HINT")
    assert tk._C._test_last_launch() is None  # nothing launched, nothing encoded


def test_tensor_map_encode_failure_names_the_variant(tk, fake_gpu, torch):
    tk._C._test_fail_encode(1)  # CUDA_ERROR_INVALID_VALUE
    a, b = _mats(torch, 256, 256, 64)
    with pytest.raises(tk.CudaError, match=r"cuTensorMapEncodeTiled failed for kernel "
                                           r"'gemm_f16_nn_128x256x64_s4_t384_sm90a' \(tensor map 0 of tensor 0: "
                                           r"address \d+, data type 6, dims \[64, 256\], byte strides \[128\], "
                                           r"box \[64, 128\], swizzle 3\)") as e:
        tk.gemm(a, b)
    assert e.value.kernel == "gemm_f16_nn_128x256x64_s4_t384_sm90a" and e.value.call == "cuTensorMapEncodeTiled"
    assert e.value.code == 1
    tk._C._test_fail_encode(0)
    tk.gemm(a, b)  # the failed map was not cached: encoded again, with B's (1 failed + 2 encodes)
    assert tk._C._test_last_launch()["encodes"] == 3


def test_sm90a_rows_only_on_9_0(tk, fake_gpu, torch):
    a, wt = _mats(torch, 1000, 1032, 520, trans=True)
    for cc, want in (((9, 0), "sm90a"), ((8, 0), "sm80"), ((10, 0), None), ((9, 1), None)):
        fake_gpu(cc)
        if want is None:
            with pytest.raises(tk.UnsupportedGPUError):
                tk.gemm(a, wt)
        else:
            tk.gemm(a, wt)
            assert tk._C._test_last_launch()["kernel"].endswith(want)


def test_trans_b_view_uses_nt_kernel_and_dim_order(tk, fake_gpu, torch):
    fake_gpu((8, 0), 163 * 1024)
    a, wt = _mats(torch, 77, 200, 64, trans=True)
    assert wt.stride() == (1, 64)
    tk.gemm(a, wt, stream=1234)
    r = tk._C._test_last_launch()
    assert r["kernel"] == "gemm_f16_nt_128x128x32_s3_t128_sm80"
    assert r["ints"] == [64, 77, 200] and r["grid"] == (2, 1, 1) and r["stream"] == 1234  # dim_order {K, M, N}


def test_row_major_preferred_when_both_layouts_fit(tk, fake_gpu, torch):
    fake_gpu((8, 0), 163 * 1024)
    a = torch.randn(64, 8).half()
    b = torch.randn(1, 8).half().expand(8, 8)[:1].T.contiguous().T  # [8, 1] with strides (1, 8)... both layouts
    b = torch.randn(1, 8).half().reshape(8, 1)  # strides (1, 1): row-major [8, 1] and transposed [1, 8] at once
    assert b.stride() == (1, 1)
    out = torch.empty(64, 1, dtype=torch.float16)
    with pytest.raises(ValueError, match="multiples of 8"):  # N == 1: rejected by the pitch rule, not the layout
        tk.gemm(a, b, out=out)
    b = torch.randn(8, 8).half().T.contiguous()
    tk.gemm(a, b)
    assert "_nn_" in tk._C._test_last_launch()["kernel"]


def test_empty_and_k0(tk, fake_gpu, torch):
    a, b = _mats(torch, 0, 64, 64)
    before = tk._C._test_last_launch()
    c = tk.gemm(a, b)
    assert c.shape == (0, 64) and tk._C._test_last_launch() == before
    a, b = _mats(torch, 16, 64, 0)
    c = tk.gemm(a, b)  # allocated with new_zeros: no launch at all
    assert torch.equal(c, torch.zeros(16, 64, dtype=torch.float16)) and tk._C._test_last_launch() == before
    out = torch.empty(16, 64, dtype=torch.float16)
    tk.gemm(a, b, out=out)
    r = tk._C._test_last_launch()
    assert r["memset"] and r["tensors"] == [out.data_ptr()] and r["ints"] == [16 * 64]


def test_unsupported_gpu_message(tk, fake_gpu, torch):
    fake_gpu((10, 0), 227 * 1024, "NVIDIA B200")  # NT: one sm_90a row (9.0 only) and one sm_80 row (8.x only)
    a, wt = _mats(torch, 64, 64, 64, trans=True)
    with pytest.raises(tk.UnsupportedGPUError) as e:
        tk.gemm(a, wt)
    msg = str(e.value)
    for part in ("'NVIDIA B200'", "compute capability 10.0", "built for sm_80;sm_90a", "CUDA 13.0",
                 "driver supports CUDA", 'TILEC_ARCHS="100a" pip wheel .', "--no-binary tilekernels",
                 "gemm_f16_nt_128x256x64_s4_t384_sm90a built for sm_90a only",
                 "gemm_f16_nt_128x128x32_s3_t128_sm80 built for sm_80 only"):
        assert part in msg, (part, msg)
    fake_gpu((7, 5), 64 * 1024, "Tesla T4")
    with pytest.raises(tk.UnsupportedGPUError, match=r"compute capability 7\.5.*TILEC_ARCHS=\"75\""):
        tk.gemm(*_mats(torch, 64, 64, 64))


def test_missing_layout_in_build(tk, fake_gpu, torch):
    a, wt = _mats(torch, 64, 64, 64, torch.bfloat16, trans=True)
    with pytest.raises(ValueError, match=r"no gemm kernel for bfloat16 with b given as the transpose.*b\.contiguous"):
        tk.gemm(a, wt)


@pytest.mark.parametrize("case,exc,pattern", [
    ("3d", ValueError, r"a must be a 2-D matrix, got 3-D shape \(2, 8, 8\)"),
    ("f32", TypeError, r"a has dtype float32; supported: float16, bfloat16"),
    ("f64", TypeError, r"a has dtype float64"),
    ("mixed", TypeError, r"a is float16 but b is bfloat16"),
    ("shape", ValueError, r"a has shape \(64, 32\) but b has shape \(16, 64\) \(a's columns must equal b's rows\)"),
    ("a_strided", ValueError, r"a must be row-major contiguous .*a\.contiguous\(\)"),
    ("b_strided", ValueError, r"b must be row-major \[K, N\].*b\.contiguous\(\)"),
    ("k12", ValueError, r"K and N must be multiples of 8 for float16.*K=12"),
    ("misaligned", ValueError, r"a's data pointer \d+ is not 16-byte aligned"),
    ("out_dtype", TypeError, r"out has dtype bfloat16 but a and b are float16"),
    ("out_shape", ValueError, r"out has shape \(64, 32\), expected \(64, 64\)"),
    ("out_strided", ValueError, r"out must be row-major contiguous"),
    ("alias", ValueError, r"out overlaps a in memory"),
])
def test_argument_errors(tk, fake_gpu, torch, case, exc, pattern):
    h = torch.float16
    a, b, out = torch.randn(64, 64).half(), torch.randn(64, 64).half(), None
    if case == "3d":
        a = torch.randn(2, 8, 8).half()
    elif case == "f32":
        a, b = a.float(), b.float()
    elif case == "f64":
        a = a.double()
    elif case == "mixed":
        b = b.bfloat16()
    elif case == "shape":
        a, b = torch.randn(64, 32).half(), torch.randn(16, 64).half()
    elif case == "a_strided":
        a = torch.randn(64, 128).half()[:, ::2]
    elif case == "b_strided":
        b = torch.randn(64, 128).half()[:, ::2]
    elif case == "k12":
        a, b = torch.randn(64, 12).half(), torch.randn(12, 64).half()
    elif case == "misaligned":
        a = torch.empty(64 * 64 + 1, dtype=h)[1:].view(64, 64)
    elif case == "out_dtype":
        out = torch.empty(64, 64, dtype=torch.bfloat16)
    elif case == "out_shape":
        out = torch.empty(64, 32, dtype=h)
    elif case == "out_strided":
        out = torch.empty(64, 128, dtype=h)[:, ::2]
    elif case == "alias":
        out = a
    with pytest.raises(exc, match=pattern):
        tk.gemm(a, b, out=out)


def test_cpu_tensor_rejected_before_gpu(tk, torch):
    a = torch.randn(64, 64).half()
    with pytest.raises(ValueError, match=r"a is on cpu; gemm runs on CUDA tensors: move it to the GPU \(e\.g\. a\.cuda\(\)\)"):
        tk.gemm(a, a.clone())
    with pytest.raises(TypeError, match="float32"):  # dtype is checked before the device
        tk.gemm(a.float(), a.float())


def test_int32_limit(tk):
    big = (0x7F0000000000, (1 << 16, 1 << 15), None, "float16", 0)
    rhs = (0x7F0000000000, (1 << 15, 8), None, "float16", 0)
    with pytest.raises(ValueError, match=r"a has 2147483648 elements;.*fewer than 2\*\*31"):
        tk._C.gemm_check(big, rhs)
    assert tk._C.gemm_check((0x1000, (1 << 15, 64), None, "float16", 0), (0x2000, (64, 8), None, "float16", 0)) == (
        1 << 15, 8)


def test_no_gpu_error_after_argument_checks(tk):
    if _has_libcuda():
        pytest.skip("this machine has a CUDA driver")
    a = _CAIArray((64, 64), device=0, ptr=0x10000)
    b = _CAIArray((64, 64), device=0, ptr=0x20000)
    out = _CAIArray((64, 64), device=0, ptr=0x30000)
    with pytest.raises(ValueError, match="columns must equal"):  # argument errors come first
        tk.gemm(a, _CAIArray((32, 64), device=0), out=out)
    with pytest.raises(tk.NoGPUError, match=r"libcuda\.so\.1.*nvidia-smi") as e:
        tk.gemm(a, b, out=out)
    assert isinstance(e.value, RuntimeError)
    with pytest.raises(tk.NoGPUError):
        tk.device_info()
    with pytest.raises(tk.NoGPUError):
        tk.warmup()


def test_device_info_and_warmup_in_test_mode(tk, fake_gpu):
    fake_gpu((8, 6), 99 * 1024, "RTX 3090")
    info = tk.device_info()
    assert info["compute_capability"] == (8, 6) and info["name"] == "RTX 3090"
    unusable = dict(info["unusable_kernels"])
    assert "shared memory" in unusable["gemm_f16_nn_128x128x64_s4_t256_sm80"]
    assert "sm_90a only" in unusable["gemm_f16_nn_128x256x64_s4_t384_sm90a"]
    assert "gemm_bf16_nn_128x128x32_s3_t128_sm80" in info["usable_kernels"]
    assert tk.warmup() == []  # nothing is loaded in test mode


def test_dlpack_info_reads_torch_capsules(tk, torch):
    x = torch.randn(8, 16).half()[:, :8]
    ptr, shape, strides, dtype, dev_type, _ = tk._C.dlpack_info(x.__dlpack__())
    assert (ptr, shape, dtype, dev_type) == (x.data_ptr(), (8, 8), "float16", 1)
    assert strides in (None, (16, 1))
    y = torch.randn(4, 4).bfloat16()
    assert tk._C.dlpack_info(torch.utils.dlpack.to_dlpack(y))[3] == "bfloat16"


def test_concurrent_calls(tk, fake_gpu, torch):
    a, b = _mats(torch, 128, 128, 64)
    errors = []

    def work():
        try:
            for _ in range(200):
                assert tk.gemm(a, b).shape == (128, 128)
        except Exception as e:  # noqa: BLE001 - collected and re-raised below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and tk._C._test_last_launch()["count"] >= 800


def test_main_without_gpu(built_pkg):
    if _has_libcuda():
        pytest.skip("this machine has a CUDA driver")
    env = dict(os.environ, PYTHONPATH=str(built_pkg))
    p = subprocess.run([sys.executable, "-m", "tilekernels"], capture_output=True, text=True, env=env, check=True)
    assert "tilekernels 0.1.0 (built with CUDA 13.0)" in p.stdout and "archs: sm_80 sm_90a" in p.stdout
    assert "GPU: none (no NVIDIA driver found" in p.stdout
    p = subprocess.run([sys.executable, "-m", "tilekernels", "--check"], capture_output=True, text=True, env=env,
                       check=False)
    assert p.returncode == 1 and "skipped, no GPU" in p.stderr


# -- an installed tilekernels (the real catalogue), when there is one ------------------------------------------

def test_installed_wheel_without_gpu(tmp_path):
    code = ("import sys, tilekernels\n"
            "assert 'torch' not in sys.modules\n"
            "assert tilekernels.built_archs() and any(k['family'] == 'gemm' for k in tilekernels.kernels())\n"
            "print(tilekernels.__file__)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                       env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, check=False)
    if "No module named 'tilekernels'" in p.stderr or "No module named 'tilekernels._C'" in p.stderr:
        pytest.skip("tilekernels is not installed")
    assert p.returncode == 0, p.stderr


def _cuda_include() -> Path | None:
    roots = [os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"]
    nvcc = shutil.which("nvcc")
    if nvcc:
        roots.append(str(Path(nvcc).resolve().parents[1]))
    for r in roots:
        if r and (Path(r) / "include" / "cuda.h").is_file():
            return Path(r) / "include"
    return None


def test_cuda_api_decls_match_cuda_h():
    """cuda_api.h copies types and enum values from cuda.h so that the build needs no toolkit: check the copy."""
    inc = _cuda_include()
    if inc is None or shutil.which(os.environ.get("CXX", "g++")) is None:
        pytest.skip("needs cuda.h and a C++ compiler")
    subprocess.run([os.environ.get("CXX", "g++"), "-std=c++17", "-fsyntax-only", f"-I{inc}",
                    f"-I{ROOT / 'bindings' / 'src'}", str(ROOT / "bindings" / "tests" / "check_cuda_api_decls.cpp")],
                   check=True)
