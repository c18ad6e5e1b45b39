"""The attention catalogue families (kernels/attention.py, kernels/attention_varlen.py): the catalogue's own tile
programs run by the numpy interpreter against a float64 reference, the variant table and select(), and (marker
`nvcc`) every variant compiled with no spills and no local memory."""
from __future__ import annotations

import numpy as np
import pytest

import tilec
from kernels import attention, attention_varlen
from kernels.attention import TileConfig, variant_name

# ---- reference ------------------------------------------------------------------------------------------------


def attention_ref(q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool, scale: float):
    """One sequence in float64: q [sq, h, d], k, v [sk, hk, d] -> (o [sq, h, d], lse [h, sq]).

    flash-attn's conventions: kv head of query head i is i // (h // hk); causal is bottom-right aligned; a row with
    no visible key has o = 0 and lse = +inf.
    """
    q, k, v = (a.astype(np.float64) for a in (q, k, v))
    sq, h, _ = q.shape
    sk, hk, _ = k.shape
    k, v = np.repeat(k, h // hk, axis=1), np.repeat(v, h // hk, axis=1)
    s = np.einsum("qhd,khd->hqk", q, k) * scale
    if causal:
        s = np.where(np.arange(sq)[:, None] + (sk - sq) < np.arange(sk)[None, :], -np.inf, s)
    m = s.max(-1, keepdims=True) if sk else np.full((h, sq, 1), -np.inf)
    m = np.where(np.isfinite(m), m, 0.0)
    p = np.exp(s - m)
    l = p.sum(-1, keepdims=True)
    o = np.einsum("hqk,khd->qhd", p / np.where(l == 0, 1, l), v)
    lse = np.where(l[..., 0] == 0, np.inf, np.log(np.where(l[..., 0] == 0, 1, l[..., 0])) + m[..., 0])
    return o, lse


def rel_err(out: np.ndarray, ref: np.ndarray) -> float:
    assert not np.isnan(out).any(), "NaN in the output: some element was never written (or masking made one)"
    den = np.linalg.norm(ref)
    return float(np.linalg.norm(out.astype(np.float64) - ref) / (den if den else 1.0))


def check_lse(lse: np.ndarray, ref: np.ndarray) -> None:
    assert not np.isnan(lse).any(), "NaN in the LSE"
    fin = np.isfinite(ref)
    assert (np.isposinf(lse) == ~fin).all(), "rows with no visible key must have LSE = +inf, the others finite"
    if fin.any():
        assert rel_err(lse[fin], ref[fin]) < 1e-4


def inputs(rng: np.random.Generator, dtype: str, *shapes: tuple) -> list[np.ndarray]:
    """Random tensors exactly representable in `dtype`, in the interpreter's storage type."""
    from tilec.interp.interpreter import round_to
    from tilec.ir import dtypes as dt

    if dtype == "float16":
        return [rng.standard_normal(s).astype(np.float16) for s in shapes]
    return [round_to(dt.bfloat16, rng.standard_normal(s).astype(np.float32)) for s in shapes]


def variant(dtype: str, d: int, causal: bool, varlen: bool, config: TileConfig | None = None):
    group = [v for v in attention.all_variants(varlen) if (v.dtype, v.head_dim, v.causal) == (dtype, d, causal)]
    return next(v for v in group if config is None or v.config == config)


SMALL_D256 = TileConfig(64, 32, 2, 128)

# ---- dense ----------------------------------------------------------------------------------------------------

DENSE = [
    # dtype, batch, seqlen_q, seqlen_k, heads, kv_heads, head_dim, causal, config (None: the first of the group)
    ("float16", 2, 128, 128, 2, 2, 64, False, None),
    ("float16", 1, 77, 133, 8, 2, 64, True, None),      # GQA, causal with seqlen_q < seqlen_k
    ("float16", 1, 133, 77, 4, 1, 64, True, None),      # MQA, causal with seqlen_q > seqlen_k: empty rows
    ("float16", 1, 133, 133, 8, 2, 128, True, None),
    ("float16", 2, 77, 133, 4, 4, 128, False, None),
    ("bfloat16", 1, 133, 77, 4, 2, 128, True, None),
    ("bfloat16", 1, 1, 133, 4, 1, 64, True, None),      # decode: one query row sees every key
    ("float16", 1, 20, 0, 2, 1, 64, False, None),       # no keys at all: O = 0, LSE = +inf
    ("float16", 1, 77, 100, 2, 1, 256, False, SMALL_D256),
    ("bfloat16", 1, 70, 130, 2, 2, 256, True, None),
]


@pytest.mark.parametrize("case", DENSE, ids=lambda c: f"{c[0]}-b{c[1]}-q{c[2]}-k{c[3]}-h{c[4]}/{c[5]}-d{c[6]}"
                                                   f"{'-causal' if c[7] else ''}{'-small' if c[8] else ''}")
def test_dense(case: tuple) -> None:
    dtype, b, sq, sk, h, hk, d, causal, cfg = case
    v = variant(dtype, d, causal, False, cfg)
    kern = tilec.compile(v.build())
    rng = np.random.default_rng(sum(case[1:7]))
    q, k, vv = inputs(rng, dtype, (b, sq, h, d), (b, sk, hk, d), (b, sk, hk, d))
    o = np.full_like(q, np.nan)
    lse = np.full((b, h, sq), np.nan, np.float32)
    scale = d ** -0.5
    kern.interpret(q, k, vv, o, lse, scale)
    for i in range(b):
        ro, rl = attention_ref(q[i], k[i], vv[i], causal, scale)
        assert rel_err(o[i], ro) < 1e-2
        check_lse(lse[i], rl)


def test_dense_catches_a_wrong_mask() -> None:
    """The check can fail: the causal kernel's output is far from the non-causal reference."""
    kern = tilec.compile(variant("float16", 64, True, False).build())
    q, k, v = inputs(np.random.default_rng(0), "float16", (1, 100, 2, 64), (1, 100, 2, 64), (1, 100, 2, 64))
    o, lse = np.full_like(q, np.nan), np.full((1, 2, 100), np.nan, np.float32)
    kern.interpret(q, k, v, o, lse, 0.125)
    assert rel_err(o[0], attention_ref(q[0], k[0], v[0], False, 0.125)[0]) > 0.1


@pytest.mark.parametrize("varlen", [False, True])
def test_causal_mask_block_boundaries(varlen: bool) -> None:
    """Key blocks wholly visible to a query block skip the mask: seqlen_k - seqlen_q around multiples of block_N
    puts a block's last key exactly at, one before and one past the first row's last visible key."""
    kern = tilec.compile(variant("float16", 64, True, varlen).build())
    for off in (-1, 0, 1, 62, 63, 64, 65, 127):
        sq = 70
        sk = sq + off
        q, k, v = inputs(np.random.default_rng(off + 2), "float16", (sq, 1, 64), (sk, 1, 64), (sk, 1, 64))
        o, lse = np.full_like(q, np.nan), np.full((1, 1, sq), np.nan, np.float32)
        if varlen:
            kern.interpret(q, k, v, o, lse, np.array([0, sq], np.int32), np.array([0, sk], np.int32), 0.125)
        else:
            kern.interpret(q[None], k[None], v[None], o[None], lse, 0.125)
        ro, rl = attention_ref(q, k, v, True, 0.125)
        assert rel_err(o, ro) < 1e-2, off
        check_lse(lse[0], rl)


def test_no_nan_from_huge_scores() -> None:
    """Scores far beyond fp16 range (scale 100, |q.k| ~ 100) stay finite: the max is subtracted before exp2."""
    kern = tilec.compile(variant("float16", 64, True, False).build())
    q, k, v = inputs(np.random.default_rng(1), "float16", (1, 70, 2, 64), (1, 90, 2, 64), (1, 90, 2, 64))
    o, lse = np.full_like(q, np.nan), np.full((1, 2, 70), np.nan, np.float32)
    kern.interpret(q, k, v, o, lse, 100.0)
    ro, rl = attention_ref(q[0], k[0], v[0], True, 100.0)
    assert rel_err(o[0], ro) < 1e-2
    check_lse(lse[0], rl)


# ---- varlen ---------------------------------------------------------------------------------------------------

VARLEN = [
    # dtype, seqlens_q, seqlens_k, heads, kv_heads, head_dim, causal
    ("float16", (77, 133, 20), (90, 133, 5), 4, 2, 64, False),
    ("float16", (77, 133, 20), (90, 100, 5), 8, 2, 64, True),    # the last sequence is shorter than a tile
    ("float16", (77, 133, 20), (60, 200, 0), 4, 1, 128, True),   # empty rows (q > k causal) and no keys at all
    ("bfloat16", (5, 70, 129), (5, 64, 150), 4, 4, 128, False),
]


def _varlen_inputs(dtype: str, lens_q: tuple, lens_k: tuple, h: int, hk: int, d: int, pad: int = 0):
    rng = np.random.default_rng(sum(lens_q) + h + d)
    cq = np.concatenate([[0], np.cumsum(lens_q)]).astype(np.int32)
    ck = np.concatenate([[0], np.cumsum(lens_k)]).astype(np.int32)
    q, k, v = inputs(rng, dtype, (cq[-1] + pad, h, d), (max(ck[-1], 1), hk, d), (max(ck[-1], 1), hk, d))
    return q, k, v, cq, ck


@pytest.mark.parametrize("case", VARLEN, ids=lambda c: f"{c[0]}-q{'_'.join(map(str, c[1]))}-k{'_'.join(map(str, c[2]))}"
                                                    f"-h{c[3]}/{c[4]}-d{c[5]}{'-causal' if c[6] else ''}")
def test_varlen(case: tuple) -> None:
    dtype, lens_q, lens_k, h, hk, d, causal = case
    kern = tilec.compile(variant(dtype, d, causal, True).build())
    q, k, v, cq, ck = _varlen_inputs(dtype, lens_q, lens_k, h, hk, d)
    o = np.full_like(q, np.nan)
    lse = np.full((len(lens_q), h, max(lens_q)), np.nan, np.float32)
    scale = d ** -0.5
    kern.interpret(q, k, v, o, lse, cq, ck, scale)
    for i, (lq, lk) in enumerate(zip(lens_q, lens_k)):
        ro, rl = attention_ref(q[cq[i]:cq[i + 1]], k[ck[i]:ck[i] + lk], v[ck[i]:ck[i] + lk], causal, scale)
        assert rel_err(o[cq[i]:cq[i + 1]], ro) < 1e-2
        check_lse(lse[i, :, :lq], rl)
        assert np.isnan(lse[i, :, lq:]).all(), "LSE entries past a sequence's length must not be written"


@pytest.mark.parametrize("causal", [False, True])
def test_varlen_writes_only_its_rows(causal: bool) -> None:
    """One sequence at a time (cu_seqlens sliced to [cu[b], cu[b+1]]): every row of the packed output outside it
    (the neighbours' rows, and padding after the last sequence) keeps its NaN poison."""
    lens_q, lens_k = (77, 20, 133), (90, 5, 140)
    kern = tilec.compile(variant("float16", 64, causal, True).build())
    q, k, v, cq, ck = _varlen_inputs("float16", lens_q, lens_k, 2, 1, 64, pad=50)
    for b in range(len(lens_q)):
        o = np.full_like(q, np.nan)
        lse = np.full((1, 2, lens_q[b]), np.nan, np.float32)
        kern.interpret(q, k, v, o, lse, cq[b:b + 2].copy(), ck[b:b + 2].copy(), 0.125)
        inside = np.zeros(len(q), bool)
        inside[cq[b]:cq[b + 1]] = True
        assert np.isnan(o[~inside]).all(), f"sequence {b} wrote rows outside [{cq[b]}, {cq[b + 1]})"
        ro, rl = attention_ref(q[inside], k[ck[b]:ck[b + 1]], v[ck[b]:ck[b + 1]], causal, 0.125)
        assert rel_err(o[inside], ro) < 1e-2
        check_lse(lse[0], rl)


def test_varlen_bad_offsets_stay_in_bounds() -> None:
    """cu_seqlens live on the GPU, so the stub cannot check them: the kernel clamps every offset to the packed
    tensors. Decreasing offsets and offsets past total_q / total_k (which index out of bounds without the clamp:
    the interpreter raises IndexError there) run without any access outside Q, K, V, O and LSE."""
    kern = tilec.compile(variant("float16", 64, True, True).build())
    q, k, v = inputs(np.random.default_rng(5), "float16", (100, 2, 64), (100, 1, 64), (100, 1, 64))
    o = np.full_like(q, np.nan)
    lse = np.full((2, 2, 70), np.nan, np.float32)
    cq = np.array([0, 60, 130], np.int32)  # the second sequence ends past total_q = 100
    ck = np.array([0, 90, 10], np.int32)   # and its keys end before they start
    kern.interpret(q, k, v, o, lse, cq, ck, 0.125)
    ro, rl = attention_ref(q[:60], k[:90], v[:90], True, 0.125)
    assert rel_err(o[:60], ro) < 1e-2  # the well-formed sequence is unaffected
    check_lse(lse[0, :, :60], rl)
    assert (o[60:] == 0).all() and np.isposinf(lse[1, :, :40]).all()  # clamped: rows 60..99, no keys


def test_varlen_short_max_seqlen_q_writes_no_lse_past_its_rows() -> None:
    """A max_seqlen_q below a sequence's length breaks the contract (those rows are not computed), but the LSE rows
    hold max_seqlen_q entries and nothing is written past them (the interpreter raises IndexError otherwise)."""
    kern = tilec.compile(variant("float16", 64, False, True).build())
    q, k, v = inputs(np.random.default_rng(6), "float16", (77, 2, 64), (90, 1, 64), (90, 1, 64))
    o = np.full_like(q, np.nan)
    lse = np.full((1, 2, 70), np.nan, np.float32)
    kern.interpret(q, k, v, o, lse, np.array([0, 77], np.int32), np.array([0, 90], np.int32), 0.125)
    ro, rl = attention_ref(q, k, v, False, 0.125)
    assert rel_err(o, ro) < 1e-2  # the grid covers ceildiv(70, 64) * 64 = 128 >= 77 rows here
    check_lse(lse[0], rl[:, :70])


# ---- the variant table --------------------------------------------------------------------------------------


def test_variant_table() -> None:
    dense, varlen = attention.variants(), attention_varlen.variants()
    names = [v.name for v in dense + varlen]
    assert len(set(names)) == len(names)
    assert variant_name("float16", 128, True, False, TileConfig(128, 64, 2, 128)) == \
        "attn_f16_d128_causal_bm128_bn64_s2_t128_sm80"
    for fam, vs, varlen_ in ((attention, dense, False), (attention_varlen, varlen, True)):
        assert all(v.varlen == varlen_ for v in vs)
        assert {(v.dtype, v.head_dim, v.causal) for v in vs} == {
            (dt, d, c) for dt in ("float16", "bfloat16") for d in (64, 128, 256) for c in (False, True)}
        assert fam.SCALARS == ("scale",)
        assert len(fam.DIMS) <= 8 and len(fam.TENSORS) + len(fam.SCALARS) + len(fam.DIMS) <= 16  # KernelInfo limits
    # Every (dtype, head_dim, causal) has a variant for the 99 KiB archs (sm_86/89/120).
    small = lambda v: v.config.smem_bytes(v.head_dim) <= 99 * 1024
    for vs in (dense, varlen):
        for key in {(v.dtype, v.head_dim, v.causal) for v in vs}:
            assert any(small(v) for v in vs if (v.dtype, v.head_dim, v.causal) == key), key
    sm80 = lambda v: v.lowering == "sm80"
    big = attention.select("bfloat16", 256, True, runnable=sm80)
    assert big.config == TileConfig(64, 64, 2, 128)
    # sm_90a: every dense group starts with its TMA + wgmma variant; varlen has none.
    for v in dense:
        first = attention.select(v.dtype, v.head_dim, v.causal)
        assert first.lowering == "sm90a" and first.archs == ("sm_90a",)
        assert first.config == attention.SM90A_CONFIGS[(v.head_dim, v.causal)][0]
        # past every sm90a row's max_seqlen_k the group's last sm90a row (no limit) serves any key length
        last = attention.select(v.dtype, v.head_dim, v.causal, seqlen_k=1 << 30)
        assert last.lowering == "sm90a" and last.config == attention.SM90A_CONFIGS[(v.head_dim, v.causal)][-1]
        assert last.config.max_seqlen_k == 0
    assert all(v.lowering == "sm80" for v in varlen)
    for sk in (1, 4096, 1 << 20):  # d128 non-causal: one persistent row with the rescale vote at every length
        assert attention.select("float16", 128, False, seqlen_k=sk).name == \
            "attn_f16_d128_full_bm128_bn128_s2_t256_persistent_epi_ov_pp_sr_sm90a"
    assert attention.select("float16", 128, True, seqlen_k=16384).name == \
        "attn_f16_d128_causal_bm128_bn128_s2_t256_epi_ov_pp_sm90a"
    assert attention.select("bfloat16", 256, True, runnable=lambda v: small(v) and sm80(v)).config == SMALL_D256
    assert attention_varlen.select("float16", 256, False, runnable=small).name == \
        "attn_varlen_f16_d256_full_bm64_bn32_s2_t128_sm80"
    assert attention.select("float16", 96, False) is None
    assert [p.cpp_fields() for p in (big,)] == [["1", "256", "true", "64", "64", "0LL"]]


@pytest.mark.parametrize("name", ["attn_f16_d256_full_bm64_bn64_s2_t128_sm80",
                                  "attn_varlen_bf16_d128_causal_bm64_bn64_s2_t128_sm80"])
def test_smem_formula_matches_the_compiler(name: str) -> None:
    v = next(v for v in attention.variants() + attention_varlen.variants() if v.name == name)
    meta = tilec.compile(v.build(), target="sm_80").metadata
    assert meta.launches[0].smem_bytes == v.config.smem_bytes(v.head_dim)
    fam = attention_varlen if v.varlen else attention
    assert tuple(p.name for p in meta.params if p.kind == "tensor") == fam.TENSORS
    assert [(p.name, p.dtype) for p in meta.params if p.kind == "scalar"] == [("scale", "float32")]
    assert set(meta.sym_dims) == set(fam.DIMS)
    # The kernel argument order documented in kernels/attention.py (what the C++ stub passes).
    assert meta.sym_dims == (("total_q", "heads", "total_k", "kv_heads", "batch", "max_seqlen_q", "batch_plus_1")
                             if v.varlen else ("batch", "seqlen_q", "heads", "seqlen_k", "kv_heads"))
    assert meta.launches[0].grid == (f"(({'max_seqlen_q' if v.varlen else 'seqlen_q'} + 63) // 64)", "heads", "batch")


# ---- nvcc ---------------------------------------------------------------------------------------------------

ALL = attention.variants() + attention_varlen.variants()
SMEM_MAX = {"sm_80": 163 * 1024, "sm_86": 99 * 1024, "sm_120": 99 * 1024, "sm_90a": 227 * 1024}


def _compile_cases() -> list:
    cases = [(v.name, "sm_90a" if v.lowering == "sm90a" else "sm_80") for v in ALL]
    # The 99 KiB archs: every head_dim-256 variant that fits them, and one d64 / d128 sample.
    cases += [(v.name, a) for v in ALL for a in ("sm_86", "sm_120")
              if v.config.smem_bytes(v.head_dim) <= SMEM_MAX[a] and
              (v.head_dim == 256 or v.name in ("attn_bf16_d64_causal_bm64_bn64_s2_t128_sm80",
                                               "attn_varlen_f16_d128_full_bm64_bn64_s2_t128_sm80"))]
    return cases


@pytest.mark.nvcc
@pytest.mark.parametrize("name, arch", _compile_cases())
def test_variant_compiles_without_spills(name: str, arch: str) -> None:
    v = next(v for v in ALL if v.name == name)
    kern = tilec.compile(v.build(), target=arch)
    res = kern.resources
    assert kern.cubin[:4] == b"\x7fELF"
    assert res["spill_bytes"] == 0, f"{name} spills on {arch}: {res}"
    assert res["stack_bytes"] == 0, f"{name} uses local memory on {arch}: {res}"
    assert 0 < res["registers"] <= 255
    assert kern.metadata.launches[0].smem_bytes <= SMEM_MAX[arch]


def test_catalogue_plans_every_arch() -> None:
    """Both families load from kernels/, and every (dtype, head_dim, causal) has a variant on every release arch."""
    from pathlib import Path

    from tilec.aot.catalogue import load_catalogue, plan

    fams = load_catalogue(Path(__file__).resolve().parents[2] / "kernels", ["attention", "attention_varlen"])
    assert [f.name for f in fams] == ["attention", "attention_varlen"]
    assert fams[0].module.DIMS == ("batch", "seqlen_q", "seqlen_k", "heads", "kv_heads")
    planned, skipped = plan(fams, "80;86;89;90a;100a;120+PTX", lambda v: v.config.smem_bytes(v.head_dim))
    assert all("shared memory" in s or "its sm90a lowering does not run on" in s for s in skipped)
    for fam in fams:
        for key in {(v.dtype, v.head_dim, v.causal) for v in fam.variants}:
            covered = {t.arch for p in planned if p.family is fam and
                       (p.variant.dtype, p.variant.head_dim, p.variant.causal) == key for t in p.archs}
            assert covered == {"sm_80", "sm_86", "sm_89", "sm_90a", "sm_100a", "sm_120"}, (fam.name, key)


# ---- the AOT ABI: the float32 scale in KernelInfo -------------------------------------------------------------


def _fam(**kw):
    from tilec.aot.catalogue import Family

    return Family("attention", attention, attention.DIMS, attention.TENSORS, attention.CPP_STRUCT, **kw)


def test_check_abi_takes_the_scale() -> None:
    """emit's ABI check: the kernel's scalar parameters must be the family's SCALARS, float32, at most 4."""
    from dataclasses import replace

    from tilec.aot.steps import check_abi
    from tilec.errors import TilecError
    from tilec.metadata import ParamSpec

    v = variant("float16", 64, False, False)
    meta = tilec.compile(v.build(), target="sm_80").metadata
    assert check_abi(_fam(scalars=("scale",)), v, meta) == [0, 1, 3, 2, 4]  # batch, seqlen_q, heads, seqlen_k, kv_heads
    with pytest.raises(TilecError, match=r"do not match the family ABI .* SCALARS=\(\)"):
        check_abi(_fam(), v, meta)
    f64 = replace(meta, params=tuple(ParamSpec(p.name, p.kind, "float64") if p.kind == "scalar" else p
                                     for p in meta.params))
    with pytest.raises(TilecError, match=r"scalar parameters \['scale: float64'\]; the AOT ABI passes float32"):
        check_abi(_fam(scalars=("scale",)), v, f64)
    many = replace(meta, params=meta.params + tuple(ParamSpec(f"s{i}", "scalar", "float32") for i in range(4)))
    with pytest.raises(TilecError, match="5 scalar parameters; KernelInfo passes at most 4"):
        check_abi(_fam(scalars=("scale", "s0", "s1", "s2", "s3")), v, many)


def test_table_rows_compile_with_the_scale_and_an_empty_family(tmp_path) -> None:
    """`table` writes n_scalars = 1 for the attention rows and, for a shipped family with no planned variant, a null
    pointer and a zero count; the result compiles (-Wall -Wextra -Werror) against bindings/src/kernel_info.h."""
    import json
    import shutil
    import subprocess
    from pathlib import Path

    from tilec.aot.catalogue import load_catalogue, plan
    from tilec.aot.steps import emit, table

    gxx = shutil.which("g++")
    if gxx is None:
        pytest.skip("needs g++")
    root = Path(__file__).resolve().parents[2]
    fams = load_catalogue(root / "kernels", ["attention", "attention_varlen"])
    assert [f.scalars for f in fams] == [("scale",), ("scale",)]
    assert [f.table_name for f in fams] == ["kAttention", "kAttentionVarlen"]
    name = "attn_bf16_d128_causal_bm64_bn64_s2_t128_sm80"
    fams[0].variants = [v for v in fams[0].variants if v.name == name]
    fams[1].variants = []
    emit(fams[0], fams[0].variants[0], tmp_path / f"{name}.cu")
    planned, _ = plan(fams, "80", lambda v: json.loads((tmp_path / f"{v.name}.json").read_text())
                      ["metadata"]["launches"][0]["smem_bytes"])
    text = table(planned, tmp_path, "80", fams)
    assert "static const AttentionVarlenVariant* const kAttentionVarlen = nullptr;" in text
    assert "{&kKernels[0], 1, 128, true, 64, 64, 0LL}," in text
    (tmp_path / "table.inc").write_text(text)
    main = tmp_path / "main.cpp"
    main.write_text('#include "kernel_info.h"\n#include "table.inc"\n#include <cstdio>\n'
                    "int main() { using namespace tilekernels; using namespace tilekernels::catalogue;\n"
                    "const AttentionVariant* v = kAttentionVarlen; const AttentionVariant* a = kAttention;\n"
                    "long long d[5] = {2, 130, 200, 8, 2}; unsigned g[3]; a[0].kernel->grid(d, g);\n"
                    "std::printf(\"%d %d %d %d %d %u %u %u %d\\n\", kAttentionCount, kAttentionVarlenCount,\n"
                    "  a[0].kernel->n_scalars, a[0].kernel->n_tensors, a[0].kernel->n_dims, g[0], g[1], g[2],\n"
                    "  v == nullptr); }\n")
    exe = tmp_path / "main"
    subprocess.run([gxx, "-std=c++17", "-Wall", "-Wextra", "-Werror", f"-I{root / 'bindings' / 'src'}",
                    f"-I{tmp_path}", "-o", str(exe), str(main)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["1", "0", "1", "5", "5", "3", "8", "2", "1"]
