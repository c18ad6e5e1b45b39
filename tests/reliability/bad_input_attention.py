"""Bad-input cases of tilekernels.flash_attn (ATTN_MUTATIONS) and tilekernels.flash_attn_varlen (VARLEN_MUTATIONS):
mutations of a valid call, each a builder (env, hypothesis data) -> Case."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bad_input_harness import TOLERANCE, Case, Env, bad_dtype, bad_rank, host_value, offset_view, tensor
from hypothesis import strategies as st

Builder = Callable[[Env, st.DataObject], Case]
ATTN_MUTATIONS: dict[str, Builder] = {}
VARLEN_MUTATIONS: dict[str, Builder] = {}


def _registry(table: dict[str, Builder]):
    """A decorator factory: @mutation("name") adds the builder to `table`."""
    def mutation(name: str):
        def register(f: Builder) -> Builder:
            table[name] = f
            return f
        return register
    return mutation


attn_mutation = _registry(ATTN_MUTATIONS)
varlen_mutation = _registry(VARLEN_MUTATIONS)


@dataclass
class AttnDraw:
    b: int
    sq: int
    sk: int
    h: int
    hkv: int
    d: int
    dtype: str
    causal: bool


def draw_attn(data: st.DataObject) -> AttnDraw:
    h = data.draw(st.sampled_from([1, 2, 4]), "H")
    return AttnDraw(b=data.draw(st.integers(1, 3), "B"), sq=data.draw(st.integers(1, 130), "Sq"),
                    sk=data.draw(st.integers(1, 130), "Sk"), h=h, hkv=data.draw(st.sampled_from([1, h]), "Hkv"),
                    d=data.draw(st.sampled_from([64, 128]), "D"),
                    dtype=data.draw(st.sampled_from(["float16", "bfloat16"]), "dtype"),
                    causal=data.draw(st.booleans(), "causal"))


def _qkv(env: Env, g: AttnDraw) -> tuple[Any, Any, Any]:
    return (tensor(env, (g.b, g.sq, g.h, g.d), g.dtype), tensor(env, (g.b, g.sk, g.hkv, g.d), g.dtype),
            tensor(env, (g.b, g.sk, g.hkv, g.d), g.dtype))


def _check_attn(env: Env, q: Any, k: Any, v: Any, causal: bool, scale: float | None = None) -> Callable[[Any], None]:
    torch = env.torch
    if not env.gpu:
        return lambda result: None
    qf, kf, vf = (x.float().transpose(1, 2) for x in (q, k, v))           # [B, H, S, D]
    if kf.shape[1] != qf.shape[1] and kf.shape[1] > 0:
        rep = qf.shape[1] // kf.shape[1]
        kf, vf = kf.repeat_interleave(rep, 1), vf.repeat_interleave(rep, 1)
    s = (qf @ kf.transpose(-1, -2)) * (scale if scale is not None else qf.shape[-1] ** -0.5)
    if causal:
        sq, sk = qf.shape[2], kf.shape[2]
        i = torch.arange(sq, device=q.device)[:, None]
        j = torch.arange(sk, device=q.device)[None, :]
        s = s.masked_fill(j > i + (sk - sq), float("-inf"))   # bottom-right aligned (flash-attn >= 2.1)
    ref = torch.nan_to_num(torch.softmax(s, -1)) @ vf
    ref = ref.transpose(1, 2)

    def check(result: Any) -> None:
        out = result[0] if isinstance(result, tuple) else result
        assert tuple(out.shape) == tuple(ref.shape), f"result shape {tuple(out.shape)}, expected {tuple(ref.shape)}"
        if ref.numel() == 0 or float(ref.norm()) == 0:
            return
        err = float((out.float() - ref).norm() / ref.norm())
        assert err <= TOLERANCE, f"silently wrong attention output: relative error {err:.3g}"
    return check


@attn_mutation("valid")
def _a_valid(env: Env, data: st.DataObject) -> Case:
    g = draw_attn(data)
    q, k, v = _qkv(env, g)
    return Case((q, k, v), dict(causal=g.causal), must_fail=env.mode == "cpu",
                check=_check_attn(env, q, k, v, g.causal))


@attn_mutation("q_bad_dtype")
def _a_qdtype(env: Env, data: st.DataObject) -> Case:
    g = draw_attn(data)
    _, k, v = _qkv(env, g)
    return Case((bad_dtype(env, data, (g.b, g.sq, g.h, g.d)), k, v), blame=("q",))


@attn_mutation("mixed_dtypes")
def _a_mixed(env: Env, data: st.DataObject) -> Case:
    g = draw_attn(data)
    q, k, _ = _qkv(env, g)
    other = "bfloat16" if g.dtype == "float16" else "float16"
    return Case((q, k, tensor(env, (g.b, g.sk, g.hkv, g.d), other)), blame=("q", "k", "v"))


@attn_mutation("bad_rank")
def _a_rank(env: Env, data: st.DataObject) -> Case:
    g = draw_attn(data)
    q, k, v = _qkv(env, g)
    which = data.draw(st.sampled_from(["q", "k", "v"]), "which")
    args = dict(q=q, k=k, v=v)
    args[which] = bad_rank(env, data, args[which])
    return Case((args["q"], args["k"], args["v"]), blame=(which,))


@attn_mutation("head_dim_mismatch")
def _a_hd(env: Env, data: st.DataObject) -> Case:
    g = draw_attn(data)
    q, _, v = _qkv(env, g)
    return Case((q, tensor(env, (g.b, g.sk, g.hkv, g.d + 8), g.dtype), v), blame=("q", "k", "head_dim"))


@attn_mutation("kv_seqlen_mismatch")
def _a_sk(env: Env, data: st.DataObject) -> Case:
    g = draw_attn(data)
    q, k, _ = _qkv(env, g)
    return Case((q, k, tensor(env, (g.b, g.sk + 1, g.hkv, g.d), g.dtype)), blame=("k", "v"))


@attn_mutation("batch_mismatch")
def _a_batch(env: Env, data: st.DataObject) -> Case:
    g = draw_attn(data)
    _, k, v = _qkv(env, g)
    return Case((tensor(env, (g.b + 1, g.sq, g.h, g.d), g.dtype), k, v), blame=("q", "k", "v", "batch"))


@attn_mutation("heads_not_divisible")
def _a_heads(env: Env, data: st.DataObject) -> Case:
    g = draw_attn(data)
    q = tensor(env, (g.b, g.sq, 6, g.d), g.dtype)
    k, v = (tensor(env, (g.b, g.sk, 4, g.d), g.dtype) for _ in range(2))
    return Case((q, k, v), blame=("q", "k", "heads"))


@attn_mutation("odd_head_dim")
def _a_odd_d(env: Env, data: st.DataObject) -> Case:
    g = draw_attn(data)
    g.d = data.draw(st.sampled_from([8, 40, 72, 96, 100, 200, 257, 512]), "D")
    q, k, v = _qkv(env, g)
    return Case((q, k, v), dict(causal=g.causal), blame=("q", "head_dim", "D"), must_fail=False,
                check=_check_attn(env, q, k, v, g.causal))


@attn_mutation("q_non_contiguous")
def _a_strided(env: Env, data: st.DataObject) -> Case:
    g = draw_attn(data)
    _, k, v = _qkv(env, g)
    q = tensor(env, (g.b, g.sq, g.h, 2 * g.d), g.dtype)[..., ::2]
    return Case((q, k, v), blame=("q",), must_fail=False, check=_check_attn(env, q, k, v, False))


@attn_mutation("q_bhsd_view")
def _a_bhsd(env: Env, data: st.DataObject) -> Case:
    g = draw_attn(data)
    _, k, v = _qkv(env, g)
    q = tensor(env, (g.b, g.h, g.sq, g.d), g.dtype).transpose(1, 2)
    return Case((q, k, v), blame=("q",), must_fail=False, check=_check_attn(env, q, k, v, False))


@attn_mutation("q_misaligned")
def _a_misaligned(env: Env, data: st.DataObject) -> Case:
    g = draw_attn(data)
    _, k, v = _qkv(env, g)
    q = offset_view(env, (g.b, g.sq, g.h, g.d), g.dtype, 1)
    return Case((q, k, v), blame=("q",), must_fail=False, check=_check_attn(env, q, k, v, False))


@attn_mutation("q_on_cpu")
def _a_cpu(env: Env, data: st.DataObject) -> Case:
    g = draw_attn(data)
    _, k, v = _qkv(env, g)
    return Case((tensor(env, (g.b, g.sq, g.h, g.d), g.dtype, device="cpu"), k, v), blame=("q",))


@attn_mutation("q_not_a_tensor")
def _a_host(env: Env, data: st.DataObject) -> Case:
    g = draw_attn(data)
    _, k, v = _qkv(env, g)
    return Case((host_value(env, data, (g.b, g.sq)), k, v), blame=("q",), mixed=True)


@attn_mutation("bad_softmax_scale")
def _a_scale(env: Env, data: st.DataObject) -> Case:
    q, k, v = _qkv(env, draw_attn(data))
    scale = data.draw(st.sampled_from(["x", [1.0], object()]), "scale")
    return Case((q, k, v), dict(softmax_scale=scale), blame=("softmax_scale",))


@attn_mutation("odd_softmax_scale")
def _a_scale_odd(env: Env, data: st.DataObject) -> Case:
    g = draw_attn(data)
    q, k, v = _qkv(env, g)
    scale = data.draw(st.sampled_from([0.0, -1.0, 1e-3, 2]), "scale")
    return Case((q, k, v), dict(softmax_scale=scale), blame=("softmax_scale",), must_fail=False,
                check=_check_attn(env, q, k, v, False, float(scale)))


@attn_mutation("empty")
def _a_empty(env: Env, data: st.DataObject) -> Case:
    g = draw_attn(data)
    zero = data.draw(st.sampled_from(["b", "sq", "sk", "h"]), "zero")
    setattr(g, zero, 0)
    if zero == "h":
        g.hkv = 0
    q, k, v = _qkv(env, g)
    return Case((q, k, v), blame=("q", "k", "v"), must_fail=False, check=_check_attn(env, q, k, v, False))


@attn_mutation("huge_expanded")
def _a_huge(env: Env, data: st.DataObject) -> Case:
    g = draw_attn(data)
    s = 2**31
    q = tensor(env, (1, 1, g.h, g.d), g.dtype).expand(g.b, s, g.h, g.d)
    _, k, v = _qkv(env, g)
    return Case((q, k, v), blame=("q",))


@attn_mutation("huge_meta")
def _a_huge_meta(env: Env, data: st.DataObject) -> Case:
    g = draw_attn(data)
    q = tensor(env, (64, 2**20, 16, 128), g.dtype, device="meta")
    k = tensor(env, (64, 2**20, 16, 128), g.dtype, device="meta")
    return Case((q, k, k), blame=("q", "k", "v"))


@attn_mutation("bad_call_signature")
def _a_sig(env: Env, data: st.DataObject) -> Case:
    q, k, v = _qkv(env, draw_attn(data))
    kind = data.draw(st.sampled_from(["unknown_kw", "missing_v", "positional_causal"]), "kind")
    if kind == "unknown_kw":
        return Case((q, k, v), dict(dropout=0.5), blame=("dropout",))
    if kind == "missing_v":
        return Case((q, k), blame=("v",))
    return Case((q, k, v, True))


# ---- flash_attn_varlen -----------------------------------------------------------------------------------------

@dataclass
class VarlenDraw:
    lens_q: list[int]
    lens_k: list[int]
    h: int
    hkv: int
    d: int
    dtype: str
    causal: bool


def draw_varlen(data: st.DataObject) -> VarlenDraw:
    b = data.draw(st.integers(1, 3), "B")
    h = data.draw(st.sampled_from([1, 2, 4]), "H")
    return VarlenDraw(lens_q=data.draw(st.lists(st.integers(0, 130), min_size=b, max_size=b), "seqlens_q"),
                      lens_k=data.draw(st.lists(st.integers(0, 130), min_size=b, max_size=b), "seqlens_k"),
                      h=h, hkv=data.draw(st.sampled_from([1, h]), "Hkv"), d=data.draw(st.sampled_from([64, 128]), "D"),
                      dtype=data.draw(st.sampled_from(["float16", "bfloat16"]), "dtype"),
                      causal=data.draw(st.booleans(), "causal"))


def _cu(env: Env, lens: list[int], dtype: str = "int32", device: str | None = None) -> Any:
    torch = env.torch
    offsets = [0]
    for n in lens:
        offsets.append(offsets[-1] + n)
    return torch.tensor(offsets, dtype=getattr(torch, dtype), device=device or env.device)


def _varlen_args(env: Env, g: VarlenDraw) -> list[Any]:
    """q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k of a valid call."""
    tq, tk = sum(g.lens_q), sum(g.lens_k)
    return [tensor(env, (tq, g.h, g.d), g.dtype), tensor(env, (tk, g.hkv, g.d), g.dtype),
            tensor(env, (tk, g.hkv, g.d), g.dtype), _cu(env, g.lens_q), _cu(env, g.lens_k), max(g.lens_q),
            max(g.lens_k)]


def _check_varlen(env: Env, args: list[Any], g: VarlenDraw, scale: float | None = None) -> Callable[[Any], None]:
    """The packed output equals dense attention of each sequence on its own (fp32 reference, computed now)."""
    if not env.gpu:
        return lambda result: None
    q, k, v = args[:3]
    cq, ck = [0], [0]
    for a, b in zip(g.lens_q, g.lens_k):
        cq.append(cq[-1] + a)
        ck.append(ck[-1] + b)
    checks = [(cq[i], cq[i + 1], _check_attn(env, q[None, cq[i]:cq[i + 1]], k[None, ck[i]:ck[i + 1]],
                                             v[None, ck[i]:ck[i + 1]], g.causal, scale))
              for i in range(len(g.lens_q))]

    def check(result: Any) -> None:
        assert tuple(result.shape) == tuple(q.shape), f"result shape {tuple(result.shape)}, expected {tuple(q.shape)}"
        for start, end, seq_check in checks:
            seq_check(result[None, start:end])
    return check


@varlen_mutation("valid")
def _v_valid(env: Env, data: st.DataObject) -> Case:
    g = draw_varlen(data)
    args = _varlen_args(env, g)
    return Case(tuple(args), dict(causal=g.causal), must_fail=env.mode == "cpu", check=_check_varlen(env, args, g))


VARLEN_ARGS = ("q", "k", "v", "cu_seqlens_q", "cu_seqlens_k", "max_seqlen_q", "max_seqlen_k")


def _replace_one(name: str, choices: list[int], make: Callable[..., Any], blame: tuple[str, ...] = ()) -> None:
    """Register a varlen mutation: a valid call with one argument (its index drawn from `choices`) replaced by
    make(env, data, g, args, index); the error must name that argument (or one of `blame`)."""
    @varlen_mutation(name)
    def build(env: Env, data: st.DataObject) -> Case:
        g = draw_varlen(data)
        args = _varlen_args(env, g)
        i = data.draw(st.sampled_from(choices), "which")
        args[i] = make(env, data, g, args, i)
        return Case(tuple(args), blame=blame or (VARLEN_ARGS[i],))


_replace_one("q_bad_dtype", [0], lambda env, data, g, a, i: bad_dtype(env, data, tuple(a[0].shape)))
_replace_one("cu_seqlens_dtype", [3, 4], lambda env, data, g, a, i: _cu(
    env, g.lens_q if i == 3 else g.lens_k, data.draw(st.sampled_from(["int64", "float32", "int16"]), "dtype")))
_replace_one("cu_seqlens_rank", [3, 4], lambda env, data, g, a, i: a[i][None])
_replace_one("cu_seqlens_length_mismatch", [3, 4], lambda env, data, g, a, i: _cu(
    env, [*(g.lens_q if i == 3 else g.lens_k), 0]), blame=("cu_seqlens_q", "cu_seqlens_k"))
_replace_one("cu_seqlens_on_cpu", [3, 4], lambda env, data, g, a, i: a[i].cpu())
_replace_one("max_seqlen_bad_type", [5, 6], lambda env, data, g, a, i: data.draw(
    st.sampled_from([float(a[i]), str(a[i]), None, [a[i]]]), "value"))
_replace_one("max_seqlen_out_of_range", [5, 6], lambda env, data, g, a, i: data.draw(
    st.sampled_from([-1, a[i - 5].shape[0] + 1, 2**40]), "value"))
_replace_one("head_dim_mismatch", [1, 2], lambda env, data, g, a, i: tensor(
    env, (sum(g.lens_k), g.hkv, g.d + 8), g.dtype), blame=("q", "k", "v", "head_dim"))


@varlen_mutation("bad_rank")
def _v_rank(env: Env, data: st.DataObject) -> Case:
    g = draw_varlen(data)
    args = _varlen_args(env, g)
    which = data.draw(st.sampled_from([0, 1, 2]), "which")
    t = args[which]
    kind = data.draw(st.sampled_from(["4d", "2d", "1d"]), "rank")  # 4-D: the dense layout, not varlen's
    args[which] = {"4d": lambda: t[None], "2d": lambda: t.flatten(1), "1d": lambda: t.reshape(-1)}[kind]()
    return Case(tuple(args), blame=(("q", "k", "v")[which],))


@varlen_mutation("heads_not_divisible")
def _v_heads(env: Env, data: st.DataObject) -> Case:
    g = draw_varlen(data)
    g.h, g.hkv = 6, 4
    return Case(tuple(_varlen_args(env, g)), blame=("q", "k", "heads"))


@varlen_mutation("q_non_contiguous")
def _v_strided(env: Env, data: st.DataObject) -> Case:
    g = draw_varlen(data)
    args = _varlen_args(env, g)
    args[0] = tensor(env, (sum(g.lens_q), g.h, 2 * g.d), g.dtype)[..., ::2]
    return Case(tuple(args), blame=("q",), must_fail=False, check=_check_varlen(env, args, g))


@varlen_mutation("q_misaligned")
def _v_misaligned(env: Env, data: st.DataObject) -> Case:
    g = draw_varlen(data)
    args = _varlen_args(env, g)
    args[0] = offset_view(env, (sum(g.lens_q), g.h, g.d), g.dtype, 1)
    return Case(tuple(args), blame=("q",), must_fail=False, check=_check_varlen(env, args, g))


@varlen_mutation("q_not_a_tensor")
def _v_host(env: Env, data: st.DataObject) -> Case:
    g = draw_varlen(data)
    args = _varlen_args(env, g)
    which = data.draw(st.sampled_from([0, 3]), "which")
    args[which] = host_value(env, data, (max(sum(g.lens_q), 1), g.h))
    return Case(tuple(args), blame=("q" if which == 0 else "cu_seqlens_q",), mixed=True)


@varlen_mutation("bad_softmax_scale")
def _v_scale(env: Env, data: st.DataObject) -> Case:
    args = _varlen_args(env, draw_varlen(data))
    scale = data.draw(st.sampled_from(["x", [1.0], object(), -1.0, 0.0, float("nan")]), "scale")
    return Case(tuple(args), dict(softmax_scale=scale), blame=("softmax_scale",))


@varlen_mutation("empty")
def _v_empty(env: Env, data: st.DataObject) -> Case:
    g = draw_varlen(data)
    if data.draw(st.booleans(), "no sequences"):
        g.lens_q, g.lens_k = [], []
        args = [tensor(env, (0, g.h, g.d), g.dtype), tensor(env, (0, g.hkv, g.d), g.dtype),
                tensor(env, (0, g.hkv, g.d), g.dtype), _cu(env, []), _cu(env, []), 0, 0]
    else:
        g.lens_q = [0] * len(g.lens_q)
        args = _varlen_args(env, g)
    return Case(tuple(args), blame=("q", "cu_seqlens_q"), must_fail=False, check=_check_varlen(env, args, g))


@varlen_mutation("bad_call_signature")
def _v_sig(env: Env, data: st.DataObject) -> Case:
    args = _varlen_args(env, draw_varlen(data))
    kind = data.draw(st.sampled_from(["unknown_kw", "missing_max_seqlen_k", "return_lse"]), "kind")
    if kind == "unknown_kw":
        return Case(tuple(args), dict(dropout_p=0.1), blame=("dropout_p",))
    if kind == "missing_max_seqlen_k":
        return Case(tuple(args[:6]), blame=("max_seqlen_k",))
    return Case(tuple(args), dict(return_lse=True), blame=("return_lse",))
