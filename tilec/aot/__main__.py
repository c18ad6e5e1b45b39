"""`python -m tilec.aot STEP ...`: the AOT build steps that CMake runs (kernels/README.md has the contract)."""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from tilec.errors import TilecCompileError, TilecError


_FORKED_VARIANTS: list = []  # the variants _lower_smem's forked workers index into


def _lower_smem(i: int) -> int:
    from tilec.aot.steps import lower_variant

    try:
        return lower_variant(_FORKED_VARIANTS[i])[1].launches[0].smem_bytes
    except Exception:  # noqa: BLE001 - the parent lowers it again and reports the error with its context
        return -1


def _smem_in_parallel(variants: list) -> dict:
    """Lower `variants` in forked worker processes (one per core) and return {name: dynamic smem bytes}.

    Planning needs every variant's shared memory and lowering takes seconds per variant, so configure time
    would grow with the catalogue on one core. Returns {} where fork is unavailable (the caller lowers serially).
    """
    import multiprocessing
    import os

    workers = min(len(variants), os.cpu_count() or 1)
    if workers < 2 or sys.platform != "linux":
        return {}
    _FORKED_VARIANTS[:] = variants
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        sizes = pool.map(_lower_smem, range(len(variants)), chunksize=1)
    return {v.name: n for v, n in zip(variants, sizes) if n >= 0}


def _plan(args: argparse.Namespace):
    from tilec.aot.catalogue import load_catalogue, plan
    from tilec.aot.steps import lower_variant
    from tilec.toolchain.arch import parse_arch_list

    parse_arch_list(args.archs)  # an unknown arch is reported before seconds of lowering
    families = load_catalogue(args.catalogue, args.family or None, shipped_only=True)
    gen_dir = getattr(args, "gen_dir", None)
    todo = [v for f in families for v in f.variants
            if not (gen_dir and Path(gen_dir, f"{v.name}.json").is_file())]
    smem = _smem_in_parallel(todo)

    def smem_bytes(v):
        if v.name not in smem:
            emitted = Path(gen_dir, f"{v.name}.json") if gen_dir else None
            if emitted is not None and emitted.is_file():  # table/manifest run after emit: reuse its metadata
                smem[v.name] = json.loads(emitted.read_text())["metadata"]["launches"][0]["smem_bytes"]
            else:
                smem[v.name] = lower_variant(v)[1].launches[0].smem_bytes
        return smem[v.name]

    planned, skipped = plan(families, args.archs, smem_bytes)
    return planned, skipped, families


def _cmd_list(args: argparse.Namespace) -> int:
    planned, skipped, _ = _plan(args)
    for line in skipped:
        print(f"tilec.aot: skip {line}", file=sys.stderr)
    if args.format == "json":
        print(json.dumps([{"name": p.variant.name, "family": p.family.name, "archs": [t.arch for t in p.archs],
                           "ptx": p.ptx} for p in planned], indent=1))
    else:
        for p in planned:
            print(f"{p.variant.name};{','.join(t.arch for t in p.archs)};{p.ptx or ''}")
    return 0


def _cmd_emit(args: argparse.Namespace) -> int:
    from tilec.aot.catalogue import find_variant, load_catalogue
    from tilec.aot.steps import emit

    fam, v = find_variant(load_catalogue(args.catalogue, shipped_only=True), args.variant)
    emit(fam, v, Path(args.out))
    return 0


def _cmd_compile(args: argparse.Namespace) -> int:
    from tilec.aot.steps import compile_variant

    launcher = shlex.split(args.launcher) if args.launcher else None
    ptx_arch = args.ptx
    compile_variant(args.nvcc, ptx_arch or args.arch, Path(args.input), Path(args.out), ptx=bool(ptx_arch),
                    launcher=launcher)
    return 0


def _cmd_fatbin(args: argparse.Namespace) -> int:
    from tilec.aot.steps import fatbin

    fatbin(args.fatbinary, Path(args.out), [Path(p) for p in args.images])
    return 0


def _cmd_table(args: argparse.Namespace) -> int:
    from tilec.aot.steps import table, write_if_changed

    planned, _, families = _plan(args)
    write_if_changed(Path(args.out), table(planned, Path(args.gen_dir), args.archs, families))
    return 0


def _cmd_manifest(args: argparse.Namespace) -> int:
    from tilec.aot.steps import manifest, write_if_changed

    planned, _, _ = _plan(args)
    m = manifest(planned, Path(args.gen_dir), Path(args.fatbin_dir or args.gen_dir), args.archs, args.nvcc)
    write_if_changed(Path(args.out), json.dumps(m, indent=1, sort_keys=True) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tilec.aot", description="tilec ahead-of-time catalogue build steps")
    sub = ap.add_subparsers(dest="step", required=True)

    def with_plan(p: argparse.ArgumentParser) -> None:
        p.add_argument("--catalogue", required=True, help="catalogue directory (kernels/)")
        p.add_argument("--archs", required=True, help="arch matrix, e.g. '80;86;89;90a;100a;120+PTX'")
        p.add_argument("--family", action="append", help="restrict to these families (repeatable)")

    p = sub.add_parser("list", help="plan variants x archs")
    with_plan(p)
    p.add_argument("--format", choices=("cmake", "json"), default="cmake")
    p.set_defaults(fn=_cmd_list)

    p = sub.add_parser("emit", help="write VARIANT.cu and VARIANT.json")
    p.add_argument("--catalogue", required=True)
    p.add_argument("--variant", required=True)
    p.add_argument("--out", required=True, help="the .cu path (the .json goes next to it)")
    p.set_defaults(fn=_cmd_emit)

    p = sub.add_parser("compile", help="nvcc a variant into a checked cubin (or PTX)")
    p.add_argument("--nvcc", required=True)
    p.add_argument("--launcher", default="", help="compiler launcher command (ccache, sccache)")
    p.add_argument("--arch", default=None, help="sm_XY target of the cubin")
    p.add_argument("--ptx", default=None, help="compute_XY: emit PTX instead of a cubin")
    p.add_argument("--in", dest="input", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=_cmd_compile)

    p = sub.add_parser("fatbin", help="bundle a variant's cubins and PTX")
    p.add_argument("--fatbinary", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("images", nargs="+")
    p.set_defaults(fn=_cmd_fatbin)

    p = sub.add_parser("table", help="generate the C++ dispatch table")
    with_plan(p)
    p.add_argument("--gen-dir", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=_cmd_table)

    p = sub.add_parser("manifest", help="write the build manifest")
    with_plan(p)
    p.add_argument("--gen-dir", required=True)
    p.add_argument("--fatbin-dir", default=None)
    p.add_argument("--nvcc", default=None)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=_cmd_manifest)

    args = ap.parse_args(argv)
    if args.step == "compile" and not (args.arch or args.ptx):
        ap.error("compile needs --arch sm_XY or --ptx compute_XY")
    try:
        return args.fn(args)
    except (TilecError, TilecCompileError) as e:
        print(f"tilec.aot {args.step}: {e}", file=sys.stderr)
        return 1
    except ValueError as e:  # arch-list errors name the allowed set
        print(f"tilec.aot {args.step}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
