"""nvcc compile checks of the sm_90a device headers (mbarrier, tma, cluster, warpgroup, wgmma, gemm_sm90) and of the
hand-written reference GEMM (tests/gpu/include/test_gemm_sm90.cu): everything compiles for sm_90a without spills or
wgmma serialization, the SASS holds the Hopper units (HGMMA, UTMALDG, SYNCS, USETMAXREG), and a wrapper used for an
arch without its instruction is a compile error naming the instruction and the arch it needs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tilec.toolchain.nvcc import parse_ptxas_report

ROOT = Path(__file__).resolve().parents[2]
INCLUDE = ROOT / "tilec" / "include"
WRAPPERS_CU = Path(__file__).with_suffix(".cu")
REFERENCE_CU = ROOT / "tests" / "gpu" / "include" / "test_gemm_sm90.cu"


def _find_nvcc() -> str | None:
    found = shutil.which("nvcc")
    if found:
        return found
    for cand in ("/usr/local/cuda/bin/nvcc", "/usr/local/bin/nvcc"):
        if os.access(cand, os.X_OK):
            return cand
    return None


def _find_cuobjdump() -> str | None:
    """cuobjdump from the toolkit, or from NVIDIA's pip wheels (which need nvdisasm beside it to print SASS)."""
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
needs_nvcc = [pytest.mark.nvcc, pytest.mark.skipif(NVCC is None, reason="nvcc not found")]


def _nvcc(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    assert NVCC is not None
    return subprocess.run([NVCC, *args], check=False, cwd=cwd, capture_output=True, text=True, timeout=900)


def parse_sass(text: str) -> dict[str, str]:
    """Splits `cuobjdump --dump-sass` output of a one-arch cubin into function -> SASS text."""
    out: dict[str, str] = {}
    func, lines = None, []
    for line in text.splitlines():
        m = re.match(r"\s*Function : (\w+)", line)
        if m:
            if func:
                out[func] = "\n".join(lines)
            func, lines = m.group(1), []
            continue
        lines.append(line)
    if func:
        out[func] = "\n".join(lines)
    return out


def reference_kernels() -> list[str]:
    """The entry points test_gemm_sm90.cu defines, from its TILEC_GEMM_SM90_KERNEL lines."""
    pat = r"^TILEC_GEMM_SM90_KERNEL\(\w+, (\w+), (\w+), \w+, (\d+), (\d+), (\d+), (\w*), \w+\)"
    return [f"gemm_sm90_{tn}_{lay}_128x{bn}x64_s{st}_c{cl}{epi}"
            for tn, lay, bn, st, cl, epi in re.findall(pat, REFERENCE_CU.read_text(), re.MULTILINE)]


@dataclass
class Build:
    reports: dict[str, dict]  # kernel -> ptxas resources (tilec.toolchain.nvcc.parse_ptxas_report)
    sass: dict[str, str] | None  # None without cuobjdump + nvdisasm
    log: str


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """Both sources compiled for sm_90a with -Xptxas -v (in parallel), then disassembled."""
    if NVCC is None:
        pytest.skip("nvcc not found")
    tmp = tmp_path_factory.mktemp("sm90")

    def compile_one(src: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
        out = tmp / (src.stem + ".cubin")
        args = ["-cubin", "-std=c++17", "-O3", "-arch=sm_90a", "-Xptxas", "-v", f"-I{INCLUDE}", str(src), "-o", str(out)]
        return out, _nvcc(args, tmp)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(compile_one, [WRAPPERS_CU, REFERENCE_CU]))
    log = "".join(p.stdout + p.stderr for _, p in results)
    for (cubin, proc), src in zip(results, [WRAPPERS_CU, REFERENCE_CU]):
        assert proc.returncode == 0, f"nvcc failed on {src.name}:\n{proc.stdout}{proc.stderr}"
    reports = parse_ptxas_report(log)
    sass = None
    cuobjdump = _find_cuobjdump()
    if cuobjdump is not None:
        env = dict(os.environ, PATH=f"{Path(cuobjdump).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        sass = {}
        for cubin, _ in results:
            dump = subprocess.run([cuobjdump, "--dump-sass", str(cubin)], check=False, capture_output=True,
                                  text=True, env=env, timeout=300)
            if dump.returncode != 0:
                sass = None
                break
            sass.update(parse_sass(dump.stdout))
    return Build(reports, sass, log)


@pytest.mark.nvcc
def test_every_kernel_compiles_for_sm90a(build: Build) -> None:
    expected = ["wrappers_sm90_kernel", "wgmma_n256_kernel", "gemm_ss_sm90_n200_kernel", "gemm_ss_sm90_mn_kernel",
                "gemm_rs_sm90_kernel", "setmaxnreg_kernel", *reference_kernels()]
    src = WRAPPERS_CU.read_text()
    for tn, m, n, k, g, ta, tb in re.findall(r"^WGMMA_SS\(\w+, (\w+), (\d+), (\d+), (\d+), (\d+), (\w+), (\w+)\)",
                                            src, re.MULTILINE):
        expected.append(f"wgmma_ss_{tn}_{m}x{n}x{k}_g{g}_{ta}{tb}")
    for tn, m, n, k, g, tb in re.findall(r"^WGMMA_RS\(\w+, (\w+), (\d+), (\d+), (\d+), (\d+), (\w+)\)", src,
                                        re.MULTILINE):
        expected.append(f"wgmma_rs_{tn}_{m}x{n}x{k}_g{g}_{tb}")
    missing = [k for k in expected if k not in build.reports]
    assert len(reference_kernels()) == 24
    assert not missing, f"no ptxas report for {missing}:\n{build.log[-4000:]}"
    assert all(r["arch"] == "sm_90a" for r in build.reports.values())


@pytest.mark.nvcc
def test_no_spills_no_stack(build: Build) -> None:
    # A stack frame or spill means an accumulator went to local memory: the fragment contract relies on every
    # index being a compile-time constant, and a spilled wgmma accumulator serializes the tensor core.
    bad = {k: (r["stack_bytes"], r["spill_bytes"]) for k, r in build.reports.items()
           if r["stack_bytes"] or r["spill_bytes"]}
    assert not bad, f"kernels with local memory (stack, spill bytes): {bad}"


@pytest.mark.nvcc
def test_no_wgmma_serialization(build: Build) -> None:
    # ptxas C751x "Potential Performance Loss: wgmma.mma_async instructions are serialized ...": the asynchronous
    # pipeline was given up. C7519 "warpgroup.arrive is injected" (an extra fence where an RS operand register was
    # rewritten) is tolerated in the wrapper tests but not in the reference kernels.
    lines = build.log.splitlines()
    bad = [line for line in lines if "Potential Performance Loss" in line]
    bad += [line for line in lines if "is injected" in line and "gemm_sm90_" in line]
    assert not bad, "\n".join(bad)


@pytest.mark.nvcc
def test_reference_kernel_registers(build: Build) -> None:
    # 384 threads at 1 block/SM: ptxas reports the launch budget (168); setmaxnreg then moves registers from the
    # producer (40) to the consumers (232), whose code may use up to 232.
    for k in reference_kernels():
        assert build.reports[k]["registers"] <= 168, (k, build.reports[k])
    print({k: build.reports[k]["registers"] for k in reference_kernels()}, file=sys.stderr)


@pytest.mark.nvcc
def test_sass_uses_the_hopper_units(build: Build) -> None:
    if build.sass is None:
        pytest.skip("cuobjdump with nvdisasm not found (pip install nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm)")
    w = build.sass["wrappers_sm90_kernel"]
    for op in ("UTMALDG.2D", "UTMALDG.3D", "UTMALDG.4D", "UTMALDG.5D", "UTMALDG.2D.MULTICAST", "UTMASTG.2D",
               "UTMASTG.3D", "UTMACCTL.PF", "SYNCS.EXCH.64", "SYNCS.ARRIVE.TRANS64", "SYNCS.PHASECHK.TRANS64",
               "USETMAXREG.TRY_ALLOC", "USETMAXREG.DEALLOC", "ELECT", "UCGABAR_ARV", "UCGABAR_WAIT",
               "HGMMA.64x64x16.F32.BF16", "HGMMA.64x8x16.F32.BF16", "WARPGROUP.ARRIVE", "WARPGROUP.DEPBAR.LE",
               "FENCE.VIEW.ASYNC.S"):
        assert op in w, f"wrappers_sm90_kernel: no {op} in its SASS"
    assert "HGMMA.64x256x16.F32" in build.sass["wgmma_n256_kernel"]
    assert ".tnspA.tnspB" in build.sass["gemm_ss_sm90_mn_kernel"]
    for k in reference_kernels():
        s = build.sass[k]
        bn = re.search(r"128x(\d+)x64", k).group(1)
        for op in (f"HGMMA.64x{bn}x16.F32", "UTMALDG.2D", "SYNCS.PHASECHK.TRANS64", "SYNCS.ARRIVE.TRANS64",
                   "USETMAXREG.TRY_ALLOC.CTAPOOL", "USETMAXREG.DEALLOC.CTAPOOL"):
            assert op in s, f"{k}: no {op} in its SASS"
        if "_c2" in k:
            assert "UTMALDG.2D.MULTICAST" in s, f"{k}: the cluster variant does not multicast B"
        if k.endswith("_tma"):
            assert "UTMASTG.2D" in s, f"{k}: the TMA-store epilogue has no UTMASTG"
        assert "LDL" not in s and "STL" not in s, f"{k}: local memory traffic in its SASS"
        # Remote arrives must not fence the whole GPU (a .release.cluster arrive would add MEMBAR.ALL.GPU in the
        # main loop); the one at the start is the cluster barrier after the mbarrier inits.
        assert s.count("MEMBAR.ALL.GPU") <= 1, f"{k}: MEMBAR.ALL.GPU in the main loop"


# --- the arch guards -------------------------------------------------------------------------------------------

_TMAP = "const __grid_constant__ CUtensorMap tm"


@pytest.mark.nvcc
@pytest.mark.parametrize(
    ("arch", "body", "message"),
    [
        ("sm_80", "tilec::wgmma_fence_sync_aligned();", "wgmma.fence.sync.aligned needs sm_90a"),
        ("sm_90", "tilec::wgmma_commit_group_sync_aligned();", "wgmma.commit_group.sync.aligned needs sm_90a"),
        ("sm_80", "tilec::wgmma_wait_group_sync_aligned<1>();", "wgmma.wait_group.sync.aligned needs sm_90a"),
        ("sm_100a", "float d[32]; tilec::wgmma_m64nNk16_ss<64, tilec::half_t>(d, 0ull, 0ull, 0); o[0] = d[0];",
         "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 needs sm_90a"),
        ("sm_90", ("float d[128]; const uint32_t a[4] = {}; tilec::wgmma_m64nNk16_rs<256, tilec::bfloat16_t>(d, a, "
                   "0ull, 1); o[0] = d[0];"), "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 needs sm_90a"),
        ("sm_80", ("float acc[64]; const tilec::half_t* s = nullptr; "
                   "tilec::wgmma_gemm_ss<64, 128, 64, 1, false, true, true, tilec::half_t>(s, s, acc); o[0] = acc[0];"),
         "needs sm_90a"),
        ("sm_80", "tilec::setmaxnreg_inc<232>();", "setmaxnreg.inc.sync.aligned.u32 needs sm_90a"),
        ("sm_90", "tilec::setmaxnreg_dec_sync_aligned_u32<40>();", "setmaxnreg.dec.sync.aligned.u32 needs sm_90a"),
        ("sm_80", "__shared__ uint64_t b; tilec::mbarrier_init(&b, 1u);", "mbarrier.init.shared::cta.b64 needs sm_90"),
        ("sm_80", "tilec::mbarrier_wait_parity(0u, 0u);", "mbarrier.try_wait.parity.shared::cta.b64 needs sm_90"),
        ("sm_80", "tilec::mbarrier_arrive_expect_tx(0u, 64u);", "mbarrier.arrive.expect_tx.shared::cta.b64 needs sm_90"),
        ("sm_80", "tilec::cp_async_bulk_tensor_2d_shared_global(0u, &tm, 0, 0, 0u);",
         "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes needs sm_90"),
        ("sm_89", "__shared__ tilec::half_t s[64]; __shared__ uint64_t b; tilec::tma_load<2>(&tm, s, &b, 0, 0);",
         "cp.async.bulk.tensor (TMA) needs sm_90"),
        ("sm_80", "tilec::cp_async_bulk_commit_group();", "cp.async.bulk.commit_group needs sm_90"),
        ("sm_80", "tilec::fence_proxy_async_shared_cta();", "fence.proxy.async.shared::cta needs sm_90"),
        ("sm_80", "o[0] = tilec::cluster_ctarank();", "mov.u32 %cluster_ctarank needs sm_90"),
        ("sm_80", "o[0] = tilec::elect_one_sync();", "elect.sync needs sm_90"),
    ],
)
def test_wrapper_on_wrong_arch_is_a_compile_error(tmp_path: Path, arch: str, body: str, message: str) -> None:
    src = tmp_path / "bad.cu"
    src.write_text(f"#include <tilec/sm90.cuh>\n__global__ void k(float* o, {_TMAP}) {{ {body} }}\n")
    proc = _nvcc(["-cubin", f"-arch={arch}", "-std=c++17", f"-I{INCLUDE}", str(src), "-o", str(tmp_path / "b.cubin")],
                 tmp_path)
    assert proc.returncode != 0, f"{arch}: expected a compile error for: {body}"
    assert message in proc.stdout + proc.stderr, proc.stdout + proc.stderr


@pytest.mark.nvcc
@pytest.mark.parametrize("arch", ["sm_75", "sm_80", "sm_90", "sm_90a", "sm_100a", "sm_120"])
def test_including_sm90_header_compiles_on_every_arch(tmp_path: Path, arch: str) -> None:
    # The guards fire only for wrappers a kernel calls: including sm90.cuh must stay harmless on any target.
    src = tmp_path / "inc.cu"
    src.write_text("#include <tilec/sm90.cuh>\n"
                   "__global__ void k(float* o) { o[threadIdx.x] = tilec::wgmma_acc_row(3, threadIdx.x); }\n")
    proc = _nvcc(["-cubin", f"-arch={arch}", "-std=c++17", f"-I{INCLUDE}", str(src), "-o", str(tmp_path / "i.cubin")],
                 tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_generated_wgmma_wrappers_are_up_to_date() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_wgmma.py"), "--check"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
