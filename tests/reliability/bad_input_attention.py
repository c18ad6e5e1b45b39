"""Bad-input cases of tilekernels.flash_attn (the family may not exist yet: its tests skip then)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from bad_input_harness import TOLERANCE, Case, Env, bad_dtype, bad_rank, host_value, offset_view, tensor
from hypothesis import strategies as st

ATTN_MUTATIONS: dict[str, Callable[[Env, st.DataObject], Case]] = {}


def attn_mutation(name: str):
    def register(f: Callable[[Env, st.DataObject], Case]) -> Callable[[Env, st.DataObject], Case]:
        ATTN_MUTATIONS[name] = f
        return f
    return register


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
