"""Algebraic simplification of integer index expressions via linear forms, plus constant folding.

`linear_form(e)` writes an integer expression as {monomial: coeff} where a monomial is a sorted
tuple of opaque atoms (Vars, or sub-expressions that are not linear); `simplify` folds constants
and rebuilds the linear form canonically so that (bx + 1) * 64 - bx * 64 becomes 64.
"""
from __future__ import annotations

from tilec.ir import dtypes as dt
from tilec.ir.expr import (BinOp, Call, Cast, Const, Expr, Load, Select, ThreadIdx, UnaryOp, Var, as_int, children,
                           const)

Form = dict  # monomial (tuple of atom ids) -> int coefficient


def _atom_key(e: Expr) -> tuple:
    return (id(e),)


def linear_form(e: Expr, atoms: dict) -> Form | None:
    """{monomial: coeff} of an integer expression, or None when e is not an integer polynomial."""
    if not isinstance(e, Expr):
        return {(): int(e)}
    if not e.dtype.is_int:
        return None
    if isinstance(e, Const):
        return {(): int(e.value)}
    if isinstance(e, BinOp) and e.op in ("+", "-", "*"):
        a, b = linear_form(e.a, atoms), linear_form(e.b, atoms)
        if a is None or b is None:
            return None
        if e.op == "+":
            return _add(a, b, 1)
        if e.op == "-":
            return _add(a, b, -1)
        return _mul(a, b, atoms)
    key = _structural_key(e)
    atoms.setdefault(key, e)
    return {(key,): 1}


def _structural_key(e: Expr) -> object:
    if isinstance(e, Var):
        return ("v", id(e))
    if isinstance(e, Const):
        return ("c", e.value)
    return (type(e).__name__, getattr(e, "op", getattr(e, "fn", None)), id(getattr(e, "buffer", None)),
            tuple(_structural_key(c) for c in children(e)))


def _stable_repr(e: Expr) -> str:
    """A text of e that is the same in every process (names, never ids): the canonical order of atoms."""
    if isinstance(e, Var):
        return f"v:{e.name}"
    if isinstance(e, Const):
        return f"c:{e.value!r}"
    buf = getattr(e, "buffer", None)
    return (f"{type(e).__name__}({getattr(e, 'op', getattr(e, 'fn', None))},{getattr(buf, 'name', None)},"
            + ",".join(_stable_repr(c) for c in children(e)) + ")")


def _atom_order(atoms: dict):
    """Sort key of atom keys: the stable text, then first appearance (distinct atoms that print alike).

    Never the keys' repr: they hold ids, which differ between processes, and the emitted CUDA must not (the
    build's shards and caches compare sources byte for byte)."""
    rank = {k: i for i, k in enumerate(atoms)}
    return lambda k: (_stable_repr(atoms[k]), rank[k])


def _add(a: Form, b: Form, sign: int) -> Form:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + sign * v
    return {k: v for k, v in out.items() if v != 0}


def _mul(a: Form, b: Form, atoms: dict) -> Form:
    out: Form = {}
    order = _atom_order(atoms)
    for ka, va in a.items():
        for kb, vb in b.items():
            k = tuple(sorted(ka + kb, key=order))
            out[k] = out.get(k, 0) + va * vb
    return {k: v for k, v in out.items() if v != 0}


def _rebuild(form: Form, atoms: dict, dtype: dt.DType) -> Expr:
    const_term = form.get((), 0)
    terms: Expr | None = None
    order = _atom_order(atoms)
    for mono, coeff in sorted(((k, v) for k, v in form.items() if k), key=lambda kv: [order(a) for a in kv[0]]):
        t: Expr | None = None
        for a in mono:
            t = atoms[a] if t is None else BinOp("*", t, atoms[a], dtype)
        assert t is not None
        if coeff != 1:
            t = BinOp("*", t, Const(coeff, dtype), dtype)
        terms = t if terms is None else BinOp("+", terms, t, dtype)
    if terms is None:
        return Const(const_term, dtype)
    if const_term:
        terms = BinOp("+", terms, Const(const_term, dtype), dtype)
    return terms


def simplify(e: object) -> Expr:
    """Constant-fold and canonicalise integer polynomial parts of `e`."""
    if not isinstance(e, Expr):
        return const(e)  # type: ignore[arg-type]
    e = _fold(e)
    if e.dtype.is_int and isinstance(e, BinOp) and e.op in ("+", "-", "*"):
        atoms: dict = {}
        f = linear_form(e, atoms)
        if f is not None:
            return _rebuild(f, atoms, e.dtype)
    return e


Bound = tuple  # (lo, hi), either None when unknown


def bounds(e: Expr) -> Bound:
    """Conservative integer range of e: thread indices lie in [0, extent), nonneg vars in [0, inf)."""
    if isinstance(e, Const) and e.dtype.is_int:
        return int(e.value), int(e.value)
    if isinstance(e, ThreadIdx):
        return 0, (e.extent - 1 if e.extent else None)
    if isinstance(e, Var):
        return (0, None) if e.nonneg else (None, None)
    if not isinstance(e, BinOp) or not e.dtype.is_int:
        return None, None
    (al, ah), (bl, bh) = bounds(e.a), bounds(e.b)

    def add(x: object, y: object) -> object:
        return None if x is None or y is None else x + y  # type: ignore[operator]

    if e.op == "+":
        return add(al, bl), add(ah, bh)
    if e.op == "-":
        return (None if al is None or bh is None else al - bh), (None if ah is None or bl is None else ah - bl)
    nonneg = al is not None and al >= 0 and bl is not None and bl >= 0
    if not nonneg:
        return None, None
    if e.op == "*":
        return al * bl, (None if ah is None or bh is None else ah * bh)
    if e.op == "//" and bl > 0:
        return al // bh if bh else 0, (None if ah is None else ah // bl)
    if e.op == "%" and bl > 0:
        return 0, (bh - 1 if bh is not None else ah) if ah is None or bh is None else min(ah, bh - 1)
    if e.op in ("&", "min"):
        return 0, (ah if bh is None else bh if ah is None else min(ah, bh))
    if e.op in ("^", "|", "max") and ah is not None and bh is not None:
        return 0, (1 << max(ah, bh).bit_length()) - 1
    if e.op == ">>" and as_int(e.b) is not None:
        return 0, (None if ah is None else ah >> as_int(e.b))  # type: ignore[operator]
    return 0, None


def _split_divmod(op: str, a: Expr, d: int, dtype: dt.DType) -> Expr | None:
    """(q*d + r) // d = q + r // d and (q*d + r) % d = r % d when a and r are >= 0 (then C's truncating
    division agrees with floor division); r // d vanishes and r % d is r when r < d."""
    lo, hi = bounds(a)
    if lo is None or lo < 0:
        return None
    if hi is not None and hi < d:
        return a if op == "%" else Const(0, dtype)
    atoms: dict = {}
    f = linear_form(a, atoms)
    if f is None:
        return None
    q = {k: v // d for k, v in f.items() if v % d == 0 or k == ()}
    r = {k: v for k, v in f.items() if v % d != 0 and k != ()}
    if () in f:
        q[()] = f[()] // d
        if f[()] % d:
            r[()] = f[()] % d
    q = {k: v for k, v in q.items() if v}
    if not q:
        return None  # nothing to take out
    rest = _rebuild(r, atoms, dtype) if r else Const(0, dtype)
    rl, rh = bounds(rest)
    if rl is None or rl < 0:
        return None
    small = rh is not None and rh < d
    if op == "%":
        return rest if small else BinOp("%", rest, Const(d, dtype), dtype)
    qe = _rebuild(q, atoms, dtype)
    return qe if small else BinOp("+", qe, BinOp("//", rest, Const(d, dtype), dtype), dtype)


def _fold(e: Expr) -> Expr:
    if isinstance(e, BinOp):
        a, b = simplify(e.a), simplify(e.b)
        ia, ib = as_int(a), as_int(b)
        if e.op in ("//", "%") and e.dtype.is_int and ib is not None and ib > 0 and ia is None:
            split = _split_divmod(e.op, a, ib, e.dtype)
            if split is not None:
                return simplify(split) if not (isinstance(split, BinOp) and split.op == e.op) else split
        if ia is not None and ib is not None and e.dtype.is_int and isinstance(a, Const) and isinstance(b, Const):
            v = _int_op(e.op, ia, ib)
            if v is not None:
                return Const(v, e.dtype)
        if e.op == "*" and (ia == 0 or ib == 0) and e.dtype.is_int:
            return Const(0, e.dtype)
        if e.op == "*" and ib == 1:
            return a
        if e.op == "*" and ia == 1:
            return b
        if e.op in ("+", "-") and ib == 0:
            return a
        if e.op == "+" and ia == 0:
            return b
        if e.op == "//" and ib == 1:
            return a
        if e.op == "%" and ib == 1:
            return Const(0, e.dtype)
        return e if (a is e.a and b is e.b) else BinOp(e.op, a, b, e.dtype)
    if isinstance(e, UnaryOp):
        a = simplify(e.a)
        if e.op == "neg" and isinstance(a, Const):
            return Const(-a.value, e.dtype)
        return e if a is e.a else UnaryOp(e.op, a, e.dtype)
    if isinstance(e, Cast):
        v = simplify(e.value)
        if v.dtype == e.dtype:
            return v
        if isinstance(v, Const) and e.dtype.is_int and v.dtype.is_int:
            return Const(int(v.value), e.dtype)
        return e if v is e.value else Cast(v, e.dtype)
    if isinstance(e, Select):
        c = simplify(e.cond)
        if isinstance(c, Const):
            return simplify(e.a) if c.value else simplify(e.b)
        return Select(c, simplify(e.a), simplify(e.b), e.dtype)
    if isinstance(e, Call):
        return Call(e.fn, tuple(simplify(a) for a in e.args), e.dtype)
    if isinstance(e, Load):
        return Load(e.buffer, tuple(simplify(i) for i in e.indices), e.dtype, e.loc)
    return e


def _int_op(op: str, a: int, b: int) -> int | bool | None:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "//" and b != 0:
        q = abs(a) // abs(b)  # C semantics: round toward zero
        return q if (a >= 0) == (b > 0) else -q
    if op == "%" and b != 0:
        r = abs(a) % abs(b)
        return r if a >= 0 else -r
    if op == "min":
        return min(a, b)
    if op == "max":
        return max(a, b)
    if op == "<<":
        return a << b
    if op == ">>":
        return a >> b
    if op == "&":
        return a & b
    if op == "|":
        return a | b
    if op == "^":
        return a ^ b
    return None


def static_int(e: object) -> int | None:
    """The compile-time integer value of `e` after simplification, or None."""
    v = as_int(e)  # type: ignore[arg-type]
    if v is not None:
        return v
    if isinstance(e, Expr):
        return as_int(simplify(e))
    return None
