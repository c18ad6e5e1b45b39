"""The AOT build steps, one function each (see kernels/README.md): emit, compile, fatbin, table, manifest.

Every step writes its outputs only when their content changes, so ninja's restat and timestamp checks see a
step that produced identical bytes as a no-op for everything downstream.
"""
from __future__ import annotations

import ast
import datetime
import hashlib
import json
import os
import subprocess
from pathlib import Path

from tilec.aot.catalogue import Family, PlannedVariant, VariantBase, emit_target
from tilec.errors import TilecCompileError, TilecError
from tilec.metadata import KernelMetadata


def write_if_changed(path: Path, data: str | bytes) -> bool:
    """Write `data` to `path` unless it already holds exactly that; returns whether it wrote. Atomic."""
    raw = data.encode() if isinstance(data, str) else data
    if path.is_file() and path.read_bytes() == raw:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(raw)
    os.replace(tmp, path)
    return True


# -- emit ------------------------------------------------------------------------------------------------------


def lower_variant(variant: VariantBase):
    """Compile the variant's tile program for its emit target: (CUDA source, KernelMetadata).

    Raises TilecError (with the kernel's source location) when the program does not compile.
    """
    import tilec

    kernel = tilec.compile(variant.build(), target=emit_target(variant))
    return kernel.get_kernel_source(), kernel.metadata


def check_abi(family: Family, variant: VariantBase, meta: KernelMetadata) -> list[int]:
    """Check the kernel's parameters against the family's declared ABI; return dim_order (kernel int arg i is
    family dim dim_order[i]). Raises TilecError on any mismatch (the C++ stub would pass wrong arguments)."""
    tensors = tuple(p.name for p in meta.params if p.kind == "tensor")
    scalars = [p for p in meta.params if p.kind != "tensor"]
    if tensors != family.tensors or tuple(p.name for p in scalars) != family.scalars:
        raise TilecError(f"variant {variant.name}: kernel parameters {[p.name for p in meta.params]} do not match "
                         f"the family ABI TENSORS={family.tensors} SCALARS={family.scalars}")
    if len(scalars) > MAX_SCALARS:
        raise TilecError(f"variant {variant.name}: {len(scalars)} scalar parameters; KernelInfo passes at most "
                         f"{MAX_SCALARS}")
    wrong = [f"{p.name}: {p.dtype}" for p in scalars if p.dtype != "float32"]
    if wrong:
        raise TilecError(f"variant {variant.name}: scalar parameters {wrong}; the AOT ABI passes float32 scalars only")
    if len(meta.launches) != 1:
        raise TilecError(f"variant {variant.name}: {len(meta.launches)} kernel launches; the AOT table supports one")
    unknown = [d for d in meta.sym_dims if d not in family.dims]
    if unknown:
        raise TilecError(f"variant {variant.name}: symbolic dims {unknown} are not in the family's DIMS "
                         f"{family.dims}")
    if meta.launches[0].workspace_per_block:
        raise TilecError(f"variant {variant.name}: a stream-K kernel (T.annotate_persistent(stream_k=True)) needs a "
                         "workspace argument, which the C++ dispatch stubs do not pass (KernelInfo has no field for "
                         "it); build it without stream_k")
    tmaps = meta.launches[0].tensor_maps
    if len(tmaps) > MAX_TMAPS:
        raise TilecError(f"variant {variant.name}: {len(tmaps)} TMA tensor maps; KernelInfo holds at most {MAX_TMAPS}")
    for t in tmaps:
        tmap_info(variant.name, family, t)  # raises on anything the table cannot express
    return [family.dims.index(d) for d in meta.sym_dims]


# -- tensor maps (TmapInfo rows) -------------------------------------------------------------------------------

MAX_TMAPS = 4  # KernelInfo::tmaps (bindings/src/kernel_info.h kMaxTmaps)
MAX_SCALARS = 4  # KernelInfo::n_scalars (bindings/src/kernel_info.h kMaxScalars)
_TMAP_MAX_RANK = 5
_TMAP_SWIZZLE = {0: 0, 32: 1, 64: 2, 128: 3}  # bytes -> CUtensorMapSwizzle


def tmap_info(variant: str, family: Family, t) -> dict:
    """The TmapInfo fields of one TensorMapSpec: tensor index, CUtensorMapDataType, rank, box, swizzle enum and the
    C++ expressions (over the family dims `d[i]`) of its dims and byte strides. Raises TilecError when the spec
    cannot be a table row (unknown tensor or dtype, rank, box, swizzle, or an untranslatable expression)."""
    from tilec.runtime.tensor_map import _ALIASES, _DTYPES, MAX_BOX

    where = f"variant {variant}: tensor map {t.name!r}"
    if t.param not in family.tensors:
        raise TilecError(f"{where} describes {t.param!r}, which is not one of the family's TENSORS {family.tensors}")
    dtype = _ALIASES.get(t.dtype, t.dtype)
    if dtype not in _DTYPES:
        raise TilecError(f"{where} has dtype {t.dtype!r}, which TMA cannot move")
    rank = len(t.dims)
    if not 1 <= rank <= _TMAP_MAX_RANK or len(t.box) != rank or len(t.strides_bytes) != rank - 1:
        raise TilecError(f"{where}: dims {t.dims}, box {t.box} and strides {t.strides_bytes} must have rank 1..5 "
                         f"entries (strides: rank - 1)")
    if not all(isinstance(b, int) and 1 <= b <= MAX_BOX for b in t.box):
        raise TilecError(f"{where}: box {t.box} must have entries in 1..{MAX_BOX}")
    if t.swizzle not in _TMAP_SWIZZLE:
        raise TilecError(f"{where}: swizzle {t.swizzle!r} is not 0, 32, 64 or 128 (bytes)")
    try:
        dims = [grid_expr_to_cpp(str(e), family.dims) for e in t.dims]
        strides = [grid_expr_to_cpp(str(e), family.dims) for e in t.strides_bytes]
    except TilecError as e:
        raise TilecError(f"{where}: {e}") from None
    return {"tensor": family.tensors.index(t.param), "dtype": _DTYPES[dtype][0], "rank": rank, "box": list(t.box),
            "swizzle": _TMAP_SWIZZLE[t.swizzle], "dims": dims, "strides": strides}


def emit(family: Family, variant: VariantBase, out_cu: Path) -> None:
    """Write VARIANT.cu and VARIANT.json (metadata, dim order, emit target) next to it."""
    source, meta = lower_variant(variant)
    dim_order = check_abi(family, variant, meta)
    info = {"variant": variant.name, "family": family.name, "lowering": variant.lowering,
            "emit_target": emit_target(variant).arch, "dim_order": dim_order,
            "cpp_fields": variant.cpp_fields(), "metadata": json.loads(meta.to_json())}
    write_if_changed(out_cu, source)
    write_if_changed(out_cu.with_suffix(".json"), json.dumps(info, indent=1, sort_keys=True) + "\n")


# -- compile ---------------------------------------------------------------------------------------------------


def compile_variant(nvcc: str, arch: str, src: Path, out: Path, *, ptx: bool = False,
                    launcher: list[str] | None = None) -> dict:
    """nvcc one variant's source into a cubin for `arch` (or PTX for a compute_XY arch when ptx=True).

    For a cubin the ptxas report is parsed and written to OUT.json; a spill or any local memory (stack) is an
    error: the variant must be fixed, not shipped. Raises TilecCompileError (command, stderr, source path).
    """
    from tilec.toolchain.arch import nvcc_gencode_flags, parse_target
    from tilec.toolchain.nvcc import CompileOptions, nvcc_command, parse_ptxas_report, summarize_resources

    if ptx:
        if not arch.startswith("compute_"):
            raise TilecError(f"--ptx needs a compute_XY arch, got {arch!r}")
        gencode = [f"-gencode=arch={arch},code={arch}"]
        kind = "ptx"
    else:
        gencode = nvcc_gencode_flags(parse_target(arch))
        kind = "cubin"
    cmd = [*(launcher or []), *nvcc_command(nvcc, kind, gencode, CompileOptions()), "-o", str(out), str(src)]
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError as e:
        raise TilecCompileError(f"cannot run {cmd[0]}: {e}", cmd, "", str(src)) from None
    log = (proc.stderr or "") + (proc.stdout or "")
    if proc.returncode != 0 or not out.is_file():
        raise TilecCompileError(f"nvcc failed on {src.name} for {arch} (exit {proc.returncode})", cmd, log, str(src))
    if ptx:
        return {}
    res = summarize_resources(parse_ptxas_report(log))
    if not res["per_function"]:
        raise TilecCompileError(f"no ptxas resource report for {src.name} ({arch}); is -Xptxas -v filtered by "
                                f"the compiler launcher?", cmd, log, str(src))
    write_if_changed(Path(str(out) + ".json"), json.dumps(res, indent=1, sort_keys=True) + "\n")
    if res["spill_bytes"] or res["stack_bytes"]:
        out.unlink(missing_ok=True)
        raise TilecCompileError(
            f"{src.stem} for {arch} uses local memory: {res['spill_stores']} bytes spill stores, "
            f"{res['spill_loads']} bytes spill loads, {res['stack_bytes']} bytes stack, at {res['registers']} "
            f"registers. A variant that spills is a bug to fix (smaller tile, fewer stages), not to ship.",
            cmd, log, str(src))
    return res


# -- fatbin ----------------------------------------------------------------------------------------------------


def fatbin(fatbinary: str, out: Path, images: list[Path]) -> None:
    """Bundle cubins (NAME.sm_XY.cubin) and PTX (NAME.compute_XY.ptx) into one compressed fatbin."""
    specs = []
    for img in images:
        parts = img.name.split(".")
        if len(parts) < 3 or img.suffix not in (".cubin", ".ptx"):
            raise TilecError(f"fatbin input {img} is not named NAME.sm_XY.cubin or NAME.compute_XY.ptx")
        arch = parts[-2]
        sm = arch.split("_", 1)[1]
        kind = "elf" if img.suffix == ".cubin" else "ptx"
        specs.append(f"--image3=kind={kind},sm={sm},file={img}")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    cmd = [fatbinary, "-64", f"--create={tmp}", "--compress-all", "--compress-mode=size", *specs]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        raise TilecCompileError(f"fatbinary failed for {out.name} (exit {proc.returncode})", cmd,
                                (proc.stderr or "") + (proc.stdout or ""), "")
    data = tmp.read_bytes()
    tmp.unlink()
    write_if_changed(out, data)


# -- table -----------------------------------------------------------------------------------------------------

_CPP_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "/", ast.Mod: "%"}


def grid_expr_to_cpp(text: str, dims: tuple) -> str:
    """Translate a LaunchSpec grid expression (Python syntax over symbolic dims) to C++ over `d[i]`.

    Sizes are non-negative, so // and % are C's / and %. Raises TilecError on anything else.
    """
    def conv(n: ast.AST) -> str:
        if isinstance(n, ast.Expression):
            return conv(n.body)
        if isinstance(n, ast.Constant) and isinstance(n.value, int):
            return f"{n.value}LL"
        if isinstance(n, ast.Name) and n.id in dims:
            return f"d[{dims.index(n.id)}]"
        if isinstance(n, ast.BinOp) and type(n.op) in _CPP_BINOPS:
            return f"({conv(n.left)} {_CPP_BINOPS[type(n.op)]} {conv(n.right)})"
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("min", "max") \
                and len(n.args) == 2:
            a, b = conv(n.args[0]), conv(n.args[1])
            return f"({a} {'<' if n.func.id == 'min' else '>'} {b} ? {a} : {b})"
        raise TilecError(f"grid expression {text!r} has {ast.dump(n)[:60]}, which the AOT table cannot translate")

    return conv(ast.parse(text, mode="eval"))


def read_emitted(gen_dir: Path, name: str) -> dict:
    """The VARIANT.json that `emit` wrote. Raises TilecError when it is missing (emit has not run)."""
    path = gen_dir / f"{name}.json"
    if not path.is_file():
        raise TilecError(f"{path} is missing: run `python -m tilec.aot emit --variant {name}` first")
    return json.loads(path.read_text())


def _cstr(s: str) -> str:
    return json.dumps(s)  # a valid C string literal for the plain ASCII names we use


def table(planned: list[PlannedVariant], gen_dir: Path, arch_spec: str, families: list[Family] = ()) -> str:
    """The C++ dispatch table (kernels/README.md) for the planned variants, from their VARIANT.json files.

    families: the catalogue's families; one with no planned variant (no requested arch can run it) still gets its
    `k<Family>` (a null pointer) and `k<Family>Count = 0`, so that the stubs compile against any arch matrix.
    """
    from tilec.toolchain.arch import format_arch_list, parse_arch_list

    lines = ["// Generated by `python -m tilec.aot table`. Do not edit.", "#pragma once", "",
             "namespace tilekernels {", "namespace catalogue {", ""]
    real = sorted({t for p in planned for t in p.archs}, key=lambda t: (t.cc, t.suffix))
    built = [t.arch for t in real] + sorted({p.ptx for p in planned if p.ptx})
    lines.append(f"static const char* const kBuiltArchs = {_cstr(';'.join(built))};")
    lines.append(f"static const char* const kArchMatrix = {_cstr(format_arch_list(parse_arch_list(arch_spec)))};")
    lines.append("")
    kernels, rows = [], {}
    for i, p in enumerate(planned):
        info = read_emitted(gen_dir, p.variant.name)
        meta = KernelMetadata.from_json(json.dumps(info["metadata"]))
        launch = meta.launches[0]
        fname = f"grid_{p.variant.name}"
        g = [grid_expr_to_cpp(e, p.family.dims) for e in launch.grid]
        lines.append(f"static void {fname}(const long long* d, unsigned g[3]) {{")
        lines.append("  (void)d;")
        lines += [f"  g[{k}] = static_cast<unsigned>({g[k]});" for k in range(3)]
        lines.append("}")
        tmaps = []
        for j, t in enumerate(launch.tensor_maps):
            ti = tmap_info(p.variant.name, p.family, t)
            sname = f"tmap_{p.variant.name}_{j}"
            lines.append(f"// {t.name}: {t.param} {t.dtype}, dims {list(t.dims)}, strides {list(t.strides_bytes)} "
                         f"bytes, box {list(t.box)} (innermost first), swizzle {t.swizzle} bytes")
            lines.append(f"static void {sname}(const long long* d, unsigned long long g[5], unsigned long long s[5]) {{")
            lines.append("  (void)d;")
            lines.append("  (void)s;")
            lines += [f"  g[{k}] = static_cast<unsigned long long>({e});" for k, e in enumerate(ti["dims"])]
            lines += [f"  s[{k}] = static_cast<unsigned long long>({e});" for k, e in enumerate(ti["strides"])]
            lines.append("}")
            box = ti["box"] + [0] * (_TMAP_MAX_RANK - ti["rank"])
            tmaps.append(f"{{{ti['tensor']}, {ti['dtype']}, {ti['rank']}, {{{', '.join(f'{b}u' for b in box)}}}, "
                         f"{ti['swizzle']}, {sname}}}")
        if len(tmaps) > MAX_TMAPS:
            raise TilecError(f"variant {p.variant.name}: {len(tmaps)} TMA tensor maps; KernelInfo holds at most "
                             f"{MAX_TMAPS}")
        archs = [t.arch for t in p.archs] + ([p.ptx] if p.ptx else [])
        order = info["dim_order"] + [0] * (8 - len(info["dim_order"]))
        kernels.append(
            f"  {{{_cstr(p.variant.name)}, {_cstr(p.variant.name + '.fatbin')}, {_cstr(launch.entry)}, "
            f"{launch.threads}u, {launch.smem_bytes}u, {{{', '.join(f'{c}u' for c in launch.cluster)}}}, "
            f"{_cstr(';'.join(archs))}, {len(p.family.tensors)}, {len(info['dim_order'])}, "
            f"{{{', '.join(map(str, order))}}}, {fname}, {len(tmaps)}, {{{', '.join(tmaps)}}}, "
            f"{len(p.family.scalars)}{', true' if launch.persistent else ''}}},")  # persistent: default false
        rows.setdefault(p.family, []).append(f"  {{&kKernels[{i}], {', '.join(info['cpp_fields'])}}},")
    lines += ["", "static const KernelInfo kKernels[] = {", *kernels, "};",
              f"static const int kKernelCount = {len(kernels)};", ""]
    for fam, fam_rows in rows.items():
        lines += [f"static const {fam.cpp_struct} {fam.table_name}[] = {{", *fam_rows, "};",
                  f"static const int {fam.table_name}Count = {len(fam_rows)};", ""]
    planned_names = {f.name for f in rows}
    for fam in families:
        if fam.name not in planned_names:
            lines += [f"static const {fam.cpp_struct}* const {fam.table_name} = nullptr;  // no variant planned",
                      f"static const int {fam.table_name}Count = 0;", ""]
    lines += ["}  // namespace catalogue", "}  // namespace tilekernels", ""]
    return "\n".join(lines)


# -- manifest --------------------------------------------------------------------------------------------------


def _git_commit(root: Path) -> str:
    try:
        proc = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=False, timeout=10)
        return proc.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def manifest(planned: list[PlannedVariant], gen_dir: Path, fatbin_dir: Path, arch_spec: str,
             nvcc: str | None) -> dict:
    """The build manifest: per variant its fatbin's sha256, archs, launch shape and ptxas resources."""
    import tilec
    from tilec.toolchain.nvcc import CompileOptions, nvcc_version

    variants = []
    for p in planned:
        info = read_emitted(gen_dir, p.variant.name)
        launch = info["metadata"]["launches"][0]
        fb = fatbin_dir / f"{p.variant.name}.fatbin"
        if not fb.is_file():
            raise TilecError(f"manifest: fatbin {fb} is missing (run the fatbin step first)")
        resources = {}
        for t in p.archs:
            rep = gen_dir / f"{p.variant.name}.{t.arch}.cubin.json"
            if rep.is_file():
                r = json.loads(rep.read_text())
                resources[t.arch] = {k: r[k] for k in ("registers", "spill_bytes", "stack_bytes")}
        variants.append({
            "name": p.variant.name, "family": p.family.name, "file": fb.name,
            "sha256": hashlib.sha256(fb.read_bytes()).hexdigest(), "bytes": fb.stat().st_size,
            "archs": [t.arch for t in p.archs], "ptx": p.ptx, "threads": launch["threads"],
            "smem_bytes": launch["smem_bytes"], "cluster": launch["cluster"], "resources": resources})
    cuda = "unknown"
    if nvcc:
        try:
            cuda = "%d.%d" % nvcc_version(nvcc)
        except Exception:  # noqa: BLE001 - the manifest still records the build
            pass
    flags = " ".join(CompileOptions().flags())
    root = Path(__file__).resolve().parents[2]
    build = {"tilec_version": getattr(tilec, "__version__", "unknown"), "git_commit": _git_commit(root),
             "cuda_version": cuda, "arch_matrix": arch_spec,
             "flags_hash": hashlib.sha256(flags.encode()).hexdigest()[:16],
             "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    return {"build": build, "variants": variants}
