"""Launch a compiled tile program: check the arguments against its KernelMetadata, then launch each kernel.

All argument checks run before any CUDA driver call, so wrong-argument errors need no GPU. Work done once
(parsing grid expressions, ctypes parameter storage, loading the module per context, raising the shared
memory limit) is kept out of the per-call path.
"""
from __future__ import annotations

import ast
import ctypes
import math
import operator
import struct
import sys
import threading
from collections.abc import Callable
from ctypes import (
    c_bool,
    c_double,
    c_float,
    c_int8,
    c_int16,
    c_int32,
    c_int64,
    c_uint8,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
)

from tilec.errors import TilecRuntimeError
from tilec.metadata import KernelMetadata, LaunchSpec, stream_k_flag_bytes
from tilec.runtime import driver
from tilec.runtime.tensors import (
    _TORCH_DTYPE_NAMES,
    _TORCH_TYPES,
    as_device_array,
    is_contiguous,
    is_torch_tensor,
    torch_dtype_name,
)

_DEFAULT_SMEM_LIMIT = 48 * 1024
_INT32_MAX = 2**31 - 1
TENSOR_DTYPES = frozenset({"float16", "bfloat16", "float32", "float64", "float8_e4m3", "float8_e5m2", "int8", "uint8",
                           "int16", "uint16", "int32", "uint32", "int64", "uint64", "int4", "uint4", "bool"})
_INT_CTYPES = {"int8": c_int8, "uint8": c_uint8, "int16": c_int16, "uint16": c_uint16, "int32": c_int32,
               "uint32": c_uint32, "int64": c_int64, "uint64": c_uint64}
_FLOAT_CTYPES = {"float32": c_float, "float64": c_double, "float16": c_uint16, "bfloat16": c_uint16}

# -- grid expressions ----------------------------------------------------------------------------------------

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
           ast.Mod: operator.mod}
Expr = Callable[[dict], int]


def _compile_expr(text: str | int, names: frozenset | set) -> tuple[bool, object]:
    """(True, value) for a constant expression, else (False, env -> int function); constants are folded."""
    if isinstance(text, int) and not isinstance(text, bool):
        return True, int(text)
    try:
        tree = ast.parse(str(text).strip(), mode="eval").body
    except SyntaxError as e:
        raise ValueError(f"grid expression '{text}' does not parse: {e.msg}") from None

    def build(node: ast.AST) -> tuple[bool, object]:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return True, node.value
        if isinstance(node, ast.Name):
            if node.id not in names:
                raise ValueError(f"grid expression '{text}' uses '{node.id}', which is not a symbolic dim "
                                 f"({', '.join(sorted(names)) or 'none declared'})")
            return False, operator.itemgetter(node.id)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            op = _BINOPS[type(node.op)]
            (ca, a), (cb, b) = build(node.left), build(node.right)
            if ca and cb:
                try:
                    return True, op(a, b)
                except ZeroDivisionError:
                    raise ValueError(f"grid expression '{text}' divides by zero") from None
            if cb:
                return False, lambda env: op(a(env), b)  # type: ignore[operator]
            if ca:
                return False, lambda env: op(a, b(env))  # type: ignore[operator]
            return False, lambda env: op(a(env), b(env))  # type: ignore[operator]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            sign = -1 if isinstance(node.op, ast.USub) else 1
            ca, a = build(node.operand)
            return (True, sign * a) if ca else (False, lambda env: sign * a(env))  # type: ignore[operator]
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("min", "max")
                and node.args and not node.keywords):
            fn = min if node.func.id == "min" else max
            parts = [build(a) for a in node.args]
            if all(c for c, _ in parts):
                return True, fn(v for _, v in parts)
            fns = [v if not c else (lambda env, v=v: v) for c, v in parts]
            return False, lambda env: fn([f(env) for f in fns])  # type: ignore[operator]
        raise ValueError(f"grid expression '{text}': '{ast.unparse(node)}' is not allowed (only integers, "
                         f"symbolic dims, + - * // %, min, max)")

    return build(tree)


def compile_expr(text: str | int, names: frozenset | set) -> Expr:
    """Compile a grid expression over symbolic dim `names` into a function env -> int, without eval.

    Allowed: integer constants, names from `names`, + - * // %, unary -, min(...), max(...), parentheses.

    Raises:
        ValueError: anything else, or a constant division by zero (the message names the offending piece).
    """
    const, value = _compile_expr(text, names)
    if const:
        return lambda env: value  # type: ignore[return-value]
    return value  # type: ignore[return-value]


# -- scalars -------------------------------------------------------------------------------------------------


def _float16_bits(v: float) -> int:
    return struct.unpack("<H", struct.pack("<e", v))[0]


def _bfloat16_bits(v: float) -> int:
    bits = struct.unpack("<I", struct.pack("<f", v))[0]
    if math.isnan(v):
        return 0x7FC0
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) & 0xFFFF  # round to nearest even


def _int_range(dtype: str) -> tuple[int, int]:
    bits = ctypes.sizeof(_INT_CTYPES[dtype]) * 8
    return (0, 2**bits - 1) if dtype.startswith("u") else (-(2**(bits - 1)), 2**(bits - 1) - 1)


def convert_scalar(value: object, dtype: str, name: str) -> int | float | bool:
    """Convert a Python/numpy scalar for a kernel parameter of `dtype` (floats of 16 bits become their bits).

    Raises:
        TilecRuntimeError: not a number of the right kind, or out of the dtype's range.
    """
    if isinstance(value, (str, bytes)) or hasattr(value, "__cuda_array_interface__") or hasattr(value, "shape") \
            and getattr(value, "shape", ()) != ():
        raise TilecRuntimeError(f"argument '{name}': expected a {dtype} scalar, got {type(value).__name__}")
    if dtype in _INT_CTYPES:
        try:
            v = operator.index(value)  # int, bool, numpy integers; not floats
        except TypeError:
            raise TilecRuntimeError(f"argument '{name}': expected an integer ({dtype}), got "
                                    f"{type(value).__name__} {value!r}") from None
        lo, hi = _int_range(dtype)
        if not lo <= v <= hi:
            raise TilecRuntimeError(f"argument '{name}': {v} is out of range for {dtype} ([{lo}, {hi}])")
        return v
    if dtype == "bool":
        return bool(value)
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TilecRuntimeError(f"argument '{name}': expected a {dtype} number, got {type(value).__name__}") from None
    if dtype == "float16":
        try:
            return _float16_bits(f)
        except (OverflowError, struct.error):
            raise TilecRuntimeError(f"argument '{name}': {f} is out of range for float16") from None
    if dtype == "bfloat16":
        return _bfloat16_bits(f)
    return f


def _torch_stream(device: int | None) -> int | None:
    """torch's current stream handle on `device` (None for the legacy default stream)."""
    torch = sys.modules["torch"]
    raw = getattr(torch._C, "_cuda_getCurrentRawStream", None)  # what Triton uses: no Stream object built
    handle = raw(device) if raw is not None else torch.cuda.current_stream(device).cuda_stream
    return handle or None


# -- the launcher --------------------------------------------------------------------------------------------


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def persistent_grid_cap(spec: LaunchSpec, func: int, dev: int) -> int:
    """The most blocks a persistent launch starts on device `dev`: its SMs times the blocks of `func` one SM holds
    (LaunchSpec.persistent's rule), or with clusters the blocks of the clusters the device runs at once (a later
    cluster would only start when an earlier one has walked all its tiles); 0 for a non-persistent launch."""
    if not spec.persistent:
        return 0
    size = spec.cluster[0] * spec.cluster[1] * spec.cluster[2]
    if size > 1:  # clusters: as many as run at once (a GPC holds whole clusters only), never more
        n = driver.occupancy_max_active_clusters(func, int(spec.threads), int(spec.smem_bytes), spec.cluster,
                                                 spec.entry)
        return max(n, 1) * size
    resident = driver.occupancy_max_active_blocks(func, int(spec.threads), int(spec.smem_bytes), spec.entry)
    return driver.multiprocessor_count(dev) * max(resident, 1)


class Launcher:
    """Callable that checks arguments against a KernelMetadata and launches its kernels from one cubin.

    Construction parses the metadata (raising TilecRuntimeError for malformed metadata: an internal error) and
    touches no GPU. Calling it checks the arguments (TilecRuntimeError, before any driver call), loads the module
    once per CUDA context and launches every LaunchSpec in order on the current stream (torch's current stream
    when torch tensors are passed, else the legacy default stream). Thread-safe.
    """

    def __init__(self, cubin: bytes, metadata: KernelMetadata):
        self.cubin = bytes(cubin)
        self.metadata = metadata
        self.name = metadata.name
        params = list(metadata.params)
        self.param_names = tuple(p.name for p in params)
        syms = tuple(metadata.sym_dims)
        sym_set = frozenset(syms)
        align = metadata.extra.get("alignment", {}) if isinstance(metadata.extra, dict) else {}
        self._tensors = []  # (arg index, name, dtype, rank, fixed dims, sym dims, shape text, alignment)
        self._scalars = []  # (arg index, name, dtype, type passed unconverted, int range)
        bound = set()
        for i, p in enumerate(params):
            if p.kind == "tensor":
                if p.dtype not in TENSOR_DTYPES:
                    self._bad(f"parameter '{p.name}' has unknown dtype '{p.dtype}'")
                fixed = tuple((ax, int(n)) for ax, n in enumerate(p.shape) if not isinstance(n, str))
                symbolic = tuple((ax, n) for ax, n in enumerate(p.shape) if isinstance(n, str))
                for _, s in symbolic:
                    if s not in sym_set:
                        self._bad(f"parameter '{p.name}' uses symbolic dim '{s}', not in sym_dims {syms}")
                    bound.add(s)
                a = int(align.get(p.name, 0) if isinstance(align, dict) else align)
                self._tensors.append((i, p.name, p.dtype, len(p.shape), fixed, symbolic, _shape_text(p.shape), a))
            elif p.kind == "scalar":
                if p.dtype not in _INT_CTYPES and p.dtype not in _FLOAT_CTYPES and p.dtype != "bool":
                    self._bad(f"scalar parameter '{p.name}' has unsupported dtype '{p.dtype}'")
                # (index, name, dtype, the Python type passed through unconverted, its range)
                if p.dtype in _INT_CTYPES:
                    lo, hi = _int_range(p.dtype)
                    self._scalars.append((i, p.name, p.dtype, int, lo, hi))
                else:
                    fast = float if p.dtype in ("float32", "float64") else None
                    self._scalars.append((i, p.name, p.dtype, fast, None, None))
            else:
                self._bad(f"parameter '{p.name}' has kind '{p.kind}' (expected 'tensor' or 'scalar')")
        if sym_set - bound:
            self._bad(f"symbolic dims {sorted(sym_set - bound)} appear in no tensor parameter's shape")
        self._syms = syms

        # ctypes storage for the kernel parameters, packed in the order the entry points take them
        self._ptr_slots = [c_uint64() for _ in self._tensors]
        self._scalar_slots = []
        for _, _, dt, *_ in self._scalars:
            self._scalar_slots.append((_INT_CTYPES.get(dt) or _FLOAT_CTYPES.get(dt) or c_bool)())
        self._sym_slots = [c_int32() for _ in syms]
        slots = self._ptr_slots + self._scalar_slots + self._sym_slots
        self._params = (c_void_p * max(len(slots), 1))(*[ctypes.addressof(s) for s in slots])

        self._launches = []  # (spec, env -> grid, threads, smem bytes, cluster or None, launch config or None)
        for spec in metadata.launches:
            self._launches.append(self._prepare_launch(spec, sym_set))
        # TMA tensor maps, per launch: (tensor position, dtype, dims fns, strides fns, box, swizzle, 128-byte slot)
        tensor_pos = {name: k for k, (_, name, *_) in enumerate(self._tensors)}
        self._tmaps: list[list[tuple]] = []
        self._launch_params = []
        self._ws_slots: list = []  # per launch: the c_uint64 of its stream-K workspace parameter, or None
        self._workspaces: dict = {}  # (context, stream, launch index) -> device pointer (kept for the process)
        for spec in metadata.launches:
            maps = []
            for t in getattr(spec, "tensor_maps", ()):
                if t.param not in tensor_pos:
                    self._bad(f"tensor map '{t.name}' describes '{t.param}', which is not a tensor parameter")
                try:
                    dims = [_compile_expr(d, sym_set) for d in t.dims]
                    strides = [_compile_expr(d, sym_set) for d in t.strides_bytes]
                except ValueError as e:
                    self._bad(f"tensor map '{t.name}': {e}")
                maps.append((tensor_pos[t.param], t.dtype, dims, strides, tuple(t.box), int(t.swizzle),
                             (ctypes.c_char * 128)()))
            self._tmaps.append(maps)
            ws = [c_uint64()] if getattr(spec, "workspace_per_block", 0) else []  # stream-K workspace (last)
            self._ws_slots.append(ws[0] if ws else None)
            if maps or ws:
                own = slots + [m[-1] for m in maps] + ws
                self._launch_params.append((c_void_p * len(own))(*[ctypes.addressof(x) for x in own]))
            else:
                self._launch_params.append(self._params)
        self._tmap_cache: dict = {}
        if not self._launches:
            self._bad("no launches")
        self._modules: dict[int, tuple] = {}  # context handle -> (CUfunction per launch, persistent cap per launch)
        self._lock = threading.Lock()
        self._nargs = len(params)
        self._get_ctx = self._cu_launch = None  # bound on first launch (needs the driver)
        self._ctx_buf = c_void_p()
        self._ctx_ref = ctypes.byref(self._ctx_buf)
        self._last: tuple = (0, -1, [], [])  # (context, its device, functions, persistent caps) of the last launch

    def _bad(self, what: str) -> None:
        raise TilecRuntimeError(f"kernel '{self.name}': invalid launch metadata: {what} (internal error, please report)")

    def _prepare_launch(self, spec: LaunchSpec, names: frozenset) -> tuple:
        grid = tuple(spec.grid) + (1,) * (3 - len(spec.grid))
        if len(grid) != 3:
            self._bad(f"entry '{spec.entry}' has a {len(spec.grid)}-d grid")
        try:
            (cx, x), (cy, y), (cz, z) = (_compile_expr(g, names) for g in grid)
        except ValueError as e:
            self._bad(f"entry '{spec.entry}': {e}")
        # one env -> (gx, gy, gz) function, specialised for the usual case of constant y and z
        if cx and cy and cz:
            const = (x, y, z)
            grid_fn = lambda env: const
        elif cy and cz:
            grid_fn = lambda env: (x(env), y, z)  # type: ignore[operator]
        else:
            fx, fy, fz = ((lambda env, v=v: v) if c else v for c, v in ((cx, x), (cy, y), (cz, z)))
            grid_fn = lambda env: (fx(env), fy(env), fz(env))  # type: ignore[operator]
        if not 1 <= int(spec.threads) <= 1024:
            self._bad(f"entry '{spec.entry}' has {spec.threads} threads per block (1..1024)")
        cluster = tuple(int(c) for c in spec.cluster) + (1,) * (3 - len(spec.cluster))
        config = None
        if cluster == (1, 1, 1):
            cluster = None
        else:
            config = driver.make_launch_config((1, 1, 1), (int(spec.threads), 1, 1), int(spec.smem_bytes), cluster)
        return spec, grid_fn, int(spec.threads), int(spec.smem_bytes), cluster, config

    def _bind(self, args: tuple, kwargs: dict) -> tuple:
        if kwargs:
            args = args + tuple(kwargs.pop(n) for n in self.param_names[len(args):] if n in kwargs)
            if kwargs:
                raise TilecRuntimeError(f"kernel '{self.name}' got unexpected keyword arguments {sorted(kwargs)} "
                                        f"(parameters: {', '.join(self.param_names)})")
        if len(args) != len(self.param_names):
            raise TilecRuntimeError(f"kernel '{self.name}' takes {len(self.param_names)} arguments "
                                    f"({', '.join(self.param_names)}), got {len(args)}")
        return args

    def _first_binder(self, sym: str) -> tuple:
        return next((name, ax) for _, name, _, _, _, symbolic, _, _ in self._tensors for ax, s in symbolic if s == sym)

    @staticmethod
    def _device_of(x: object) -> int | None:
        return x.get_device() if is_torch_tensor(x) else as_device_array(x).device

    def check_args(self, *args: object, **kwargs: object) -> tuple:
        """Check the arguments without touching the GPU.

        Returns (pointers, scalar values, sym dim values, grids (None for an empty grid), device or None,
        whether torch tensors were passed, pointers of arrays whose device is unknown or None).

        Raises:
            TilecRuntimeError: wrong count, dtype, rank, dim, stride, alignment, device or scalar value.
        """
        if kwargs or len(args) != self._nargs:
            args = self._bind(args, kwargs)
        env: dict[str, int] = {}
        ptrs = []
        device, use_torch, unknown = None, False, None
        torch_types, dtype_names = _TORCH_TYPES, _TORCH_DTYPE_NAMES
        # The hot loop: torch tensors are read through their C accessors; other arrays through as_device_array.
        for i, name, dtype, rank, fixed, symbolic, shape_text, align in self._tensors:
            x = args[i]
            if type(x) in torch_types or is_torch_tensor(x):
                if not x.is_cuda:
                    as_device_array(x, name)  # raises "expected a CUDA tensor ..."
                dt = dtype_names.get(x.dtype) or torch_dtype_name(x.dtype)
                shape = x.shape
                ptr = x.data_ptr()
                dev = x.get_device()
                contiguous = x.is_contiguous()
                use_torch = True
            else:
                a = as_device_array(x, name)
                dt, shape, ptr, dev = a.dtype, a.shape, a.ptr, a.device
                contiguous = is_contiguous(a.shape, a.strides)
            if dt != dtype:
                raise TilecRuntimeError(f"argument '{name}': expected a {dtype} tensor, got {dt}")
            if len(shape) != rank:
                raise TilecRuntimeError(f"argument '{name}': expected a {rank}-d tensor of shape {shape_text}, "
                                        f"got shape {_shape_text(tuple(shape))}")
            for ax, n in fixed:
                if shape[ax] != n:
                    raise TilecRuntimeError(f"argument '{name}': dim {ax} must be {n} (expected shape {shape_text}), "
                                            f"got shape {_shape_text(tuple(shape))}")
            for ax, sym in symbolic:
                v = shape[ax]
                old = env.setdefault(sym, v)
                if old != v:
                    first, fax = self._first_binder(sym)
                    raise TilecRuntimeError(f"symbolic dim '{sym}' is {old} from argument '{first}' (dim {fax}) but "
                                            f"{v} from argument '{name}' (dim {ax})")
            if not contiguous:
                strides = tuple(x.stride()) if is_torch_tensor(x) else as_device_array(x, name).strides
                raise TilecRuntimeError(f"argument '{name}' must be contiguous (row-major): shape "
                                        f"{_shape_text(tuple(shape))} has strides {strides}; call .contiguous() on it")
            if align and ptr % align:
                raise TilecRuntimeError(f"argument '{name}': data pointer {ptr:#x} is not {align}-byte aligned, "
                                        f"which the kernel requires; pass a fresh tensor (e.g. .clone())")
            if dev is None:
                unknown = (unknown or []) + [ptr]
            elif dev != device:
                if device is None:
                    device = dev
                else:
                    first = next(n for j, n, *_ in self._tensors if self._device_of(args[j]) == device)
                    raise TilecRuntimeError(f"arguments '{first}' and '{name}' are on different CUDA devices "
                                            f"(cuda:{device} and cuda:{dev}); move them to one device")
            ptrs.append(ptr)
        scalars = []
        for i, name, dtype, fast_type, lo, hi in self._scalars:
            v = args[i]
            if type(v) is not fast_type or (lo is not None and not lo <= v <= hi):
                v = convert_scalar(v, dtype, name)
            scalars.append(v)
        sym_values = [env[s] for s in self._syms]
        if sym_values and max(sym_values) > _INT32_MAX:
            s = next(s for s in self._syms if env[s] > _INT32_MAX)
            raise TilecRuntimeError(f"symbolic dim '{s}' = {env[s]} (from argument '{self._first_binder(s)[0]}') "
                                    f"does not fit in int32; split the problem into pieces below 2**31")
        grids = []
        for spec, grid_fn, _, _, cluster, _ in self._launches:
            try:
                g = grid_fn(env)
            except ZeroDivisionError:
                raise TilecRuntimeError(f"kernel '{spec.entry}': grid {spec.grid} divides by zero for "
                                        f"{env}") from None
            lo = min(g)
            if spec.persistent:  # g counts tiles; the launch is 1-D, capped by the device (persistent_grid)
                if lo < 0 or g[0] * g[1] * g[2] > _INT32_MAX:
                    raise TilecRuntimeError(f"kernel '{spec.entry}': {g} tiles (from {spec.grid} with {env}) are "
                                            f"outside the persistent kernel's range (0 .. 2**31 - 1 in all)")
            elif lo < 0 or g[0] > _INT32_MAX or g[1] > 65535 or g[2] > 65535:
                raise TilecRuntimeError(f"kernel '{spec.entry}': grid {g} (from {spec.grid} with {env}) is outside "
                                        f"CUDA's limits (x < 2**31, y and z <= 65535)")
            if cluster is not None and lo > 0 and not spec.persistent and any(gi % ci for gi, ci in zip(g, cluster)):
                raise TilecRuntimeError(f"kernel '{spec.entry}': grid {g} is not a multiple of the cluster "
                                        f"shape {cluster}")
            grids.append(g if lo else None)
        return ptrs, scalars, sym_values, grids, device, use_torch, unknown

    def __call__(self, *args: object, **kwargs: object) -> None:
        """Check the arguments, then launch every kernel of the program on the current stream.

        Raises:
            TilecRuntimeError: bad arguments (before any driver call); no driver/GPU; a CUDA error while loading
                or launching (naming the entry).
        """
        ptrs, scalars, sym_values, grids, device, use_torch, unknown = self.check_args(*args, **kwargs)
        if not any(grids):
            return  # nothing to do: every grid is empty
        if device is None and unknown and any(unknown):  # e.g. numba arrays: ask the driver who owns the memory
            device = driver.pointer_device(next(p for p in unknown if p))
        stream = _torch_stream(device) if use_torch else None
        with self._lock:
            funcs, caps, restore = self._enter_context(device)
            try:
                for slot, v in zip(self._ptr_slots, ptrs):
                    slot.value = v
                for slot, v in zip(self._scalar_slots, scalars):
                    slot.value = v
                for slot, v in zip(self._sym_slots, sym_values):
                    slot.value = v
                launch = self._cu_launch
                per_launch = zip(self._launches, funcs, caps, grids, self._tmaps, self._launch_params, self._ws_slots)
                for li, ((spec, _, threads, smem, cluster, config), func, cap, grid, maps, params, ws) in enumerate(
                        per_launch):
                    if grid is None:
                        continue
                    if cap:
                        grid = spec.launch_grid(grid, cap)
                    if maps:
                        self._fill_tensor_maps(maps, ptrs, dict(zip(self._syms, sym_values)))
                    if ws is not None:
                        ws.value = self._workspace(li, spec, cap, stream)
                    if config is None:
                        rc = launch(func, grid[0], grid[1], grid[2], threads, 1, 1, smem, stream, params, None)
                        if rc:
                            driver.check(rc, "cuLaunchKernel", spec.entry)
                    else:
                        driver.launch_kernel_ex(func, grid, (threads, 1, 1), smem, stream or 0, params, cluster,
                                                spec.entry, config)
            finally:
                if restore:
                    driver.set_current_context(restore)

    def _workspace(self, li: int, spec: LaunchSpec, cap: int, stream: int | None) -> int:
        """Under the lock, in the launch's context: the stream-K workspace of launch `li` on `stream`, allocated on
        first use for the most blocks the launch starts (cap) with its flags zeroed; the kernel leaves them zero,
        and launches on one stream run one after another, so each stream reuses its own."""
        key = (driver.current_context(), stream or 0, li)
        ptr = self._workspaces.get(key)
        if ptr is None:
            ptr = driver.mem_alloc(spec.workspace_bytes(cap))
            driver.memset_d8(ptr, 0, stream_k_flag_bytes(cap))
            driver.ctx_synchronize()
            self._workspaces[key] = ptr
        return ptr

    def _fill_tensor_maps(self, maps: list, ptrs: list, env: dict) -> None:
        """Under the lock: encode (or fetch from the cache) each TMA descriptor of a launch into its slot."""
        from tilec.runtime.tensor_map import _DTYPES, TensorMapError, encode_tiled

        for pos, dtype, dims_fns, stride_fns, box, swizzle, slot in maps:
            dims = tuple(int(f) if c else int(f(env)) for c, f in dims_fns)
            strides = tuple(int(f) if c else int(f(env)) for c, f in stride_fns)
            key = (pos, ptrs[pos], dims, strides, box, swizzle, dtype)
            data = self._tmap_cache.get(key)
            if data is None:
                esize = _DTYPES[dtype][1]
                # metadata lists dims/box innermost first and the strides of dims 1..; the encoder wants
                # everything outermost first, with the element size as the innermost stride.
                try:
                    tm = encode_tiled(dtype, ptrs[pos], tuple(reversed(dims)), tuple(reversed(strides)) + (esize,),
                                      tuple(reversed(box)), swizzle=swizzle)
                except TensorMapError as e:  # name the argument: the kernel moves it with TMA
                    raise TensorMapError(f"kernel '{self.name}': argument '{self._tensors[pos][1]}' is moved with "
                                         f"TMA, which it does not fit: {e}") from None
                data = tm.data
                if len(self._tmap_cache) > 256:
                    self._tmap_cache.clear()
                self._tmap_cache[key] = data
            ctypes.memmove(slot, data, 128)

    def _enter_context(self, device: int | None) -> tuple[list[int], list[int], int]:
        """Under the lock: make a context for `device` current and return (its functions, their persistent grid caps
        (0: not persistent), context to restore or 0).

        The fast path is one cuCtxGetCurrent when the same context as last time is current.
        """
        if self._get_ctx is None:
            lib = driver.lib()  # raises "no CUDA driver found ..." on a machine without one
            self._get_ctx, self._cu_launch = lib.cuCtxGetCurrent, lib.cuLaunchKernel
        rc = self._get_ctx(self._ctx_ref)
        if rc:
            driver.check(rc, "cuCtxGetCurrent")
        ctx = self._ctx_buf.value or 0
        last_ctx, last_dev, last_funcs, last_caps = self._last
        if ctx and ctx == last_ctx and (device is None or device == last_dev):
            return last_funcs, last_caps, 0
        ctx, restore = driver.ensure_context(device)
        loaded = self._modules.get(ctx)
        if loaded is None:
            loaded = self._load(ctx)
        funcs, caps = loaded
        if restore == -1:
            self._last = (ctx, driver.context_device(ctx), funcs, caps)
        return funcs, caps, max(restore, 0)

    def _load(self, ctx: int) -> tuple[list[int], list[int]]:
        """Under the lock: load the module into context `ctx` (current) and prepare its functions; returns them and
        each launch's persistent grid cap (persistent_grid_cap; 0 for a non-persistent launch)."""
        dev = driver.context_device(ctx)
        try:
            module = driver.module_load_data(self.cubin, self.name)
        except driver.CudaDriverError as e:
            cc = driver.compute_capability(dev)
            raise TilecRuntimeError(
                f"kernel '{self.name}' (compiled for {self.metadata.target or 'an unknown arch'}) cannot be "
                f"loaded on GPU '{driver.device_name(dev)}' (compute capability {cc[0]}.{cc[1]}): {e}") from None
        funcs, optin = [], None
        for spec, _, _, smem, cluster, _ in self._launches:
            func = driver.module_get_function(module, spec.entry)
            if smem > _DEFAULT_SMEM_LIMIT:
                optin = optin or driver.max_shared_memory_optin(dev)
                static = driver.func_get_attribute(func, driver.CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, spec.entry)
                if smem + static > optin:
                    raise TilecRuntimeError(
                        f"kernel '{spec.entry}' needs {smem} bytes of dynamic shared memory (+{static} static) but "
                        f"GPU '{driver.device_name(dev)}' allows at most {optin} per block; use a smaller tile "
                        f"config or fewer pipeline stages")
                driver.func_set_attribute(func, driver.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem,
                                          spec.entry)
            if cluster is not None and math.prod(cluster) > 8:
                driver.func_set_attribute(func, driver.CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED, 1,
                                          spec.entry)
            funcs.append(func)
        caps = [persistent_grid_cap(spec, func, dev) for spec, func in zip(self.metadata.launches, funcs)]
        self._modules[ctx] = (funcs, caps)
        return funcs, caps
