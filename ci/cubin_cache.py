"""A content-hashed compiler launcher for `nvcc -cubin` / `nvcc -ptx` (TILEC_COMPILER_LAUNCHER for the nightly shards).

    TILEC_COMPILER_LAUNCHER="python3 ci/cubin_cache.py" cmake ...      # then every nvcc runs through this
    python3 ci/cubin_cache.py --stats                                   # hits / misses of this cache

ccache and sccache only cache `-c` compilations: ccache 4.7 counts `nvcc -cubin` as "called for linking" and runs
it every time. The catalogue's sources include nothing but tilec's headers and the CUDA headers, so a key over
the command line (with the output and input paths taken out), the source, every file under the -I directories and
the nvcc version is exact. A hit restores the output and replays nvcc's stdout/stderr (the ptxas -v report the
compile step parses). The cache lives in $TILEC_CUBIN_CACHE_DIR (default ~/.cache/tilec/cubin-launcher); the
nightly workflow keeps it with actions/cache. Failures are never cached.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FORMAT = "1"


def cache_dir() -> Path:
    value = os.environ.get("TILEC_CUBIN_CACHE_DIR", "").strip()
    return Path(value).expanduser() if value else Path.home() / ".cache" / "tilec" / "cubin-launcher"


def _tree_hash(h: hashlib._Hash, root: Path) -> None:
    if not root.is_dir():
        return
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")


def _split(cmd: list[str]) -> tuple[str | None, list[str], list[str]]:
    """(output path, source paths, include dirs) of an nvcc command line."""
    out, sources, includes = None, [], []
    i = 1
    while i < len(cmd):
        a = cmd[i]
        if a == "-o" and i + 1 < len(cmd):
            out = cmd[i + 1]
            i += 2
            continue
        if a == "-I" and i + 1 < len(cmd):
            includes.append(cmd[i + 1])
            i += 2
            continue
        if a.startswith("-I") and len(a) > 2:
            includes.append(a[2:])
        elif not a.startswith("-") and a.endswith((".cu", ".cpp", ".cc")):
            sources.append(a)
        i += 1
    return out, sources, includes


def key_of(cmd: list[str], out: str, sources: list[str], includes: list[str]) -> str:
    nvcc_version = subprocess.run([cmd[0], "--version"], capture_output=True, text=True, check=False).stdout
    args = ["<out>" if a == out else "<src>" if a in sources else a for a in cmd[1:]]
    h = hashlib.sha256()
    h.update(json.dumps([FORMAT, nvcc_version, args]).encode())
    for s in sources:
        h.update(b"\0src\0" + Path(s).read_bytes())
    for inc in includes:
        h.update(b"\0inc\0")
        _tree_hash(h, Path(inc))
    return h.hexdigest()


def _log(line: str) -> None:
    try:
        with open(cache_dir() / "log", "a") as f:
            f.write(line + "\n")
    except OSError:
        pass


def run(cmd: list[str]) -> int:
    out, sources, includes = _split(cmd)
    if out is None or not sources or not any(a in ("-cubin", "-ptx") for a in cmd):
        return subprocess.run(cmd, check=False).returncode  # not ours to cache
    key = key_of(cmd, out, sources, includes)
    entry = cache_dir() / key[:2] / key
    if (entry / "output").is_file():
        shutil.copyfile(entry / "output", out)
        sys.stdout.write((entry / "stdout").read_text())
        sys.stderr.write((entry / "stderr").read_text())
        _log(f"hit {key} {Path(out).name}")
        return 0
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    if proc.returncode == 0 and Path(out).is_file():
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=entry.parent))
        shutil.copyfile(out, tmp / "output")
        (tmp / "stdout").write_text(proc.stdout)
        (tmp / "stderr").write_text(proc.stderr)
        try:
            os.replace(tmp, entry)  # atomic publish; a concurrent writer of the same key wins harmlessly
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
        _log(f"miss {key} {Path(out).name}")
    return proc.returncode


def stats() -> int:
    log = cache_dir() / "log"
    lines = log.read_text().splitlines() if log.is_file() else []
    hits = sum(1 for ln in lines if ln.startswith("hit "))
    entries = sum(1 for _ in cache_dir().glob("??/*")) if cache_dir().is_dir() else 0
    print(f"cubin cache {cache_dir()}: {entries} entries; logged {hits} hits, {len(lines) - hits} misses")
    return 0


def main(argv: list[str]) -> int:
    if argv[1:] == ["--stats"]:
        return stats()
    if argv[1:] == ["--zero-stats"]:
        (cache_dir() / "log").unlink(missing_ok=True)
        return 0
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    return run(argv[1:])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
