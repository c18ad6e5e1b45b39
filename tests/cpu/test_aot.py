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


_KERNEL_INFO_H = '''
namespace tilekernels {
struct KernelInfo {
  const char* name; const char* fatbin; const char* entry; unsigned threads; unsigned smem_bytes;
  unsigned cluster[3]; const char* archs; int n_tensors; int n_dims; int dim_order[8];
  void (*grid)(const long long* dims, unsigned out[3]);
};
struct ScaleVariant { const KernelInfo* kernel; int block; };
}
'''


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
    subprocess.run([gxx, "-std=c++17", "-Wall", "-Werror", "-o", str(exe), str(main)], check=True)
    rows = [line.split() for line in subprocess.run([str(exe)], capture_output=True, text=True,
                                                    check=True).stdout.splitlines()]
    assert rows[0][:5] == ["scale_b256_sm80", "4", "1", "1", "sm_80;sm_90a"]
    assert rows[1][:5] == ["scale_big_sm80", "8", "1", "1", "sm_80;sm_90a"]
    assert rows[2][:5] == ["scale_sm90a_only", "4", "1", "1", "sm_90a"]


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
    smem = {c: c.stages * (c.block_m + c.block_n) * c.block_k * 2 for c in gemm.CONFIGS}
    planned, _ = plan(fams, "80;86;89;90a;100a;120+PTX", lambda v: smem[v.config])
    for dtype in ("float16", "bfloat16"):
        for trans_b in (False, True):
            rows = [p for p in planned if p.variant.dtype == dtype and p.variant.trans_b == trans_b]
            covered = {t.arch for p in rows if p.variant.config.max_m == 0 for t in p.archs}
            assert covered == {"sm_80", "sm_86", "sm_89", "sm_90a", "sm_100a", "sm_120"}
    assert gemm.select(16, "float16", True).config.max_m == 64
    assert gemm.select(4096, "bfloat16", False).config.block_m == 256
    assert gemm.select(4096, "bfloat16", False, lambda v: v.config.block_m != 256).config.block_m == 128
