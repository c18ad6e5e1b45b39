"""The interpreter proper: control flow, expressions, stores, and dispatch to each tile op's rule."""
from __future__ import annotations

import numpy as np

from tilec.errors import NO_LOC, SourceLoc, TilecError
from tilec.ir import dtypes as dt
from tilec.ir.buffer import Buffer, Region
from tilec.ir.expr import (BinOp, Call, Cast, Const, Expr, Load, Reinterpret, Select, ThreadIdx, UnaryOp, Var)
from tilec.ir.func import PrimFunc
from tilec.ir.stmt import Alloc, Annotate, For, If, Kernel, Let, Parallel, Seq, Stmt, Store, TileOp, While

_CALLS = {"exp": np.exp, "exp2": np.exp2, "log": np.log, "log2": np.log2, "sqrt": np.sqrt,
          "rsqrt": lambda x: 1.0 / np.sqrt(x), "abs": np.abs, "tanh": np.tanh, "sin": np.sin, "cos": np.cos,
          "floor": np.floor, "ceil": np.ceil, "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x))}


def round_to(d: dt.DType, x: object) -> np.ndarray:
    """Round values to what dtype `d` can hold, returned in the interpreter's storage dtype for `d`."""
    a = np.asarray(x)
    if d == dt.bfloat16:  # round-to-nearest-even to the top 16 bits of float32
        f = np.ascontiguousarray(a, dtype=np.float32)
        u = f.view(np.uint32).astype(np.uint64)
        u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
        out = u.astype(np.uint32).view(np.float32)
        return np.where(np.isnan(f), f, out)
    if d.is_int:
        info = np.iinfo(dt.numpy_dtype(d))
        return np.asarray(np.trunc(a) if a.dtype.kind == "f" else a).astype(np.int64).clip(info.min, info.max) \
            .astype(dt.numpy_dtype(d))
    with np.errstate(over="ignore", invalid="ignore"):
        return a.astype(dt.numpy_dtype(d))


def _cdiv(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    q = np.abs(a) // np.maximum(np.abs(b), 1)
    return np.where((a >= 0) == (b > 0), q, -q)


class Interpreter:
    """State of one run: buffers' arrays, variable values, the active T.Parallel mask."""

    def __init__(self) -> None:
        self.arrays: dict[Buffer, np.ndarray] = {}
        self.env: dict[Var, object] = {}
        self.mask: object = True
        self.loc: SourceLoc = NO_LOC

    # ---- buffers -------------------------------------------------------------------------------
    def array(self, buf: Buffer) -> np.ndarray:
        if buf not in self.arrays:
            raise TilecError(f"{buf.name} is used before it is allocated (internal error, please report)", self.loc)
        return self.arrays[buf]

    def store_array(self, buf: Buffer, value: object) -> None:
        a = self.array(buf)
        a[...] = round_to(buf.dtype, np.broadcast_to(value, a.shape))

    def _slices(self, r: Region) -> tuple[tuple, tuple, tuple]:
        """(buffer slices, tile slices, tile shape incl. unit dims) for the in-bounds part of a region."""
        bufs, tiles, shape = [], [], []
        for s, n, d in zip(r.starts, r.extents, self.array(r.buffer).shape):
            s = int(self.eval(s))
            n = int(self.eval(n))
            lo, hi = max(s, 0), min(s + n, d)
            bufs.append(slice(lo, max(hi, lo)))
            tiles.append(slice(lo - s, max(hi, lo) - s))
            shape.append(n)
        return tuple(bufs), tuple(tiles), tuple(shape)

    def read_region(self, r: Region) -> np.ndarray:
        """The region as a float/int array of its squeezed tile shape; out-of-range elements read as 0."""
        bufs, tiles, shape = self._slices(r)
        src = self.array(r.buffer)
        out = np.zeros(shape, np.float64 if src.dtype.kind == "f" else np.int64)
        out[tiles] = src[bufs]
        return out.reshape(tuple(n for n in shape if n != 1) or (1,)) if len(shape) > 0 else out

    def write_region(self, r: Region, tile: np.ndarray) -> None:
        """Write a tile (squeezed shape) into the region, dropping out-of-range elements."""
        bufs, tiles, shape = self._slices(r)
        full = np.asarray(tile).reshape(shape)
        dst = self.array(r.buffer)
        dst[bufs] = round_to(r.buffer.dtype, full[tiles])

    # ---- expressions -----------------------------------------------------------------------------
    def eval(self, e: object) -> object:
        if not isinstance(e, Expr):
            return e
        if isinstance(e, Const):
            return e.value
        if isinstance(e, Var):
            if e not in self.env:
                raise TilecError(f"the interpreter has no value for '{e.name}' (internal error, please report)",
                                 self.loc)
            return self.env[e]
        if isinstance(e, BinOp):
            return self._binop(e)
        if isinstance(e, UnaryOp):
            a = self.eval(e.a)
            if e.op == "neg":
                return -np.asarray(a)
            if e.op == "not":
                return np.logical_not(a)
            return np.invert(np.asarray(a))
        if isinstance(e, Call):
            args = [np.asarray(self.eval(a), np.float64 if e.dtype == dt.float64 else np.float32) for a in e.args]
            with np.errstate(all="ignore"):
                return round_to(e.dtype, _CALLS[e.fn](*args)) if e.dtype.bits < 32 else _CALLS[e.fn](*args)
        if isinstance(e, Cast):
            return round_to(e.dtype, self.eval(e.value))
        if isinstance(e, Reinterpret):
            v = round_to(e.value.dtype, self.eval(e.value))
            return np.asarray(v).view(dt.numpy_dtype(e.dtype))
        if isinstance(e, Select):
            return np.where(self.eval(e.cond), self.eval(e.a), self.eval(e.b))
        if isinstance(e, Load):
            return self._load(e)
        if isinstance(e, ThreadIdx):
            raise TilecError("T.get_thread_binding() has no meaning in the tile-level interpreter", self.loc)
        raise TilecError(f"the interpreter cannot evaluate {type(e).__name__} (internal error, please report)")

    def _binop(self, e: BinOp) -> object:
        a, b = self.eval(e.a), self.eval(e.b)
        op = e.op
        if op == "and":
            return np.logical_and(a, b)
        if op == "or":
            return np.logical_or(a, b)
        if e.dtype.is_float or (op in ("==", "!=", "<", "<=", ">", ">=") and
                                (e.a.dtype.is_float or e.b.dtype.is_float)):
            a = np.asarray(a, np.float64 if e.dtype == dt.float64 else np.float32)
            b = np.asarray(b, a.dtype)
        else:
            a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
        with np.errstate(all="ignore"):
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            if op == "/":
                return a / b
            if op == "//":
                return np.floor(a / b) if e.dtype.is_float else _cdiv(a, b)
            if op == "%":
                return np.fmod(a, b) if e.dtype.is_float else a - _cdiv(a, b) * b
            if op == "min":
                return np.minimum(a, b)
            if op == "max":
                return np.maximum(a, b)
            table = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater,
                     ">=": np.greater_equal, "&": np.bitwise_and, "|": np.bitwise_or, "^": np.bitwise_xor,
                     "<<": np.left_shift, ">>": np.right_shift}
            return table[op](a, b)

    def _index(self, buf: Buffer, indices: tuple, loc: SourceLoc) -> tuple:
        arr = self.array(buf)
        idx = [np.asarray(self.eval(i), np.int64) for i in indices]
        shape = np.broadcast_shapes(*(i.shape for i in idx), np.shape(self.mask))
        live = np.broadcast_to(self.mask, shape)
        for d, (i, n) in enumerate(zip(idx, arr.shape)):
            bad = np.broadcast_to((i < 0) | (i >= n), shape) & live
            if bad.any():
                at = int(np.broadcast_to(i, shape)[bad].flat[0])
                raise TilecError(f"index {at} is out of bounds for dimension {d} of {buf.name} (size {n})", loc)
        return tuple(np.clip(np.broadcast_to(i, shape), 0, n - 1) for i, n in zip(idx, arr.shape))

    def _load(self, e: Load) -> object:
        idx = self._index(e.buffer, e.indices, e.loc if e.loc.line else self.loc)
        return self.array(e.buffer)[idx]

    # ---- statements --------------------------------------------------------------------------------
    def run(self, s: Stmt | None) -> None:
        if s is None:
            return
        self.loc = getattr(s, "loc", self.loc) or self.loc
        if isinstance(s, Seq):
            for x in s.stmts:
                self.run(x)
        elif isinstance(s, Kernel):
            self._kernel(s)
        elif isinstance(s, Alloc):
            self._alloc(s)
        elif isinstance(s, Store):
            self._store(s)
        elif isinstance(s, Let):
            self.env[s.var] = self.eval(s.value)
        elif isinstance(s, For):
            start, ext = int(self.eval(s.start)), int(self.eval(s.extent))
            for i in range(start, start + ext):
                self.env[s.var] = i
                self.run(s.body)
        elif isinstance(s, Parallel):
            self._parallel(s)
        elif isinstance(s, If):
            self._if(s)
        elif isinstance(s, While):
            guard = 0
            while bool(np.all(self.eval(s.cond))):
                self.run(s.body)
                guard += 1
                if guard > 10**7:
                    raise TilecError("while loop ran more than 10^7 iterations in the interpreter", s.loc)
        elif isinstance(s, Annotate):
            pass
        elif isinstance(s, TileOp):
            if self.mask is not True:
                raise TilecError(f"T.{type(s).__name__.lower()} cannot be used inside T.Parallel", s.loc)
            s.interpret(self)  # type: ignore[attr-defined]
        else:
            raise TilecError(f"the interpreter cannot run {type(s).__name__} (it runs tile programs before lowering)",
                             self.loc)

    def _alloc(self, s: Alloc) -> None:
        b = s.buffer
        shape = b.static_shape()
        assert shape is not None, "internal error, please report"
        d = dt.numpy_dtype(b.dtype)
        # Poison: floats start as NaN so a read of a never-written element shows up in results.
        arr = np.full(shape, np.nan, d) if d.kind == "f" else np.full(shape, -123456789 % 256 if d.itemsize == 1
                                                                       else -123456789, d)
        if s.init is not None:
            arr[...] = round_to(b.dtype, self.eval(s.init))
        self.arrays[b] = arr

    def _store(self, s: Store) -> None:
        idx = self._index(s.buffer, s.indices, s.loc)
        val = np.broadcast_to(round_to(s.buffer.dtype, self.eval(s.value)), idx[0].shape if idx else ())
        arr = self.array(s.buffer)
        if self.mask is True:
            arr[idx] = val
        else:
            m = np.broadcast_to(self.mask, val.shape)
            arr[tuple(i[m] for i in idx)] = val[m]

    def _if(self, s: If) -> None:
        c = self.eval(s.cond)
        if self.mask is True and np.ndim(c) == 0:
            self.run(s.then if bool(c) else s.else_)
            return
        outer = self.mask
        self.mask = np.logical_and(outer, c)
        self.run(s.then)
        self.mask = np.logical_and(outer, np.logical_not(c))
        self.run(s.else_)
        self.mask = outer

    def _parallel(self, s: Parallel) -> None:
        n = len(s.vars)
        for k, (v, ext) in enumerate(zip(s.vars, s.extents)):
            self.env[v] = np.arange(ext).reshape([ext if d == k else 1 for d in range(n)])
        outer = self.mask
        self.mask = np.broadcast_to(outer, tuple(s.extents)) if outer is not True else np.ones(s.extents, bool)
        self.run(s.body)
        self.mask = outer

    def _kernel(self, k: Kernel) -> None:
        gx, gy, gz = (int(self.eval(g)) for g in k.grid)
        for bz in range(gz):
            for by in range(gy):
                for bx in range(gx):
                    for v, val in zip(k.block_vars, (bx, by, bz)):
                        self.env[v] = val
                    self.run(k.body)


def interpret(fn: PrimFunc, *args: object) -> None:
    """Run a tile program on numpy arrays, writing outputs in place.

    Tensor parameters take numpy arrays of the parameter's shape (float32 arrays stand in for
    bfloat16/float8, values are rounded on store); scalar parameters take Python numbers.
    Raises TilecError for wrong arguments and for out-of-bounds element accesses.
    """
    if len(args) != len(fn.params):
        raise TilecError(f"{fn.name} takes {len(fn.params)} arguments ({', '.join(p.name for p in fn.params)}), "
                         f"got {len(args)}")
    it = Interpreter()
    syms: dict[str, int] = {}
    for p, a in zip(fn.params, args):
        if p.var is not None:
            it.env[p.var] = a
            continue
        b: Buffer = p.buffer
        if not isinstance(a, np.ndarray):
            raise TilecError(f"argument '{p.name}': expected a numpy array, got {type(a).__name__}")
        if a.ndim != b.ndim:
            raise TilecError(f"argument '{p.name}': expected {b.ndim} dimensions, got {a.ndim}")
        want = dt.numpy_dtype(b.dtype)
        if a.dtype != want:
            raise TilecError(f"argument '{p.name}': expected a {want} array for {b.dtype}, got {a.dtype}")
        for d, (want_d, got) in enumerate(zip(b.shape, a.shape)):
            if isinstance(want_d, Var):
                if syms.setdefault(want_d.name, got) != got:
                    raise TilecError(f"argument '{p.name}': dimension {d} is {got} but {want_d.name} is "
                                     f"{syms[want_d.name]} from an earlier argument")
                it.env[want_d] = got
            elif want_d != got:
                raise TilecError(f"argument '{p.name}': dimension {d} must be {want_d}, got {got}")
        it.arrays[b] = a
    it.run(fn.body)
