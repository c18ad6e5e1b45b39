"""Parse a @T.prim_func's Python AST into a PrimFunc by partial evaluation.

Expressions over Python values (closure variables such as block_M) are evaluated by Python at
compile time; expressions over IR values (block indices, loop variables, symbolic dims, buffer
elements) build IR. Native if/for/while on Python values run at compile time; on IR values they
become IR. Language functions (`T.copy`, ...) are ordinary Python calls that emit into the builder.
"""
from __future__ import annotations

import ast
import builtins
import inspect
import operator
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tilec.errors import SourceLoc, TilecError
from tilec.ir import dtypes as dt
from tilec.ir.buffer import Buffer, Region
from tilec.ir.expr import Cast, Expr, Load, UnaryOp, Var, as_int, binop, const
from tilec.ir.func import Param, PrimFunc
from tilec.ir.simplify import simplify
from tilec.ir.stmt import Alloc, Annotate, For, If, Kernel, Let, Parallel, Seq, Stmt, Store, While
from tilec.language import builder as bld
from tilec.language import math as tmath
from tilec.language.kernel import KernelFrame, PrimFuncDef
from tilec.language.loops import LoopSpec
from tilec.language.types import TensorSpec

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
           ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}
_PYOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
          ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.BitAnd: operator.and_,
          ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.LShift: operator.lshift,
          ast.RShift: operator.rshift, ast.Pow: operator.pow}
_CMPOPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_PYCMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
          ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
          ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}
# Python builtins that must see IR values as their tile-language counterparts.
_BUILTIN_OVERRIDES = {builtins.min: tmath.min, builtins.max: tmath.max, builtins.abs: tmath.abs}

_UNSET = object()
# Statements with no tile-language meaning: (what the user wrote, what to do instead).
_UNSUPPORTED = {
    "Try": ("try/except", "; kernels cannot catch exceptions"),
    "TryStar": ("try/except*", "; kernels cannot catch exceptions"),
    "Break": ("break", "; use a while loop whose condition is a T.alloc_var set in the body"),
    "Continue": ("continue", "; put the rest of the loop body under an `if`"),
    "FunctionDef": ("a nested def", "; define helper functions outside the @T.prim_func and call them"),
    "AsyncFunctionDef": ("a nested async def", ""),
    "ClassDef": ("a class definition", "; define it outside the @T.prim_func"),
    "Import": ("import", "; import modules outside the @T.prim_func"),
    "ImportFrom": ("import", "; import modules outside the @T.prim_func"),
    "Global": ("global", ""),
    "Nonlocal": ("nonlocal", ""),
    "Delete": ("del", ""),
    "AsyncFor": ("async for", ""),
    "AsyncWith": ("async with", ""),
    "Match": ("match", "; use if/elif"),
}
_MAX_COMPILE_TIME_ITERATIONS = 100_000


def _is_ir(x: object) -> bool:
    return isinstance(x, Expr)


class _Scope:
    """Names bound in the prim_func body.

    `depth[name]` is the number of runtime bodies (IR if/loop bodies) around the binding; `gone[name]` explains
    why a name that went out of scope at the end of a body cannot be used any more.
    """

    def __init__(self) -> None:
        self.vars: dict[str, Any] = {}
        self.depth: dict[str, int] = {}
        self.gone: dict[str, str] = {}


class Parser(ast.NodeVisitor):
    def __init__(self, pf: PrimFuncDef):
        fn = pf.fn
        self.pf = pf
        self.file = inspect.getsourcefile(fn) or "<unknown>"
        lines, first = inspect.getsourcelines(fn)
        # Remove the def's own indentation (kernels are usually nested in a generator). Only lines that carry it
        # are shifted: textwrap.dedent would leave all lines alone if a multi-line string starts at column 0.
        pad = lines[0][:len(lines[0]) - len(lines[0].lstrip())]
        self.indent = len(pad)
        self.line0 = first - 1
        self.tree = ast.parse("".join(ln[len(pad):] if ln.startswith(pad) else ln for ln in lines))
        self.globals = fn.__globals__
        self.closure = dict(pf.outer_locals)
        if fn.__closure__:
            for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
                try:
                    self.closure[name] = cell.cell_contents
                except ValueError:
                    pass
        self.scope = _Scope()
        self.bodies: list[str] = []  # the runtime bodies (IR if/loop) being parsed, innermost last

    # ---- locations and errors ----------------------------------------------------------------
    def loc_of(self, node: ast.AST) -> SourceLoc:
        line = getattr(node, "lineno", 0)
        col = getattr(node, "col_offset", 0)
        return SourceLoc(self.file, line + self.line0, col + 1 + self.indent)

    def error(self, node: ast.AST, msg: str) -> TilecError:
        return TilecError(msg, self.loc_of(node))

    def visit(self, node: ast.AST) -> Any:
        prev = bld.loc()
        if isinstance(node, (ast.stmt, ast.Call)):
            bld.current().loc = self.loc_of(node)
        try:
            return super().visit(node)
        except TilecError as e:
            if e.loc.line <= 0:
                raise TilecError(e.msg, self.loc_of(node)) from None
            raise
        except (RecursionError, KeyboardInterrupt):
            raise
        except Exception as e:  # noqa: BLE001 (a foreign exception from user Python code: locate it at the user's line)
            raise TilecError(f"{type(e).__name__}: {e}", self.loc_of(node)) from None
        finally:
            if isinstance(node, ast.Call):
                bld.current().loc = prev

    def generic_visit(self, node: ast.AST) -> Any:
        raise self.error(node, f"{type(node).__name__} is not supported in a tile program")

    # ---- entry -------------------------------------------------------------------------------
    def parse(self) -> PrimFunc:
        fdef = self.tree.body[0]
        if not isinstance(fdef, ast.FunctionDef):
            raise TilecError(f"@T.prim_func must decorate a function, got {type(fdef).__name__}")
        with bld.building() as b:
            b.loc = self.loc_of(fdef)
            params, sym_dims = self._params(fdef)
            with b.frame() as stmts:
                self._body(fdef.body)
            body = bld.block(stmts)
        _check_outside_kernels(body)
        return PrimFunc(self.pf.name, tuple(params), tuple(sym_dims), body, self.loc_of(fdef))

    def _params(self, fdef: ast.FunctionDef) -> tuple[list[Param], list[Var]]:
        params, sym_dims = [], []
        a = fdef.args
        if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs:
            raise self.error(fdef, "tile programs take plain positional parameters only")
        fn_ann = getattr(self.pf.fn, "__annotations__", {})
        for arg in a.args:
            bld.current().loc = self.loc_of(arg)
            if arg.annotation is None:
                raise self.error(arg, f"parameter '{arg.arg}' needs an annotation such as T.Tensor((M, K), "
                                      "'float16') or T.int32")
            ann = fn_ann.get(arg.arg)
            if ann is None or isinstance(ann, str):
                ann = self.eval_python(arg.annotation)
            if isinstance(ann, TensorSpec):
                for d in ann.shape:
                    if isinstance(d, Var) and d not in sym_dims:
                        sym_dims.append(d)
                buf = Buffer(bld.current().unique(arg.arg), ann.shape, ann.dtype, "global", self.loc_of(arg))
                params.append(Param(arg.arg, buffer=buf))
                self.scope.vars[arg.arg] = buf
            elif isinstance(ann, (dt.DType, str)):
                d = dt.as_dtype(ann)
                v = Var(bld.current().unique(arg.arg), d)
                params.append(Param(arg.arg, var=v))
                self.scope.vars[arg.arg] = v
            else:
                raise self.error(arg, f"parameter '{arg.arg}': annotation must be T.Tensor(shape, dtype) or a "
                                      f"scalar dtype, got {ann!r}")
        names = {d.name for d in sym_dims}
        for p in params:
            if p.name in names:
                raise self.error(fdef, f"parameter '{p.name}' has the same name as a symbolic dim")
        return params, sym_dims

    def eval_python(self, node: ast.expr) -> Any:
        """Evaluate an annotation or other compile-time expression with Python itself."""
        code = compile(ast.Expression(node), self.file, "eval")
        return eval(code, self.globals, {**self.closure, **self.scope.vars})  # the user's own code, run at compile time

    # ---- statements ----------------------------------------------------------------------------
    def _body(self, stmts: list[ast.stmt]) -> None:
        for s in stmts:
            self.visit(s)

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant):
            return  # docstrings, `...`
        v = self.visit(node.value)
        if isinstance(v, (KernelFrame, LoopSpec)):
            raise self.error(node, "this T.* construct must be used in a `with` or `for` statement")

    def visit_Pass(self, node: ast.Pass) -> None:
        return None

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None:
            raise self.error(node, "tile programs do not return values; write results into an output tensor")

    def visit_Assert(self, node: ast.Assert) -> None:
        v = self.visit(node.test)
        if _is_ir(v):
            raise self.error(node, "assert needs a compile-time condition")
        if not v:
            msg = self.visit(node.msg) if node.msg is not None else "assertion failed"
            raise self.error(node, str(msg))

    def visit_Assign(self, node: ast.Assign) -> None:
        if len(node.targets) != 1:
            raise self.error(node, "chained assignment (a = b = c) is not supported")
        b = bld.current()
        b.name_hint = node.targets[0].id if isinstance(node.targets[0], ast.Name) else None
        try:
            value = self.visit(node.value)
        finally:
            b.name_hint = None
        self._assign(node.targets[0], value, node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is None:
            raise self.error(node, "a declaration needs a value")
        value = self.visit(node.value)
        ann = self.eval_python(node.annotation)
        if _is_ir(value) and isinstance(ann, dt.DType) and value.dtype != ann:
            value = Cast(value, ann)
        self._assign(node.target, value, node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        op = type(node.op)
        if isinstance(node.target, ast.Name):
            cur = self.visit(ast.Name(node.target.id, ast.Load(), lineno=node.lineno, col_offset=node.col_offset))
            self._assign(node.target, self._binop(op, cur, self.visit(node.value), node), node)
            return
        if isinstance(node.target, ast.Subscript):
            cur = self.visit(ast.Subscript(node.target.value, node.target.slice, ast.Load(),
                                           lineno=node.lineno, col_offset=node.col_offset))
            self._assign(node.target, self._binop(op, cur, self.visit(node.value), node), node)
            return
        raise self.error(node, "augmented assignment needs a name or a subscript target")

    def _assign(self, target: ast.expr, value: Any, node: ast.AST) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            if _is_ir(value) or not hasattr(value, "__iter__"):
                raise self.error(node, "cannot unpack a single value into several names")
            vals = list(value)
            if len(vals) != len(target.elts):
                raise self.error(node, f"expected {len(target.elts)} values to unpack, got {len(vals)}")
            for t, v in zip(target.elts, vals):
                self._assign(t, v, node)
            return
        if isinstance(target, ast.Subscript):
            self._store(target, value, node)
            return
        if not isinstance(target, ast.Name):
            raise self.error(node, f"cannot assign to {type(target).__name__}")
        name = target.id
        cur = self.scope.vars.get(name, _UNSET)
        if isinstance(cur, Buffer) and cur.scope == "var" and not isinstance(value, Buffer):
            bld.current().emit(Store(cur, (const(0),), self._coerce(value, cur.dtype, node), self.loc_of(node)))
            return
        self._check_rebind(name, node)
        if _is_ir(value) and not isinstance(value, Var) and bld.current().in_kernel:
            # Inside a kernel the value is computed once, here (a Let): a later store to a buffer it reads must
            # not change it. Outside kernels, values are pure expressions of symbolic dims and scalar parameters;
            # they are substituted where used, so that launch grids are expressions the host can evaluate.
            v = Var(bld.current().unique(name), value.dtype)
            bld.current().emit(Let(v, value, self.loc_of(node)))
            value = v
        self.scope.vars[name] = value
        self.scope.depth[name] = len(self.bodies)

    def _check_rebind(self, name: str, node: ast.AST) -> None:
        """Refuse to rebind, inside a runtime if/loop body, a name bound before that body.

        Python parses such a body once, at compile time, however often the GPU runs it (maybe never), so the
        new binding would silently hold after the body on every path. A T.alloc_var is the runtime variable.
        """
        if not self.bodies:
            return
        if name in self.scope.vars:
            outer = self.scope.depth.get(name, 0) < len(self.bodies)
        else:
            outer = name in self.closure or name in self.globals
        if outer:
            raise self.error(node, f"'{name}' is assigned inside {self.bodies[-1]} but was defined before it; "
                                   f"declare it with `{name} = T.alloc_var(dtype)` before, to make it a runtime "
                                   "variable that the body can update")

    @contextmanager
    def _body_scope(self, what: str, runtime: bool = True) -> Iterator[None]:
        """Names bound inside the body `what` do not outlive it.

        A runtime body (an IR if/loop) is parsed once whatever the GPU does: nothing it binds has one value
        after it. A T.Kernel body (runtime=False) runs straight through: its buffers, block indices and Lets
        exist only inside that launch, but the compile-time Python values it binds stay valid after it.
        """
        saved_vars, saved_depth = dict(self.scope.vars), dict(self.scope.depth)
        if runtime:
            self.bodies.append(what)
        try:
            yield
        finally:
            if runtime:
                self.bodies.pop()
        kept = {}
        for name, v in self.scope.vars.items():
            if saved_vars.get(name, _UNSET) is v:
                continue
            if not runtime and not (_is_ir(v) or isinstance(v, (Buffer, Region))):
                kept[name] = v
                continue
            self.scope.gone[name] = (f"'{name}' was bound inside {what} and does not exist after it" if runtime else
                                     f"'{name}' belongs to {what} and does not exist outside it (each T.Kernel "
                                     "block is a separate launch)")
        self.scope.vars = {**saved_vars, **kept}
        self.scope.depth = {**saved_depth, **{n: self.scope.depth.get(n, 0) for n in kept}}

    def _bind_loop_var(self, name: str, v: Var) -> None:
        self.scope.vars[name] = v
        self.scope.depth[name] = len(self.bodies)

    def _coerce(self, value: Any, dtype: dt.DType, node: ast.AST) -> Expr:
        if isinstance(value, (Buffer, Region)) or not (_is_ir(value) or isinstance(value, (int, float, bool))):
            raise self.error(node, f"cannot store {type(value).__name__} into a {dtype} element")
        e = const(value, dtype)
        return e if e.dtype == dtype else Cast(e, dtype)

    def _store(self, target: ast.Subscript, value: Any, node: ast.AST) -> None:
        buf = self.visit(target.value)
        if not isinstance(buf, Buffer):
            raise self.error(node, f"cannot assign into {type(buf).__name__}; only buffer elements can be stored")
        idx = self._indices(target, buf)
        if any(isinstance(i, slice) for i in idx):
            raise self.error(node, f"slice assignment to {buf.name} is not supported; use T.fill, T.copy or a "
                                   "T.Parallel loop")
        bld.current().emit(Store(buf, tuple(const(i) for i in idx), self._coerce(value, buf.dtype, node),
                                 self.loc_of(node)))

    def visit_If(self, node: ast.If) -> None:
        cond = self.visit(node.test)
        if not _is_ir(cond):
            self._body(node.body if cond else node.orelse)
            return
        b = bld.current()
        line = self.loc_of(node).line
        with b.frame() as then, self._body_scope(f"the runtime `if` at line {line}"):
            self._body(node.body)
        other = None
        if node.orelse:
            with b.frame() as other_stmts, self._body_scope(f"the `else` of the runtime `if` at line {line}"):
                self._body(node.orelse)
            other = bld.block(other_stmts)
        b.emit(If(self._as_bool(cond), bld.block(then), other, self.loc_of(node)))

    def _as_bool(self, c: Expr) -> Expr:
        return c if c.dtype == dt.boolean else binop("!=", c, 0)

    def visit_While(self, node: ast.While) -> None:
        if node.orelse:
            raise self.error(node, "while/else is not supported")
        cond = self.visit(node.test)
        if not _is_ir(cond):
            self._compile_time_while(node, cond)
            return
        b = bld.current()
        with b.frame() as body, self._body_scope(f"the while loop at line {self.loc_of(node).line}"):
            self._body(node.body)
        b.emit(While(self._as_bool(cond), bld.block(body), self.loc_of(node)))

    def _compile_time_while(self, node: ast.While, cond: Any) -> None:
        """A while on Python values runs now, at compile time, like a Python for loop over a list."""
        for _ in range(_MAX_COMPILE_TIME_ITERATIONS):
            if not cond:
                return
            self._body(node.body)
            cond = self.visit(node.test)
            if _is_ir(cond):
                raise self.error(node.test, "this while condition was a compile-time value when the loop started "
                                            "but became a runtime value; make it a runtime value from the start "
                                            "(a T.alloc_var) for a runtime loop")
        raise self.error(node, f"this compile-time while loop did not end after {_MAX_COMPILE_TIME_ITERATIONS} "
                               "iterations")

    def visit_With(self, node: ast.With) -> None:
        if len(node.items) != 1:
            raise self.error(node, "use one context manager per `with`")
        item = node.items[0]
        frame = self.visit(item.context_expr)
        if not isinstance(frame, KernelFrame):
            raise self.error(node, f"`with` supports T.Kernel(...) only, got {type(frame).__name__}")
        b = bld.current()
        if b.in_kernel:
            raise self.error(node, "T.Kernel blocks cannot be nested")
        names = self._target_names(item.optional_vars, node) if item.optional_vars is not None else []
        if len(names) > 3:
            raise self.error(node, f"T.Kernel binds at most 3 block indices, got {len(names)} names")
        block_vars = tuple(Var(b.unique(names[i] if i < len(names) else f"b{'xyz'[i]}"), dt.int32, nonneg=True)
                           for i in range(3))
        b.in_kernel = True
        b.kernel_threads = frame.threads
        with b.frame() as body, self._body_scope(f"the T.Kernel block at line {self.loc_of(node).line}", False):
            for n, v in zip(names, block_vars):
                self._bind_loop_var(n, v)
            self._body(node.body)
        b.in_kernel = False
        b.emit(Kernel(frame.grid, frame.threads, block_vars, bld.block(body), self.loc_of(node), cluster=frame.cluster))

    def _target_names(self, t: ast.expr, node: ast.AST) -> list[str]:
        if isinstance(t, ast.Name):
            return [t.id]
        if isinstance(t, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Name) for e in t.elts):
            return [e.id for e in t.elts]  # type: ignore[attr-defined]
        raise self.error(node, "loop and block variables must be plain names")

    def visit_For(self, node: ast.For) -> None:
        if node.orelse:
            raise self.error(node, "for/else is not supported")
        it = self._loop_iter(node)
        b = bld.current()
        if not isinstance(it, LoopSpec):
            for v in it:  # a Python iterable of compile-time values: unrolled by the front end
                self._assign(node.target, v, node)
                self._body(node.body)
            return
        names = self._target_names(node.target, node)
        if it.kind == "parallel":
            if len(names) != len(it.extents):
                raise self.error(node, f"T.Parallel has {len(it.extents)} extents but the loop binds {len(names)} "
                                       "names")
            vars_ = tuple(Var(b.unique(n), dt.int32, nonneg=True) for n in names)
            with b.frame() as body, self._body_scope(f"the T.Parallel loop at line {self.loc_of(node).line}"):
                for n, v in zip(names, vars_):
                    self._bind_loop_var(n, v)
                self._body(node.body)
            b.emit(Parallel(vars_, it.extents, bld.block(body), self.loc_of(node), skip_unit=it.skip_unit))
            return
        if len(names) != 1:
            raise self.error(node, "this loop binds exactly one name")
        start = as_int(it.start) if not isinstance(it.start, Expr) else as_int(it.start)
        v = Var(b.unique(names[0]), dt.int32, nonneg=start is not None and start >= 0 or
                getattr(it.start, "nonneg", False))
        with b.frame() as body, self._body_scope(f"the loop at line {self.loc_of(node).line}"):
            self._bind_loop_var(names[0], v)
            self._body(node.body)
        b.emit(For(v, simplify(const(it.start)), simplify(const(it.extents[0])), bld.block(body), it.kind,
                   it.num_stages, it.order, it.stage, it.group, self.loc_of(node)))

    def _loop_iter(self, node: ast.For) -> Any:
        call = node.iter
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "range" \
                and self._lookup("range", call.func) is builtins.range:
            args = [self.visit(a) for a in call.args]
            if len(args) == 3:
                step = args[2]
                if as_int(step) != 1:
                    raise self.error(node, "range() with a step is not supported in a tile program; use T.serial "
                                           "and compute the index")
                args = args[:2]
            if not 1 <= len(args) <= 2:
                raise self.error(node, "range() takes 1 to 3 arguments")
            start, stop = (0, args[0]) if len(args) == 1 else args
            return LoopSpec("serial", (simplify(binop("-", stop, start) if _is_ir(stop) or _is_ir(start)
                                                else const(stop - start)),), start)
        it = self.visit(call)
        if isinstance(it, LoopSpec):
            return it
        if _is_ir(it) or not hasattr(it, "__iter__"):
            raise self.error(node, "a for loop needs T.Parallel/T.Pipelined/T.serial/T.unroll/range or a Python "
                                   "iterable of compile-time values")
        return it

    def _unsupported(self, node: ast.AST) -> None:
        what, hint = _UNSUPPORTED.get(type(node).__name__, (type(node).__name__, ""))
        raise self.error(node, f"{what} is not supported in a tile program{hint}")

    visit_Break = visit_Continue = visit_FunctionDef = visit_ClassDef = visit_Try = _unsupported  # type: ignore
    visit_Import = visit_ImportFrom = visit_Global = visit_Nonlocal = visit_Delete = _unsupported  # type: ignore
    visit_TryStar = visit_AsyncFunctionDef = visit_AsyncFor = visit_AsyncWith = visit_Match = _unsupported  # type: ignore

    def visit_Raise(self, node: ast.Raise) -> None:
        """A raise under compile-time control flow reports a kernel-generator error at the user's line."""
        if self.bodies:
            raise self.error(node, f"raise inside {self.bodies[-1]} would need a runtime check; only compile-time "
                                   "conditions can raise (use assert on Python values)")
        exc = self.visit(node.exc) if node.exc is not None else None
        if isinstance(exc, type):
            exc = exc()
        raise self.error(node, f"{type(exc).__name__}: {exc}" if isinstance(exc, BaseException) else "raise")

    # ---- expressions ---------------------------------------------------------------------------
    def _lookup(self, name: str, node: ast.AST) -> Any:
        for table in (self.scope.vars, self.closure, self.globals, vars(builtins)):
            if name in table:
                return table[name]
        if name in self.scope.gone:
            raise self.error(node, self.scope.gone[name])
        raise self.error(node, f"unknown name '{name}': it is not a parameter, a name assigned earlier in the "
                               "kernel, or a variable of the enclosing Python function or module")

    def visit_Name(self, node: ast.Name) -> Any:
        v = self._lookup(node.id, node)
        if isinstance(v, Buffer) and v.scope == "var":
            return Load(v, (const(0),), v.dtype, self.loc_of(node))
        return v

    def visit_Constant(self, node: ast.Constant) -> Any:
        return node.value

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        base = self.visit(node.value)
        if isinstance(base, Buffer) and node.attr in ("shape", "dtype"):
            return getattr(base, node.attr)
        try:
            return getattr(base, node.attr)
        except AttributeError:
            name = getattr(base, "__name__", type(base).__name__)
            raise self.error(node, f"'{name}' has no attribute '{node.attr}'") from None

    def visit_Tuple(self, node: ast.Tuple) -> Any:
        return tuple(self.visit(e) for e in node.elts)

    def visit_List(self, node: ast.List) -> Any:
        return [self.visit(e) for e in node.elts]

    def visit_Dict(self, node: ast.Dict) -> Any:
        return {self.visit(k): self.visit(v) for k, v in zip(node.keys, node.values)}  # type: ignore[arg-type]

    def visit_JoinedStr(self, node: ast.JoinedStr) -> Any:
        return self.eval_python(node)

    def _binop(self, op: type, a: Any, b: Any, node: ast.AST) -> Any:
        if _is_ir(a) or _is_ir(b):
            if op not in _BINOPS:
                raise self.error(node, f"operator {op.__name__} is not supported on runtime values")
            return binop(_BINOPS[op], a, b)
        if isinstance(a, (Buffer, Region)) or isinstance(b, (Buffer, Region)):
            raise self.error(node, "arithmetic on whole buffers is not supported; index elements inside T.Parallel")
        return _PYOPS[op](a, b)

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        return self._binop(type(node.op), self.visit(node.left), self.visit(node.right), node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        v = self.visit(node.operand)
        if not _is_ir(v):
            return {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_,
                    ast.Invert: operator.invert}[type(node.op)](v)
        if isinstance(node.op, ast.USub):
            return UnaryOp("neg", v, v.dtype)
        if isinstance(node.op, ast.UAdd):
            return v
        if isinstance(node.op, ast.Not):
            return UnaryOp("not", self._as_bool(v), dt.boolean)
        return UnaryOp("invert", v, v.dtype)

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        op = "and" if isinstance(node.op, ast.And) else "or"
        acc = self.visit(node.values[0])
        for nxt in node.values[1:]:
            if not _is_ir(acc):  # Python short-circuit on compile-time values
                if (op == "and" and not acc) or (op == "or" and acc):
                    return acc
                acc = self.visit(nxt)
                continue
            v = self.visit(nxt)
            if not _is_ir(v):
                if (op == "and" and not v) or (op == "or" and v):
                    return v
                continue
            acc = binop(op, self._as_bool(acc), self._as_bool(v))
        return acc

    def visit_Compare(self, node: ast.Compare) -> Any:
        """`a < b < c` is `a < b and b < c`: IR parts are and-ed, a false Python part makes the whole false."""
        left = self.visit(node.left)
        ir_part: Expr | None = None
        py_part: Any = True
        for op, rnode in zip(node.ops, node.comparators):
            right = self.visit(rnode)
            # `is` compares Python objects (an IR value is never None); the other operators build IR.
            if (_is_ir(left) or _is_ir(right)) and type(op) not in (ast.Is, ast.IsNot):
                if type(op) not in _CMPOPS:
                    raise self.error(node, f"`{type(op).__name__}` cannot compare runtime values; use ==/!= "
                                           "(joined with `or`)")
                part = binop(_CMPOPS[type(op)], left, right)
                ir_part = part if ir_part is None else binop("and", ir_part, part)
            else:
                py_part = _PYCMP[type(op)](left, right)
                if not py_part:
                    return py_part
            left = right
        return py_part if ir_part is None else ir_part

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        c = self.visit(node.test)
        if not _is_ir(c):
            return self.visit(node.body) if c else self.visit(node.orelse)
        return tmath.if_then_else(self._as_bool(c), self.visit(node.body), self.visit(node.orelse))

    def visit_Call(self, node: ast.Call) -> Any:
        fn = self.visit(node.func)
        args: list[Any] = []
        for a in node.args:
            if isinstance(a, ast.Starred):
                args.extend(self.visit(a.value))
            else:
                args.append(self.visit(a))
        kwargs = {}
        for k in node.keywords:
            if k.arg is None:
                kwargs.update(self.visit(k.value))
            else:
                kwargs[k.arg] = self.visit(k.value)
        if fn in _BUILTIN_OVERRIDES and any(_is_ir(a) for a in args):
            fn = _BUILTIN_OVERRIDES[fn]
            if fn is not tmath.abs and len(args) > 2:
                out = args[0]
                for a in args[1:]:
                    out = fn(out, a)
                return out
        if fn in (builtins.float, builtins.int, builtins.bool) and args and _is_ir(args[0]):
            return Cast(args[0], {builtins.float: dt.float32, builtins.int: dt.int32, builtins.bool: dt.boolean}[fn])
        if not callable(fn):
            raise self.error(node, f"'{type(fn).__name__}' object is not callable")
        return fn(*args, **kwargs)

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        base = self.visit(node.value)
        if isinstance(base, Buffer):
            idx = self._indices(node, base)
            if any(isinstance(i, slice) for i in idx):
                return self._region(base, idx, node)
            return Load(base, tuple(simplify(const(i)) for i in idx), base.dtype, self.loc_of(node))
        key = self.visit(node.slice)
        if _is_ir(key):
            raise self.error(node, "runtime indices only work on buffers")
        return base[key]

    def visit_Slice(self, node: ast.Slice) -> Any:
        return slice(None if node.lower is None else self.visit(node.lower),
                     None if node.upper is None else self.visit(node.upper),
                     None if node.step is None else self.visit(node.step))

    def _indices(self, node: ast.Subscript, buf: Buffer) -> list:
        sl = node.slice
        elts = sl.elts if isinstance(sl, ast.Tuple) else [sl]
        idx = [self.visit(e) for e in elts]
        if len(idx) != buf.ndim:
            raise self.error(node, f"{buf.name} has {buf.ndim} dimensions but is indexed with {len(idx)}")
        for i in idx:
            if not (isinstance(i, slice) or _is_ir(i) or isinstance(i, int)):
                raise self.error(node, f"index {i!r} of {buf.name} must be an integer or a slice")
            if _is_ir(i) and not i.dtype.is_int:
                raise self.error(node, f"index of {buf.name} has dtype {i.dtype}; indices must be integers")
        return idx

    def _region(self, buf: Buffer, idx: list, node: ast.AST) -> Region:
        starts, extents = [], []
        for d, i in enumerate(idx):
            if not isinstance(i, slice):
                starts.append(simplify(const(i)))
                extents.append(1)
                continue
            if i.step is not None and as_int(i.step) != 1:
                raise self.error(node, "strided slices are not supported")
            lo = 0 if i.start is None else i.start
            hi = buf.shape[d] if i.stop is None else i.stop
            ext = simplify(binop("-", hi, lo)) if (_is_ir(hi) or _is_ir(lo)) else const(hi - lo)
            n = as_int(ext)
            if n is None and not (i.start is None and i.stop is None):
                raise self.error(node, f"the slice {buf.name}[...] along dimension {d} has a runtime length; "
                                       "tile extents must be compile-time ints")
            if n is not None and n <= 0:
                raise self.error(node, f"the slice of {buf.name} along dimension {d} is empty")
            starts.append(simplify(const(lo)))
            extents.append(n if n is not None else buf.shape[d])
        return Region(buf, tuple(starts), tuple(extents))

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        return self.eval_python(node)

    def visit_ListComp(self, node: ast.ListComp) -> Any:
        return self.eval_python(node)


def _check_outside_kernels(s: Stmt) -> None:
    """Outside `with T.Kernel` no GPU thread exists: only kernel launches may be emitted there."""
    if isinstance(s, Seq):
        for x in s.stmts:
            _check_outside_kernels(x)
        return
    if isinstance(s, Kernel):
        return
    if isinstance(s, (For, If, While)):
        raise TilecError(f"a runtime `{type(s).__name__.lower()}` around T.Kernel blocks is not supported (the host "
                         "launches kernels in sequence); loop over a Python list or branch on Python values to "
                         "choose the launches at compile time", s.loc)
    what = {Parallel: "a T.Parallel loop", Store: "a store to a buffer element", Alloc: "an allocation",
            Annotate: "a schedule annotation"}.get(type(s), f"T.{type(s).__name__.lower()}")
    raise TilecError(f"{what} must be inside a `with T.Kernel(...)` block", s.loc)


def parse(pf: PrimFuncDef) -> PrimFunc:
    """Parse a prim_func into a PrimFunc.

    Pre: `pf` wraps a function whose source is available (defined in a file).
    Post: a PrimFunc whose body uses only IR nodes; compile-time Python values are folded.
    Raises TilecError located at the user's line for every problem found.
    """
    if not isinstance(pf, PrimFuncDef):
        raise TilecError(f"expected a @T.prim_func, got {type(pf).__name__}")
    try:
        p = Parser(pf)
    except (OSError, TypeError) as e:
        raise TilecError(f"cannot read the source of {pf.name}: {e}") from None
    return p.parse()


