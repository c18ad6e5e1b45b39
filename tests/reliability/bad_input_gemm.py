"""Bad-input cases of tilekernels.gemm: mutations of a valid call, each a builder (env, hypothesis data) -> Case."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from bad_input_harness import (
    TOLERANCE,
    Case,
    Env,
    FakeCudaArray,
    bad_dtype,
    bad_rank,
    host_value,
    offset_view,
    partner,
    tensor,
)
from hypothesis import strategies as st


@dataclass
class GemmDraw:
    m: int
    n: int
    k: int
    dtype: str
    layout: str


def draw_gemm(data: st.DataObject, ragged: bool = False) -> GemmDraw:
    mult = st.integers(1, 12).map(lambda x: 8 * x)
    return GemmDraw(
        m=data.draw(st.integers(1, 80), "M"),
        n=data.draw(st.integers(1, 96) if ragged else mult, "N"),
        k=data.draw(st.integers(1, 96) if ragged else mult, "K"),
        dtype=data.draw(st.sampled_from(["float16", "bfloat16"]), "dtype"),
        layout=data.draw(st.sampled_from(["NN", "NT"]), "layout"),
    )


def _operands(env: Env, g: GemmDraw) -> tuple[Any, Any]:
    a = tensor(env, (g.m, g.k), g.dtype)
    b = tensor(env, (g.n, g.k), g.dtype).T if g.layout == "NT" else tensor(env, (g.k, g.n), g.dtype)
    return a, b


def _check_gemm(env: Env, a: Any, b: Any, out: Any = None) -> Callable[[Any], None]:
    """The result of an accepted call equals a @ b (fp32 reference computed now, before the call could alias)."""
    torch = env.torch
    ref = torch.matmul(a.float(), b.float()) if env.gpu else None

    def check(result: Any) -> None:
        got = out if out is not None else result
        assert tuple(got.shape) == tuple(ref.shape), f"result shape {tuple(got.shape)}, expected {tuple(ref.shape)}"
        if ref.numel() == 0:
            return
        err = float((got.float() - ref).norm() / ref.norm().clamp_min(1e-6))
        assert err <= TOLERANCE, f"silently wrong result: relative error {err:.3g}"
    return check


# gemm mutations: name -> builder(env, data) -> Case. TORCH_FREE ones build without torch.

GEMM_MUTATIONS: dict[str, Callable[[Env, st.DataObject], Case]] = {}
TORCH_FREE: set[str] = set()


def gemm_mutation(name: str, torch_free: bool = False):
    def register(f: Callable[[Env, st.DataObject], Case]) -> Callable[[Env, st.DataObject], Case]:
        GEMM_MUTATIONS[name] = f
        if torch_free:
            TORCH_FREE.add(name)
        return f
    return register


@gemm_mutation("valid")
def _valid(env: Env, data: st.DataObject) -> Case:
    a, b = _operands(env, draw_gemm(data))
    return Case((a, b), must_fail=env.mode == "cpu", check=_check_gemm(env, a, b))


@gemm_mutation("valid_with_out")
def _valid_out(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    a, b = _operands(env, g)
    out = tensor(env, (g.m, g.n), g.dtype)
    return Case((a, b), dict(out=out), must_fail=env.mode == "cpu", check=_check_gemm(env, a, b, out))


@gemm_mutation("ragged_k_or_n")
def _ragged(env: Env, data: st.DataObject) -> Case:
    a, b = _operands(env, draw_gemm(data, ragged=True))
    return Case((a, b), blame=("K", "N", "a", "b"), must_fail=False, check=_check_gemm(env, a, b))


@gemm_mutation("a_bad_dtype")
def _a_dtype(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    _, b = _operands(env, g)
    return Case((bad_dtype(env, data, (g.m, g.k)), b), blame=("a",))


@gemm_mutation("b_bad_dtype")
def _b_dtype(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    a, _ = _operands(env, g)
    return Case((a, bad_dtype(env, data, (g.k, g.n))), blame=("b",))


@gemm_mutation("mixed_half_dtypes")
def _mixed(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    a, _ = _operands(env, g)
    other = "bfloat16" if g.dtype == "float16" else "float16"
    return Case((a, tensor(env, (g.k, g.n), other)), blame=("a", "b"))


@gemm_mutation("a_bad_rank")
def _a_rank(env: Env, data: st.DataObject) -> Case:
    a, b = _operands(env, draw_gemm(data))
    return Case((bad_rank(env, data, a), b), blame=("a",))


@gemm_mutation("b_bad_rank")
def _b_rank(env: Env, data: st.DataObject) -> Case:
    a, b = _operands(env, draw_gemm(data))
    return Case((a, bad_rank(env, data, b)), blame=("b",))


@gemm_mutation("mismatched_k")
def _k(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    a, _ = _operands(env, g)
    k2 = g.k + data.draw(st.sampled_from([-8, 8, 1, 16]), "dk") if g.k > 8 else g.k + 8
    return Case((a, tensor(env, (k2, g.n), g.dtype)), blame=("a", "b"))


@gemm_mutation("a_inner_stride")
def _a_stride(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    _, b = _operands(env, g)
    a = tensor(env, (g.m, 2 * g.k), g.dtype)[:, ::2]
    return Case((a, b), blame=("a",), must_fail=False, check=_check_gemm(env, a, b))


@gemm_mutation("a_column_major")
def _a_colmajor(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    _, b = _operands(env, g)
    a = tensor(env, (g.k, g.m), g.dtype).T
    return Case((a, b), blame=("a",), must_fail=False, check=_check_gemm(env, a, b))


@gemm_mutation("a_padded_rows")
def _a_padded(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    _, b = _operands(env, g)
    a = tensor(env, (g.m, g.k + 8 * data.draw(st.integers(1, 4), "pad")), g.dtype)[:, :g.k]
    return Case((a, b), blame=("a",), must_fail=False, check=_check_gemm(env, a, b))


@gemm_mutation("b_both_strides")
def _b_strided(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    a, _ = _operands(env, g)
    b = tensor(env, (2 * g.k, 2 * g.n), g.dtype)[::2, ::2]
    return Case((a, b), blame=("b",), must_fail=False, check=_check_gemm(env, a, b))


@gemm_mutation("a_expanded_rows")
def _a_expanded(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    _, b = _operands(env, g)
    a = tensor(env, (1, g.k), g.dtype).expand(max(g.m, 2), g.k)
    return Case((a, b), blame=("a",), must_fail=False, check=_check_gemm(env, a, b))


@gemm_mutation("a_misaligned")
def _a_misaligned(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    _, b = _operands(env, g)
    a = offset_view(env, (g.m, g.k), g.dtype, data.draw(st.sampled_from([1, 2, 3, 4]), "offset"))
    return Case((a, b), blame=("a",), must_fail=False, check=_check_gemm(env, a, b))


@gemm_mutation("b_misaligned")
def _b_misaligned(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    a, _ = _operands(env, g)
    b = offset_view(env, (g.k, g.n), g.dtype, data.draw(st.sampled_from([1, 2, 3, 4]), "offset"))
    return Case((a, b), blame=("b",), must_fail=False, check=_check_gemm(env, a, b))


@gemm_mutation("a_on_cpu")
def _a_cpu(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    _, b = _operands(env, g)
    return Case((tensor(env, (g.m, g.k), g.dtype, device="cpu"), b), blame=("a",))


@gemm_mutation("b_on_cpu")
def _b_cpu(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    a, _ = _operands(env, g)
    return Case((a, tensor(env, (g.k, g.n), g.dtype, device="cpu")), blame=("b",))


@gemm_mutation("a_on_meta")
def _a_meta(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    _, b = _operands(env, g)
    return Case((tensor(env, (g.m, g.k), g.dtype, device="meta"), b), blame=("a",))


@gemm_mutation("a_not_a_tensor", torch_free=True)
def _a_host(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    return Case((host_value(env, data, (g.m, g.k)), partner(env, (g.k, g.n), g.dtype)),
                blame=("a",) if env.torch is not None else (), mixed=True)


@gemm_mutation("b_not_a_tensor", torch_free=True)
def _b_host(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    return Case((partner(env, (g.m, g.k), g.dtype), host_value(env, data, (g.k, g.n))),
                blame=("b",) if env.torch is not None else (), mixed=True)


@gemm_mutation("huge_m_expanded")
def _huge_m(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    _, b = _operands(env, g)
    m = data.draw(st.sampled_from([2**31, 2**31 + 1, 2**40]), "M")
    return Case((tensor(env, (1, g.k), g.dtype).expand(m, g.k), b), blame=("a",))


@gemm_mutation("huge_n_expanded")
def _huge_n(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    a, _ = _operands(env, g)
    n = data.draw(st.sampled_from([2**31, 2**33]), "N")
    return Case((a, tensor(env, (1, g.k), g.dtype).expand(n, g.k).T), blame=("b",))


@gemm_mutation("huge_k_expanded")
def _huge_k(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    k = 2**31 + 8
    a = tensor(env, (g.m, 1), g.dtype).expand(g.m, k)
    b = tensor(env, (1, g.n), g.dtype).expand(k, g.n)
    return Case((a, b), blame=("a", "b"))


@gemm_mutation("huge_meta")
def _huge_meta(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    which = data.draw(st.sampled_from(["a", "b", "both"]), "which")
    big = 2**16 + 8 * data.draw(st.integers(0, 4), "extra")
    a = tensor(env, (big, big), g.dtype, device="meta") if which != "b" else tensor(env, (g.m, big), g.dtype)
    b = tensor(env, (big, big), g.dtype, device="meta") if which != "a" else tensor(env, (big, g.n), g.dtype)
    return Case((a, b), blame=("a", "b"))


@gemm_mutation("huge_output")
def _huge_output(env: Env, data: st.DataObject) -> Case:
    """M·N ≥ 2**31 with both operands small in memory (stride-0 rows of a, stride-0 columns of b)."""
    g = draw_gemm(data)
    a = tensor(env, (1, g.k), g.dtype).expand(2**16, g.k)
    b = tensor(env, (g.k, 1), g.dtype).expand(g.k, 2**16 + 8)
    return Case((a, b), blame=("a", "b", "out", "output"))


@gemm_mutation("cai_fake_arrays", torch_free=True)
def _cai(env: Env, data: st.DataObject) -> Case:
    """Fake __cuda_array_interface__ operands whose fault is caught before any memory would be touched."""
    kind = data.draw(st.sampled_from(["huge", "float64", "rank3", "misaligned", "kmismatch", "masked", "badstride"]),
                     "kind")
    a, b = FakeCudaArray((64, 64)), FakeCudaArray((64, 64))
    blame: tuple[str, ...] = ("a",)
    if kind == "huge":
        a = FakeCudaArray((2**31, 64))
    elif kind == "float64":
        a = FakeCudaArray((64, 64), "<f8")
    elif kind == "rank3":
        a = FakeCudaArray((2, 64, 64))
    elif kind == "misaligned":
        a = FakeCudaArray((64, 64), ptr=(1 << 40) + 2)
    elif kind == "kmismatch":
        b, blame = FakeCudaArray((72, 64)), ("a", "b")
    elif kind == "masked":
        a.__cuda_array_interface__["mask"] = FakeCudaArray((64, 64))
    else:
        a = FakeCudaArray((64, 64), strides=(129, 2))
    return Case((a, b), dict(out=FakeCudaArray((64, 64))), blame=blame)


@gemm_mutation("out_wrong_shape")
def _out_shape(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    a, b = _operands(env, g)
    shape = data.draw(st.sampled_from([(g.m + 1, g.n), (g.m, g.n + 8), (g.n, g.m + 1), (g.m * g.n,),
                                       (1, g.m, g.n)]), "out shape")
    return Case((a, b), dict(out=tensor(env, shape, g.dtype)), blame=("out",))


@gemm_mutation("out_wrong_dtype")
def _out_dtype(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    a, b = _operands(env, g)
    return Case((a, b), dict(out=bad_dtype(env, data, (g.m, g.n))), blame=("out",))


@gemm_mutation("out_other_half_dtype")
def _out_half(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    a, b = _operands(env, g)
    other = "bfloat16" if g.dtype == "float16" else "float16"
    return Case((a, b), dict(out=tensor(env, (g.m, g.n), other)), blame=("out",))


@gemm_mutation("out_transposed")
def _out_t(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    a, b = _operands(env, g)
    out = tensor(env, (g.n, g.m), g.dtype).T
    return Case((a, b), dict(out=out), blame=("out",), must_fail=False, check=_check_gemm(env, a, b, out))


@gemm_mutation("out_misaligned")
def _out_mis(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    a, b = _operands(env, g)
    out = offset_view(env, (g.m, g.n), g.dtype, data.draw(st.sampled_from([1, 3]), "offset"))
    return Case((a, b), dict(out=out), blame=("out",), must_fail=False, check=_check_gemm(env, a, b, out))


@gemm_mutation("out_expanded")
def _out_expanded(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    a, b = _operands(env, g)
    out = tensor(env, (1, g.n), g.dtype).expand(max(g.m, 2), g.n)
    if g.m < 2:
        a = tensor(env, (2, g.k), g.dtype)
    return Case((a, b), dict(out=out), blame=("out",))


@gemm_mutation("out_aliases_input")
def _out_alias(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    a = tensor(env, (g.m, g.k), g.dtype)
    b = tensor(env, (g.k, g.k), g.dtype)          # N == K so that a itself has the output's shape
    return Case((a, b), dict(out=a), blame=("out",), must_fail=False, check=_check_gemm(env, a.clone(), b))


@gemm_mutation("out_on_cpu")
def _out_cpu(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    a, b = _operands(env, g)
    return Case((a, b), dict(out=tensor(env, (g.m, g.n), g.dtype, device="cpu")), blame=("out",))


@gemm_mutation("out_not_a_tensor")
def _out_host(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    a, b = _operands(env, g)
    out = host_value(env, data, (g.m, g.n))
    return Case((a, b), dict(out=[[0.0]] if out is None else out), blame=("out",), mixed=True)


@gemm_mutation("empty")
def _empty(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    zero = data.draw(st.sampled_from(["M", "N", "K", "MN", "MNK"]), "zero")
    m, n, k = (0 if "M" in zero else g.m), (0 if "N" in zero else g.n), (0 if "K" in zero else g.k)
    a = tensor(env, (m, k), g.dtype)
    b = tensor(env, (k, n), g.dtype)
    return Case((a, b), blame=("a", "b"), must_fail=False, check=_check_gemm(env, a, b))


@gemm_mutation("requires_grad")
def _grad(env: Env, data: st.DataObject) -> Case:
    a, b = _operands(env, draw_gemm(data))
    a = a.detach().requires_grad_(True)
    return Case((a, b), blame=("a",), must_fail=False, check=_check_gemm(env, a.detach(), b))


@gemm_mutation("bad_call_signature", torch_free=True)
def _signature(env: Env, data: st.DataObject) -> Case:
    g = draw_gemm(data)
    a, b = partner(env, (g.m, g.k), g.dtype), partner(env, (g.k, g.n), g.dtype)
    kind = data.draw(st.sampled_from(["positional_out", "unknown_kw", "missing_b", "no_args"]), "kind")
    if kind == "positional_out":
        return Case((a, b, None))
    if kind == "unknown_kw":
        return Case((a, b), dict(bogus=1), blame=("bogus",))
    if kind == "missing_b":
        return Case((a,), blame=("b",))
    return Case(())


@gemm_mutation("bad_stream")
def _bad_stream(env: Env, data: st.DataObject) -> Case:
    a, b = _operands(env, draw_gemm(data))
    stream = data.draw(st.sampled_from(["default", 1.5, [0], object()]), "stream")
    return Case((a, b), dict(stream=stream), blame=("stream",))


# Mutations that find a known bug: xfail (not strict) so that CI stays green until it is fixed, then they pass.
KNOWN_BUGS: dict[str, str] = {}  # mutation -> why it is expected to fail (xfail); empty: none known
