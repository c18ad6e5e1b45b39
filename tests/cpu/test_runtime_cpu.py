"""CPU tests of tilec.runtime: import without a GPU, tensor adapters, argument checks, grid expressions."""
from __future__ import annotations

import ctypes
import subprocess
import sys

import numpy as np
import pytest

from tilec.errors import TilecRuntimeError
from tilec.metadata import KernelMetadata, LaunchSpec, ParamSpec
from tilec.runtime import Launcher, as_device_array, compile_expr, convert_scalar, driver
from tilec.runtime import tensors as tensors_mod
from tilec.runtime.tensors import contiguous_strides, is_contiguous

_TYPESTR = {"float32": "<f4", "float16": "<f2", "int32": "<i4", "int8": "|i1"}
_ITEMSIZE = {"float32": 4, "float16": 2, "int32": 4, "int8": 1}


class FakeCAI:
    """A device array as cupy/numba present it (`__cuda_array_interface__`, v3); the pointer is never touched."""

    def __init__(self, shape: tuple, dtype: str = "float32", strides: tuple | None = None, ptr: int = 0x7F0000000000):
        self.__cuda_array_interface__ = {
            "shape": shape, "typestr": _TYPESTR[dtype], "data": (ptr, False), "version": 3,
            "strides": None if strides is None else tuple(s * _ITEMSIZE[dtype] for s in strides)}


class _Dev:
    def __init__(self, kind: str, index: int | None):
        self.type, self.index = kind, index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


class _DType:
    def __init__(self, name: str):
        self.name = name

    def __str__(self) -> str:
        return "torch." + self.name


class FakeTorchTensor:
    """Duck-types the bits of torch.Tensor the runtime reads; recognised by its module name."""

    def __init__(self, shape: tuple, dtype: str = "float32", device: str = "cuda", index: int = 0,
                 strides: tuple | None = None, ptr: int = 0x7F0000001000):
        self.shape, self.dtype, self.device = shape, _DType(dtype), _Dev(device, index if device == "cuda" else None)
        self._strides, self._ptr = strides or contiguous_strides(shape), ptr

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def get_device(self) -> int:
        return self.device.index if self.is_cuda else -1

    def is_contiguous(self) -> bool:
        return is_contiguous(self.shape, self._strides)

    def stride(self) -> tuple:
        return self._strides

    def data_ptr(self) -> int:
        return self._ptr


FakeTorchTensor.__module__ = "torch.fake"


def _vadd_meta(**extra: object) -> KernelMetadata:
    return KernelMetadata(
        name="vadd",
        params=(ParamSpec("A", "tensor", "float32", ("N",)), ParamSpec("B", "tensor", "float32", ("N",)),
                ParamSpec("C", "tensor", "float32", ("N",)), ParamSpec("alpha", "scalar", "float32")),
        sym_dims=("N",), launches=(LaunchSpec("vadd", ("(N + 255) // 256", "1", "1"), 256),), target="sm_80",
        extra=dict(extra))


def _gemm_meta() -> KernelMetadata:
    return KernelMetadata(
        name="gemm",
        params=(ParamSpec("A", "tensor", "float16", ("M", 64)), ParamSpec("B", "tensor", "float16", (64, "N")),
                ParamSpec("C", "tensor", "float32", ("M", "N")), ParamSpec("k", "scalar", "int32")),
        sym_dims=("M", "N"),
        launches=(LaunchSpec("gemm_main", ("(N + 127) // 128", "(M + 127) // 128", 1), 128, 64 * 1024),
                  LaunchSpec("gemm_fix", ("max(1, M // 2)", 1, 1), 64)),
        target="sm_80")


def _no_driver() -> bool:
    return not driver.available()


# -- import ---------------------------------------------------------------------------------------------------


def test_import_needs_no_gpu_driver_or_torch() -> None:
    code = ("import sys; import tilec.runtime, tilec.toolchain; from tilec.runtime import driver; "
            "assert driver._lib is None; assert 'torch' not in sys.modules; "
            "bad = [m for m in sys.modules if m.startswith(('tilec.transform', 'tilec.frontend', 'tilec.codegen'))]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_launch_struct_layouts() -> None:
    assert ctypes.sizeof(driver._LaunchAttr) == 72 and ctypes.sizeof(driver._LaunchConfig) == 56
    assert driver._LaunchConfig.hStream.offset == 32 and driver._LaunchConfig.numAttrs.offset == 48
    cfg = driver.make_launch_config((4, 1, 1), (128, 1, 1), 0, cluster=(2, 1, 1))
    assert cfg.numAttrs == 1 and cfg.attrs[0].id == driver.CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION
    assert list(cfg.attrs[0].value.clusterDim) == [2, 1, 1]
    assert driver.make_launch_config((1, 1, 1), (32, 1, 1), 0).numAttrs == 0


@pytest.mark.skipif(not _no_driver(), reason="a CUDA driver and GPU are present")
def test_driver_calls_without_driver_raise_clearly() -> None:
    assert not driver.available()
    with pytest.raises(TilecRuntimeError, match="driver"):
        driver.device_count()


# -- tensor adapters ------------------------------------------------------------------------------------------


def test_cuda_array_interface() -> None:
    a = as_device_array(FakeCAI((4, 8), "float16", strides=(16, 1), ptr=0x1000), "A")
    assert (a.ptr, a.shape, a.strides, a.dtype, a.device, a.source) == (0x1000, (4, 8), (16, 1), "float16", None, "cai")
    b = as_device_array(FakeCAI((3, 5), "int8"))
    assert b.strides == (5, 1) and b.dtype == "int8"
    odd = FakeCAI((4,))
    odd.__cuda_array_interface__["strides"] = (6,)
    with pytest.raises(TilecRuntimeError, match="not multiples of the element size"):
        as_device_array(odd, "A")
    big = FakeCAI((4,))
    big.__cuda_array_interface__["typestr"] = ">f4"
    with pytest.raises(TilecRuntimeError, match="unsupported __cuda_array_interface__ typestr '>f4'"):
        as_device_array(big, "A")


def test_torch_duck_typing() -> None:
    t = as_device_array(FakeTorchTensor((2, 3), "bfloat16", index=1), "A")
    assert (t.shape, t.strides, t.dtype, t.device, t.source) == ((2, 3), (3, 1), "bfloat16", 1, "torch")
    assert as_device_array(FakeTorchTensor((2,), "float8_e4m3fn")).dtype == "float8_e4m3"
    with pytest.raises(TilecRuntimeError, match=r"argument 'A': expected a CUDA tensor, got a tensor on cpu.*\.cuda\(\)"):
        as_device_array(FakeTorchTensor((2,), device="cpu"), "A")


def test_numpy_and_non_tensors_rejected() -> None:
    with pytest.raises(TilecRuntimeError, match="argument 'A': expected a CUDA tensor, got numpy.ndarray on CPU"):
        as_device_array(np.zeros(4, np.float32), "A")
    with pytest.raises(TilecRuntimeError, match="expected a CUDA tensor.*got list"):
        as_device_array([1.0, 2.0], "A")


class _DLPackProducer:
    """Exports a hand-built kDLCUDA DLManagedTensor through a "dltensor" capsule (no GPU memory involved)."""

    def __init__(self, shape: tuple, code: int, bits: int, strides: tuple | None, device_type: int = 2):
        n = len(shape)
        self._shape = (ctypes.c_int64 * n)(*shape)
        self._strides = (ctypes.c_int64 * n)(*strides) if strides else None
        self.managed = tensors_mod.DLManagedTensor()
        t = self.managed.dl_tensor
        t.data, t.device.device_type, t.device.device_id, t.ndim = 0x2000, device_type, 3, n
        t.dtype.code, t.dtype.bits, t.dtype.lanes = code, bits, 1
        t.shape = ctypes.cast(self._shape, ctypes.POINTER(ctypes.c_int64))
        t.strides = ctypes.cast(self._strides, ctypes.POINTER(ctypes.c_int64)) if strides else None
        t.byte_offset = 64
        self.device_type = device_type

    def __dlpack_device__(self) -> tuple:
        return (self.device_type, 3)

    def __dlpack__(self, stream: object = None) -> object:
        new = ctypes.pythonapi.PyCapsule_New
        new.restype, new.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
        return new(ctypes.addressof(self.managed), b"dltensor", None)


def test_dlpack() -> None:
    a = as_device_array(_DLPackProducer((2, 4), 4, 16, None), "A")
    assert (a.ptr, a.shape, a.strides, a.dtype, a.device, a.source) == (0x2040, (2, 4), (4, 1), "bfloat16", 3, "dlpack")
    b = as_device_array(_DLPackProducer((2, 4), 10, 8, (1, 2)), "B")
    assert b.strides == (1, 2) and b.dtype == "float8_e4m3"
    with pytest.raises(TilecRuntimeError, match="unsupported DLPack dtype"):
        as_device_array(_DLPackProducer((2,), 5, 64, None), "A")
    with pytest.raises(TilecRuntimeError, match="expected a CUDA tensor.*CUDA managed memory"):
        as_device_array(_DLPackProducer((2,), 2, 32, None, device_type=13), "A")


def test_contiguity_rule() -> None:
    assert is_contiguous((4, 8), (8, 1)) and is_contiguous((4, 1), (1, 7)) and is_contiguous((0, 3), (9, 9))
    assert not is_contiguous((4, 8), (1, 4)) and not is_contiguous((4, 8), (16, 1))


# -- grid expressions and scalars -----------------------------------------------------------------------------


def test_compile_expr() -> None:
    names = frozenset({"M", "N"})
    assert compile_expr("((M + 127) // 128)", names)({"M": 300, "N": 1}) == 3
    assert compile_expr("max(1, min(M, N)) % 7 - -2", names)({"M": 9, "N": 20}) == 4
    assert compile_expr(5, names)({}) == 5 and compile_expr("4", names)({}) == 4
    for bad in ("M / 2", "__import__('os')", "M ** 2", "K + 1", "M.real", "1.5", "M if N else 1", "max(M, key=N)",
                "[M]", "M +"):
        with pytest.raises(ValueError, match="grid expression"):
            compile_expr(bad, names)


def test_convert_scalar() -> None:
    assert convert_scalar(3, "int32", "k") == 3 and convert_scalar(np.int64(-5), "int32", "k") == -5
    assert convert_scalar(2.5, "float32", "x") == 2.5 and convert_scalar(np.float16(1), "float64", "x") == 1.0
    assert convert_scalar(1.0, "float16", "x") == 0x3C00 and convert_scalar(-2.0, "float16", "x") == 0xC000
    assert convert_scalar(1.0, "bfloat16", "x") == 0x3F80 and convert_scalar(float("nan"), "bfloat16", "x") == 0x7FC0
    assert convert_scalar(0, "bool", "b") is False
    with pytest.raises(TilecRuntimeError, match=r"argument 'k': 2147483648 is out of range for int32"):
        convert_scalar(2**31, "int32", "k")
    with pytest.raises(TilecRuntimeError, match="argument 'k': expected an integer \\(int32\\), got float"):
        convert_scalar(1.5, "int32", "k")
    with pytest.raises(TilecRuntimeError, match="out of range for uint8"):
        convert_scalar(-1, "uint8", "k")
    with pytest.raises(TilecRuntimeError, match="expected a float32 scalar, got str"):
        convert_scalar("1.0", "float32", "x")
    with pytest.raises(TilecRuntimeError, match="out of range for float16"):
        convert_scalar(1e6, "float16", "x")
    with pytest.raises(TilecRuntimeError, match="expected a float32 scalar"):
        convert_scalar(FakeCAI((2,)), "float32", "x")


# -- launcher argument checks (all before any driver call) ----------------------------------------------------


def test_launcher_checks_and_binds() -> None:
    launcher = Launcher(b"", _gemm_meta())
    a, b, c = FakeCAI((300, 64), "float16"), FakeCAI((64, 200), "float16"), FakeCAI((300, 200))
    ptrs, scalars, syms, grids, device, use_torch, unknown = launcher.check_args(a, b, c, 7)
    assert syms == [300, 200] and scalars == [7] and grids == [(2, 3, 1), (150, 1, 1)]
    assert device is None and not use_torch and len(unknown) == 3 and len(ptrs) == 3
    assert launcher.check_args(a, b, C=c, k=7)[2] == [300, 200]  # keyword arguments


@pytest.mark.parametrize("args,message", [
    (lambda: (FakeCAI((4,)), FakeCAI((4,)), FakeCAI((4,))),
     r"kernel 'vadd' takes 4 arguments \(A, B, C, alpha\), got 3"),
    (lambda: (FakeCAI((4,)), FakeCAI((4,), "float16"), FakeCAI((4,)), 1.0),
     r"argument 'B': expected a float32 tensor, got float16"),
    (lambda: (FakeCAI((4,)), FakeCAI((4, 1)), FakeCAI((4,)), 1.0),
     r"argument 'B': expected a 1-d tensor of shape \(N,\), got shape \(4, 1\)"),
    (lambda: (FakeCAI((4,)), FakeCAI((4,)), FakeCAI((5,)), 1.0),
     r"symbolic dim 'N' is 4 from argument 'A' \(dim 0\) but 5 from argument 'C' \(dim 0\)"),
    (lambda: (FakeCAI((4,)), FakeCAI((4,), strides=(2,)), FakeCAI((4,)), 1.0),
     r"argument 'B' must be contiguous \(row-major\).*call \.contiguous\(\)"),
    (lambda: (FakeCAI((4,)), FakeCAI((4,)), FakeCAI((4,)), "x"), r"argument 'alpha': expected a float32 scalar"),
    (lambda: (FakeTorchTensor((4,), index=0), FakeTorchTensor((4,), index=1), FakeCAI((4,)), 1.0),
     r"arguments 'A' and 'B' are on different CUDA devices \(cuda:0 and cuda:1\)"),
    (lambda: (np.zeros(4, np.float32), FakeCAI((4,)), FakeCAI((4,)), 1.0), r"argument 'A': expected a CUDA tensor"),
    (lambda: (FakeCAI((2**31,)), FakeCAI((2**31,)), FakeCAI((2**31,)), 1.0), r"symbolic dim 'N' = 2147483648"),
])
def test_launcher_argument_errors(args, message: str) -> None:
    with pytest.raises(TilecRuntimeError, match=message):
        Launcher(b"", _vadd_meta())(*args())


def test_launcher_fixed_dims_and_keywords() -> None:
    launcher = Launcher(b"", _gemm_meta())
    with pytest.raises(TilecRuntimeError, match=r"argument 'A': dim 1 must be 64 \(expected shape \(M, 64\)\), "
                                                r"got shape \(8, 32\)"):
        launcher(FakeCAI((8, 32), "float16"), FakeCAI((64, 8), "float16"), FakeCAI((8, 8)), 1)
    with pytest.raises(TilecRuntimeError, match=r"unexpected keyword arguments \['D'\]"):
        launcher(FakeCAI((8, 64), "float16"), FakeCAI((64, 8), "float16"), FakeCAI((8, 8)), 1, D=2)


def test_launcher_alignment() -> None:
    launcher = Launcher(b"", _vadd_meta(alignment=16))
    with pytest.raises(TilecRuntimeError, match="argument 'B': data pointer 0x1004 is not 16-byte aligned"):
        launcher.check_args(FakeCAI((4,)), FakeCAI((4,), ptr=0x1004), FakeCAI((4,)), 1.0)
    per_param = Launcher(b"", _vadd_meta(alignment={"C": 8}))
    per_param.check_args(FakeCAI((4,), ptr=0x1004), FakeCAI((4,)), FakeCAI((4,)), 1.0)
    with pytest.raises(TilecRuntimeError, match="argument 'C'"):
        per_param.check_args(FakeCAI((4,)), FakeCAI((4,)), FakeCAI((4,), ptr=0x1004), 1.0)


def test_launcher_empty_grid_skips_launch() -> None:
    # N = 0: the grid is empty, nothing to launch and no driver needed
    assert Launcher(b"", _vadd_meta())(FakeCAI((0,)), FakeCAI((0,)), FakeCAI((0,)), 1.0) is None


@pytest.mark.skipif(not _no_driver(), reason="a CUDA driver and GPU are present")
def test_launcher_valid_args_without_driver() -> None:
    with pytest.raises(TilecRuntimeError, match="driver"):
        Launcher(b"", _vadd_meta())(FakeCAI((10,)), FakeCAI((10,)), FakeCAI((10,)), 2.0)


@pytest.mark.parametrize("meta,message", [
    (KernelMetadata("k", (ParamSpec("A", "tensor", "float17", ("N",)),), ("N",), (LaunchSpec("k", ("N",), 32),)),
     "unknown dtype 'float17'"),
    (KernelMetadata("k", (ParamSpec("A", "tensor", "float32", ("N",)),), ("N",), (LaunchSpec("k", ("N / 2",), 32),)),
     "is not allowed"),
    (KernelMetadata("k", (ParamSpec("A", "tensor", "float32", ("N",)),), ("N", "M"), (LaunchSpec("k", ("N",), 32),)),
     r"symbolic dims \['M'\] appear in no tensor"),
    (KernelMetadata("k", (ParamSpec("A", "tensor", "float32", ("N",)),), ("N",), (LaunchSpec("k", ("N",), 2048),)),
     "2048 threads"),
    (KernelMetadata("k", (ParamSpec("A", "buffer", "float32", ("N",)),), ("N",), (LaunchSpec("k", ("N",), 32),)),
     "kind 'buffer'"),
    (KernelMetadata("k", (ParamSpec("A", "tensor", "float32", ("N",)),), ("N",), ()), "no launches"),
])
def test_launcher_rejects_bad_metadata(meta: KernelMetadata, message: str) -> None:
    with pytest.raises(TilecRuntimeError, match=f"{message}.*internal error"):
        Launcher(b"", meta)


def test_launcher_grid_limits_and_cluster_divisibility() -> None:
    meta = KernelMetadata("k", (ParamSpec("A", "tensor", "float32", ("N",)),), ("N",),
                          (LaunchSpec("k", ("2", "N", "1"), 32, 0, (2, 1, 1)),))
    launcher = Launcher(b"", meta)
    with pytest.raises(TilecRuntimeError, match="outside CUDA's limits"):
        launcher.check_args(FakeCAI((70000,)))
    odd = Launcher(b"", KernelMetadata("k", meta.params, ("N",), (LaunchSpec("k", ("N", 1, 1), 32, 0, (2, 1, 1)),)))
    with pytest.raises(TilecRuntimeError, match=r"not a multiple of the cluster shape \(2, 1, 1\)"):
        odd.check_args(FakeCAI((3,)))
    assert odd.check_args(FakeCAI((4,)))[3] == [(4, 1, 1)]


def test_launcher_roundtrips_metadata_json() -> None:
    meta = KernelMetadata.from_json(_gemm_meta().to_json())
    assert Launcher(b"", meta).check_args(FakeCAI((128, 64), "float16"), FakeCAI((64, 256), "float16"),
                                          FakeCAI((128, 256)), 3)[3] == [(2, 1, 1), (64, 1, 1)]
