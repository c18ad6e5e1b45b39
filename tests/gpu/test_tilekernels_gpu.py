"""tilekernels on a GPU: the installed (or PYTHONPATH) build of the real catalogue against torch references.

Outputs are poisoned with NaN before each call; the tolerance is ||out - ref|| / ||ref|| <= 1e-2 against a float32
reference (fp16/bf16 operands, DESIGN §8). Needs tilekernels importable (a wheel, or `pip install .`)."""
from __future__ import annotations

import threading

import pytest

pytestmark = pytest.mark.gpu

# ... plus M = 128 (the small-M sm90a row) and K >= 16384 (the long-K sm90a row), both ragged
SHAPES = [(1, 8, 8), (77, 200, 64), (1000, 1032, 520), (4096, 4096, 4096), (128, 1032, 1000), (300, 264, 16392)]


@pytest.fixture(scope="module")
def tk():
    try:
        import tilekernels
    except ImportError as e:
        pytest.skip(f"tilekernels is not built/installed: {e}")
    return tilekernels


@pytest.fixture(scope="module")
def torch():
    import torch

    return torch


def _rel_err(torch, out, ref) -> float:
    assert not torch.isnan(out).any(), "NaN in the output (a tile was not written?)"
    return ((out.float() - ref).norm() / ref.norm().clamp_min(1e-30)).item()


def _operands(torch, m, n, k, dtype, trans, seed=0):
    g = torch.Generator(device="cuda").manual_seed(seed)
    a = torch.randn(m, k, dtype=dtype, device="cuda", generator=g)
    if trans:
        w = torch.randn(n, k, dtype=dtype, device="cuda", generator=g)
        return a, w.T, w.T.float()
    b = torch.randn(k, n, dtype=dtype, device="cuda", generator=g)
    return a, b, b.float()


def _call(tk, *args, **kw):
    try:
        return tk.gemm(*args, **kw)
    except ValueError as e:
        if "this tilekernels build has no gemm kernel" in str(e):
            pytest.skip(str(e))
        raise


@pytest.mark.parametrize("m,n,k", SHAPES, ids=[f"{m}x{n}x{k}" for m, n, k in SHAPES])
@pytest.mark.parametrize("trans", [False, True], ids=["nn", "nt"])
@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
def test_gemm_matches_torch(tk, torch, m, n, k, trans, dtype_name):
    dtype = getattr(torch, dtype_name)
    a, b, bf = _operands(torch, m, n, k, dtype, trans)
    ref = a.float() @ bf
    out = torch.full((m, n), float("nan"), dtype=dtype, device="cuda")
    assert _call(tk, a, b, out=out) is out
    assert _rel_err(torch, out, ref) <= 1e-2
    c = _call(tk, a, b)  # allocated by tilekernels
    assert c.shape == (m, n) and c.dtype == dtype and c.device == a.device
    assert _rel_err(torch, c, ref) <= 1e-2


def test_ragged_sizes_sweep(tk, torch):
    for m, n, k in [(3, 24, 40), (129, 136, 72), (255, 264, 1000), (513, 8, 8), (31, 1000, 2056)]:
        a, b, bf = _operands(torch, m, n, k, torch.float16, False, seed=m)
        out = torch.full((m, n), float("nan"), dtype=torch.float16, device="cuda")
        _call(tk, a, b, out=out)
        assert _rel_err(torch, out, a.float() @ bf) <= 1e-2, (m, n, k)


def test_empty_and_k0(tk, torch):
    a, b, _ = _operands(torch, 0, 64, 64, torch.float16, False)
    assert tk.gemm(a, b).shape == (0, 64)
    a, b, _ = _operands(torch, 16, 64, 0, torch.float16, False)
    out = torch.full((16, 64), float("nan"), dtype=torch.float16, device="cuda")
    tk.gemm(a, b, out=out)
    torch.cuda.synchronize()
    assert torch.equal(out, torch.zeros_like(out))
    assert torch.equal(tk.gemm(a, b), torch.zeros_like(out))


def test_argument_errors(tk, torch):
    a, b, _ = _operands(torch, 64, 64, 64, torch.float16, False)
    with pytest.raises(TypeError, match="float32"):
        tk.gemm(a.float(), b.float())
    with pytest.raises(TypeError, match="a is float16 but b is bfloat16"):
        tk.gemm(a, b.bfloat16())
    with pytest.raises(ValueError, match="columns must equal"):
        tk.gemm(a, b[:32])
    with pytest.raises(ValueError, match="a is on cpu"):
        tk.gemm(a.cpu(), b)
    with pytest.raises(ValueError, match=r"b must be row-major.*contiguous"):
        tk.gemm(a, torch.randn(64, 128, dtype=torch.float16, device="cuda")[:, ::2])
    with pytest.raises(ValueError, match="16-byte aligned"):
        tk.gemm(torch.empty(64 * 64 + 1, dtype=torch.float16, device="cuda")[1:].view(64, 64), b)
    with pytest.raises(ValueError, match="multiples of 8"):
        tk.gemm(a[:, :12].contiguous(), b[:12].contiguous())
    with pytest.raises(ValueError, match="overlaps"):
        tk.gemm(a, b, out=a)
    with pytest.raises(ValueError, match="out has shape"):
        tk.gemm(a, b, out=torch.empty(64, 32, dtype=torch.float16, device="cuda"))


def test_mixed_devices_and_second_gpu(tk, torch):
    if torch.cuda.device_count() < 2:
        pytest.skip("needs 2 GPUs")
    a, b, bf = _operands(torch, 128, 128, 128, torch.float16, False)
    with pytest.raises(ValueError, match="same GPU"):
        tk.gemm(a, b.to("cuda:1"))
    a1, b1 = a.to("cuda:1"), b.to("cuda:1")
    c1 = tk.gemm(a1, b1)  # the current device stays cuda:0: tilekernels switches context itself
    assert c1.device == a1.device and _rel_err(torch, c1.cpu().cuda(), a.float() @ bf) <= 1e-2
    assert torch.cuda.current_device() == 0


def test_side_stream(tk, torch):
    a, b, bf = _operands(torch, 1024, 1024, 1024, torch.float16, False)
    ref = a.float() @ bf
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        out = torch.full((1024, 1024), float("nan"), dtype=torch.float16, device="cuda")
        for _ in range(3):
            tk.gemm(a, b, out=out)
    s.synchronize()
    assert _rel_err(torch, out, ref) <= 1e-2
    out2 = torch.full_like(out, float("nan"))
    tk.gemm(a, b, out=out2, stream=s.cuda_stream)  # an explicit stream handle
    s.synchronize()
    assert _rel_err(torch, out2, ref) <= 1e-2


def test_concurrent_threads(tk, torch):
    errors: list = []

    def work(seed: int) -> None:
        try:
            torch.cuda.set_device(0)
            a, b, bf = _operands(torch, 256 + seed * 8, 512, 256, torch.float16, seed % 2 == 1, seed=seed)
            ref = a.float() @ bf
            s = torch.cuda.Stream()
            with torch.cuda.stream(s):
                outs = [_call(tk, a, b) for _ in range(20)]
            s.synchronize()
            for o in outs:
                assert _rel_err(torch, o, ref) <= 1e-2
        except BaseException as e:  # noqa: BLE001 - re-raised by the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


class _DLPackOnly:
    def __init__(self, t):
        self._t = t

    def __dlpack__(self, stream=None):
        return self._t.__dlpack__(stream=stream)

    def __dlpack_device__(self):
        return self._t.__dlpack_device__()


class _CAIOnly:
    def __init__(self, t):
        self._t = t
        self.__cuda_array_interface__ = t.__cuda_array_interface__


def test_dlpack_and_cuda_array_interface_inputs(tk, torch):
    a, b, bf = _operands(torch, 200, 64, 128, torch.float16, False)
    ref = a.float() @ bf
    for wrap in (_DLPackOnly, _CAIOnly):
        out = torch.full((200, 64), float("nan"), dtype=torch.float16, device="cuda")
        tk.gemm(wrap(a), wrap(b), out=wrap(out))
        torch.cuda.synchronize()
        assert _rel_err(torch, out, ref) <= 1e-2, wrap.__name__
    with pytest.raises(TypeError, match="pass out="):
        tk.gemm(_CAIOnly(a), _CAIOnly(b))


def test_cupy_inputs(tk, torch):
    cupy = pytest.importorskip("cupy")
    a = cupy.random.standard_normal((128, 64)).astype(cupy.float16)
    b = cupy.random.standard_normal((64, 96)).astype(cupy.float16)
    c = tk.gemm(a, b)
    assert isinstance(c, cupy.ndarray) and c.shape == (128, 96)
    ref = a.astype(cupy.float32) @ b.astype(cupy.float32)
    assert float(cupy.linalg.norm(c.astype(cupy.float32) - ref) / cupy.linalg.norm(ref)) <= 1e-2


def test_device_info_and_warmup(tk, torch):
    info = tk.device_info()
    assert info["compute_capability"] == torch.cuda.get_device_capability()
    loaded = tk.warmup()
    assert set(loaded) == set(info["usable_kernels"]) and loaded
    assert set(tk.built_archs()) and all(k["archs"] for k in tk.kernels())


def test_python_m_check(tk):
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-m", "tilekernels", "--check"], capture_output=True, text=True,
                       check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "check: passed" in p.stdout


def _sm90a_usable(tk, torch) -> list[str]:
    if torch.cuda.get_device_capability() != (9, 0):
        pytest.skip("the sm90a rows run on compute capability 9.0 only")
    names = [n for n in tk.device_info()["usable_kernels"] if n.endswith("_sm90a") and n.startswith("gemm_")]
    if not names:
        pytest.skip("this build has no sm_90a variants (TILEC_ARCHS without 90a)")
    return names


def test_sm90a_rows_are_usable_and_carry_tensor_maps(tk, torch):
    names = _sm90a_usable(tk, torch)
    ks = {k["name"]: k for k in tk.kernels()}
    for n in names:
        k = ks[n]
        n_maps = 3 if "_persistent_epi" in n else 2  # A, B; C with the TMA-store epilogue (_epi, _epi64x2)
        # One consumer warpgroup per 64 rows of the tile plus the producer warpgroup.
        assert k["archs"] == ["sm_90a"] and k["threads"] == 128 * (k["block"][0] // 64 + 1), k
        assert [m["tensor"] for m in k["tensor_maps"]] == list(range(n_maps)), k
        assert {m["swizzle"] for m in k["tensor_maps"]} == {3}, k


def test_sm90a_descriptor_cache_with_reused_addresses(tk, torch):
    """Large-M problems run the sm90a (TMA) rows on an H100. Free and reallocate operands of changing shapes so that
    the caching allocator hands out the same addresses with other dims: every cached CUtensorMap must match the
    call's own (address, dims, strides), else the results are wrong."""
    _sm90a_usable(tk, torch)
    shapes = [(1000, 1032, 520), (512, 1032, 520), (1000, 520, 1032), (256, 256, 64), (1000, 1032, 520)]
    for it in range(3):
        for i, (m, n, k) in enumerate(shapes):
            for trans in (False, True):
                a, b, bf = _operands(torch, m, n, k, torch.float16, trans, seed=17 * it + i)
                out = torch.full((m, n), float("nan"), dtype=torch.float16, device="cuda")
                tk.gemm(a, b, out=out)
                assert _rel_err(torch, out, a.float() @ bf) <= 1e-2, (it, m, n, k, trans)
                del a, b, bf, out
    a, b, bf = _operands(torch, 300, 264, 136, torch.bfloat16, False)
    a.copy_(torch.randn_like(a))  # same tensors, new contents: cached maps stay valid
    out = tk.gemm(a, b)
    assert _rel_err(torch, out, a.float() @ bf) <= 1e-2
