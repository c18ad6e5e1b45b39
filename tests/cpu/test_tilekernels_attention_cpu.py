"""tilekernels.flash_attn / flash_attn_varlen without a GPU: the real _C (built from bindings/ with the hand-written
table bindings/tests/fake_catalogue_table.inc, fixtures in conftest.py) in its test mode (a fake GPU: no driver
calls, launches recorded) — the argument checks and their messages, the dispatch rule, the launch arguments (kernel,
grid, tensors, the float32 scale, the int32 dims in the kernel's order), output allocation and the raw (non-torch)
path with its stream-ordered LSE scratch; plus the fake table's attention rows against the AOT generator."""
from __future__ import annotations

import json
import math
import re
import struct
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAKE_TABLE = ROOT / "bindings" / "tests" / "fake_catalogue_table.inc"
FAKE_SCRATCH = 0x5C0000000000  # runtime.h kFakeScratchAddress

D128 = "attn_f16_d128_full_bm64_bn64_s2_t128_sm80"
D128_CAUSAL = "attn_f16_d128_causal_bm64_bn64_s2_t128_sm80"
D128_CAUSAL_SHORT = "attn_bf16_d128_causal_bm128_bn128_s2_t256_persistent_epi_ov_maxsk8192_sm90a"  # seqlen_k <= 8192


def _qkv(torch, b=2, sq=77, sk=100, h=8, hkv=2, d=128, dtype=None):
    dtype = dtype or torch.float16
    return (torch.randn(b, sq, h, d).to(dtype), torch.randn(b, sk, hkv, d).to(dtype),
            torch.randn(b, sk, hkv, d).to(dtype))


def _varlen(torch, lens_q=(30, 47), lens_k=(50, 50), h=8, hkv=2, d=128, dtype=None):
    dtype = dtype or torch.float16
    cq = torch.tensor([0, *torch.tensor(lens_q).cumsum(0).tolist()], dtype=torch.int32)
    ck = torch.tensor([0, *torch.tensor(lens_k).cumsum(0).tolist()], dtype=torch.int32)
    q = torch.randn(int(cq[-1]), h, d).to(dtype)
    k, v = (torch.randn(int(ck[-1]), hkv, d).to(dtype) for _ in range(2))
    return q, k, v, cq, ck


def _launch():
    import tilekernels

    return tilekernels._C._test_last_launch()


def _f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


# -- the fake table mirrors the generator ----------------------------------------------------------------------

def test_fake_attention_rows_mirror_the_generator(tmp_path: Path) -> None:
    """Two real variants through `emit` and `table`: their KernelInfo rows (entry, threads, shared memory, tensor /
    dim / scalar counts, dim_order) and grids are the fake table's, which adds compute_80 to the archs and shares one
    grid function per family."""
    from tilec.aot.catalogue import load_catalogue, plan
    from tilec.aot.steps import emit, table

    names = {"attention": D128_CAUSAL, "attention_varlen": "attn_varlen_bf16_d64_full_bm64_bn64_s2_t128_sm80"}
    fams = load_catalogue(ROOT / "kernels", list(names))
    for f in fams:
        f.variants = [v for v in f.variants if v.name == names[f.name]]
        emit(f, f.variants[0], tmp_path / f"{names[f.name]}.cu")
    planned, _ = plan(fams, "80;90a", lambda v: json.loads((tmp_path / f"{v.name}.json").read_text())
                      ["metadata"]["launches"][0]["smem_bytes"])
    text = table(planned, tmp_path, "80;90a", fams)
    fake = " ".join(FAKE_TABLE.read_text().split())
    for fam, name in names.items():
        row = next(line.strip() for line in text.splitlines() if line.startswith(f'  {{"{name}"'))
        grid = "grid_attn_varlen" if "varlen" in name else "grid_attn"
        want = row.replace('"sm_80;sm_90a"', '"sm_80;sm_90a;compute_80"').replace(f"grid_{name}", grid)
        assert want in fake, (want, fam)
        assert _grid_values(text, f"grid_{name}") == _grid_values(FAKE_TABLE.read_text(), grid), fam
    assert "static const AttentionVariant kAttention[] = {" in text
    assert "static const AttentionVarlenVariant kAttentionVarlen[] = {" in text


def _grid_values(source: str, fn: str) -> list:
    """The C++ grid function `fn` of a table, evaluated (as Python) at a few dims vectors."""
    body = re.search(rf"static void {fn}\(.*?\n}}", source, re.DOTALL).group(0)
    exprs = dict(re.findall(r"g\[(\d)\] = static_cast<unsigned>\((.*?)\);", body))
    assert sorted(exprs) == ["0", "1", "2"], body
    out = []
    for d in ([3, 77, 100, 8, 2, 9, 4], [1, 64, 1, 1, 1, 1, 2], [5, 65, 7, 3, 6, 130, 11]):
        py = {k: e.replace("LL", "").replace("/", "//") for k, e in exprs.items()}
        out.append([eval(py[k], {"d": d}) for k in "012"])  # our own generated C arithmetic
    return out


def test_kernels_lists_attention_rows(tk) -> None:
    ks = {k["name"]: k for k in tk.kernels()}
    k = ks[D128_CAUSAL]
    assert (k["family"], k["dtype"], k["head_dim"], k["causal"], k["block"]) == ("attention", "float16", 128, True,
                                                                                 (64, 64))
    assert k["archs"] == ["sm_80", "sm_90a", "compute_80"] and k["smem_bytes"] == 81920 and k["threads"] == 128
    v = ks["attn_varlen_bf16_d64_causal_bm64_bn64_s2_t128_sm80"]
    assert (v["family"], v["dtype"], v["head_dim"], v["causal"]) == ("attention_varlen", "bfloat16", 64, True)
    assert sorted(k["preference"] for k in ks.values() if k["family"] == "attention") == list(range(13))
    assert ks["attn_f16_d128_full_bm128_bn128_s2_t256_persistent_epi_sm90a"]["preference"] == 2  # ahead of its sm80 row
    assert ks[D128_CAUSAL_SHORT]["max_seqlen_k"] == 8192 and k["max_seqlen_k"] == 0
    assert [k["preference"] for k in ks.values() if k["family"] == "attention_varlen"] == list(range(8))


def test_public_api(tk) -> None:
    assert {"flash_attn", "flash_attn_varlen"} <= set(tk.__all__)
    for fn in (tk.flash_attn, tk.flash_attn_varlen):
        doc = fn.__doc__
        assert "Args:" in doc and "Returns:" in doc and "Raises:" in doc and "bottom-right" in doc


# -- dispatch and launch arguments -----------------------------------------------------------------------------

def test_launch_arguments(tk, fake_gpu, torch) -> None:
    q, k, v = _qkv(torch)
    out = tk.flash_attn(q, k, v, causal=True, stream=77)
    r = tk._C._test_last_launch()
    assert r["kernel"] == D128_CAUSAL and r["grid"] == (2, 8, 2) and r["block"] == 128 and r["smem"] == 81920
    assert out.shape == q.shape and out.dtype == torch.float16 and r["stream"] == 77
    assert r["tensors"][:4] == [q.data_ptr(), k.data_ptr(), v.data_ptr(), out.data_ptr()]
    assert r["scalars"] == [_f32(128 ** -0.5)]
    # The LSE nobody asked for, on a stream the caller named: stream-ordered scratch on that stream (a torch
    # allocation would be ordered on torch's current stream only), freed after the launch.
    assert r["tensors"][4] == FAKE_SCRATCH and r["scratch_bytes"] == 2 * 8 * 77 * 4 and r["scratch_live"] == 0
    assert r["ints"] == [2, 77, 8, 100, 2]  # the kernel's order: batch, seqlen_q, heads, seqlen_k, kv_heads
    # kernelParams: five pointers, the float32 scale, five int32 dims.
    assert [len(p) for p in r["params"]] == [8] * 5 + [4] + [4] * 5
    assert struct.unpack("<f", r["params"][5])[0] == _f32(128 ** -0.5)
    assert [int.from_bytes(p, "little") for p in r["params"][6:]] == [2, 77, 8, 100, 2]


def test_lse_on_the_current_stream_comes_from_torch(tk, fake_gpu, torch) -> None:
    q, k, v = _qkv(torch, d=64, h=2, hkv=2)
    tk.flash_attn(q, k, v)  # stream None: torch's current stream (the fixture's getter gives 0)
    r = tk._C._test_last_launch()
    assert r["stream"] == 0 and r["tensors"][4] not in (0, FAKE_SCRATCH) and r["scratch_bytes"] == 0
    qv, kv, vv, cq, ck = _varlen(torch, d=64)
    tk.flash_attn_varlen(qv, kv, vv, cq, ck, 47, 50)
    assert tk._C._test_last_launch()["scratch_bytes"] == 0
    tk.flash_attn_varlen(qv, kv, vv, cq, ck, 47, 50, stream=3)
    r = tk._C._test_last_launch()
    assert r["tensors"][4] == FAKE_SCRATCH and r["scratch_bytes"] == 2 * 8 * 47 * 4 and r["stream"] == 3


@pytest.mark.parametrize("scale", [0.5, 1e-3, 2, 3.0e38])
def test_softmax_scale_reaches_the_kernel_as_float32(tk, fake_gpu, torch, scale) -> None:
    q, k, v = _qkv(torch, d=64, h=2, hkv=2)
    tk.flash_attn(q, k, v, softmax_scale=scale)
    assert tk._C._test_last_launch()["scalars"] == [_f32(scale)]


def test_numpy_scalar_scale(tk, fake_gpu, torch) -> None:
    np = pytest.importorskip("numpy")
    q, k, v = _qkv(torch, d=64, h=2, hkv=2)
    tk.flash_attn(q, k, v, softmax_scale=np.float32(0.25))
    assert tk._C._test_last_launch()["scalars"] == [0.25]


def test_return_lse_and_out(tk, fake_gpu, torch) -> None:
    q, k, v = _qkv(torch, b=3, sq=65, h=4, hkv=4, d=64, dtype=torch.bfloat16)
    out = torch.empty_like(q)
    got, lse = tk.flash_attn(q, k, v, return_lse=True, out=out)
    r = tk._C._test_last_launch()
    assert got is out and r["tensors"][3] == out.data_ptr() and r["tensors"][4] == lse.data_ptr()
    assert lse.shape == (3, 4, 65) and lse.dtype == torch.float32
    assert r["kernel"] == "attn_bf16_d64_full_bm64_bn64_s2_t128_sm80" and r["grid"] == (2, 4, 3)
    assert tk.flash_attn(q, k, v, return_lse=False, out=out) is out


@pytest.mark.parametrize("cc,smem,want", [
    ((8, 0), 163 * 1024, "attn_f16_d256_full_bm64_bn64_s2_t128_sm80"),   # 160 KiB fits sm_80
    ((8, 6), 99 * 1024, "attn_f16_d256_full_bm64_bn32_s2_t128_sm80"),    # the 99 KiB archs: the 96 KiB tile
    ((9, 0), 227 * 1024, "attn_f16_d256_full_bm128_bn64_s2_t256_persistent_ov_sm90a"),  # TMA + wgmma
    ((12, 0), 99 * 1024, "attn_f16_d256_full_bm64_bn32_s2_t128_sm80"),   # through compute_80 PTX
])
def test_dispatch_by_shared_memory_and_arch(tk, fake_gpu, torch, cc, smem, want) -> None:
    from kernels import attention

    fake_gpu(cc, smem)
    q, k, v = _qkv(torch, sq=70, sk=70, h=2, hkv=2, d=256)
    tk.flash_attn(q, k, v)
    assert tk._C._test_last_launch()["kernel"] == want
    # The same rule in Python (kernels/attention.py select: the first of the group whose shared memory fits).
    assert attention.select("float16", 256, False, runnable=lambda v: v.config.smem_bytes(256) <= smem and
                            (v.lowering == "sm80" or cc == (9, 0))).name == want


def test_sm90a_rows_need_keys(tk, fake_gpu, torch) -> None:
    """The sm90a rows encode tensor maps of K and V, which cannot be empty: seqlen_k == 0 takes the cp.async row."""
    fake_gpu((9, 0), 227 * 1024)
    q, k, v = _qkv(torch, sq=70, sk=70, h=2, hkv=2, d=128)
    tk.flash_attn(q, k, v)
    last = tk._C._test_last_launch()
    assert last["kernel"] == "attn_f16_d128_full_bm128_bn128_s2_t256_persistent_epi_sm90a"
    assert tuple(last["grid"][1:]) == (1, 1) and last["grid"][0] >= 1  # persistent: min(tiles, SMs) blocks in x
    q, k, v = _qkv(torch, sq=70, sk=0, h=2, hkv=2, d=128)
    tk.flash_attn(q, k, v)
    assert tk._C._test_last_launch()["kernel"] == "attn_f16_d128_full_bm64_bn64_s2_t128_sm80"


@pytest.mark.parametrize("sk, want", [(1, D128_CAUSAL_SHORT), (8192, D128_CAUSAL_SHORT),
                                     (8193, "attn_bf16_d128_causal_bm64_bn64_s2_t128_sm80")])
def test_dispatch_by_key_length(tk, fake_gpu, torch, sk: int, want: str) -> None:
    """A row with max_seqlen_k serves only key lengths up to it (the fake table's bf16 d128 causal sm90a row: <= 8192);
    longer ones take the next row of the group."""
    from kernels import attention

    fake_gpu((9, 0), 227 * 1024)
    q, k, v = _qkv(torch, sq=3, sk=sk, h=1, hkv=1, d=128, dtype=torch.bfloat16)
    tk.flash_attn(q, k, v, causal=True)
    assert tk._C._test_last_launch()["kernel"] == want
    # The same rule in Python, on the real catalogue: its d128 causal group has a persistent row for S <= 2048
    short = attention.select("bfloat16", 128, True, seqlen_k=sk)
    assert short.config.persistent == (sk <= 2048) and short.lowering == "sm90a"


def test_unsupported_gpu(tk, fake_gpu, torch) -> None:
    fake_gpu((7, 5), 64 * 1024, "Tesla T4")
    q, k, v = _qkv(torch, d=64, h=2, hkv=2)
    with pytest.raises(tk.UnsupportedGPUError) as e:
        tk.flash_attn(q, k, v, causal=True)
    msg = str(e.value)
    for part in ("no tilekernels flash_attn kernel for float16 head_dim 64 (causal) can run", "'Tesla T4'",
                 "compute capability 7.5", ("attn_f16_d64_causal_bm64_bn64_s2_t128_sm80 built for "
                                            "sm_80;sm_90a;compute_80 only"), 'TILEC_ARCHS="75"'):
        assert part in msg, (part, msg)


def test_empty_problems_launch_nothing(tk, fake_gpu, torch) -> None:
    before = tk._C._test_last_launch()
    for b, sq, h, hkv in ((0, 10, 2, 2), (2, 0, 2, 2), (2, 10, 0, 0)):
        q, k, v = _qkv(torch, b=b, sq=sq, sk=10, h=h, hkv=hkv, d=64)
        out, lse = tk.flash_attn(q, k, v, return_lse=True)
        assert out.shape == q.shape and lse.shape == (b, h, sq)
        assert tk._C._test_last_launch() == before
    q, k, v = _qkv(torch, sk=0, d=64, h=2, hkv=1)  # no keys: the kernel writes O = 0, LSE = +inf
    tk.flash_attn(q, k, v)
    r = tk._C._test_last_launch()
    assert r["kernel"] == "attn_f16_d64_full_bm64_bn64_s2_t128_sm80" and r["ints"] == [2, 77, 2, 0, 1]


def test_varlen_launch_arguments(tk, fake_gpu, torch) -> None:
    q, k, v, cq, ck = _varlen(torch)
    out = tk.flash_attn_varlen(q, k, v, cq, ck, 47, 50, causal=True, stream=5)
    r = tk._C._test_last_launch()
    assert r["kernel"] == "attn_varlen_f16_d128_causal_bm64_bn64_s2_t128_sm80" and r["grid"] == (1, 8, 2)
    assert out.shape == q.shape and r["stream"] == 5 and r["scalars"] == [_f32(128 ** -0.5)]
    assert r["tensors"][:4] == [q.data_ptr(), k.data_ptr(), v.data_ptr(), out.data_ptr()]
    assert r["tensors"][5:] == [cq.data_ptr(), ck.data_ptr()]
    # total_q, heads, total_k, kv_heads, batch, max_seqlen_q, batch_plus_1
    assert r["ints"] == [77, 8, 100, 2, 2, 47, 3]
    assert [len(p) for p in r["params"]] == [8] * 7 + [4] + [4] * 7


def test_varlen_empty(tk, fake_gpu, torch) -> None:
    before = tk._C._test_last_launch()
    q, k, v, _, _ = _varlen(torch, d=64)
    one = torch.zeros(1, dtype=torch.int32)
    assert tk.flash_attn_varlen(q, k, v, one, one.clone(), 0, 0).shape == q.shape  # batch 0
    _, _, _, cq, ck = _varlen(torch, d=64)
    tk.flash_attn_varlen(q, k, v, cq, ck, 0, 50)  # max_seqlen_q 0: no query rows
    assert tk._C._test_last_launch() == before


# -- the raw (non-torch) path -----------------------------------------------------------------------------------

class _CAI:
    """A device array known only through __cuda_array_interface__ (numba-like); memory is never touched."""

    def __init__(self, shape, typestr="<f2", ptr=0x7F0000000000, device=0):
        self.__cuda_array_interface__ = {"shape": shape, "typestr": typestr, "strides": None,
                                         "data": (ptr, False), "version": 3}
        self.device = types.SimpleNamespace(id=device)


def test_raw_path_uses_stream_ordered_scratch(tk, fake_gpu) -> None:
    q = _CAI((2, 77, 8, 64), ptr=0x10000)
    k, v = _CAI((2, 100, 2, 64), ptr=0x80000), _CAI((2, 100, 2, 64), ptr=0xA0000)
    out = _CAI((2, 77, 8, 64), ptr=0x100000)
    assert tk.flash_attn(q, k, v, out=out, stream=9) is out
    r = tk._C._test_last_launch()
    assert r["kernel"] == "attn_f16_d64_full_bm64_bn64_s2_t128_sm80" and r["stream"] == 9
    assert r["tensors"] == [0x10000, 0x80000, 0xA0000, 0x100000, FAKE_SCRATCH]
    assert r["scratch_bytes"] == 2 * 8 * 77 * 4 and r["scratch_live"] == 0  # allocated for the launch, then freed
    with pytest.raises(TypeError, match=r"cannot allocate the output for [\w.]+_CAI inputs; pass out="):
        tk.flash_attn(q, k, v)
    with pytest.raises(TypeError, match="return_lse=True allocates lse like q.*torch and cupy"):
        tk.flash_attn(q, k, v, out=out, return_lse=True)
    with pytest.raises(ValueError, match="out overlaps q in memory"):
        tk.flash_attn(q, k, v, out=_CAI((2, 77, 8, 64), ptr=0x10000 + 64))


def test_raw_varlen(tk, fake_gpu) -> None:
    q, out = _CAI((77, 8, 64), ptr=0x10000), _CAI((77, 8, 64), ptr=0x100000)
    k, v = _CAI((100, 2, 64), ptr=0x80000), _CAI((100, 2, 64), ptr=0xA0000)
    cq, ck = _CAI((3,), "<i4", ptr=0x200000), _CAI((3,), "<i4", ptr=0x200100)
    tk.flash_attn_varlen(q, k, v, cq, ck, 47, 50, out=out, stream=3)
    r = tk._C._test_last_launch()
    assert r["tensors"] == [0x10000, 0x80000, 0xA0000, 0x100000, FAKE_SCRATCH, 0x200000, 0x200100]
    assert r["scratch_bytes"] == 2 * 8 * 47 * 4 and r["ints"] == [77, 8, 100, 2, 2, 47, 3]
    with pytest.raises(TypeError, match="cu_seqlens_q has dtype int64; expected int32"):
        tk.flash_attn_varlen(q, k, v, _CAI((3,), "<i8", ptr=0x200000), ck, 47, 50, out=out)
    with pytest.raises(ValueError, match="cu_seqlens_k's data pointer 2097410 is not 4-byte aligned"):
        tk.flash_attn_varlen(q, k, v, cq, _CAI((3,), "<i4", ptr=0x200102), 47, 50, out=out)


def test_mixed_inputs_name_the_host_argument(tk, fake_gpu, torch) -> None:
    pytest.importorskip("numpy")
    q, k, v = _qkv(torch, d=64)
    with pytest.raises(ValueError, match=r"flash_attn: q \(numpy.ndarray\) lives on the CPU"):
        tk.flash_attn(q.numpy(), k, v)
    with pytest.raises(TypeError, match="flash_attn: v is a list; expected a CUDA array"):
        tk.flash_attn(q, k, [[1.0]])
    qv, kv, vv, cq, _ = _varlen(torch, d=64)
    with pytest.raises(TypeError, match="flash_attn_varlen: cu_seqlens_k is a NoneType"):
        tk.flash_attn_varlen(qv, kv, vv, cq, None, 47, 50)


def test_cpu_tensors_rejected_outside_the_test_mode(tk, torch) -> None:
    q, k, v = _qkv(torch, d=64)
    with pytest.raises(ValueError, match=r"q is on cpu; flash_attn runs on CUDA tensors: move it to the GPU"):
        tk.flash_attn(q, k, v)
    qv, kv, vv, cq, ck = _varlen(torch, d=64)
    with pytest.raises(ValueError, match=r"q is on cpu; flash_attn_varlen runs on CUDA tensors"):
        tk.flash_attn_varlen(qv, kv, vv, cq, ck, 47, 50)


# -- argument errors: each names the argument and says what was expected ---------------------------------------

def _dense_case(torch, case: str) -> tuple[dict, type, str]:
    h = torch.float16
    q, k, v = _qkv(torch, d=64, h=4, hkv=2)
    kw: dict = {}
    meta = {"dtype": h, "device": "meta"}
    if case == "q_3d":
        q, exc, pat = q[0], ValueError, r"q must be 4-D \[batch, seqlen_q, heads, head_dim\], got 3-D shape \(77, 4, 64\)"
    elif case == "k_5d":
        k, exc, pat = k[None], ValueError, r"k must be 4-D \[batch, seqlen_k, kv_heads, head_dim\], got 5-D"
    elif case == "q_f32":
        q, exc, pat = q.float(), TypeError, r"q has dtype float32; supported: float16, bfloat16"
    elif case == "q_int8":
        q, exc, pat = q.to(torch.int8), TypeError, r"q has dtype int8"
    elif case == "k_bf16":
        k, exc, pat = k.bfloat16(), TypeError, r"q is float16 but k is bfloat16; q, k and v must have the same dtype"
    elif case == "v_f32":
        v, exc, pat = v.float(), TypeError, r"q is float16 but v is float32"
    elif case == "kv_shapes":
        v, exc, pat = v[:, :50], ValueError, r"k has shape \(2, 100, 2, 64\) but v has shape \(2, 50, 2, 64\)"
    elif case == "batch":
        q, exc, pat = torch.randn(3, 77, 4, 64).half(), ValueError, r"q has batch size 3 but k and v have 2"
    elif case == "head_dim":
        k, v = (torch.randn(2, 100, 2, 72).half() for _ in range(2))
        exc, pat = ValueError, r"q has head_dim 64 but k and v have head_dim 72"
    elif case == "heads":
        k, v = (torch.randn(2, 100, 3, 64).half() for _ in range(2))
        exc, pat = ValueError, r"q has 4 heads but k and v have 3; the number of query heads must be a multiple"
    elif case == "kv_heads_0":
        k, v = (torch.randn(2, 100, 0, 64).half() for _ in range(2))
        exc, pat = ValueError, r"q has 4 heads but k and v have 0"
    elif case == "q_strided":
        q, exc, pat = torch.randn(2, 77, 4, 128).half()[..., ::2], ValueError, r"q must be contiguous .*q\.contiguous\(\)"
    elif case == "k_bhsd":
        k = torch.randn(2, 2, 100, 64).half().transpose(1, 2)
        exc, pat = ValueError, r"k must be contiguous \(strides \(12800, 128, 64, 1\) .*got strides \(12800, 64, 6400, 1\)"
    elif case == "v_misaligned":
        v = torch.empty(2 * 100 * 2 * 64 + 1, dtype=h)[1:].view(2, 100, 2, 64)
        exc, pat = ValueError, r"v's data pointer \d+ is not 16-byte aligned.*v\.clone\(\)"
    elif case == "head_dim_96":
        q, k, v = _qkv(torch, d=96, h=4, hkv=2)
        exc, pat = ValueError, (r"no flash_attn kernel for head_dim 96 \(float16\); head_dim in this build: 64, 128, "
                                r"256\. Pad q, k and v .*softmax_scale=1/sqrt\(96\)")
    elif case == "heads_65536":
        q, k, v = (torch.empty(1, 2, 65536, 8, **meta) for _ in range(3))
        exc, pat = ValueError, r"q has 65536 heads; at most 65535"
    elif case == "batch_65536":
        q, k, v = (torch.empty(65536, 2, 1, 8, **meta) for _ in range(3))
        exc, pat = ValueError, r"batch is 65536 \(q\); at most 65535 sequences per call"
    elif case == "int32_limit":
        q, k, v = (torch.empty(64, 2**20, 16, 128, **meta) for _ in range(3))
        exc, pat = ValueError, r"q has 137438953472 elements; the kernels index with 32-bit integers"
    elif case in ("causal_int", "causal_none"):
        kw["causal"] = 1 if case == "causal_int" else None
        exc, pat = TypeError, r"causal must be True or False, got (int|NoneType)"
    elif case in ("scale_str", "scale_list", "scale_bool"):
        kw["softmax_scale"] = {"scale_str": "x", "scale_list": [1.0], "scale_bool": True}[case]
        exc, pat = TypeError, r"softmax_scale must be a float \(or None for 1/sqrt\(head_dim\)\), got (str|list|bool)"
    elif case in ("scale_0", "scale_neg", "scale_inf", "scale_nan", "scale_underflow", "scale_overflow"):
        kw["softmax_scale"] = {"scale_0": 0.0, "scale_neg": -1.0, "scale_inf": math.inf, "scale_nan": math.nan,
                               "scale_underflow": 1e-50, "scale_overflow": 1e39}[case]
        exc, pat = ValueError, r"softmax_scale must be a finite number > 0 as a float32, got"
    elif case == "scale_huge_int":
        kw["softmax_scale"] = 10**400
        exc, pat = ValueError, r"softmax_scale=1000.* does not fit a float"
    elif case == "return_lse":
        kw["return_lse"] = "yes"
        exc, pat = TypeError, r"return_lse must be True or False, got str"
    elif case == "out_dtype":
        kw["out"] = torch.empty(2, 77, 4, 64, dtype=torch.bfloat16)
        exc, pat = TypeError, r"out has dtype bfloat16; expected float16 \(q's dtype\)"
    elif case == "out_shape":
        kw["out"] = torch.empty(2, 77, 4, 32, dtype=h)
        exc, pat = ValueError, r"out has shape \(2, 77, 4, 32\), expected \(2, 77, 4, 64\)"
    elif case == "out_rank":
        kw["out"] = torch.empty(2, 77, 256, dtype=h)
        exc, pat = ValueError, r"out must be 4-D \[batch, seqlen_q, heads, head_dim\], got 3-D"
    elif case == "out_strided":
        kw["out"] = torch.empty(2, 77, 4, 128, dtype=h)[..., ::2]
        exc, pat = ValueError, r"out must be contiguous, got strides"
    elif case == "out_misaligned":
        kw["out"] = torch.empty(2 * 77 * 4 * 64 + 4, dtype=h)[4:].view(2, 77, 4, 64)
        exc, pat = ValueError, r"out's data pointer \d+ is not 16-byte aligned"
    elif case == "out_is_q":
        kw["out"] = q
        exc, pat = ValueError, r"out overlaps q in memory"
    elif case == "out_is_v":  # out ends 1 KiB inside v
        buf = torch.randn(25600 + 39424).half()
        v, kw["out"] = buf[:25600].view(2, 100, 2, 64), buf[25600 - 512:25600 - 512 + 39424].view(2, 77, 4, 64)
        exc, pat = ValueError, r"out overlaps v in memory"
    elif case == "stream":
        kw["stream"] = 1.5
        exc, pat = TypeError, r"stream must be a CUDA stream handle as an int"
    else:
        raise AssertionError(case)
    return {"q": q, "k": k, "v": v, **kw}, exc, pat


DENSE_CASES = ["q_3d", "k_5d", "q_f32", "q_int8", "k_bf16", "v_f32", "kv_shapes", "batch", "head_dim", "heads",
               "kv_heads_0", "q_strided", "k_bhsd", "v_misaligned", "head_dim_96", "heads_65536", "batch_65536",
               "int32_limit", "causal_int", "causal_none", "scale_str", "scale_list", "scale_bool", "scale_0",
               "scale_neg", "scale_inf", "scale_nan", "scale_underflow", "scale_overflow", "scale_huge_int",
               "return_lse", "out_dtype", "out_shape", "out_rank", "out_strided", "out_misaligned", "out_is_q",
               "out_is_v", "stream"]


@pytest.mark.parametrize("case", DENSE_CASES)
def test_argument_errors(tk, fake_gpu, torch, case: str) -> None:
    kw, exc, pattern = _dense_case(torch, case)
    before = tk._C._test_last_launch()
    with pytest.raises(exc, match=r"^tilekernels\.flash_attn: " if case != "stream" else "stream") as e:
        tk.flash_attn(**kw)
    assert re.search(pattern, str(e.value)), (pattern, str(e.value))
    assert tk._C._test_last_launch() == before  # nothing launched


def _varlen_case(torch, case: str) -> tuple[tuple, dict, type, str]:
    q, k, v, cq, ck = _varlen(torch, d=64)
    mq, mk = 47, 50
    kw: dict = {}
    if case == "q_4d":
        q, exc, pat = q[None], ValueError, r"q must be 3-D \[total_q, heads, head_dim\], got 4-D"
    elif case == "cu_int64":
        cq, exc, pat = cq.long(), TypeError, r"cu_seqlens_q has dtype int64; expected int32 \(convert with cu_seqlens_q\.int\(\)\)"
    elif case == "cu_2d":
        ck, exc, pat = ck[None], ValueError, r"cu_seqlens_k must be 1-D \[batch \+ 1\], got 2-D"
    elif case == "cu_lengths":
        ck, exc, pat = ck[:2], ValueError, r"cu_seqlens_q has 3 entries but cu_seqlens_k has 2"
    elif case == "cu_empty":
        cq, ck = cq[:0], ck[:0]
        exc, pat = ValueError, r"cu_seqlens_q has no entries; it must hold batch \+ 1 >= 1 offsets"
    elif case == "cu_strided":
        cq, exc, pat = torch.zeros(6, dtype=torch.int32)[::2], ValueError, r"cu_seqlens_q must be contiguous"
    elif case == "max_float":
        mq, exc, pat = 47.0, TypeError, r"max_seqlen_q must be an int \(the longest sequence's length\), got float"
    elif case == "max_bool":
        mk, exc, pat = True, TypeError, r"max_seqlen_k must be an int"
    elif case == "max_negative":
        mq, exc, pat = -1, ValueError, r"max_seqlen_q=-1 is not a sequence length of q: expected 0 <= max_seqlen_q <= 77"
    elif case == "max_too_big":
        mk, exc, pat = 101, ValueError, r"max_seqlen_k=101 is not a sequence length of k: expected 0 <= max_seqlen_k <= 100"
    elif case == "max_huge":
        mq, exc, pat = 2**70, ValueError, r"max_seqlen_q=1180591620717411303424 is not a sequence length"
    elif case == "head_dim":
        k, v = k[..., :32].contiguous(), v[..., :32].contiguous()
        exc, pat = ValueError, r"q has head_dim 64 but k and v have head_dim 32"
    elif case == "heads":
        k, v = (torch.randn(100, 3, 64).half() for _ in range(2))
        exc, pat = ValueError, r"q has 8 heads but k and v have 3"
    elif case == "out_shape":
        kw["out"] = torch.empty(77, 8, 32, dtype=torch.float16)
        exc, pat = ValueError, r"out has shape \(77, 8, 32\), expected \(77, 8, 64\) \(like q\)"
    elif case == "out_is_cu":  # out shares cu_seqlens_q's memory
        buf = torch.zeros(512, dtype=torch.int32)
        cq, ck = buf[:3], torch.tensor([0, 1, 1], dtype=torch.int32)
        q, k, v = q[:1].contiguous(), k[:1].contiguous(), v[:1].contiguous()
        kw["out"] = torch.empty(0, dtype=torch.float16).set_(buf.untyped_storage(), 0, (1, 8, 64))
        mq, mk = 1, 1
        exc, pat = ValueError, r"out overlaps cu_seqlens_q in memory"
    elif case == "scale":
        kw["softmax_scale"] = -0.5
        exc, pat = ValueError, r"softmax_scale must be a finite number > 0"
    elif case == "batch_65536":
        cq = ck = torch.zeros(65537, dtype=torch.int32)
        exc, pat = ValueError, r"batch is 65536 \(cu_seqlens_q\); at most 65535"
    elif case == "lse_limit":
        q, k, v = (torch.empty(2**20, 64, 16, dtype=torch.float16, device="meta") for _ in range(3))
        cq = ck = torch.zeros(60001, dtype=torch.int32)
        mq = mk = 2**20
        exc, pat = ValueError, r"batch \* heads \* max_seqlen_q = \d+ \(the log-sum-exp's size\) must be below 2\*\*31"
    else:
        raise AssertionError(case)
    return (q, k, v, cq, ck, mq, mk), kw, exc, pat


VARLEN_CASES = ["q_4d", "cu_int64", "cu_2d", "cu_lengths", "cu_empty", "cu_strided", "max_float", "max_bool",
                "max_negative", "max_too_big", "max_huge", "head_dim", "heads", "out_shape", "out_is_cu", "scale",
                "batch_65536", "lse_limit"]


@pytest.mark.parametrize("case", VARLEN_CASES)
def test_varlen_argument_errors(tk, fake_gpu, torch, case: str) -> None:
    args, kw, exc, pattern = _varlen_case(torch, case)
    before = tk._C._test_last_launch()
    with pytest.raises(exc, match=r"^tilekernels\.flash_attn_varlen: ") as e:
        tk.flash_attn_varlen(*args, **kw)
    assert re.search(pattern, str(e.value)), (pattern, str(e.value))
    assert tk._C._test_last_launch() == before


def test_test_launch_checks_scalars_and_grid_limits(tk, fake_gpu) -> None:
    ptrs = [0x1000 * (i + 1) for i in range(5)]
    with pytest.raises(ValueError, match=r"takes 5 tensors, 1 scalars and at most 8 dims"):
        tk._C._test_launch(D128, [1, 64, 64, 1, 1], ptrs)
    with pytest.raises(ValueError, match=r"grid of 1 x 70000 x 1 blocks; CUDA allows at most 65535 in y and z"):
        tk._C._test_launch(D128, [1, 64, 64, 70000, 1], ptrs, scalars=[0.125])
    tk._C._test_launch(D128, [1, 0, 64, 1, 1], ptrs, scalars=[0.125])  # an empty grid launches nothing
    assert tk._C._test_last_launch() is None
    tk._C._test_launch(D128, [1, 64, 64, 1, 1], ptrs, scalars=[0.125])
    assert tk._C._test_last_launch()["scalars"] == [0.125]


def test_no_gpu_error_after_argument_checks(tk) -> None:
    import ctypes

    try:
        ctypes.CDLL("libcuda.so.1")
        pytest.skip("this machine has a CUDA driver")
    except OSError:
        pass
    q, k, v, out = (_CAI((1, 64, 2, 64), ptr=0x10000 * (i + 1)) for i in range(4))
    with pytest.raises(TypeError, match="causal must be True or False"):  # argument errors come first
        tk.flash_attn(q, k, v, out=out, causal="yes")
    with pytest.raises(tk.NoGPUError, match=r"libcuda\.so\.1"):
        tk.flash_attn(q, k, v, out=out)


def test_python_layer_imports_no_torch() -> None:
    import subprocess

    code = ("import sys, types\n"
            "c = types.ModuleType('tilekernels._C'); c._init = lambda d: None; c.__version__ = '0'\n"
            "c.gemm_torch = None; sys.modules['tilekernels._C'] = c\n"
            "import tilekernels\n"
            "assert callable(tilekernels.flash_attn) and callable(tilekernels.flash_attn_varlen)\n"
            "bad = [m for m in ('torch', 'tilec', 'numpy') if m in sys.modules]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT / "bindings")
