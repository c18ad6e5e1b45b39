"""The `tilec` command: `tilec show FILE.py:FUNC [--param k=v ...] [--target sm_80] [--after PASS]`."""
from __future__ import annotations

import argparse
import ast
import importlib.util
import sys
from pathlib import Path

from tilec.errors import TilecCompileError, TilecError


def _load(spec: str) -> object:
    if ":" not in spec:
        raise SystemExit(f"tilec: expected FILE.py:FUNC, got '{spec}'")
    path, func = spec.rsplit(":", 1)
    p = Path(path)
    if not p.is_file():
        raise SystemExit(f"tilec: no such file: {path}")
    sys.path.insert(0, str(p.resolve().parent))
    mod_spec = importlib.util.spec_from_file_location(p.stem, p)
    assert mod_spec is not None and mod_spec.loader is not None
    mod = importlib.util.module_from_spec(mod_spec)
    sys.modules[mod_spec.name] = mod  # dataclasses (and pickling) look the defining module up by name
    mod_spec.loader.exec_module(mod)
    if not hasattr(mod, func):
        raise SystemExit(f"tilec: {path} has no function '{func}'")
    return getattr(mod, func)


def _value(text: str) -> object:
    """A --param value: a Python literal (int, float, bool, tuple, string), T.symbolic for 'sym:NAME'."""
    if text.startswith("sym:"):
        import tilec.language as T

        return T.symbolic(text[4:])
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _show(args: argparse.Namespace) -> int:
    import tilec
    from tilec.language.kernel import PrimFuncDef

    fn = _load(args.spec)
    params = {}
    for kv in args.param or []:
        if "=" not in kv:
            raise SystemExit(f"tilec: --param expects k=v, got '{kv}'")
        k, v = kv.split("=", 1)
        params[k] = _value(v)
    pf = fn if isinstance(fn, PrimFuncDef) else fn(**params)  # type: ignore[operator]
    if hasattr(pf, "prim_func") and hasattr(pf, "show"):  # a @tilec.jit generator already compiled it
        kern = pf
    else:
        kern = tilec.compile(pf, target=args.target)
    print(kern.show(args.after))  # type: ignore[union-attr]
    return 0


def main(argv: list[str] | None = None) -> int:
    from tilec.transform.pipeline import PASS_NAMES

    ap = argparse.ArgumentParser(prog="tilec", description="tilec: the tile-language compiler")
    sub = ap.add_subparsers(dest="cmd", required=True)
    show = sub.add_parser("show", help="print a kernel's IR after a pass, or its CUDA source")
    show.add_argument("spec", help="FILE.py:FUNC (a kernel generator or a @T.prim_func)")
    show.add_argument("--param", action="append", metavar="K=V",
                      help="argument of the generator (Python literal; sym:NAME for a symbolic dim)")
    show.add_argument("--target", default="sm_80", help="target arch (default sm_80)")
    show.add_argument("--after", default=None, choices=PASS_NAMES + ["cuda"],
                      help="print the IR after this pass (default: the generated CUDA)")
    args = ap.parse_args(argv)
    try:
        return _show(args)
    except (TilecError, TilecCompileError) as e:
        print(e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
