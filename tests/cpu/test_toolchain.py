"""Tests of tilec.toolchain (arch table, arch lists, nvcc discovery/invocation, ptxas report, cache) and tilec.env."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tilec import env
from tilec.errors import TilecCompileError
from tilec.toolchain import (
    ArchEntry,
    CompileOptions,
    compile_cubin,
    compile_ptx,
    find_nvcc,
    format_arch_list,
    nvcc_gencode_flags,
    nvcc_version,
    parse_arch_list,
    parse_ptxas_report,
    parse_target,
    target_for_cc,
)
from tilec.toolchain import nvcc as nvcc_mod

# -- targets ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling,arch", [
    ("sm_80", "sm_80"), ("sm80", "sm_80"), ("80", "sm_80"), ("8.0", "sm_80"), ("9.0a", "sm_90a"),
    ("sm_90a", "sm_90a"), ("compute_90a", "sm_90a"), ("SM_120F", "sm_120f"), ("12.0f", "sm_120f"),
    ("10.0a", "sm_100a"), (" 8.6 ", "sm_86"), ("compute90", "sm_90"), ("10.3a", "sm_103a"), ("121", "sm_121"),
])
def test_parse_target_spellings(spelling: str, arch: str) -> None:
    assert parse_target(spelling).arch == arch


def test_target_facts() -> None:
    t80, t90, t90a, t100a, t103a, t120, t120f = (parse_target(s) for s in
                                                 ("80", "90", "90a", "100a", "103a", "120", "120f"))
    assert t90a.has_wgmma and t90a.has_tma and t90a.family == "sm90a" and t90a.suffix == "a"
    assert not t90.has_wgmma and t90.has_tma and t90.family == "sm80" and t90.cc == (9, 0)
    assert not t80.has_tma and t80.has_cp_async and t80.family == "sm80"
    assert t100a.family == "sm100a" and t103a.family == "sm100a" and not t100a.has_wgmma
    assert t120.family == "sm80" and t120f.family == "sm80" and t120f.suffix == "f"
    assert t80.smem_max == 163 * 1024 and parse_target("87").smem_max == 163 * 1024
    assert parse_target("86").smem_max == 99 * 1024 and parse_target("89").smem_max == 99 * 1024
    assert t90.smem_max == t90a.smem_max == t100a.smem_max == 227 * 1024 and t120.smem_max == 99 * 1024
    assert t80.num_regs_per_thread_max == 255
    assert t90a.generic is t90 and t90.generic is t90 and t90a.compute == "compute_90a" and str(t120f) == "sm_120f"
    assert parse_target(t90a) is t90a
    hash(t90a)


@pytest.mark.parametrize("bad", ["75", "sm_91", "90b", "", "9.0.1", "compute_", "sm_100f"])
def test_parse_target_unknown(bad: str) -> None:
    with pytest.raises(ValueError, match="allowed: 80, 86, 87, 89, 90, 90a, 100, 100a, 103a, 120, 120a, 120f, 121"):
        parse_target(bad)


def test_target_for_cc() -> None:
    assert target_for_cc((9, 0)).arch == "sm_90"  # the generic lowering unless sm_90a is asked for
    assert target_for_cc((8, 7)).arch == "sm_87"
    assert target_for_cc((10, 3)).arch == "sm_100"  # same major, highest minor not above the device's
    assert target_for_cc((12, 1)).arch == "sm_121"
    assert target_for_cc((7, 5)) is None


# -- arch lists --------------------------------------------------------------------------------------------------


def test_arch_list_tilec_spelling() -> None:
    entries = parse_arch_list("80;86;89;90a;100a;120+PTX")
    assert format_arch_list(entries) == "80;86;89;90a;100a;120+PTX"
    assert [e.ptx for e in entries] == [False] * 5 + [True]
    assert all(isinstance(e, ArchEntry) for e in entries)


def test_arch_list_pytorch_spelling() -> None:
    entries = parse_arch_list("8.0 8.6 8.9 9.0a 10.0a 12.0f+PTX")
    assert format_arch_list(entries) == "80;86;89;90a;100a;120f+PTX"


@pytest.mark.parametrize("spec", ["90a, 80;120+ptx  86", "120+PTX;86;90a;80;80", "sm_86 sm_90a 12.0+PTX 8.0"])
def test_arch_list_separators_sort_dedupe(spec: str) -> None:
    assert format_arch_list(parse_arch_list(spec)) == "80;86;90a;120+PTX"


def test_arch_list_merges_ptx_and_orders_suffixes() -> None:
    assert format_arch_list(parse_arch_list("90;9.0+PTX;sm_90")) == "90+PTX"
    assert format_arch_list(parse_arch_list("120f;120a;120;90a;90")) == "90;90a;120;120a;120f"


@pytest.mark.parametrize("spec,bad", [("80;75", "'75'"), ("8.0 9.1", "'9.1'"), ("80;foo+PTX", "'foo+PTX'")])
def test_arch_list_unknown_entry(spec: str, bad: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_arch_list(spec)
    assert bad in str(info.value) and "allowed: 80, 86, 87, 89, 90, 90a, 100, 100a, 103a, 120, 120a, 120f, 121" \
        in str(info.value)


def test_arch_list_rejects_empty_and_arch_specific_ptx() -> None:
    with pytest.raises(ValueError, match="empty arch list"):
        parse_arch_list(" ; ")
    with pytest.raises(ValueError, match="generic arch"):
        parse_arch_list("80;90a+PTX")


def test_gencode_flags() -> None:
    assert nvcc_gencode_flags(parse_target("90a")) == ["-gencode=arch=compute_90a,code=sm_90a"]
    assert nvcc_gencode_flags(ArchEntry(parse_target("120"), ptx=True)) == [
        "-gencode=arch=compute_120,code=sm_120", "-gencode=arch=compute_120,code=compute_120"]
    # family PTX would only run within the family: the PTX entry is the generic compute_120
    assert nvcc_gencode_flags(parse_arch_list("12.0f+PTX")[0]) == [
        "-gencode=arch=compute_120f,code=sm_120f", "-gencode=arch=compute_120,code=compute_120"]


# -- options ----------------------------------------------------------------------------------------------------


def test_compile_options() -> None:
    a, b = CompileOptions(), CompileOptions(fast_math=True)
    assert a == b and hash(a) == hash(b) and a.mangle() == b.mangle()
    variants = [CompileOptions(fast_math=False), CompileOptions(lineinfo=True), CompileOptions(maxrregcount=64),
                CompileOptions(extra_flags=("-DX=1",)), CompileOptions(extra_flags=("-DX=2",))]
    assert len({v.mangle() for v in variants} | {a.mangle()}) == len(variants) + 1
    c = CompileOptions(extra_flags=["-DA", "-DB"])  # type: ignore[arg-type]
    assert c.extra_flags == ("-DA", "-DB") and hash(c)
    assert a.flags() == ["--use_fast_math"]
    assert CompileOptions(fast_math=False, lineinfo=True, maxrregcount=32).flags() == ["-lineinfo", "-maxrregcount=32"]
    with pytest.raises(ValueError, match="maxrregcount"):
        CompileOptions(maxrregcount=8)
    with pytest.raises(ValueError, match="strings"):
        CompileOptions(extra_flags=(3,))  # type: ignore[arg-type]


# -- ptxas report (text captured from nvcc 13.0 -Xptxas -v) -------------------------------------------------

PTXAS_SM80 = """\
ptxas info    : Overriding maximum register limit 256 for 'spill2' with  32 of maxrregcount option
ptxas info    : 0 bytes gmem, 64 bytes cmem[3]
ptxas info    : Compiling entry function '_Z7mangledPf' for 'sm_80'
ptxas info    : Function properties for _Z7mangledPf
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 10 registers, used 0 barriers, 360 bytes cmem[0]
ptxas info    : Compile time = 2.020 ms
ptxas info    : Function properties for _Z6helperf
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Compiling entry function 'spill2' for 'sm_80'
ptxas info    : Function properties for spill2
    2048 bytes stack frame, 2108 bytes spill stores, 4700 bytes spill loads
ptxas info    : Used 32 registers, used 0 barriers, 2048 bytes cumulative stack size, 372 bytes cmem[0]
ptxas info    : Compile time = 95.393 ms
ptxas info    : Compiling entry function 'smem_k' for 'sm_80'
ptxas info    : Function properties for smem_k
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 10 registers, used 1 barriers, 1024 bytes smem, 364 bytes cmem[0]
ptxas info    : Compile time = 1.438 ms
"""

PTXAS_SM90A = """\
ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function 'add' for 'sm_90a'
ptxas info    : Function properties for add
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 12 registers, used 0 barriers
ptxas info    : Compile time = 1.389 ms
"""

PTXAS_CUDA12 = """\
ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function 'k' for 'sm_80'
ptxas info    : Function properties for k
    8 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads
ptxas info    : Used 255 registers, 49152 bytes smem, 380 bytes cmem[0], 8 bytes cmem[2]
"""


def test_parse_ptxas_report_sm80() -> None:
    rep = parse_ptxas_report(PTXAS_SM80)
    assert list(rep) == ["_Z7mangledPf", "spill2", "smem_k"]  # entries only, in report order
    assert rep["_Z7mangledPf"]["registers"] == 10 and rep["_Z7mangledPf"]["constant_bytes"] == 360
    s = rep["spill2"]
    assert (s["registers"], s["spill_stores"], s["spill_loads"], s["spill_bytes"], s["stack_bytes"]) == \
        (32, 2108, 4700, 6808, 2048)
    m = rep["smem_k"]
    assert (m["shared_bytes"], m["barriers"], m["spill_bytes"], m["arch"]) == (1024, 1, 0, "sm_80")


def test_parse_ptxas_report_sm90a_and_cuda12() -> None:
    assert parse_ptxas_report(PTXAS_SM90A)["add"] == {
        "arch": "sm_90a", "registers": 12, "spill_stores": 0, "spill_loads": 0, "spill_bytes": 0, "stack_bytes": 0,
        "shared_bytes": 0, "constant_bytes": 0, "barriers": 0}
    k = parse_ptxas_report(PTXAS_CUDA12)["k"]
    assert (k["registers"], k["shared_bytes"], k["constant_bytes"], k["spill_bytes"], k["stack_bytes"]) == \
        (255, 49152, 388, 8, 8)
    assert parse_ptxas_report("") == {} and parse_ptxas_report("garbage\nUsed 3 registers") == {}


def test_summarize_resources() -> None:
    agg = nvcc_mod.summarize_resources(parse_ptxas_report(PTXAS_SM80))
    assert agg["registers"] == 32 and agg["spill_bytes"] == 6808 and agg["shared_bytes"] == 1024
    assert set(agg["per_function"]) == {"_Z7mangledPf", "spill2", "smem_k"}


# -- env ----------------------------------------------------------------------------------------------------


def test_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("TILEC_CACHE_DIR", "TILEC_DEBUG", "TILEC_ARCHS", "CUDA_HOME", "CUDA_PATH", "TILEC_KEEP_SOURCE"):
        monkeypatch.delenv(var, raising=False)
    assert env.cache_dir() == Path.home() / ".cache" / "tilec"
    assert not env.debug() and not env.keep_source() and env.archs() is None and env.cuda_home() is None
    monkeypatch.setenv("TILEC_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("TILEC_DEBUG", "1")
    monkeypatch.setenv("TILEC_KEEP_SOURCE", "yes")
    monkeypatch.setenv("TILEC_ARCHS", " 80;90a ")
    monkeypatch.setenv("CUDA_PATH", "/opt/cuda")
    assert env.cache_dir() == tmp_path and env.debug() and env.keep_source() and env.archs() == "80;90a"
    assert env.cuda_home() == "/opt/cuda"
    monkeypatch.setenv("CUDA_HOME", "/opt/cuda-13")
    monkeypatch.setenv("TILEC_DEBUG", "0")
    assert env.cuda_home() == "/opt/cuda-13" and not env.debug()


# -- nvcc discovery -----------------------------------------------------------------------------------------


def _fake_exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_find_nvcc_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home_nvcc = _fake_exe(tmp_path / "cuda" / "bin" / "nvcc")
    pypi_nvcc = _fake_exe(tmp_path / "site" / "nvidia" / "cu13" / "bin" / "nvcc")
    monkeypatch.setattr(nvcc_mod, "_DEFAULT_CUDA_HOME", str(tmp_path / "none"))
    monkeypatch.setattr(nvcc_mod, "_site_dirs", lambda: [str(tmp_path / "site")])
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("CUDA_PATH", raising=False)
    monkeypatch.setenv("CUDA_HOME", str(tmp_path / "cuda"))
    assert find_nvcc() == str(home_nvcc)
    monkeypatch.delenv("CUDA_HOME")
    assert find_nvcc() == str(pypi_nvcc)
    path_nvcc = _fake_exe(tmp_path / "pathdir" / "nvcc")
    monkeypatch.setenv("PATH", str(tmp_path / "pathdir"))
    assert find_nvcc() == str(path_nvcc)


def test_find_nvcc_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(nvcc_mod, "_DEFAULT_CUDA_HOME", str(tmp_path / "none"))
    monkeypatch.setattr(nvcc_mod, "_site_dirs", lambda: [str(tmp_path)])
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CUDA_HOME", raising=False)
    monkeypatch.delenv("CUDA_PATH", raising=False)
    with pytest.raises(TilecCompileError, match="pip install nvidia-cuda-nvcc"):
        find_nvcc()


# -- compiling with the real nvcc ---------------------------------------------------------------------------

VADD = r"""
extern "C" __global__ void vadd(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ c,
                                float alpha, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) c[i] = alpha * a[i] + b[i];
}
"""

SPILL = r"""
extern "C" __global__ void spill(float* out, const float* in, int n) {
  float v[96];
#pragma unroll
  for (int i = 0; i < 96; ++i) v[i] = in[i * n + threadIdx.x];
  float acc = 0.f;
#pragma unroll
  for (int j = 0; j < 8; ++j) {
#pragma unroll
    for (int i = 0; i < 96; ++i) acc = acc * v[i] + v[(i * 7 + j) % 96];
  }
  out[threadIdx.x] = acc;
}
"""


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("TILEC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("TILEC_KEEP_SOURCE", raising=False)
    return tmp_path / "cache"


@pytest.mark.nvcc
def test_nvcc_version() -> None:
    assert Path(find_nvcc()).exists()
    assert nvcc_version() >= (12, 0)


@pytest.mark.nvcc
@pytest.mark.parametrize("arch", ["sm_80", "sm_90a", "sm_120"])
def test_compile_cubin(cache: Path, arch: str) -> None:
    res = compile_cubin(VADD, arch, name="vadd")
    assert res.cubin[:4] == b"\x7fELF"
    assert res.resources["registers"] > 0 and res.resources["spill_bytes"] == 0
    assert res.resources["per_function"]["vadd"]["arch"] == arch
    assert f"Compiling entry function 'vadd' for '{arch}'" in res.ptxas_log
    assert Path(res.source_path).read_text() == VADD and Path(res.source_path).is_relative_to(cache)
    assert "-Xptxas" in res.command and f"-gencode=arch=compute_{arch[3:]},code={arch}" in res.command
    assert str(nvcc_mod.INCLUDE_DIR) in res.command and nvcc_mod.INCLUDE_DIR.name == "include"


@pytest.mark.nvcc
def test_spilling_kernel_reports_spills(cache: Path) -> None:
    res = compile_cubin(SPILL, "sm_80", name="spill", options=CompileOptions(maxrregcount=32))
    assert "-maxrregcount=32" in res.command
    r = res.resources
    assert r["spill_bytes"] > 0 and r["spill_bytes"] == r["spill_stores"] + r["spill_loads"] and r["registers"] <= 32


@pytest.mark.nvcc
def test_nvcc_error_keeps_source(cache: Path) -> None:
    bad = 'extern "C" __global__ void broken(float* x) { x[0] = undefined_name; }\n'
    with pytest.raises(TilecCompileError) as info:
        compile_cubin(bad, "sm_80", name="broken")
    e = info.value
    assert Path(e.source_path).read_text() == bad
    assert "undefined_name" in e.stderr and e.command[0].endswith("nvcc") and e.source_path in e.command
    assert "nvcc failed compiling 'broken' for sm_80" in str(e) and "source kept at" in str(e)
    assert not list(cache.rglob("*.cubin"))


@pytest.mark.nvcc
def test_cache_hit_does_not_run_nvcc(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real_run = nvcc_mod._run

    def counting_run(cmd: list[str], cwd: str):
        calls.append(cmd)
        return real_run(cmd, cwd)

    monkeypatch.setattr(nvcc_mod, "_run", counting_run)
    first = compile_cubin(VADD, "sm_80", name="vadd")
    assert len(calls) == 1
    second = compile_cubin(VADD, "sm_80", name="vadd")
    assert len(calls) == 1  # served from the cache
    assert second == first
    compile_cubin(VADD, "sm_80", name="vadd", options=CompileOptions(fast_math=False))
    compile_cubin(VADD + "\n// changed\n", "sm_80", name="vadd")
    compile_cubin(VADD, "sm_86", name="vadd")
    assert len(calls) == 4  # options, source and arch are part of the key
    assert len(list(cache.rglob("*.cubin"))) == 4 and not list(cache.rglob("*.tmp"))


@pytest.mark.nvcc
def test_damaged_cache_entry_is_rebuilt(cache: Path) -> None:
    first = compile_cubin(VADD, "sm_80", name="vadd")
    info = next(cache.rglob("vadd.json"))
    info.write_text("{not json")
    again = compile_cubin(VADD, "sm_80", name="vadd")
    assert again.cubin == first.cubin and again.resources == first.resources


@pytest.mark.nvcc
def test_compile_ptx_and_keep_source(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ptx = compile_ptx(VADD, "sm_90a", name="vadd")
    assert ".target sm_90a" in ptx and ".entry vadd" in ptx
    monkeypatch.setenv("TILEC_KEEP_SOURCE", "1")
    res = compile_cubin(VADD, "sm_90", name="vadd_keep")
    assert "-keep" in res.command
    assert any(p.suffix == ".ptx" for p in Path(res.source_path).parent.iterdir())


@pytest.mark.nvcc
def test_compile_family_target(cache: Path) -> None:
    res = compile_cubin(VADD, parse_target("12.0f"), name="vadd")
    assert res.cubin[:4] == b"\x7fELF" and res.resources["per_function"]["vadd"]["arch"] == "sm_120f"
    assert os.path.basename(res.source_path) == "vadd.cu"
