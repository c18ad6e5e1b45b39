"""The AOT build machinery: cmake/Tilec.cmake under ninja, the prebuilt-cubin merge, the cubin cache launcher, and
one wheel built from a clean copy of the repository (setup.py -> CMake -> tilec -> nvcc -> pybind11).

Most tests build tests/cpu/build_catalogue (one tiny variant) through a throwaway downstream project that calls
tilec_add_kernel_library, so they take seconds; the wheel test builds the real catalogue for sm_80 only.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "tests" / "cpu" / "build_catalogue"
VARIANT = "scale_b256_t128"

pytestmark = pytest.mark.skipif(shutil.which("cmake") is None or shutil.which("ninja") is None,
                                reason="needs cmake and ninja on PATH (pip install cmake ninja)")


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh tilec cache per test: the configure-time plan cache must not leak between tests (the spill test's
    catalogue depends on an environment variable)."""
    monkeypatch.setenv("TILEC_CACHE_DIR", str(tmp_path / "tilec-cache"))


def _project(tmp: Path, extra: str = "") -> Path:
    """A downstream project that includes Tilec.cmake and builds the test catalogue."""
    src = tmp / "src"
    src.mkdir(parents=True, exist_ok=True)
    (src / "CMakeLists.txt").write_text(f"""
cmake_minimum_required(VERSION 3.21)
project(tilec_build_test LANGUAGES NONE)
include("{ROOT / 'cmake' / 'Tilec.cmake'}")
tilec_add_kernel_library(scale CATALOGUE "{CATALOGUE}" GEN_DIR "${{CMAKE_BINARY_DIR}}/gen" {extra})
""")
    return src


def _run(cmd: list[str], cwd: Path | None = None, env: dict | None = None, check: bool = True):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def _configure(src: Path, build: Path, archs: str, *args: str, env: dict | None = None, check: bool = True):
    return _run(["cmake", "-S", src, "-B", build, "-G", "Ninja", f"-DTILEC_ARCHS={archs}",
                 f"-DPython_EXECUTABLE={sys.executable}", *args], env=env, check=check)


def test_unknown_arch_is_a_configure_error_naming_the_allowed_set(tmp_path: Path) -> None:
    proc = _configure(_project(tmp_path), tmp_path / "b", "80;75", check=False)
    assert proc.returncode != 0
    err = proc.stderr
    assert "unknown arch '75'" in err and "allowed:" in err and "90a" in err, err
    assert "TILEC_ARCHS" in err, err


def test_ptx_on_an_arch_specific_target_is_refused(tmp_path: Path) -> None:
    proc = _configure(_project(tmp_path), tmp_path / "b", "80;90a+PTX", check=False)
    assert proc.returncode != 0 and "arch-specific" in proc.stderr, proc.stderr


@pytest.mark.nvcc
def test_build_then_noop_rebuild_compiles_nothing(tmp_path: Path) -> None:
    stamp = tmp_path / "extra_dep.txt"
    stamp.write_text("1")
    src = _project(tmp_path, f'DEPENDS "{stamp}"')
    build = tmp_path / "b"
    _configure(src, build, "80;89+PTX")
    out = _run(["ninja", "-C", build]).stdout
    assert out.count("tilec: nvcc") == 3, out  # sm_80, sm_89 cubins + compute_89 PTX
    gen = build / "gen"
    for name in (f"{VARIANT}.cu", f"{VARIANT}.json", f"{VARIANT}.sm_80.cubin", f"{VARIANT}.sm_80.cubin.json",
                 f"{VARIANT}.sm_89.cubin", f"{VARIANT}.compute_89.ptx", f"fatbins/{VARIANT}.fatbin",
                 "catalogue_table.inc", "manifest.json"):
        assert (gen / name).is_file(), name
    table = (gen / "catalogue_table.inc").read_text()
    assert "kScale[]" in table and '"sm_80;sm_89;compute_89"' in table, table

    # Nothing changed: ninja has no work (the glob re-check of CONFIGURE_DEPENDS is all it runs).
    t0 = time.perf_counter()
    out = _run(["ninja", "-C", build]).stdout
    assert "no work to do" in out, out
    assert time.perf_counter() - t0 < 5.0
    assert "tilec:" not in _run(["ninja", "-C", build, "-n"]).stdout

    # An input of the emit step changes but the emitted source does not: emit reruns, nvcc does not (restat).
    time.sleep(0.01)
    stamp.write_text("2")
    out = _run(["ninja", "-C", build]).stdout
    assert "tilec: emit" in out and "tilec: nvcc" not in out and "tilec: fatbin" not in out, out
    assert "no work to do" in _run(["ninja", "-C", build]).stdout


@pytest.mark.nvcc
def test_spilling_variant_fails_the_build(tmp_path: Path) -> None:
    env = {"TILEC_TEST_SPILL": "1"}
    build = tmp_path / "b"
    _configure(_project(tmp_path), build, "80", env=env)
    proc = _run(["ninja", "-C", build, "gen/scale_b8192_t32_spills.sm_80.cubin"], env=env, check=False)
    assert proc.returncode != 0
    assert "scale_b8192_t32_spills for sm_80 uses local memory" in proc.stdout, proc.stdout
    assert not (build / "gen" / "scale_b8192_t32_spills.sm_80.cubin").exists()  # nothing to ship by mistake


@pytest.mark.nvcc
def test_prebuilt_cubins_are_copied_and_checked(tmp_path: Path) -> None:
    src = _project(tmp_path)
    shard = tmp_path / "b_shard"
    _configure(src, shard, "80")
    _run(["ninja", "-C", shard, "scale_cubins"])
    prebuilt = tmp_path / "prebuilt"
    prebuilt.mkdir()
    for f in (f"{VARIANT}.cu", f"{VARIANT}.sm_80.cubin", f"{VARIANT}.sm_80.cubin.json"):
        shutil.copy(shard / "gen" / f, prebuilt / f)

    merged = tmp_path / "b_merged"
    proc = _configure(src, merged, "80;89", f"-DTILEC_PREBUILT_DIR={prebuilt}")
    assert "1 images from" in proc.stdout and "1 compiled here" in proc.stdout, proc.stdout
    out = _run(["ninja", "-C", merged]).stdout
    assert f"{VARIANT} for sm_80 (prebuilt cubin)" in out and f"nvcc {VARIANT} for sm_89" in out, out
    assert (merged / "gen" / f"{VARIANT}.sm_80.cubin").read_bytes() == (prebuilt / f"{VARIANT}.sm_80.cubin").read_bytes()

    # A shard compiled from another source is refused, not shipped.
    stale = tmp_path / "b_stale"
    (prebuilt / f"{VARIANT}.cu").write_text("// another commit\n")
    _configure(src, stale, "80", f"-DTILEC_PREBUILT_DIR={prebuilt}")
    proc = _run(["ninja", "-C", stale], check=False)
    assert proc.returncode != 0 and "different" in proc.stdout and "stale" in proc.stdout, proc.stdout


@pytest.mark.nvcc
def test_cubin_cache_launcher_replays_the_ptxas_report(tmp_path: Path) -> None:
    env = {"TILEC_CUBIN_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    launcher = f"{sys.executable} {ROOT / 'ci' / 'cubin_cache.py'}"
    gen = tmp_path / "gen"
    _run([sys.executable, "-m", "tilec.aot", "emit", "--catalogue", CATALOGUE, "--variant", VARIANT,
          "--out", gen / f"{VARIANT}.cu"], env=env)
    from tilec.toolchain.nvcc import find_nvcc

    reports = []
    for i in range(2):
        out = gen / f"{VARIANT}.sm_80.cubin"
        out.unlink(missing_ok=True)
        _run([sys.executable, "-m", "tilec.aot", "compile", "--nvcc", find_nvcc(), "--launcher", launcher,
              "--arch", "sm_80", "--in", gen / f"{VARIANT}.cu", "--out", out], env=env)
        reports.append((out.read_bytes(), Path(f"{out}.json").read_text()))
    assert reports[0] == reports[1]
    stats = _run([sys.executable, ROOT / "ci" / "cubin_cache.py", "--stats"], env=env).stdout
    assert "1 entries; logged 1 hits, 1 misses" in stats, stats


@pytest.mark.nvcc
def test_plan_is_cached_across_build_directories(tmp_path: Path) -> None:
    src = _project(tmp_path)
    first = _configure(src, tmp_path / "b1", "80").stdout
    assert "planned the catalogue in" in first, first
    second = _configure(src, tmp_path / "b2", "80").stdout
    assert "tilec: plan from" in second and "planned the catalogue" not in second, second
    other = _configure(src, tmp_path / "b3", "80;89").stdout  # another matrix is another plan
    assert "planned the catalogue in" in other, other


def test_workflow_copy_matches() -> None:
    assert (ROOT / ".github" / "workflows" / "nightly.yml").read_bytes() == \
        (ROOT / "ci" / "workflows" / "nightly.yml").read_bytes(), "copy ci/workflows/nightly.yml to .github/workflows/"


def _clean_copy(dest: Path) -> Path:
    """The files a clean clone would have (tracked + untracked-but-not-ignored), without build outputs."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for f in filter(None, files):
        s = ROOT / f
        if s.is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(s, dest / f)
    return dest


@pytest.mark.nvcc
@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout")
def test_wheel_from_a_clean_copy(tmp_path: Path) -> None:
    """TILEC_ARCHS=80 pip wheel . from a clean copy, then wheels/check_wheel.py and wheels/smoke_test.sh."""
    src = _clean_copy(tmp_path / "repo")
    dist = tmp_path / "dist"
    env = {"TILEC_ARCHS": "80"}
    _run([sys.executable, "-m", "pip", "wheel", ".", "-w", dist, "--no-deps", "-q"], cwd=src, env=env)
    wheels = list(dist.glob("tilekernels-*.whl"))
    assert len(wheels) == 1, wheels
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert any(n.startswith("tilekernels/_C") for n in names) and "tilec/cli.py" in names
    out = _run([sys.executable, ROOT / "wheels" / "check_wheel.py", wheels[0], "--archs", "80"]).stdout
    assert "OK:" in out, out
    out = _run(["bash", ROOT / "wheels" / "smoke_test.sh", wheels[0], sys.executable]).stdout
    assert "OK: smoke test" in out, out
