"""Generic traversal and rebuilding of statement trees."""
from __future__ import annotations

from dataclasses import fields, replace
from typing import Callable, Iterator

from tilec.ir.stmt import For, If, Kernel, Parallel, Scope, Seq, Stmt, TileLoop, WarpSpecialize, While

_BODY_FIELDS = {Seq: ("stmts",), Kernel: ("body",), For: ("body",), Parallel: ("body",), If: ("then", "else_"),
                While: ("body",), Scope: ("body",), TileLoop: ("body",),
                WarpSpecialize: ("producer", "consumer")}


def body_fields(s: Stmt) -> tuple:
    return _BODY_FIELDS.get(type(s), ())


def walk(s: Stmt | None) -> Iterator[Stmt]:
    """All statements of the tree in pre-order."""
    if s is None:
        return
    yield s
    for f in body_fields(s):
        v = getattr(s, f)
        if isinstance(v, tuple):
            for x in v:
                yield from walk(x)
        else:
            yield from walk(v)


def rewrite(s: Stmt | None, fn: Callable[[Stmt], Stmt | None]) -> Stmt | None:
    """Rebuild bottom-up: children first, then `fn(node)` (return the node itself to keep it)."""
    if s is None:
        return None
    changes = {}
    for f in body_fields(s):
        v = getattr(s, f)
        if isinstance(v, tuple):
            new = tuple(x for x in (rewrite(c, fn) for c in v) if x is not None)
            flat: list = []
            for x in new:
                flat.extend(x.stmts if isinstance(x, Seq) else (x,))
            if len(flat) != len(v) or any(a is not b for a, b in zip(flat, v)):
                changes[f] = tuple(flat)
        else:
            nv = rewrite(v, fn)
            if nv is not v:
                changes[f] = nv if nv is not None else Seq(())
    if changes:
        s = replace(s, **changes)
    return fn(s)


def replace_fields(s: Stmt, **kw: object) -> Stmt:
    names = {f.name for f in fields(s)}
    return replace(s, **{k: v for k, v in kw.items() if k in names})
