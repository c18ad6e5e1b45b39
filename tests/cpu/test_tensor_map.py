"""tilec.runtime.tensor_map without a GPU: argument validation messages, and the outermost-first -> innermost-first
translation handed to cuTensorMapEncodeTiled (the driver call is replaced by a recorder)."""
from __future__ import annotations

import pytest

from tilec.runtime import driver, tensor_map
from tilec.runtime.tensor_map import TensorMapError, check_tiled, encode_tiled


def test_valid_gemm_operand_maps() -> None:
    name, enum, esize, _, _, _, es, swz = check_tiled("bfloat16", (8192, 8192), (16384, 2), (128, 64))
    assert (name, enum, esize, swz, es) == ("bfloat16", 9, 2, "128B", (1, 1))
    assert check_tiled("float16", (77, 200), (400, 2), (64, 64))[1] == 6
    assert check_tiled("float8_e4m3", (64, 256), (256, 1), (64, 128))[0] == "uint8"  # fp8 travels as bytes
    assert check_tiled("float16", (64, 32), (64, 2), (64, 32), swizzle=64)[-1] == "64B"
    assert check_tiled("float32", (4, 5, 6, 8), (960, 192, 32, 4), (1, 2, 3, 8), swizzle="none")[-1] == "none"


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(dtype="float16", dims=(10, 7), strides=(14, 2), box=(8, 8)),
     "stride of 14 bytes (7 elements), which is not a positive multiple of 16 bytes"),
    (dict(dtype="float16", dims=(10, 128), strides=(256, 2), box=(8, 128)),
     "swizzle 128B needs the box's inner dim to span at most 128 bytes, got 128 x 2 = 256 bytes"),
    (dict(dtype="float16", dims=(10, 128), strides=(256, 2), box=(8, 64), swizzle="64B"),
     "use a box of 32 elements and one copy per 64-byte column panel, or a wider swizzle"),
    (dict(dtype="float16", dims=(10, 128), strides=(256, 2), box=(300, 64)), "box dim 0 is 300"),
    (dict(dtype="float16", dims=(10, 128), strides=(256, 2), box=(8, 4), swizzle="none"),
     "inner dim is 4 x 2 = 8 bytes; it must be a multiple of 16 bytes"),
    (dict(dtype="float16", dims=(10, 128), strides=(256, 4), box=(8, 64)), "the innermost dim must be contiguous"),
    (dict(dtype="float16", dims=(10, 128), strides=(128, 2), box=(8, 64)), "overlapping rows"),
    (dict(dtype="float16", dims=(0, 128), strides=(256, 2), box=(8, 64)), "dim 0 is 0"),
    (dict(dtype="float16", dims=(10, 128), strides=(256, 2), box=(8, 64), swizzle="96B"), "swizzle='96B'"),
    (dict(dtype="complex64", dims=(10, 128), strides=(256, 2), box=(8, 64)), "unsupported dtype 'complex64'"),
    (dict(dtype="int32", dims=(10, 128), strides=(512, 4), box=(8, 32), oob_fill="nan"),
     "oob_fill='nan' needs a floating-point dtype"),
    (dict(dtype="float16", dims=(10, 128), strides=(256, 2), box=(8, 64), address=0x1008), "not 16-byte aligned"),
    (dict(dtype="float16", dims=(1, 2, 3, 4, 5, 6), strides=(1, 1, 1, 1, 1, 2), box=(1,) * 6), "rank 6"),
])
def test_invalid_arguments_say_what_to_do(kwargs: dict, message: str) -> None:
    with pytest.raises(TensorMapError) as e:
        check_tiled(**kwargs)
    assert message in str(e.value)
    assert isinstance(e.value, ValueError)  # also catchable as a plain value error


def test_encode_passes_innermost_first(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake(*args):
        calls.append(args)
        return bytes(range(128))

    monkeypatch.setattr(driver, "tensor_map_encode_tiled", fake)
    tm = encode_tiled("float16", 0x10000, (1000, 520), (1040, 2), (128, 64), l2_promotion="256B")
    assert calls == [(6, 0x10000, [520, 1000], [1040], [64, 128], [1, 1], 0, 3, 3, 0)]
    assert tm.data == bytes(range(128)) and tm.box_bytes == 128 * 64 * 2
    arg = tm.kernel_arg()
    assert bytes(arg) == tm.data and len(arg) == 128
    with pytest.raises(TensorMapError, match="l2_promotion"):
        encode_tiled("float16", 0x10000, (1000, 520), (1040, 2), (128, 64), l2_promotion="512B")


def test_tensor_map_2d_reads_shape_and_strides(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(driver, "tensor_map_encode_tiled", lambda *a: calls.append(a) or bytes(128))

    class Cai:  # a __cuda_array_interface__ producer: a 300 x 200 fp16 view with rows padded to 256 elements
        __cuda_array_interface__ = {"shape": (300, 200), "typestr": "<f2", "data": (0x20000, False),
                                    "strides": (512, 2), "version": 3}

    tm = tensor_map.tensor_map_2d(Cai(), 64, 64)
    assert calls[0][2:5] == ([200, 300], [512], [64, 64])
    assert tm.dims == (300, 200) and tm.strides == (512, 2)

    class Strided:
        __cuda_array_interface__ = {"shape": (300, 200), "typestr": "<f2", "data": (0x20000, False),
                                    "strides": (2, 600), "version": 3}

    with pytest.raises(TensorMapError, match="last dim must be contiguous"):
        tensor_map.tensor_map_2d(Strided(), 64, 64)
