"""tilec.aot: catalogue loading, arch planning, emit/table/compile/fatbin steps (the AOT build's contract)."""
from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from tilec.aot.__main__ import main as aot_main
from tilec.aot.catalogue import load_catalogue, plan
from tilec.aot.steps import compile_variant, emit, fatbin, grid_expr_to_cpp, table
from tilec.errors import TilecCompileError, TilecError
from tilec.metadata import KernelMetadata

ROOT = Path(__file__).resolve().parents[2]

# A tiny family: y[i] = x[i] * 2 over a runtime length; one variant that needs lots of shared memory.
_FAMILY = '''
from dataclasses import dataclass
import tilec.language as T
from tilec.aot.catalogue import VariantBase

FAMILY = "scale"
DIMS = ("N",)
TENSORS = ("X", "Y")
CPP_STRUCT = "ScaleVariant"


@dataclass(frozen=True)
class ScaleVariant(VariantBase):
    block: int = 256
    smem_kib: int = 0

    def build(self):
        N = T.symbolic("N")
        block, smem_elems = self.block, max(self.smem_kib * 256, 1)

        @T.prim_func
        def main(X: T.Tensor((N,), "float32"), Y: T.Tensor((N,), "float32")):
            with T.Kernel(T.ceildiv(N, block), threads=128) as bx:
                S = T.alloc_shared((smem_elems,), "float32")
                for i in T.Parallel(block):
                    if bx * block + i < N:
                        Y[bx * block + i] = X[bx * block + i] * 2.0
        return main

    def cpp_fields(self):
        return [str(self.block)]


def variants():
    return [ScaleVariant(name="scale_b256_sm80"), ScaleVariant(name="scale_big_sm80", block=128, smem_kib=120),
            ScaleVariant(name="scale_sm90a_only", lowering="sm90a", archs=("sm_90a",))]
'''


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    d = tmp_path / "cat"
    d.mkdir()
    (d / "scale.py").write_text(_FAMILY)
    (d / "_private.py").write_text("raise RuntimeError('must not be imported')\n")
    return d


def _smem(v) -> int:
    return v.smem_kib * 1024


def test_plan_intersects_archs_and_says_why(catalogue: Path) -> None:
    fams = load_catalogue(catalogue)
    planned, skipped = plan(fams, "8.6 9.0a 80 120+PTX", _smem)
    by = {p.variant.name: p for p in planned}
    assert [t.arch for t in by["scale_b256_sm80"].archs] == ["sm_80", "sm_86", "sm_90a", "sm_120"]
    assert by["scale_b256_sm80"].ptx == "compute_120"
    assert [t.arch for t in by["scale_big_sm80"].archs] == ["sm_80", "sm_90a"]  # 120 KiB > 99 KiB on 86/120
    assert by["scale_big_sm80"].ptx is None
    assert [t.arch for t in by["scale_sm90a_only"].archs] == ["sm_90a"]
    assert any("scale_big_sm80 x sm_86: needs 122880 bytes of shared memory" in s for s in skipped)
    assert any("scale_sm90a_only x sm_80: its sm90a lowering does not run on sm_80" in s for s in skipped)


def test_plan_rejects_unknown_arch(catalogue: Path) -> None:
    with pytest.raises(ValueError, match="unknown arch '91'.*allowed: 80, 86"):
        plan(load_catalogue(catalogue), "80;91", _smem)


def test_catalogue_errors(tmp_path: Path, catalogue: Path) -> None:
    with pytest.raises(TilecError, match="does not exist"):
        load_catalogue(tmp_path / "nope")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "fam.py").write_text("FAMILY = 'x'\n")
    with pytest.raises(TilecError, match="lacks DIMS, TENSORS, CPP_STRUCT, variants"):
        load_catalogue(bad)
    with pytest.raises(TilecError, match="no catalogue family named nope"):
        load_catalogue(catalogue, ["nope"])
    (catalogue / "scale2.py").write_text(_FAMILY.replace('"scale"', '"scale2"'))
    with pytest.raises(TilecError, match="two catalogue variants are named scale_b256_sm80"):
        load_catalogue(catalogue)


@pytest.mark.parametrize("text,dims,d,want", [
    ("((N + 127) // 128)", ("M", "N"), (5, 300), 3),
    ("(M % 7) * 2 - 1", ("M",), (23,), 3),
    ("min(M, 4) + max(N, 2)", ("M", "N"), (9, 1), 6),
    ("1", (), (), 1),
])
def test_grid_expr_to_cpp_matches_python(text: str, dims: tuple, d: tuple, want: int) -> None:
    assert eval(text, {"min": min, "max": max}, dict(zip(dims, d))) == want
    cpp = grid_expr_to_cpp(text, dims)
    for i, v in enumerate(d):
        cpp = cpp.replace(f"d[{i}]", str(v))
    cpp = cpp.replace("LL", "").replace("/", "//")
    if "?" not in cpp:  # min/max become C conditionals; the g++ test below runs those
        assert eval(cpp, {}) == want


def test_grid_expr_rejects_unknown_names() -> None:
    with pytest.raises(TilecError, match="cannot translate"):
        grid_expr_to_cpp("(Q + 1)", ("M",))
    with pytest.raises(TilecError, match="cannot translate"):
        grid_expr_to_cpp("M ** 2", ("M",))


# The generated table is compiled against the real bindings/src/kernel_info.h, plus the test family's row struct.
_KERNEL_INFO_H = ('#include "kernel_info.h"\n'
                  "namespace tilekernels { struct ScaleVariant { const KernelInfo* kernel; int block; }; }\n")
_GXX_FLAGS = ["-std=c++17", "-Wall", "-Wextra", "-Werror", f"-I{ROOT / 'bindings' / 'src'}"]


def test_emit_and_table_compile_and_compute_grids(tmp_path: Path, catalogue: Path) -> None:
    gxx = shutil.which("g++")
    if gxx is None:
        pytest.skip("needs g++")
    fams = load_catalogue(catalogue)
    gen = tmp_path / "gen"
    for v in fams[0].variants:
        emit(fams[0], v, gen / f"{v.name}.cu")
    info = json.loads((gen / "scale_big_sm80.json").read_text())
    assert info["dim_order"] == [0] and info["cpp_fields"] == ["128"]
    assert info["metadata"]["launches"][0]["smem_bytes"] >= 120 * 1024
    src_before = (gen / "scale_b256_sm80.cu").stat().st_mtime_ns
    emit(fams[0], fams[0].variants[0], gen / "scale_b256_sm80.cu")  # same content: file untouched
    assert (gen / "scale_b256_sm80.cu").stat().st_mtime_ns == src_before

    planned, _ = plan(fams, "80;90a", lambda v: json.loads((gen / f"{v.name}.json").read_text())
                      ["metadata"]["launches"][0]["smem_bytes"])
    text = table(planned, gen, "80;90a")
    assert 'kBuiltArchs = "sm_80;sm_90a"' in text
    assert "static const ScaleVariant kScale[] = {" in text and "kScaleCount = 3" in text
    main = tmp_path / "main.cpp"
    main.write_text(_KERNEL_INFO_H + '#include "table.inc"\n#include <cstdio>\n'
                    "int main() { using namespace tilekernels::catalogue; long long d[1] = {1000}; unsigned g[3];\n"
                    "for (int i = 0; i < kKernelCount; ++i) { kKernels[i].grid(d, g);\n"
                    "  std::printf(\"%s %u %u %u %s %u\\n\", kKernels[i].name, g[0], g[1], g[2], kKernels[i].archs,"
                    " kKernels[i].smem_bytes); } }\n")
    (tmp_path / "table.inc").write_text(text)
    exe = tmp_path / "main"
    subprocess.run([gxx, *_GXX_FLAGS, "-o", str(exe), str(main)], check=True)
    rows = [line.split() for line in subprocess.run([str(exe)], capture_output=True, text=True,
                                                    check=True).stdout.splitlines()]
    assert rows[0][:5] == ["scale_b256_sm80", "4", "1", "1", "sm_80;sm_90a"]
    assert rows[1][:5] == ["scale_big_sm80", "8", "1", "1", "sm_80;sm_90a"]
    assert rows[2][:5] == ["scale_sm90a_only", "4", "1", "1", "sm_90a"]


def _jit_encode_args(spec, ptr: int, env: dict, monkeypatch) -> dict:
    """The cuTensorMapEncodeTiled arguments the JIT launcher passes for one TensorMapSpec (the transformation of
    tilec.runtime.launcher Launcher._fill_tensor_maps, then tilec.runtime.tensor_map.encode_tiled), recorded."""
    from tilec.runtime import driver
    from tilec.runtime.tensor_map import _DTYPES, encode_tiled

    calls = []
    monkeypatch.setattr(driver, "tensor_map_encode_tiled", lambda *a: calls.append(a) or bytes(128))
    dims = tuple(int(eval(str(e), {}, env)) for e in spec.dims)
    strides = tuple(int(eval(str(e), {}, env)) for e in spec.strides_bytes)
    encode_tiled(spec.dtype, ptr, tuple(reversed(dims)), tuple(reversed(strides)) + (_DTYPES[spec.dtype][1],),
                 tuple(reversed(spec.box)), swizzle=spec.swizzle)
    (dtype, _, g, st, box, es, interleave, swizzle, l2, oob), = calls
    assert (es, interleave, l2, oob) == ([1] * len(g), 0, 3, 0)  # what the C++ runtime always passes
    return {"dtype": dtype, "rank": len(g), "box": list(box), "swizzle": swizzle, "dims": list(g), "strides": list(st)}


def test_table_with_tensor_maps_matches_the_jit(tmp_path: Path, monkeypatch) -> None:
    """The real sm90a GEMM variants: their emitted JSON carries two tensor maps; the generated table's TmapInfo rows
    (compiled with the real kernel_info.h, shape() evaluated at M, N, K = 1000, 1032, 520) give exactly the
    cuTensorMapEncodeTiled arguments the JIT launcher would pass for the same kernel."""
    gxx = shutil.which("g++")
    if gxx is None:
        pytest.skip("needs g++")
    fams = load_catalogue(ROOT / "kernels", ["gemm"])
    gemm_fam = fams[0]
    names = ["gemm_f16_nn_64x64x64_s4_t128_sm80", "gemm_f16_nn_128x256x64_s4_t256_persistent_epi64x2_sm90a",
             "gemm_bf16_nt_128x256x64_s4_t256_persistent_epi64x2_sm90a"]
    gemm_fam.variants = [v for v in gemm_fam.variants if v.name in names]
    gen = tmp_path / "gen"
    for v in gemm_fam.variants:
        emit(gemm_fam, v, gen / f"{v.name}.cu")
    metas = {n: KernelMetadata.from_json(json.dumps(json.loads((gen / f"{n}.json").read_text())["metadata"]))
             for n in names}
    assert [len(metas[n].launches[0].tensor_maps) for n in names] == [0, 3, 3]  # A, B loads; C store
    assert metas[names[1]].launches[0].threads == 384
    planned, _ = plan(fams, "80;90a", lambda v: metas[v.name].launches[0].smem_bytes)
    assert {p.variant.name: [t.arch for t in p.archs] for p in planned} == {
        names[0]: ["sm_80", "sm_90a"], names[1]: ["sm_90a"], names[2]: ["sm_90a"]}
    text = table(planned, gen, "80;90a")
    assert "static void tmap_gemm_f16_nn_128x256x64_s4_t256_persistent_epi64x2_sm90a_1(" in text
    assert text.count(", true},") == 2  # KernelInfo.persistent of the sm90a rows (the default false elsewhere)
    main = tmp_path / "main.cpp"
    main.write_text('#include "kernel_info.h"\n#include "table.inc"\n#include <cstdio>\n'
                    "int main() { using namespace tilekernels; using namespace tilekernels::catalogue;\n"
                    "long long d[3] = {1000, 1032, 520};\n"
                    "for (int i = 0; i < kKernelCount; ++i) { const KernelInfo& k = kKernels[i];\n"
                    "  std::printf(\"kernel %s %d\\n\", k.name, k.n_tmaps);\n"
                    "  for (int j = 0; j < k.n_tmaps; ++j) { const TmapInfo& t = k.tmaps[j];\n"
                    "    unsigned long long g[5] = {0}, s[5] = {0}; t.shape(d, g, s);\n"
                    "    std::printf(\"map %d %d %d %d\", t.tensor, t.dtype, t.rank, t.swizzle);\n"
                    "    for (int r = 0; r < t.rank; ++r) std::printf(\" %u %llu\", t.box[r], g[r]);\n"
                    "    for (int r = 0; r + 1 < t.rank; ++r) std::printf(\" %llu\", s[r]);\n"
                    "    std::printf(\"\\n\"); } } }\n")
    (tmp_path / "table.inc").write_text(text)
    exe = tmp_path / "main"
    subprocess.run([gxx, *_GXX_FLAGS, "-o", str(exe), str(main)], check=True)
    got: dict = {}
    for line in subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.splitlines():
        f = line.split()
        if f[0] == "kernel":
            cur = got.setdefault(f[1], [])
            assert int(f[2]) == len(metas[f[1]].launches[0].tensor_maps)
        else:
            tensor, dtype, rank, swz = map(int, f[1:5])
            vals = list(map(int, f[5:]))
            cur.append({"tensor": tensor, "dtype": dtype, "rank": rank, "box": vals[0:2 * rank:2], "swizzle": swz,
                        "dims": vals[1:2 * rank:2], "strides": vals[2 * rank:]})
    env = {"M": 1000, "N": 1032, "K": 520}
    for n in names:
        want = []
        for t in metas[n].launches[0].tensor_maps:
            w = _jit_encode_args(t, 0x7F0000000000, env, monkeypatch)
            want.append({"tensor": gemm_fam.tensors.index(t.param), **w})
        assert got[n] == want, n
    nt_b = got[names[2]][1]
    assert nt_b == {"tensor": 1, "dtype": 9, "rank": 2, "box": [64, 256], "swizzle": 3, "dims": [520, 1032],
                    "strides": [1040]}


def _meta_with_maps(*maps) -> KernelMetadata:
    from tilec.metadata import LaunchSpec, ParamSpec

    params = (ParamSpec("X", "tensor", "float16", ("N", "M")), ParamSpec("Y", "tensor", "float16", ("N", "M")))
    return KernelMetadata("k", params, ("N", "M"), (LaunchSpec("k_kernel", ("1", "1", "1"), 128, 0, (1, 1, 1),
                                                               tuple(maps)),))


@pytest.mark.parametrize("kw,pattern", [
    ({"param": "Z"}, "describes 'Z', which is not one of the family's TENSORS"),
    ({"dtype": "complex64"}, "has dtype 'complex64', which TMA cannot move"),
    ({"box": (64,)}, "must have rank 1..5 entries"),
    ({"box": (512, 8)}, r"box \(512, 8\) must have entries in 1..256"),
    ({"swizzle": 16}, "swizzle 16 is not 0, 32, 64 or 128"),
    ({"dims": ("M", "N ** 2")}, "tensor map 'X_tmap0': grid expression 'N \\*\\* 2'.*cannot translate"),
])
def test_check_abi_rejects_tensor_maps_the_table_cannot_hold(kw, pattern) -> None:
    from tilec.aot.catalogue import Family, VariantBase
    from tilec.aot.steps import check_abi
    from tilec.metadata import TensorMapSpec

    fam = Family("scale", None, ("M", "N"), ("X", "Y"), "ScaleVariant")
    base = {"name": "X_tmap0", "param": "X", "dtype": "float16", "dims": ("M", "N"), "strides_bytes": ("(2 * M)",),
            "box": (64, 8), "swizzle": 128}
    good = TensorMapSpec(**base)
    assert check_abi(fam, VariantBase("v"), _meta_with_maps(good, good.with_name("Y_tmap0"))) == [1, 0]
    with pytest.raises(TilecError, match=pattern):
        check_abi(fam, VariantBase("v"), _meta_with_maps(TensorMapSpec(**{**base, **kw})))
    with pytest.raises(TilecError, match="5 TMA tensor maps; KernelInfo holds at most 4"):
        check_abi(fam, VariantBase("v"), _meta_with_maps(*[good] * 5))


def test_check_abi_rejects_stream_k_kernels() -> None:
    from dataclasses import replace

    from tilec.aot.catalogue import Family, VariantBase
    from tilec.aot.steps import check_abi

    fam = Family("scale", None, ("M", "N"), ("X", "Y"), "ScaleVariant")
    meta = _meta_with_maps()
    assert check_abi(fam, VariantBase("v"), meta) == [1, 0]
    sk = replace(meta, launches=(replace(meta.launches[0], persistent=True, workspace_per_block=4096),))
    with pytest.raises(TilecError, match="variant v: a stream-K kernel .* needs a workspace argument"):
        check_abi(fam, VariantBase("v"), sk)


def test_table_needs_emit_first(tmp_path: Path, catalogue: Path) -> None:
    planned, _ = plan(load_catalogue(catalogue), "80", _smem)
    with pytest.raises(TilecError, match="scale_b256_sm80.json is missing: run `python -m tilec.aot emit"):
        table(planned, tmp_path, "80")


@pytest.mark.nvcc
def test_compile_fatbin_and_spill_gate(tmp_path: Path, catalogue: Path) -> None:
    from tilec.toolchain import find_nvcc

    nvcc = find_nvcc()
    fams = load_catalogue(catalogue)
    v = fams[0].variants[0]
    cu = tmp_path / f"{v.name}.cu"
    emit(fams[0], v, cu)
    res = compile_variant(nvcc, "sm_80", cu, tmp_path / f"{v.name}.sm_80.cubin")
    assert res["spill_bytes"] == 0 and res["registers"] > 0
    assert json.loads((tmp_path / f"{v.name}.sm_80.cubin.json").read_text())["registers"] == res["registers"]
    compile_variant(nvcc, "compute_90", cu, tmp_path / f"{v.name}.compute_90.ptx", ptx=True)
    fatbinary = Path(nvcc).with_name("fatbinary")
    if not fatbinary.is_file():
        pytest.skip("no fatbinary next to nvcc")
    fb = tmp_path / f"{v.name}.fatbin"
    fatbin(str(fatbinary), fb, [tmp_path / f"{v.name}.sm_80.cubin", tmp_path / f"{v.name}.compute_90.ptx"])
    assert fb.stat().st_size > 0

    spill = tmp_path / "spill.cu"  # a dynamically indexed local array lives in local memory
    spill.write_text(textwrap.dedent('''
        extern "C" __global__ void k(float* out, int i) {
          float a[512];
          for (int j = 0; j < 512; ++j) a[j] = out[j];
          out[0] = a[i & 511];
        }'''))
    with pytest.raises(TilecCompileError, match="spill for sm_80 uses local memory: .* 2048 bytes stack"):
        compile_variant(nvcc, "sm_80", spill, tmp_path / "spill.sm_80.cubin")
    assert not (tmp_path / "spill.sm_80.cubin").exists()


def test_cli_list_and_errors(catalogue: Path, capsys: pytest.CaptureFixture) -> None:
    assert aot_main(["list", "--catalogue", str(catalogue), "--archs", "90a"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == ["scale_b256_sm80;sm_90a;", "scale_big_sm80;sm_90a;", "scale_sm90a_only;sm_90a;"]
    assert aot_main(["list", "--catalogue", str(catalogue), "--archs", "80;75"]) == 2
    assert "unknown arch '75'" in capsys.readouterr().err
    assert aot_main(["emit", "--catalogue", str(catalogue), "--variant", "nope", "--out", "x.cu"]) == 1
    assert "no catalogue variant named 'nope'" in capsys.readouterr().err


def test_real_catalogue_plans_the_release_matrix() -> None:
    """Every kernels/ family loads; GEMM covers fp16/bf16 x NN/NT with a variant for every release arch."""
    from kernels import gemm

    fams = load_catalogue(ROOT / "kernels")
    assert [f.name for f in fams] == ["attention", "attention_varlen", "gemm"]  # attention: test_attention_family
    fams = [f for f in fams if f.name == "gemm"]
    smem = {c: c.stages * (c.block_m + c.block_n) * c.block_k * 2 for c, _ in gemm.SCHEDULE}
    planned, skipped = plan(fams, "80;86;89;90a;100a;120+PTX", lambda v: smem[v.config])
    for dtype in ("float16", "bfloat16"):
        for trans_b in (False, True):
            rows = [p for p in planned if p.variant.dtype == dtype and p.variant.trans_b == trans_b]
            covered = {t.arch for p in rows if p.variant.config.max_m == 0 and p.variant.lowering == "sm80"
                       for t in p.archs}
            assert covered == {"sm_80", "sm_86", "sm_89", "sm_90a", "sm_100a", "sm_120"}
            # Preference: the GEMV tile (M <= 16; sm80 lowering, 160 KiB: sm_80/90a/100a only), the sm90a small-M
            # tiles (M <= 64, M <= 128), the small-M sm80 tile, then the sm90a TMA/wgmma kernels (two tile widths,
            # picked per problem by wave efficiency), then the sm80 large tiles.
            assert [p.variant.lowering for p in rows] == ["sm80", "sm90a", "sm90a", "sm80", "sm90a", "sm90a", "sm80"]
            assert [p.variant.config.max_m for p in rows] == [16, 64, 128, 128, 0, 0, 0]
            assert [p.variant.config.min_k for p in rows] == [0] * 7
            assert [p.variant.config.pick for p in rows] == [0, 0, 0, 0, 1, 1, 0]
            assert [t.arch for t in rows[0].archs] == ["sm_80", "sm_90a", "sm_100a"]
            assert any(f"{rows[0].variant.name} x sm_86: needs 163840 bytes of shared memory" in s for s in skipped)
            assert all([t.arch for t in p.archs] == ["sm_90a"] for p in rows[1:3])
            sm90a = rows[4]
            assert sm90a.variant.name.endswith("_128x256x64_s4_t256_persistent_epi64x2_sm90a") and sm90a.variant.archs == ("sm_90a",)
            assert [t.arch for t in sm90a.archs] == ["sm_90a"] and sm90a.ptx is None
            assert any(f"{sm90a.variant.name} x sm_80: its sm90a lowering does not run" in s for s in skipped)
    assert gemm.select(16, "float16", True).config.max_m == 16
    assert gemm.select(17, "float16", True).config.max_m == 64
    assert gemm.select(129, "float16", True, cc=(9, 0)).name.endswith("_persistent_epi_sm90a")
    assert gemm.select(16, "float16", True, cc=(9, 0)).name == "gemm_f16_nt_16x64x128_s8_t128_sm80"
    assert gemm.select(17, "float16", True, cc=(9, 0)).name == "gemm_f16_nt_64x64x128_s6_t128_sm90a"
    assert gemm.select(128, "float16", True, cc=(9, 0)).name == "gemm_f16_nt_64x128x64_s8_t128_sm90a"
    # long K takes the pick group too; M <= 128 keeps the small-M rows
    assert gemm.select(4096, "bfloat16", False, N=8192, K=16384).name == \
        "gemm_bf16_nn_128x256x64_s4_t256_persistent_epi64x2_sm90a"
    assert gemm.select(128, "bfloat16", False, N=8192, K=65536).config.max_m == 128
    assert gemm.select(17, "float16", True, cc=(8, 0)).name == "gemm_f16_nt_64x64x64_s4_t128_sm80"
    assert gemm.select(4096, "bfloat16", False, N=4096).name == "gemm_bf16_nn_128x256x64_s4_t256_persistent_epi64x2_sm90a"
    # wave efficiency: 8192^3 fills 20.8 waves of 132 SMs with 128x192 tiles (99%), 15.5 with 128x256 (97%)
    assert gemm.select(8192, "float16", True, N=8192).name == "gemm_f16_nt_128x192x64_s4_t256_persistent_epi_sm90a"
    assert gemm.select(8192, "float16", True, N=8192, sm_count=128).name.endswith("_128x256x64_s4_t256_persistent_epi64x2_sm90a")
    assert abs(gemm.wave_efficiency(gemm.SM90A_CONFIGS[0], 8192, 8192, 132) - 2048 / 2112) < 1e-12
    assert gemm.wave_efficiency(gemm.SM90A_CONFIGS[1], 0, 8192, 132) == 1.0
    assert gemm.select(4096, "bfloat16", False, cc=(9, 0)).lowering == "sm90a"
    for cc in ((8, 0), (10, 0), (12, 0)):  # sm_90a code runs on 9.0 only
        assert gemm.select(4096, "bfloat16", False, cc=cc).config.block_m == 256
    # The sm80 large tile fits the 99 KiB of sm_86/89/120.
    fits_99k = lambda v: smem[v.config] <= 99 * 1024 and v.lowering == "sm80"  # noqa: E731
    assert gemm.select(4096, "bfloat16", False, fits_99k).config.block_m == 256
