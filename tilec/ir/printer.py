"""Stable text form of the tile IR (what `tilec show --after PASS` prints)."""
from __future__ import annotations

from tilec.ir.buffer import Buffer, Region
from tilec.ir.expr import (BinOp, Call, Cast, Const, Expr, Load, Reinterpret, Select, ThreadIdx, UnaryOp, Var)
from tilec.ir.func import PrimFunc
from tilec.ir.stmt import (Alloc, Annotate, ArrayRef, BufferPtr, DeviceCall, For, If, Kernel, Let, LoadVec, LocalDecl,
                           Parallel, Scope, Seq, Stmt, Store, StoreVec, Sync, TensorMapRef, TileLoop, TileOp,
                           VecCopy, WarpSpecialize, While)

_PREC = {"or": 1, "and": 2, "==": 3, "!=": 3, "<": 3, "<=": 3, ">": 3, ">=": 3, "|": 4, "^": 5, "&": 6,
         "<<": 7, ">>": 7, "+": 8, "-": 8, "*": 9, "/": 9, "//": 9, "%": 9}


def expr_str(e: object, prec: int = 0) -> str:
    if not isinstance(e, Expr):
        return str(e)
    if isinstance(e, Const):
        if isinstance(e.value, float):
            return repr(e.value) if e.dtype.name == "float32" else f"{e.dtype}({e.value!r})"
        return str(e.value)
    if isinstance(e, Var):
        return e.name
    if isinstance(e, ThreadIdx):
        return "threadIdx.x"
    if isinstance(e, BinOp):
        if e.op in ("min", "max"):
            return f"T.{e.op}({expr_str(e.a)}, {expr_str(e.b)})"
        p = _PREC[e.op]
        s = f"{expr_str(e.a, p)} {e.op} {expr_str(e.b, p + 1)}"
        return f"({s})" if p < prec else s
    if isinstance(e, UnaryOp):
        sym = {"neg": "-", "not": "not ", "invert": "~"}[e.op]
        return f"{sym}{expr_str(e.a, 10)}"
    if isinstance(e, Call):
        return f"T.{e.fn}({', '.join(expr_str(a) for a in e.args)})"
    if isinstance(e, Cast):
        return f"T.cast({expr_str(e.value)}, {e.dtype})"
    if isinstance(e, Reinterpret):
        return f"T.reinterpret({expr_str(e.value)}, {e.dtype})"
    if isinstance(e, Select):
        return f"T.if_then_else({expr_str(e.cond)}, {expr_str(e.a)}, {expr_str(e.b)})"
    if isinstance(e, Load):
        return f"{e.buffer.name}[{', '.join(expr_str(i) for i in e.indices)}]"
    return f"<{type(e).__name__}>"


def region_str(r: Region) -> str:
    parts = []
    for s, n in zip(r.starts, r.extents):
        parts.append(expr_str(s) if n == 1 else f"{expr_str(s)}:{expr_str(s)} + {n}" if expr_str(s) != "0"
                     else f"0:{n}")
    return f"{r.buffer.name}[{', '.join(parts)}]"


def _buf_decl(b: Buffer) -> str:
    shape = ", ".join(expr_str(d) for d in b.shape)
    return f"{b.name}: {b.scope}[{shape}] {b.dtype}"


def _op_str(op: TileOp) -> str:
    from dataclasses import fields

    parts = []
    for f in fields(op):
        if f.name == "loc":
            continue
        v = getattr(op, f.name)
        if isinstance(v, Region):
            parts.append(f"{f.name}={region_str(v)}")
        elif isinstance(v, Buffer):
            parts.append(f"{f.name}={v.name}")
        elif isinstance(v, Expr):
            parts.append(f"{f.name}={expr_str(v)}")
        else:
            parts.append(f"{f.name}={v}")
    return f"T.{type(op).__name__.lower()}({', '.join(parts)})"


def stmt_lines(s: Stmt | None, ind: int = 0) -> list[str]:
    pad = "    " * ind
    if s is None:
        return []
    if isinstance(s, Seq):
        out: list[str] = []
        for x in s.stmts:
            out += stmt_lines(x, ind)
        return out or [pad + "pass"]
    if isinstance(s, Kernel):
        g = ", ".join(expr_str(x) for x in s.grid)
        bv = ", ".join(v.name for v in s.block_vars)
        extra = (", persistent=True" if s.persistent else "") + (", tile_pairs=True" if s.tile_pairs else "")
        extra += f", cluster_dims={tuple(s.cluster)}" if tuple(s.cluster) != (1, 1, 1) else ""
        return [f"{pad}with T.Kernel({g}, threads={s.threads}{extra}) as ({bv}):"] + stmt_lines(s.body, ind + 1)
    if isinstance(s, TileLoop):
        return [f"{pad}for tile in T.persistent_tiles():  # binds the block variables"] + stmt_lines(s.body, ind + 1)
    if isinstance(s, Alloc):
        init = "" if s.init is None else f" = {expr_str(s.init)}"
        return [f"{pad}alloc {_buf_decl(s.buffer)}{init}"]
    if isinstance(s, LocalDecl):
        return [f"{pad}local {s.buffer.dtype} {s.buffer.name}[{s.size}]"]
    if isinstance(s, For):
        extra = f", num_stages={s.num_stages}" if s.kind == "pipelined" else ""
        rng = expr_str(s.extent) if expr_str(s.start) == "0" else f"{expr_str(s.start)}, " \
            f"{expr_str(s.start)} + {expr_str(s.extent)}"
        return [f"{pad}for {s.var.name} in T.{s.kind}({rng}{extra}):"] + stmt_lines(s.body, ind + 1)
    if isinstance(s, Parallel):
        vs = ", ".join(v.name for v in s.vars)
        return [f"{pad}for {vs} in T.Parallel({', '.join(map(str, s.extents))}):"] + stmt_lines(s.body, ind + 1)
    if isinstance(s, If):
        out = [f"{pad}if {expr_str(s.cond)}:"] + stmt_lines(s.then, ind + 1)
        if s.else_ is not None:
            out += [f"{pad}else:"] + stmt_lines(s.else_, ind + 1)
        return out
    if isinstance(s, While):
        return [f"{pad}while {expr_str(s.cond)}:"] + stmt_lines(s.body, ind + 1)
    if isinstance(s, Store):
        return [f"{pad}{s.buffer.name}[{', '.join(expr_str(i) for i in s.indices)}] = {expr_str(s.value)}"]
    if isinstance(s, Let):
        return [f"{pad}{s.var.name}: {s.var.dtype} = {expr_str(s.value)}"]
    if isinstance(s, Annotate):
        return [f"{pad}T.annotate({s.kind}, {s.value})"]
    if isinstance(s, Scope):
        tags = [t for t, on in (("unit", s.unit), ("async", s.async_group)) if on]
        return [f"{pad}scope{'(' + ', '.join(tags) + ')' if tags else ''}:"] + stmt_lines(s.body, ind + 1)
    if isinstance(s, StoreVec):
        vals = ", ".join(expr_str(v) for v in s.values)
        return [f"{pad}{s.buffer.name}[{expr_str(s.offset)} : +{len(s.values)}] = ({vals})"]
    if isinstance(s, LoadVec):
        return [f"{pad}{s.dst.name}[{', '.join(map(str, s.slots))}] = {s.src.name}[{expr_str(s.offset)} : "
                f"+{len(s.slots)}]"]
    if isinstance(s, Sync):
        return [f"{pad}T.sync_threads()"]
    if isinstance(s, WarpSpecialize):
        return ([f"{pad}producer(warpgroup after {s.consumer_threads} threads, setmaxnreg {s.producer_regs}):"]
                + stmt_lines(s.producer, ind + 1)
                + [f"{pad}consumers({s.consumer_threads} threads, setmaxnreg {s.consumer_regs}):"]
                + stmt_lines(s.consumer, ind + 1))
    if isinstance(s, DeviceCall):
        ta = f"<{', '.join(map(str, s.template_args))}>" if s.template_args else ""
        args = ", ".join(_arg_str(a) for a in s.args)
        return [f"{pad}{s.fn}{ta}({args})"]
    if isinstance(s, VecCopy):
        kind = "cp.async" if s.async_ else "vcopy"
        pred = f" if {expr_str(s.pred)}" if s.pred is not None else ""
        return [f"{pad}{kind}{s.nbytes}({_arg_str(s.dst)} <- {_arg_str(s.src)}){pred}"]
    if isinstance(s, TileOp):
        return [pad + _op_str(s)]
    return [f"{pad}<{type(s).__name__}>"]


def _arg_str(a: object) -> str:
    if isinstance(a, TensorMapRef):
        return f"&{a.name}"
    if isinstance(a, ArrayRef):
        return a.buffer.name
    if isinstance(a, BufferPtr):
        return f"&{a.buffer.name}[{expr_str(a.offset)}]"
    return expr_str(a)


def func_str(fn: PrimFunc) -> str:
    params = []
    for p in fn.params:
        if p.buffer is not None:
            params.append(f"{p.name}: T.Tensor(({', '.join(expr_str(d) for d in p.buffer.shape)}), "
                          f"{p.buffer.dtype})")
        else:
            params.append(f"{p.name}: {p.var.dtype}")
    head = f"def {fn.name}({', '.join(params)}):"
    notes = [f"# lowering of kernel {i}: {n}" for i, n in sorted(fn.attrs.get("lowering_notes", {}).items())]
    return "\n".join(notes + [head] + stmt_lines(fn.body, 1)) + "\n"
