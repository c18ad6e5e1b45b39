"""nvcc discovery and invocation, the ptxas resource report parser, and the content-hashed compile cache."""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import shutil
import site
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tilec import env
from tilec.errors import TilecCompileError
from tilec.toolchain.arch import Target, nvcc_gencode_flags, parse_target

log = logging.getLogger("tilec.toolchain")

INCLUDE_DIR = Path(__file__).resolve().parent.parent / "include"
_CACHE_FORMAT = "1"  # bump when the cache entry layout or the command line changes meaning

# -- discovery -----------------------------------------------------------------------------------------------

_PYPI_LAYOUTS = ("nvidia/cuda_nvcc/bin/nvcc", "nvidia/cu13/bin/nvcc", "nvidia/cu12/bin/nvcc")
_DEFAULT_CUDA_HOME = "/usr/local/cuda"


def _site_dirs() -> list[str]:
    dirs = []
    try:
        dirs += site.getsitepackages()
    except AttributeError:  # virtualenvs with an old site.py
        pass
    try:
        dirs.append(site.getusersitepackages())
    except AttributeError:
        pass
    dirs += [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    return list(dict.fromkeys(dirs))


def _is_exe(p: Path) -> bool:
    return p.is_file() and os.access(p, os.X_OK)


def find_nvcc() -> str:
    """Path of the nvcc to use: $CUDA_HOME/bin/nvcc ($CUDA_PATH too), then $PATH, then /usr/local/cuda,
    then PyPI's nvidia-cuda-nvcc layout under site-packages.

    Raises:
        TilecCompileError: no nvcc anywhere (the message says how to install one).
    """
    home = env.cuda_home()
    if home and _is_exe(Path(home) / "bin" / "nvcc"):
        return str(Path(home) / "bin" / "nvcc")
    found = shutil.which("nvcc", path=env.search_path())
    if found:
        return found
    if _is_exe(Path(_DEFAULT_CUDA_HOME) / "bin" / "nvcc"):
        return str(Path(_DEFAULT_CUDA_HOME) / "bin" / "nvcc")
    for d in _site_dirs():
        for rel in _PYPI_LAYOUTS:
            if _is_exe(Path(d) / rel):
                return str(Path(d) / rel)
    where = f"CUDA_HOME={home}, " if home else ""
    raise TilecCompileError(
        f"nvcc not found ({where}PATH, /usr/local/cuda and site-packages searched). Install the CUDA toolkit "
        f"(>= 12.8) and set CUDA_HOME, or `pip install nvidia-cuda-nvcc` (CUDA 13: `pip install nvidia-cuda-nvcc` "
        f"pulls the cu13 layout); the NVIDIA driver alone is enough only to run prebuilt kernels")


@functools.cache
def _version_text(nvcc: str) -> str:
    try:
        proc = subprocess.run([nvcc, "--version"], capture_output=True, text=True, check=False)
    except OSError as e:
        raise TilecCompileError(f"cannot run nvcc: {e}", [nvcc, "--version"]) from None
    m = re.search(r"release (\d+)\.(\d+), V([\d.]+)", proc.stdout)
    if proc.returncode != 0 or not m:
        raise TilecCompileError("cannot read the nvcc version", [nvcc, "--version"], proc.stdout + proc.stderr)
    return m.group(3)


def nvcc_version(nvcc: str | None = None) -> tuple[int, int]:
    """(major, minor) of nvcc (the one find_nvcc() picks when `nvcc` is None); cached per path.

    Raises:
        TilecCompileError: nvcc not found, not runnable, or its --version output is not understood.
    """
    major, minor = _version_text(nvcc or find_nvcc()).split(".")[:2]
    return int(major), int(minor)


# -- options and results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompileOptions:
    """nvcc options that change the generated code; part of the compile cache key through `mangle()`.

    Raises (on construction):
        ValueError: maxrregcount outside 16..255, or extra_flags not strings.
    """

    fast_math: bool = True
    lineinfo: bool = False
    extra_flags: tuple[str, ...] = ()
    maxrregcount: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra_flags", tuple(self.extra_flags))
        if not all(isinstance(f, str) for f in self.extra_flags):
            raise ValueError(f"CompileOptions.extra_flags must be strings, got {self.extra_flags!r}")
        if self.maxrregcount is not None and not (16 <= int(self.maxrregcount) <= 255):
            raise ValueError(f"CompileOptions.maxrregcount must be in 16..255, got {self.maxrregcount}")

    def flags(self) -> list[str]:
        """The nvcc flags these options add. Never raises."""
        out = []
        if self.fast_math:
            out.append("--use_fast_math")
        if self.lineinfo:
            out.append("-lineinfo")
        if self.maxrregcount is not None:
            out.append(f"-maxrregcount={int(self.maxrregcount)}")
        return out + list(self.extra_flags)

    def mangle(self) -> str:
        """A deterministic string naming these options (for cache keys and file names). Never raises."""
        x = hashlib.sha256("\0".join(self.extra_flags).encode()).hexdigest()[:12] if self.extra_flags else "none"
        return f"fm{int(self.fast_math)}_li{int(self.lineinfo)}_rr{self.maxrregcount or 0}_x{x}"


@dataclass(frozen=True)
class CompileResult:
    """A compiled cubin with its ptxas resource report.

    resources: {"registers", "spill_stores", "spill_loads", "spill_bytes", "stack_bytes", "shared_bytes",
    "constant_bytes", "barriers", "per_function": {entry: {...same keys...}}}. With several entries the
    top-level values aggregate them: the max of registers/stack/shared/constant/barriers, the sum of spills,
    so `resources["spill_bytes"] > 0` means some entry spills.
    """

    cubin: bytes
    resources: dict
    ptxas_log: str
    source_path: str
    command: list[str] = field(default_factory=list)


# -- ptxas -v report -----------------------------------------------------------------------------------------

_RE_ENTRY = re.compile(r"Compiling entry function '([^']+)' for '(\w+)'")
_RE_PROPS = re.compile(r"Function properties for (\S+)")
_RE_FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
_RE_USED = re.compile(r"Used (\d+) registers")
_RE_BARRIERS = re.compile(r"used (\d+) barriers")
_RE_SMEM = re.compile(r"(\d+) bytes smem")
_RE_CMEM = re.compile(r"(\d+) bytes cmem\[\d+\]")
_RE_CUMSTACK = re.compile(r"(\d+) bytes cumulative stack size")


def _empty_resources(arch: str) -> dict:
    return {"arch": arch, "registers": 0, "spill_stores": 0, "spill_loads": 0, "spill_bytes": 0,
            "stack_bytes": 0, "shared_bytes": 0, "constant_bytes": 0, "barriers": 0}


def parse_ptxas_report(text: str) -> dict[str, dict]:
    """Parse `-Xptxas -v` output into {entry function: resources}, in report order.

    Each resources dict has registers, spill_stores, spill_loads, spill_bytes (stores + loads), stack_bytes
    (max of the frame and the cumulative stack), shared_bytes (static smem), constant_bytes (cmem of the
    function), barriers and arch. Non-entry (device) functions are not listed; their spills show up in the
    calling entry's cumulative stack. Understands CUDA 12 and 13 formats. Never raises; unknown lines are skipped.
    """
    out: dict[str, dict] = {}
    current: str | None = None  # the entry whose "Used ..." line comes next
    props: str | None = None  # the function whose "stack frame" line comes next
    for line in text.splitlines():
        m = _RE_ENTRY.search(line)
        if m:
            current = m.group(1)
            out[current] = _empty_resources(m.group(2))
            continue
        m = _RE_PROPS.search(line)
        if m:
            props = m.group(1)
            continue
        m = _RE_FRAME.search(line)
        if m:
            if props in out:
                r = out[props]
                r["spill_stores"], r["spill_loads"] = int(m.group(2)), int(m.group(3))
                r["spill_bytes"] = r["spill_stores"] + r["spill_loads"]
                r["stack_bytes"] = max(r["stack_bytes"], int(m.group(1)))
            props = None
            continue
        m = _RE_USED.search(line)
        if m and current in out:
            r = out[current]
            r["registers"] = int(m.group(1))
            for regex, key in ((_RE_BARRIERS, "barriers"), (_RE_SMEM, "shared_bytes")):
                mm = regex.search(line)
                if mm:
                    r[key] = int(mm.group(1))
            r["constant_bytes"] = sum(int(c) for c in _RE_CMEM.findall(line))
            mm = _RE_CUMSTACK.search(line)
            if mm:
                r["stack_bytes"] = max(r["stack_bytes"], int(mm.group(1)))
    return out


def summarize_resources(per_function: dict[str, dict]) -> dict:
    """Aggregate a parse_ptxas_report result into CompileResult.resources (see there). Never raises."""
    funcs = list(per_function.values())
    agg = _empty_resources(funcs[0]["arch"] if funcs else "")
    for r in funcs:
        for key in ("registers", "stack_bytes", "shared_bytes", "constant_bytes", "barriers"):
            agg[key] = max(agg[key], r[key])
        for key in ("spill_stores", "spill_loads", "spill_bytes"):
            agg[key] += r[key]
    agg["per_function"] = {k: dict(v) for k, v in per_function.items()}
    return agg


# -- compile + cache -----------------------------------------------------------------------------------------


@functools.cache
def _include_hash(include_dir: str) -> str:
    h = hashlib.sha256()
    root = Path(include_dir)
    if root.is_dir():
        for p in sorted(root.rglob("*")):
            if p.is_file():
                h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _safe_name(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:100]
    return s or "kernel"


def _run(cmd: list[str], cwd: str) -> subprocess.CompletedProcess:
    """Run one tool command (a seam for tests). Raises OSError when it cannot be started."""
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, check=False)


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def nvcc_command(nvcc: str, kind: str, gencode: list[str], options: CompileOptions) -> list[str]:
    """The nvcc command line (without -o and the source) shared by the JIT cache and the AOT build.

    kind: "cubin" or "ptx". The resource report (-Xptxas -v) is always on. Never raises.
    """
    verbose = ["-Xptxas", "-v"] if kind == "cubin" else []
    return [nvcc, f"-{kind}", "-O3", "-std=c++17", *gencode, *verbose, *options.flags(), "-I", str(INCLUDE_DIR)]


def cache_key(source: str, target: Target, options: CompileOptions, kind: str, name: str, nvcc: str) -> str:
    """sha256 over everything that changes the output: source, arch, options, kind, name, nvcc version and
    the tilec device headers. Raises TilecCompileError when the nvcc version cannot be read."""
    parts = [_CACHE_FORMAT, kind, name, target.arch, options.mangle(), _version_text(nvcc),
             _include_hash(str(INCLUDE_DIR)), source]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _compile(source: str, target: Target, name: str, options: CompileOptions, kind: str) -> tuple[bytes, dict]:
    """Compile (or fetch from the cache) one output of `kind` ("cubin" or "ptx"); returns (bytes, info)."""
    nvcc = find_nvcc()
    target = parse_target(target)
    name = _safe_name(name)
    key = cache_key(source, target, options, kind, name, nvcc)
    entry = env.cache_dir() / kind / key[:2] / key
    out_path, info_path, src_path = entry / f"{name}.{kind}", entry / f"{name}.json", entry / f"{name}.cu"
    if out_path.is_file() and info_path.is_file():
        try:
            return out_path.read_bytes(), json.loads(info_path.read_text())
        except (OSError, ValueError):
            pass  # a damaged entry: rebuild it
    entry.mkdir(parents=True, exist_ok=True)
    _write_atomic(src_path, source.encode())
    tmp_out = entry / f"{name}.{os.getpid()}.{os.urandom(4).hex()}.{kind}.tmp"
    cmd = nvcc_command(nvcc, kind, nvcc_gencode_flags(target), options)
    if env.keep_source():
        cmd += ["-keep", "-keep-dir", str(entry)]
    cmd += ["-o", str(tmp_out), str(src_path)]
    log.info("tilec: compiling %s for %s with nvcc", name, target.arch)
    if env.debug():
        log.info("tilec: %s", " ".join(cmd))
    try:
        proc = _run(cmd, cwd=str(entry))
    except OSError as e:
        raise TilecCompileError(f"cannot run nvcc: {e}", cmd, "", str(src_path)) from None
    if proc.returncode != 0 or not tmp_out.is_file():
        tmp_out.unlink(missing_ok=True)
        raise TilecCompileError(f"nvcc failed compiling '{name}' for {target.arch} (exit {proc.returncode})",
                                cmd, (proc.stderr or "") + (proc.stdout or ""), str(src_path))
    log_text = (proc.stderr or "") + (proc.stdout or "")
    info = {"ptxas_log": log_text, "command": cmd, "source_path": str(src_path),
            "resources": summarize_resources(parse_ptxas_report(log_text)) if kind == "cubin" else {}}
    data = tmp_out.read_bytes()
    _write_atomic(info_path, json.dumps(info, sort_keys=True).encode())
    os.replace(tmp_out, out_path)  # the output file's presence commits the entry
    return data, info


def compile_cubin(source: str, target: Target | str, *, name: str,
                  options: CompileOptions | None = None) -> CompileResult:
    """Compile CUDA C++ `source` into a cubin for `target`, through the content-hashed cache.

    The .cu is written to $TILEC_CACHE_DIR/cubin/<key>/ and kept there (also on failure). A cache hit
    returns the stored cubin and resource report without running nvcc.

    Raises:
        TilecCompileError: nvcc missing or failing (carries the command, nvcc's stderr and the kept .cu path).
        ValueError: an unknown target string.
    """
    options = options or CompileOptions()
    data, info = _compile(source, parse_target(target), name, options, "cubin")
    return CompileResult(data, info["resources"], info["ptxas_log"], info["source_path"], list(info["command"]))


def compile_ptx(source: str, target: Target | str, *, name: str, options: CompileOptions | None = None) -> str:
    """Compile CUDA C++ `source` to PTX text for `target` (cached like compile_cubin).

    Raises:
        TilecCompileError: nvcc missing or failing (command, stderr, kept .cu path).
        ValueError: an unknown target string.
    """
    options = options or CompileOptions()
    data, _ = _compile(source, parse_target(target), name, options, "ptx")
    return data.decode()
