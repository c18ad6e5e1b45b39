"""nvcc compile checks of the device headers (tilec/include/tilec): every wrapper and the sm_80 gemm shapes compile
for each sm_80-family arch, the gemms keep their fragments in registers, and their SASS uses the tensor cores."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INCLUDE = ROOT / "tilec" / "include"
KERNELS_CU = Path(__file__).with_suffix(".cu")
ARCHS = ("sm_80", "sm_86", "sm_89", "sm_90", "sm_120")


def _find_nvcc() -> str | None:
    found = shutil.which("nvcc")
    if found:
        return found
    for cand in ("/usr/local/cuda/bin/nvcc", "/usr/local/bin/nvcc"):
        if os.access(cand, os.X_OK):
            return cand
    return None


def _find_cuobjdump() -> str | None:
    """cuobjdump from the CUDA toolkit, or from the pip wheel nvidia-cuda-cuobjdump (which needs nvdisasm beside it,
    from nvidia-cuda-nvdisasm, to print SASS)."""
    found = shutil.which("cuobjdump")
    if found:
        return found
    try:
        import nvidia  # namespace package of NVIDIA's CUDA wheels
    except ImportError:
        return None
    for base in nvidia.__path__:
        for sub in ("cu13", "cuda_cuobjdump"):
            cand = Path(base) / sub / "bin" / "cuobjdump"
            if cand.is_file() and (cand.parent / "nvdisasm").is_file():
                return str(cand)
    return None


NVCC = _find_nvcc()
pytestmark = [pytest.mark.nvcc, pytest.mark.skipif(NVCC is None, reason="nvcc not found")]


@dataclass(frozen=True)
class PtxasReport:
    """ptxas -v figures of one kernel for one arch."""

    registers: int
    stack_bytes: int
    spill_store_bytes: int
    spill_load_bytes: int


def parse_ptxas_report(text: str) -> dict[tuple[str, str], PtxasReport]:
    """Maps (kernel, arch) to its figures. ptxas prints, per kernel: "Compiling entry function 'NAME' for 'sm_XX'",
    then "N bytes stack frame, N bytes spill stores, N bytes spill loads", then "Used N registers"."""
    out: dict[tuple[str, str], PtxasReport] = {}
    current: tuple[str, str] | None = None
    frame: tuple[int, int, int] | None = None
    for line in text.splitlines():
        m = re.search(r"Compiling entry function '(\w+)' for '(\w+)'", line)
        if m:
            current, frame = (m.group(1), m.group(2)), None
            continue
        m = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads", line)
        if m:
            frame = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
            continue
        m = re.search(r"Used (\d+) registers", line)
        if m and current is not None and frame is not None:
            out[current] = PtxasReport(int(m.group(1)), *frame)
            current = None
    return out


def parse_sass(text: str) -> dict[tuple[str, str], str]:
    """Splits `cuobjdump --dump-sass` output of a fatbin into (function, arch) -> SASS text."""
    out: dict[tuple[str, str], str] = {}
    arch, func, lines = None, None, []

    def flush() -> None:
        if arch and func:
            out[(func, arch)] = "\n".join(lines)

    for line in text.splitlines():
        m = re.match(r"\s*arch = (sm_\d+a?)", line)
        if m:
            flush()
            arch, func, lines = m.group(1), None, []
            continue
        m = re.match(r"\s*Function : (\w+)", line)
        if m:
            flush()
            func, lines = m.group(1), []
            continue
        lines.append(line)
    flush()
    return out


def expected_kernels() -> list[str]:
    """The kernel names that test_headers_compile.cu defines, read from its GEMM_SS/GEMM_RS lines."""
    names = ["wrappers_kernel"]
    src = KERNELS_CU.read_text()
    for m in re.finditer(
        r"^GEMM_SS\((\w+), (\w+), (\d+), (\d+), (\d+), (\d+), (\d+), \w+, \w+, (\w+)\)", src, re.MULTILINE
    ):
        _, tn, mm, nn, kk, wm, wn, ab = m.groups()
        names.append(f"gemm_ss_{tn}_{mm}x{nn}x{kk}_w{wm}x{wn}_{ab}")
    for m in re.finditer(r"^GEMM_RS\((\w+), (\w+), (\d+), (\d+), (\d+), (\d+), \w+, (\w+)\)", src, re.MULTILINE):
        _, tn, mm, nn, kk, wm, b = m.groups()
        names.append(f"gemm_rs_{tn}_{mm}x{nn}x{kk}_w{wm}x1_r{b}")
    return names


@dataclass
class Build:
    reports: dict[tuple[str, str], PtxasReport]
    sass: dict[tuple[str, str], str] | None  # None when no cuobjdump/nvdisasm is available
    log: str


def _nvcc(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    assert NVCC is not None
    return subprocess.run([NVCC, *args], check=False, cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """One nvcc run for all archs: a fatbin with one cubin per arch, the per-arch ptxas passes run in parallel
    (--threads 0), which keeps the whole module at about half a minute on two cores."""
    tmp = tmp_path_factory.mktemp("headers")
    gencode = [f"-gencode=arch=compute_{a[3:]},code={a}" for a in ARCHS]
    args = [
        "-fatbin",
        "--threads",
        "0",
        "-std=c++17",
        "-O3",
        "-Xptxas",
        "-v",
        f"-I{INCLUDE}",
        *gencode,
        str(KERNELS_CU),
        "-o",
        str(tmp / "kernels.fatbin"),
    ]
    proc = _nvcc(args, tmp)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"nvcc {' '.join(args)} failed:\n{log}"
    sass = None
    cuobjdump = _find_cuobjdump()
    if cuobjdump is not None:
        env = dict(os.environ, PATH=f"{Path(cuobjdump).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        dump = subprocess.run(
            [cuobjdump, "--dump-sass", str(tmp / "kernels.fatbin")],
            check=False,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        if dump.returncode == 0:
            sass = parse_sass(dump.stdout)
    return Build(parse_ptxas_report(log), sass, log)


@pytest.mark.parametrize("arch", ARCHS)
def test_every_kernel_compiles(build: Build, arch: str) -> None:
    missing = [k for k in expected_kernels() if (k, arch) not in build.reports]
    assert not missing, f"no ptxas report for {missing} on {arch}:\n{build.log}"


@pytest.mark.parametrize("arch", ARCHS)
def test_gemm_fragments_stay_in_registers(build: Build, arch: str) -> None:
    # A stack frame or a spill means an accumulator or fragment array went to local memory: the register layout
    # contract relies on every index being a compile-time constant after unrolling.
    bad = {
        k: r
        for (k, a), r in build.reports.items()
        if a == arch and k.startswith("gemm_") and (r.stack_bytes or r.spill_store_bytes or r.spill_load_bytes)
    }
    assert not bad, f"{arch}: gemm kernels with local memory: {bad}"
    wrappers = build.reports[("wrappers_kernel", arch)]
    assert wrappers.stack_bytes == 0 and wrappers.spill_store_bytes == 0


@pytest.mark.parametrize("arch", ARCHS)
def test_gemm_sass_uses_ldmatrix_and_tensor_cores(build: Build, arch: str) -> None:
    if build.sass is None:
        pytest.skip("cuobjdump with nvdisasm not found (pip install nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm)")
    for name in expected_kernels():
        if not name.startswith("gemm_"):
            continue
        sass = build.sass.get((name, arch))
        assert sass is not None, f"no SASS for {name} on {arch}"
        assert "HMMA" in sass, f"{name} on {arch}: no HMMA (tensor-core mma) in its SASS"
        assert "LDSM" in sass, f"{name} on {arch}: no LDSM (ldmatrix) in its SASS"
        assert "LDL" not in sass and "STL" not in sass, f"{name} on {arch}: local memory traffic in its SASS"
    if arch in ("sm_90", "sm_120"):
        assert "STSM" in build.sass[("wrappers_kernel", arch)], f"stmatrix did not reach the {arch} SASS"


# --- the arch guards: a wrapper used on an arch without its instruction is a compile error naming both ----------

_INCLUDE_ONLY = """
#include <tilec/tilec.cuh>
__global__ void k(float* o) { o[threadIdx.x] = tilec::warp_allreduce<tilec::SumOp>(o[threadIdx.x]); }
"""


@pytest.mark.parametrize(
    ("arch", "body", "message"),
    [
        (
            "sm_75",
            "__shared__ float s[32]; tilec::cp_async_ca_shared_global_4(s + threadIdx.x, o, true);",
            "cp.async.ca.shared.global needs sm_80 or newer",
        ),
        ("sm_75", "tilec::cp_async_commit_group();", "cp.async.commit_group needs sm_80 or newer"),
        ("sm_75", "tilec::cp_async_wait_group<0>();", "cp.async.wait_group needs sm_80 or newer"),
        (
            "sm_75",
            (
                "float acc[64] = {}; const tilec::half_t* s = nullptr;"
                " tilec::gemm_ss<128, 128, 32, 2, 2, false, false>(s, s, acc); o[0] = acc[threadIdx.x % 64];"
            ),
            "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 needs sm_80 or newer",
        ),
        (
            "sm_80",
            "tilec::stmatrix_sync_aligned_m8n8_x4_shared_b16(0u, 1u, 2u, 3u, 4u);",
            "stmatrix.sync.aligned.m8n8.x4.shared.b16 needs sm_90 or newer",
        ),
        (
            "sm_89",
            "tilec::stmatrix_sync_aligned_m8n8_x2_trans_shared_b16(0u, 1u, 2u);",
            "stmatrix.sync.aligned.m8n8.x2.trans.shared.b16 needs sm_90 or newer",
        ),
    ],
)
def test_wrapper_on_older_arch_is_a_compile_error(tmp_path: Path, arch: str, body: str, message: str) -> None:
    src = tmp_path / "bad.cu"
    src.write_text(f"#include <tilec/tilec.cuh>\n__global__ void k(float* o) {{ {body} }}\n")
    proc = _nvcc(
        ["-cubin", f"-arch={arch}", "-std=c++17", f"-I{INCLUDE}", str(src), "-o", str(tmp_path / "bad.cubin")], tmp_path
    )
    assert proc.returncode != 0, f"{arch}: expected a compile error for: {body}"
    assert message in proc.stdout + proc.stderr


@pytest.mark.parametrize("arch", ["sm_75", "sm_80"])
def test_including_the_headers_alone_compiles_on_every_arch(tmp_path: Path, arch: str) -> None:
    # The guards fire only for wrappers a kernel calls: including tilec.cuh must stay harmless on any target.
    src = tmp_path / "inc.cu"
    src.write_text(_INCLUDE_ONLY)
    proc = _nvcc(
        ["-cubin", f"-arch={arch}", "-std=c++17", f"-I{INCLUDE}", str(src), "-o", str(tmp_path / "inc.cubin")], tmp_path
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_gemm_shape_errors_are_readable(tmp_path: Path) -> None:
    src = tmp_path / "shape.cu"
    src.write_text(
        "#include <tilec/tilec.cuh>\n"
        "__global__ void k(float* o, const tilec::half_t* s) {\n"
        "    float acc[64] = {};\n"
        "    tilec::gemm_ss<128, 128, 24, 2, 2, false, false>(s, s, acc);\n"
        "    tilec::gemm_rs<128, 128, 32, 2, 2, false>(s, s, acc);\n"
        "    tilec::gemm_ss<96, 128, 32, 4, 2, false, false>(s, s, acc);\n"
        "    o[0] = acc[threadIdx.x % 64];\n"
        "}\n"
    )
    proc = _nvcc(
        ["-cubin", "-arch=sm_80", "-std=c++17", f"-I{INCLUDE}", str(src), "-o", str(tmp_path / "s.cubin")], tmp_path
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "K must be a multiple of 16" in log
    assert "gemm_rs needs WARP_N == 1" in log
    assert "M must be a multiple of 16 * WARP_M" in log
