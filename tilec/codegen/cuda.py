"""Emit CUDA C++ for a lowered PrimFunc: one `extern "C" __global__` entry per T.Kernel, plus KernelMetadata.

Pre:  lower_tile_ops and plan_shared_memory have run (no tile ops; flat indices; attrs["smem_offsets"],
      attrs["smem_bytes"] per kernel).
Post: (source, metadata). Integers are int (32-bit); the launcher rejects tensors of 2^31 or more elements.
"""
from __future__ import annotations

import math

from tilec.errors import TilecError
from tilec.ir import dtypes as dt
from tilec.ir.buffer import Buffer
from tilec.ir.expr import (BinOp, Call, Cast, Const, Expr, Load, Reinterpret, Select, ThreadIdx, UnaryOp, Var, binop)
from tilec.ir.func import PrimFunc
from tilec.ir.simplify import simplify
from tilec.ir.stmt import (Alloc, ArrayRef, BufferPtr, DeviceCall, For, If, Kernel, Let, LoadVec, LocalDecl, Scope, Seq,
                           Stmt, Store, StoreVec, Sync, TensorMapRef, TileLoop, VecCopy, WarpSpecialize, While)
from tilec.ir.visit import walk
from tilec.metadata import KernelMetadata, LaunchSpec, ParamSpec

_MATH = {"exp": "__expf", "exp2": "exp2f", "log": "__logf", "log2": "__log2f", "sqrt": "sqrtf", "rsqrt": "rsqrtf",
         "abs": "fabsf", "tanh": "tanhf", "sin": "__sinf", "cos": "__cosf", "floor": "floorf", "ceil": "ceilf"}
_MATH64 = {"exp": "exp", "exp2": "exp2", "log": "log", "log2": "log2", "sqrt": "sqrt", "rsqrt": "rsqrt",
           "abs": "fabs", "tanh": "tanh", "sin": "sin", "cos": "cos", "floor": "floor", "ceil": "ceil"}


class CudaEmitter:
    """Prints expressions and statements of lowered IR as CUDA C++."""

    def __init__(self, kernel: Kernel | None = None) -> None:
        self.lines: list[str] = []
        self.ind = 1
        self.consumer_threads = 0  # > 0 while emitting a warp-specialized consumer (named barriers)
        self.kernel = kernel  # the T.Kernel being emitted (its block variables, for TileLoop)

    def line(self, s: str) -> None:
        self.lines.append("  " * self.ind + s)

    # ---- expressions -----------------------------------------------------------------------------------
    def expr(self, e: object) -> str:
        if not isinstance(e, Expr):
            return self.expr(Const(e, dt.int32)) if isinstance(e, int) else str(e)
        if isinstance(e, Const):
            return self.const(e)
        if isinstance(e, Var):
            return e.name
        if isinstance(e, ThreadIdx):
            return "((int)threadIdx.x)"
        if isinstance(e, BinOp):
            return self.binop(e)
        if isinstance(e, UnaryOp):
            op = {"neg": "-", "not": "!", "invert": "~"}[e.op]
            return f"({op}{self.expr(e.a)})"
        if isinstance(e, Call):
            return self.call(e)
        if isinstance(e, Cast):
            return self.typed(e.value, e.dtype)
        if isinstance(e, Reinterpret):
            return f"tilec::bit_cast<{e.dtype.ctype}>({self.expr(e.value)})"
        if isinstance(e, Select):
            return f"({self.expr(e.cond)} ? {self.typed(e.a, e.dtype)} : {self.typed(e.b, e.dtype)})"
        if isinstance(e, Load):
            return f"{e.buffer.name}[{self.expr(e.indices[0])}]"
        raise TilecError(f"codegen: cannot print {type(e).__name__} (internal error, please report)")

    def typed(self, e: Expr, d: dt.DType) -> str:
        if e.dtype == d:
            return self.expr(e)
        if e.dtype.is_int and d.is_int and e.dtype.kind != "bool" and d.kind != "bool":  # int <-> int: plain C++
            return self.const(Const(e.value, d)) if isinstance(e, Const) else f"static_cast<{d.ctype}>({self.expr(e)})"
        return f"tilec::convert<{d.ctype}>({self.expr(e)})"

    def const(self, c: Const) -> str:
        d, v = c.dtype, c.value
        if d == dt.boolean:
            return "true" if v else "false"
        if d.is_int:
            if d.bits == 64:
                return f"{int(v)}LL"
            return str(int(v)) if d.kind == "int" else f"{int(v)}u"
        f = float(v)
        if math.isinf(f):
            s = "INFINITY" if f > 0 else "-INFINITY"
        elif math.isnan(f):
            s = "NAN"
        else:
            s = repr(f) + ("" if d == dt.float64 else "f")
            if "e" not in s and "." not in s and "inf" not in s:
                s = s.replace("f", ".0f")
        return s if d in (dt.float32, dt.float64) else f"tilec::convert<{d.ctype}>({s})"

    def binop(self, e: BinOp) -> str:
        op = e.op
        if op in ("and", "or"):
            return f"({self.expr(e.a)} {'&&' if op == 'and' else '||'} {self.expr(e.b)})"
        if op in ("==", "!=", "<", "<=", ">", ">="):
            t = dt.promote(e.a.dtype, e.b.dtype)
            if t.is_float and t.bits < 32:
                t = dt.float32
            return f"({self.typed(e.a, t)} {op} {self.typed(e.b, t)})"
        t = e.dtype
        calc = dt.float32 if (t.is_float and t.bits < 32) else t  # half/bf16 math in float, converted back
        a, b = self.typed(e.a, calc), self.typed(e.b, calc)
        if op in ("min", "max"):
            fn = (("fminf" if op == "min" else "fmaxf") if calc == dt.float32 else
                  ("fmin" if op == "min" else "fmax") if calc == dt.float64 else op)
            s = f"{fn}({a}, {b})"
        elif op == "//":
            s = f"floorf({a} / {b})" if calc.is_float else f"({a} / {b})"
        elif op == "%":
            s = f"fmodf({a}, {b})" if calc.is_float else f"({a} % {b})"
        else:
            s = f"({a} {op} {b})"
        return s if calc == t else f"tilec::convert<{t.ctype}>({s})"

    def call(self, e: Call) -> str:
        if e.fn.startswith("tilec::"):  # device-header functions (shuffles, ...)
            return f"{e.fn}({', '.join(self.expr(a) for a in e.args)})"
        d = e.dtype
        if d == dt.float64:
            return f"{_MATH64[e.fn]}({', '.join(self.typed(a, d) for a in e.args)})"
        if e.fn == "sigmoid":
            x = self.typed(e.args[0], dt.float32)
            s = f"(1.0f / (1.0f + __expf(-{x})))"
        elif e.fn == "abs" and d.is_int:
            return f"abs({self.expr(e.args[0])})"
        else:
            s = f"{_MATH[e.fn]}({', '.join(self.typed(a, dt.float32) for a in e.args)})"
        return s if d == dt.float32 else f"tilec::convert<{d.ctype}>({s})"

    # ---- statements ----------------------------------------------------------------------------------
    def stmt(self, s: Stmt | None) -> None:
        if s is None:
            return
        if isinstance(s, Seq):
            for x in s.stmts:
                self.stmt(x)
        elif isinstance(s, Scope):
            self.line("{")
            self.ind += 1
            self.stmt(s.body)
            self.ind -= 1
            self.line("}")
        elif isinstance(s, LocalDecl):
            self.line(f"{s.buffer.dtype.ctype} {s.buffer.name}[{s.size}];")
        elif isinstance(s, Alloc):
            pass  # shared buffers are declared at the kernel's top from the memory plan
        elif isinstance(s, Let):
            self.line(f"const {s.var.dtype.ctype} {s.var.name} = {self.typed(s.value, s.var.dtype)};")
        elif isinstance(s, Store):
            self.line(f"{s.buffer.name}[{self.expr(s.indices[0])}] = {self.typed(s.value, s.buffer.dtype)};")
        elif isinstance(s, For):
            v = s.var.name
            if s.kind == "unroll":
                self.line("#pragma unroll")
            elif any(isinstance(x, (Sync, DeviceCall)) for x in walk(s.body)):
                # Main loops (barriers, tensor-core calls): unrolling them only raises register pressure.
                self.line("#pragma unroll 1")
            start = self.expr(s.start)
            self.line(f"for (int {v} = {start}; {v} < {self.expr(BinOp('+', s.start, s.extent, dt.int32))}; ++{v}) {{")
            self.block(s.body)
        elif isinstance(s, While):
            self.line(f"while ({self.expr(s.cond)}) {{")
            self.block(s.body)
        elif isinstance(s, TileLoop):
            self.line("#pragma unroll 1")
            if self.kernel is not None and self.kernel.tile_pairs:
                _pair_loop_head(self)
            elif self.kernel is not None and self.kernel.stream_k is not None:
                # stream-K units (tilec::StreamKUnit): whole tiles, then this block's range of k-iterations
                self.line("for (tilec::StreamKUnit tl_sk = tilec::stream_k_begin(tl_sk_plan);;) {")
                self.line("  const int tl_tile = tilec::stream_k_next(tl_sk_plan, tl_sk);")
                self.line("  if (tl_tile < 0) break;")
                self.line("  const int tl_sk_lo = tl_sk.lo, tl_sk_n = tl_sk.n;")
                self.line("  const int tl_gx = tl_sk_plan.gx, tl_gy = tl_sk_plan.gy;  // not kept in registers")
            else:
                self.line("for (int tl_tile = tl_first; tl_tile < tl_tiles; tl_tile += tl_step) {")
            self.ind += 1
            _bind_tile(self, self.kernel)
            self.ind -= 1
            self.block(s.body)
        elif isinstance(s, If):
            self.line(f"if ({self.expr(s.cond)}) {{")
            self.ind += 1
            self.stmt(s.then)
            self.ind -= 1
            if s.else_ is not None and not (isinstance(s.else_, Seq) and not s.else_.stmts):
                self.line("} else {")
                self.ind += 1
                self.stmt(s.else_)
                self.ind -= 1
            self.line("}")
        elif isinstance(s, Sync):
            if self.consumer_threads:  # inside a warp-specialized consumer: the producer never arrives
                self.line(f"tilec::named_barrier_sync(1, {self.consumer_threads});")
            else:
                self.line("__syncthreads();")
        elif isinstance(s, WarpSpecialize):
            t = s.consumer_threads
            self.line(f"if (threadIdx.x >= {t}) {{")
            self.ind += 1
            self.line(f"tilec::setmaxnreg_dec<{s.producer_regs}>();")
            self.line(f"if (threadIdx.x == {t}) {{")
            self.block(s.producer)
            self.ind -= 1
            self.line("} else {")
            self.ind += 1
            self.line(f"tilec::setmaxnreg_inc<{s.consumer_regs}>();")
            self.consumer_threads = t
            self.stmt(s.consumer)
            self.consumer_threads = 0
            self.ind -= 1
            self.line("}")
        elif isinstance(s, DeviceCall):
            ta = f"<{', '.join(map(str, s.template_args))}>" if s.template_args else ""
            self.line(f"{s.fn}{ta}({', '.join(self.arg(a) for a in s.args)});")
        elif isinstance(s, VecCopy):
            self.veccopy(s)
        elif isinstance(s, StoreVec):
            t, n = s.buffer.dtype.ctype, len(s.values)
            vals = ", ".join(self.typed(v, s.buffer.dtype) for v in s.values)
            self.line(f"tilec::store_vec<{t}, {n}>(&{s.buffer.name}[{self.expr(s.offset)}], "
                      f"tilec::Vec<{t}, {n}>{{{{{vals}}}}});")
        elif isinstance(s, LoadVec):
            t, n = s.src.dtype.ctype, len(s.slots)
            self.line("{")
            self.line(f"  const tilec::Vec<{t}, {n}> lv = tilec::load_vec<{t}, {n}>(&{s.src.name}"
                      f"[{self.expr(s.offset)}]);")
            for k, slot in enumerate(s.slots):
                self.line(f"  {s.dst.name}[{slot}] = tilec::convert<{s.dst.dtype.ctype}>(lv.x[{k}]);")
            self.line("}")
        else:
            raise TilecError(f"codegen: cannot emit {type(s).__name__} (a pass left a tile op behind; internal "
                             "error, please report)", getattr(s, "loc", None))

    def block(self, body: Stmt) -> None:
        self.ind += 1
        self.stmt(body)
        self.ind -= 1
        self.line("}")

    def arg(self, a: object) -> str:
        if isinstance(a, TensorMapRef):
            return f"&{a.name}"
        if isinstance(a, ArrayRef):
            return a.buffer.name
        if isinstance(a, BufferPtr):
            return f"(&{a.buffer.name}[{self.expr(a.offset)}])"
        return self.expr(a)

    def veccopy(self, s: VecCopy) -> None:
        dst, src = self.arg(s.dst), self.arg(s.src)
        pred = "true" if s.pred is None else self.expr(s.pred)
        if s.async_:
            kind = "cg" if s.nbytes == 16 else "ca"
            self.line(f"tilec::cp_async_{kind}_shared_global_{s.nbytes}({dst}, {src}, {pred});")
        elif s.pred is None or s.zfill:
            self.line(f"tilec::copy_bytes<{s.nbytes}>({dst}, {src}, {pred});")
        else:
            self.line(f"if ({pred}) tilec::copy_bytes<{s.nbytes}>({dst}, {src}, true);")


def grid_expr(e: Expr) -> str:
    """A launch-grid expression in the Python subset the launchers evaluate (+ - * // % min max)."""
    if isinstance(e, Const):
        return str(int(e.value))
    if isinstance(e, Var):
        return e.name
    if isinstance(e, BinOp) and e.op in ("+", "-", "*", "//", "%"):
        return f"({grid_expr(e.a)} {e.op} {grid_expr(e.b)})"
    if isinstance(e, BinOp) and e.op in ("min", "max"):
        return f"{e.op}({grid_expr(e.a)}, {grid_expr(e.b)})"
    raise TilecError(f"a grid size must be an integer expression of the symbolic dims, got {type(e).__name__}")


def _rasterize(em: CudaEmitter, k: Kernel, row_lin: str, col_lin: str, names: tuple | None = None) -> None:
    """T.use_swizzle: bx, by from a linear block index over the tl_gx x tl_gy grid, walking it in panels of
    `panel` rows (row order; row_lin = by * gx + bx) or columns (col_lin = bx * gy + by) of blocks so that
    neighbours share L2 tiles. names: what to bind instead of the block variables (a cluster's unit coordinates;
    the panel then counts clusters: panel // cluster size along it, at least 1)."""
    bx, by = names or tuple(v.name for v in k.block_vars[:2])
    panel, order = k.swizzle
    if names:
        c = _cluster(k)
        panel = max(1, panel // (c[1] if order == "row" else c[0]))
    em.line(f"const int tl_lin = {row_lin};")
    if order == "row":
        em.line(f"const int tl_span = {panel} * tl_gx;")
        em.line("const int tl_pan = tl_lin / tl_span, tl_in = tl_lin % tl_span;")
        em.line(f"const int tl_h = min({panel}, tl_gy - tl_pan * {panel});")
        em.line(f"const int {by} = tl_pan * {panel} + tl_in % tl_h;")
        em.line(f"const int {bx} = tl_in / tl_h;")
    else:
        em.line(f"const int tl_span = {panel} * tl_gy;")
        em.line(f"const int tl_lin2 = {col_lin};")
        em.line("const int tl_pan = tl_lin2 / tl_span, tl_in = tl_lin2 % tl_span;")
        em.line(f"const int tl_w = min({panel}, tl_gx - tl_pan * {panel});")
        em.line(f"const int {bx} = tl_pan * {panel} + tl_in % tl_w;")
        em.line(f"const int {by} = tl_in / tl_w;")


def _swizzle_prologue(em: CudaEmitter, k: Kernel) -> None:
    """Bind the block variables at the kernel's top: from blockIdx, or (persistent kernels) define the logical
    grid tl_gx x tl_gy x tl_gz and its tile count tl_tiles, which each TileLoop walks from this block's linear index
    in steps of the launched block count (so any launch grid is correct: the logical grid itself gives one tile per
    block, a 1-D grid of min(tiles, SMs) blocks the persistent schedule)."""
    bx, by, bz = (v.name for v in k.block_vars)
    c = _cluster(k)
    size = c[0] * c[1] * c[2]
    if size > 1:
        em.line("const int tl_crank = static_cast<int>(tilec::cluster_ctarank());  // this CTA's rank in its cluster")
    if k.persistent and size > 1:
        # Clusters: the tiles come in units of one cluster (the grid in clusters: tl_gx x tl_gy x tl_gz), walked by
        # the cluster index of a 1-D launch of (size, 1, 1) clusters (LaunchSpec.launch_grid).
        gx, gy, gz = (em.expr(simplify(binop("//", binop("+", g, ci - 1), ci))) for g, ci in zip(k.grid, c))
        em.line(f"const int tl_gx = {gx}, tl_gy = {gy}, tl_gz = {gz};  // clusters of {c[0]}x{c[1]}x{c[2]} tiles")
        em.line("const int tl_tiles = tl_gx * tl_gy * tl_gz;")
        em.line(f"const int tl_first = blockIdx.x / {size};")
        em.line(f"const int tl_step = gridDim.x / {size};")
        return
    if k.persistent:
        gx, gy, gz = (em.expr(g) for g in k.grid)
        em.line(f"const int tl_gx = {gx}, tl_gy = {gy}, tl_gz = {gz};")
        em.line("const int tl_tiles = tl_gx * tl_gy * tl_gz;")
        em.line("const int tl_first = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);")
        em.line("const int tl_step = gridDim.x * gridDim.y * gridDim.z;")
        if k.stream_k is not None:
            # read after the block's first barrier (specialize_warps puts one before the roles split)
            em.line("__shared__ tilec::StreamKPlan tl_sk_plan;")
            em.line(f"if (threadIdx.x == 0) tl_sk_plan = tilec::stream_k_plan(tl_tiles, {em.expr(k.stream_k[0])}, "
                    "tl_first, tl_step, tl_gx, tl_gy);")
        if k.tile_pairs:
            em.line("// tile pairs: (x, tl_gx - 1 - x) of one (y, z) row, or (odd tl_gx) the middle x of rows 2m and")
            em.line("// 2m + 1; pair p = this block's index, + tl_step, ...; only when every block gets a pair")
            em.line("const int tl_fh = tl_gx / 2, tl_rows = tl_gy * tl_gz;")
            em.line("const int tl_units = tl_fh * tl_rows + (tl_gx & 1) * ((tl_rows + 1) / 2);")
            em.line("const bool tl_paired = tl_units >= tl_step;")
        return
    if not k.swizzle:
        em.line(f"[[maybe_unused]] const int {bx} = blockIdx.x;")
        em.line(f"[[maybe_unused]] const int {by} = blockIdx.y;")
        em.line(f"[[maybe_unused]] const int {bz} = blockIdx.z;")
        return
    if size > 1:  # rasterize whole clusters: the grid in clusters, then the CTA's place in its cluster
        em.line(f"const int tl_gx = gridDim.x / {c[0]}, tl_gy = gridDim.y / {c[1]};")
        em.line(f"const int tl_cx = blockIdx.x / {c[0]}, tl_cy = blockIdx.y / {c[1]};")
        _rasterize(em, k, "tl_cy * tl_gx + tl_cx", "tl_cx * tl_gy + tl_cy", ("tl_ux", "tl_uy"))
        em.line(f"[[maybe_unused]] const int {bx} = tl_ux * {c[0]} + blockIdx.x % {c[0]};")
        em.line(f"[[maybe_unused]] const int {by} = tl_uy * {c[1]} + blockIdx.y % {c[1]};")
        em.line(f"[[maybe_unused]] const int {bz} = blockIdx.z;")
        return
    em.line("const int tl_gx = gridDim.x, tl_gy = gridDim.y;")
    _rasterize(em, k, "blockIdx.y * tl_gx + blockIdx.x", "blockIdx.x * tl_gy + blockIdx.y")
    em.line(f"[[maybe_unused]] const int {bz} = blockIdx.z;")


def _pair_loop_head(em: CudaEmitter) -> None:
    """The head of a TileLoop over tile pairs (Kernel.tile_pairs): tl_seq counts two per pair, a block's sequence
    is 2b, 2b + 1, 2(b + B), ... . Pair u < tl_fh * tl_rows: x = p, then tl_gx - 1 - p of row u / tl_fh (p = u %
    tl_fh), the same work x + 1 + tl_gx - x for every pair when a tile's work is x + 1 (or any linear function of
    x); the later pairs (odd tl_gx): the middle x of rows 2m, 2m + 1 (two halves of that work; the second is
    skipped past the last row). The body then starts from tl_tile as in the plain loop; without tl_paired, tl_seq
    is the plain tile sequence."""
    em.line("for (int tl_seq = tl_paired ? 2 * tl_first : tl_first; tl_seq < (tl_paired ? 2 * tl_units : tl_tiles);"
            " tl_seq += tl_paired ? ((tl_seq & 1) ? 2 * tl_step - 1 : 1) : tl_step) {")
    em.ind += 1
    em.line("const int tl_u = tl_seq >> 1, tl_h = tl_seq & 1;")
    em.line("const bool tl_mid = tl_u >= tl_fh * tl_rows;")
    em.line("const int tl_p = tl_mid ? tl_fh : tl_u % tl_fh;")
    em.line("const int tl_row = tl_mid ? 2 * (tl_u - tl_fh * tl_rows) + tl_h : tl_u / tl_fh;")
    em.line("const int tl_px = (!tl_mid && tl_h) ? tl_gx - 1 - tl_p : tl_p;")
    em.line("if (tl_paired && tl_row >= tl_rows) continue;  // odd row count: the last middle x goes alone")
    em.line("const int tl_tile = tl_paired ? tl_row * tl_gx + tl_px : tl_seq;")
    em.ind -= 1


def _bind_tile(em: CudaEmitter, k: Kernel | None) -> None:
    """Inside a TileLoop: the block variables of tile tl_tile (x fastest, then y, then z; rasterized like the
    blocks of a non-persistent launch)."""
    if k is None:
        raise TilecError("codegen: a tile loop outside a kernel (internal error, please report)")
    bx, by, bz = (v.name for v in k.block_vars)
    c = _cluster(k)
    if c != (1, 1, 1):  # tl_tile counts clusters: bind its coordinates, then this CTA's tile in it
        em.line("const int tl_xy = tl_tile % (tl_gx * tl_gy);")
        em.line("const int tl_uz = tl_tile / (tl_gx * tl_gy);")
        if k.swizzle:
            _rasterize(em, k, "tl_xy", "tl_xy", ("tl_ux", "tl_uy"))
        else:
            em.line("const int tl_ux = tl_xy % tl_gx, tl_uy = tl_xy / tl_gx;")
        # cluster ranks run x fastest (%cluster_ctarank); one dimension of the cluster is > 1
        size = c[0] * c[1] * c[2]
        for name, u, i in ((bx, "tl_ux", 0), (by, "tl_uy", 1), (bz, "tl_uz", 2)):
            inner = "" if c[i] == 1 else " + tl_crank" if c[i] == size else \
                f" + tl_crank / {c[0] * c[1] // c[i] if i else 1} % {c[i]}"
            em.line(f"[[maybe_unused]] const int {name} = {u}{f' * {c[i]}' if c[i] > 1 else ''}{inner};")
        return
    em.line("const int tl_xy = tl_tile % (tl_gx * tl_gy);")
    em.line(f"[[maybe_unused]] const int {bz} = tl_tile / (tl_gx * tl_gy);")
    if k.swizzle:
        _rasterize(em, k, "tl_xy", "tl_xy")
        return
    em.line(f"[[maybe_unused]] const int {bx} = tl_xy % tl_gx;")
    em.line(f"[[maybe_unused]] const int {by} = tl_xy / tl_gx;")


def _cluster(k: Kernel) -> tuple:
    return tuple(int(x) for x in k.cluster)


def generate_cuda(fn: PrimFunc, target: object = None) -> tuple[str, KernelMetadata]:
    """See the module docstring."""
    kernels = [s for s in (fn.body.stmts if isinstance(fn.body, Seq) else (fn.body,)) if isinstance(s, Kernel)]
    if not kernels:
        raise TilecError(f"{fn.name} has no `with T.Kernel(...)` block: nothing to launch", fn.loc)
    offsets: dict = fn.attrs.get("smem_offsets", {})
    smem_bytes: dict = fn.attrs.get("smem_bytes", {})
    plist = []
    for p in fn.params:
        if p.buffer is not None:
            plist.append(f"{p.buffer.dtype.ctype}* __restrict__ {p.buffer.name}")
        else:
            plist.append(f"{p.var.dtype.ctype} {p.var.name}")
    plist += [f"int {d.name}" for d in fn.sym_dims]
    sm90 = any(isinstance(x, WarpSpecialize) for x in walk(fn.body))
    out = ["// Generated by tilec. Do not edit.", "#include <tilec/tilec.cuh>", "#include <tilec/vec.cuh>",
           *(["#include <tilec/sm90.cuh>"] if sm90 else []), "",
           "using tilec::half_t;", "using tilec::bfloat16_t;", ""]
    launches = []
    for i, k in enumerate(kernels):
        entry = f"{fn.name}_kernel" if len(kernels) == 1 else f"{fn.name}_kernel_{i}"
        em = CudaEmitter(k)
        threads = k.threads + (128 if any(isinstance(x, WarpSpecialize) for x in walk(k.body)) else 0)
        kparams = plist + [f"const __grid_constant__ CUtensorMap {t.name}" for t in k.tensor_maps]
        if k.stream_k is not None:
            kparams.append("void* __restrict__ tl_workspace")
        note = fn.attrs.get("lowering_notes", {}).get(i)
        if note:
            out.append(f"// tilec lowering: {note}")
        out.append(f'extern "C" __global__ void __launch_bounds__({threads}, 1) {entry}({", ".join(kparams)}) {{')
        nbytes = smem_bytes.get(k, 0)
        if nbytes:
            em.line("extern __shared__ __align__(1024) unsigned char tl_smem[];")
            for buf, off in offsets.items():
                if off[0] is k:
                    em.line(f"{buf.dtype.ctype}* {buf.name} = reinterpret_cast<{buf.dtype.ctype}*>(tl_smem + {off[1]});")
        _swizzle_prologue(em, k)
        em.stmt(k.body)
        out.extend(em.lines)
        out.append("}")
        out.append("")
        c = _cluster(k)
        # Clusters: the grid padded to whole clusters (CTAs past the T.Kernel grid compute but store nothing);
        # a persistent launch is 1-D, in clusters of (size, 1, 1).
        grid = tuple(simplify(binop("*", binop("//", binop("+", g, ci - 1), ci), ci)) if ci > 1 else g
                     for g, ci in zip(k.grid, c))
        cluster = (c[0] * c[1] * c[2], 1, 1) if k.persistent else c
        launches.append(LaunchSpec(entry, tuple(grid_expr(g) for g in grid), threads, nbytes, cluster,
                                   tensor_maps=tuple(k.tensor_maps), persistent=k.persistent,
                                   workspace_per_block=k.stream_k[1] if k.stream_k is not None else 0))
    params = []
    for p in fn.params:
        if p.buffer is not None:
            shape = tuple(d.name if isinstance(d, Var) else int(d) for d in p.buffer.shape)
            params.append(ParamSpec(p.name, "tensor", p.buffer.dtype.name, shape))
        else:
            params.append(ParamSpec(p.name, "scalar", p.var.dtype.name, ()))
    meta = KernelMetadata(fn.name, tuple(params), tuple(d.name for d in fn.sym_dims), tuple(launches),
                          getattr(target, "arch", "") if target is not None else "")
    return "\n".join(out), meta


