"""Check a built tilekernels wheel: contents, manifest vs fatbins, arch matrix, linkage and size.

    python wheels/check_wheel.py dist/tilekernels-*.whl [--archs "80;90a"] [--max-mb 60] [--catalogue kernels]

Checks, each failure one line naming what was expected:
* the members: tilekernels/_C*.so (one), tilekernels/__init__.py, tilekernels/manifest.json, tilekernels/fatbins/,
  the tilec package (tilec/__init__.py, tilec/aot/, tilec/include/tilec/*.cuh) and the `tilec` console script;
* the manifest: one fatbin per variant, with the recorded sha256, and no fatbin the manifest does not name;
  with --catalogue, the variants are exactly those `python -m tilec.aot list` plans for the wheel's arch matrix;
* the archs: each variant's cubin archs lie in the requested matrix (--archs, default the manifest's); with
  cuobjdump (CUDA toolkit or `pip install nvidia-cuda-cuobjdump`) the ELF/PTX entries of every fatbin are
  listed and must equal the manifest's;
* linkage: _C needs neither libcuda nor libtorch/libc10 (it dlopens the driver), and no libcuda was bundled;
* size: the wheel is at most --max-mb MiB; the largest members are always listed.
Exit status 0 when every check passes, 1 otherwise.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import site
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent


def find_cuobjdump() -> str | None:
    """cuobjdump from $CUDA_HOME/bin, PATH, or PyPI's nvidia-cuda-cuobjdump (nvidia/cu13/bin, nvidia/cuda_cuobjdump/bin)."""
    home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH")
    if home and os.access(Path(home, "bin", "cuobjdump"), os.X_OK):
        return str(Path(home, "bin", "cuobjdump"))
    found = shutil.which("cuobjdump")
    if found:
        return found
    dirs = list(site.getsitepackages()) + [site.getusersitepackages()] + [p for p in sys.path if p.endswith("-packages")]
    for d in dirs:
        for rel in ("nvidia/cu13/bin/cuobjdump", "nvidia/cuda_cuobjdump/bin/cuobjdump", "nvidia/cu12/bin/cuobjdump"):
            if os.access(Path(d, rel), os.X_OK):
                return str(Path(d, rel))
    return None


def _real_archs(spec: str) -> tuple[set[str], set[str]]:
    """(cubin archs, ptx archs) requested by a TILEC_ARCHS-style spec, via tilec's own parser."""
    sys.path.insert(0, str(ROOT))
    from tilec.toolchain.arch import parse_arch_list

    entries = parse_arch_list(spec)
    return {e.target.arch for e in entries}, {e.target.generic.compute for e in entries if e.ptx}


def _needed_libs(so_bytes: bytes) -> list[str] | None:
    """DT_NEEDED entries of an ELF shared object (readelf), or None when readelf is unavailable."""
    if not shutil.which("readelf"):
        return None
    with tempfile.NamedTemporaryFile(suffix=".so") as f:
        f.write(so_bytes)
        f.flush()
        out = subprocess.run(["readelf", "-d", f.name], capture_output=True, text=True, check=False).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def _cuobjdump_archs(cuobjdump: str, data: bytes) -> tuple[set[str], set[str]]:
    with tempfile.NamedTemporaryFile(suffix=".fatbin") as f:
        f.write(data)
        f.flush()
        elf = subprocess.run([cuobjdump, "--list-elf", f.name], capture_output=True, text=True, check=False).stdout
        ptx = subprocess.run([cuobjdump, "--list-ptx", f.name], capture_output=True, text=True, check=False).stdout
    cubins = {m for m in re.findall(r"\.(sm_\d+[af]?)\.cubin", elf)}
    ptxs = {"compute_" + m[3:] for m in re.findall(r"\.(sm_\d+[af]?)\.ptx", ptx)}
    return cubins, ptxs


def check(wheel: Path, archs: str | None, max_mb: float, catalogue: str | None, top: int = 10) -> list[str]:
    errors: list[str] = []
    zf = zipfile.ZipFile(wheel)
    infos = {PurePosixPath(i.filename): i for i in zf.infolist()}
    names = {str(p) for p in infos}

    # -- listing and size gate -----------------------------------------------------------------------------------
    size_mb = wheel.stat().st_size / 2**20
    print(f"{wheel.name}: {size_mb:.2f} MiB, {len(infos)} members; largest (compressed / uncompressed):")
    for i in sorted(infos.values(), key=lambda i: -i.compress_size)[:top]:
        print(f"  {i.compress_size / 1024:9.1f} KiB  {i.file_size / 1024:9.1f} KiB  {i.filename}")
    if size_mb > max_mb:
        errors.append(f"the wheel is {size_mb:.2f} MiB, over the {max_mb} MiB gate (see the largest members above)")

    # -- members ---------------------------------------------------------------------------------------------------
    mods = [n for n in names if re.fullmatch(r"tilekernels/_C(\.[\w\-]+)?\.(so|pyd)", n)]
    if len(mods) != 1:
        errors.append(f"expected one tilekernels/_C*.so, found {mods or 'none'}")
    for need in ("tilekernels/__init__.py", "tilekernels/manifest.json", "tilec/__init__.py", "tilec/aot/__init__.py",
                 "tilec/include/tilec/tilec.cuh"):
        if need not in names:
            errors.append(f"missing {need}")
    if not any(n.startswith("tilec/include/tilec/") and n.endswith(".cuh") for n in names):
        errors.append("no device headers tilec/include/tilec/*.cuh")
    ep = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    if not ep or not re.search(r"^tilec\s*=\s*tilec\.cli:main", zf.read(ep[0]).decode(), re.MULTILINE):
        errors.append("no `tilec = tilec.cli:main` console script in entry_points.txt")
    for n in names:
        if re.search(r"(^|/)(tests|kernels|bench|bindings|ci|cmake)/", n) and not n.startswith(("tilec/", "tilekernels/")):
            errors.append(f"unexpected member {n} (only tilec/ and tilekernels/ belong in the wheel)")
        if re.search(r"libcuda\.so|libtorch|libc10", PurePosixPath(n).name):
            errors.append(f"{n} is bundled: the driver and torch must come from the user's machine "
                          f"(auditwheel repair --exclude libcuda.so.1)")

    # -- linkage ---------------------------------------------------------------------------------------------------
    if len(mods) == 1:
        needed = _needed_libs(zf.read(mods[0]))
        if needed is None:
            print("  (readelf not found: linkage of _C not checked)")
        else:
            print(f"  {mods[0]} needs: {', '.join(needed) or 'nothing'}")
            bad = [lib for lib in needed if re.match(r"lib(cuda|cudart|torch|c10|nvrtc)", lib)]
            if bad:
                errors.append(f"{mods[0]} links {', '.join(bad)}; it must dlopen libcuda.so.1 and link neither "
                              f"the CUDA runtime nor torch")

    # -- manifest vs fatbins ---------------------------------------------------------------------------------------
    if "tilekernels/manifest.json" not in names:
        return errors
    manifest = json.loads(zf.read("tilekernels/manifest.json"))
    variants = manifest.get("variants", [])
    build = manifest.get("build", {})
    print(f"  manifest: {len(variants)} variants, arch matrix {build.get('arch_matrix')!r}, CUDA "
          f"{build.get('cuda_version')}, commit {str(build.get('git_commit'))[:12]}")
    if not variants:
        errors.append("the manifest lists no variants")
    fatbins = {n for n in names if n.startswith("tilekernels/fatbins/") and n.endswith(".fatbin")}
    listed = set()
    spec = archs or str(build.get("arch_matrix", ""))
    want_cubins, want_ptx = _real_archs(spec) if spec else (set(), None)
    cuobjdump = find_cuobjdump()
    seen_archs: set[str] = set()
    for v in variants:
        member = f"tilekernels/fatbins/{v['file']}"
        listed.add(member)
        if member not in names:
            errors.append(f"variant {v['name']}: fatbin {member} is missing")
            continue
        data = zf.read(member)
        if hashlib.sha256(data).hexdigest() != v.get("sha256"):
            errors.append(f"variant {v['name']}: {member} does not match the manifest's sha256")
        v_archs = set(v.get("archs", []))
        seen_archs |= v_archs
        if v.get("ptx") and want_ptx is not None and v["ptx"] not in want_ptx:
            errors.append(f"variant {v['name']}: PTX {v['ptx']} although the matrix asks PTX only for {sorted(want_ptx)}")
        if want_cubins and not v_archs <= want_cubins:
            errors.append(f"variant {v['name']}: cubins for {sorted(v_archs - want_cubins)} outside the requested "
                          f"matrix {sorted(want_cubins)}")
        if cuobjdump:
            elf, ptx = _cuobjdump_archs(cuobjdump, data)
            want_v_ptx = {v["ptx"]} if v.get("ptx") else set()
            if elf != v_archs or ptx != want_v_ptx:
                errors.append(f"variant {v['name']}: cuobjdump lists cubins {sorted(elf)} and PTX {sorted(ptx)}, the "
                              f"manifest says {sorted(v_archs)} and {sorted(want_v_ptx)}")
    for extra in sorted(fatbins - listed):
        errors.append(f"{extra} is not in the manifest")
    if want_cubins and seen_archs != want_cubins:
        missing = sorted(want_cubins - seen_archs)
        if missing:
            errors.append(f"no variant has a cubin for {missing} although the matrix {spec!r} asks for it")
    print(f"  archs with cubins: {', '.join(sorted(seen_archs))}; requested: {spec!r}; "
          f"cuobjdump: {cuobjdump or 'not found (pip install nvidia-cuda-cuobjdump), fatbins not listed'}")

    # -- the catalogue's plan --------------------------------------------------------------------------------------
    if catalogue and spec:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        proc = subprocess.run([sys.executable, "-m", "tilec.aot", "list", "--catalogue", catalogue, "--archs", spec,
                               "--format", "json"], capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            errors.append(f"tilec.aot list failed: {proc.stderr.strip()}")
        else:
            planned = {p["name"] for p in json.loads(proc.stdout)}
            built = {v["name"] for v in variants}
            if planned != built:
                errors.append(f"the wheel's variants differ from the catalogue's plan: missing "
                              f"{sorted(planned - built)}, extra {sorted(built - planned)}")
    return errors


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("wheels", nargs="+", type=Path)
    ap.add_argument("--archs", default=os.environ.get("TILEC_ARCHS"),
                    help="the requested arch matrix (default: $TILEC_ARCHS, else the manifest's)")
    ap.add_argument("--max-mb", type=float, default=float(os.environ.get("TILEC_WHEEL_MAX_MB", "60")),
                    help="wheel size gate in MiB (default $TILEC_WHEEL_MAX_MB or 60)")
    ap.add_argument("--catalogue", default=None, help="also compare the variants with this catalogue's plan")
    args = ap.parse_args(argv)
    failed = 0
    for wheel in args.wheels:
        errors = check(wheel, args.archs, args.max_mb, args.catalogue)
        for e in errors:
            print(f"FAIL {wheel.name}: {e}")
        print(f"{'FAILED' if errors else 'OK'}: {wheel.name}")
        failed += bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
