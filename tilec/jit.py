"""@tilec.jit and tilec.compile: turn a tile program into a callable kernel (CUDA source, cubin, launcher).

AOT and JIT share this object: the catalogue build asks a JITKernel for its source and metadata.
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable

from tilec.errors import TilecError
from tilec.ir.func import PrimFunc
from tilec.ir.printer import func_str
from tilec.language.kernel import PrimFuncDef


def _resolve_target(target: object) -> Any:
    from tilec.toolchain.arch import Target, current_device_target, parse_target

    if isinstance(target, Target):
        return target
    if target is None:
        try:
            return current_device_target()
        except Exception as e:  # no GPU or driver: say what to do
            raise TilecError("no target given and no GPU found: pass target='sm_80' (or 'sm_90', 'sm_90a', ...) to "
                             f"@tilec.jit to compile without a GPU ({e})") from None
    try:
        return parse_target(str(target))
    except ValueError as e:
        raise TilecError(f"unknown target {target!r}: {e}") from None


class JITKernel:
    """A compiled tile program.

    Attributes/methods: `prim_func` (the parsed IR), `target`, `get_kernel_source()` (CUDA C++), `metadata`,
    `cubin` (bytes), `resources` (ptxas report: registers, spill_bytes, shared_bytes, ...),
    `interpret(*numpy_arrays)` (CPU reference run), `show(after=PASS)`, and calling it runs it on the GPU.
    """

    def __init__(self, pf: PrimFuncDef, target: object = None, out_idx: object = None, options: object = None):
        from tilec.frontend import parse

        self.prim_func: PrimFunc = parse(pf)
        self.name = self.prim_func.name
        self._target_arg = target
        self._target = None
        self._options = options
        self._lock = threading.Lock()
        self._source: str | None = None
        self._metadata = None
        self._compiled = None
        self._launcher = None
        self.out_idx = self._out_idx(out_idx)
        if target is not None:
            self._lower()  # compile-time errors surface at definition when the target is known

    def _out_idx(self, out_idx: object) -> list[int]:
        if out_idx is None:
            return []
        idx = [out_idx] if isinstance(out_idx, int) else list(out_idx)  # type: ignore[arg-type]
        n = len(self.prim_func.params)
        out = []
        for i in idx:
            if not isinstance(i, int) or not -n <= i < n:
                raise TilecError(f"out_idx {i!r} is not a parameter index of {self.name} (it has {n})")
            out.append(i % n)
        return out

    @property
    def target(self) -> Any:
        if self._target is None:
            self._target = _resolve_target(self._target_arg)
        return self._target

    def lowered(self, stop_after: str | None = None) -> PrimFunc:
        from tilec.transform.pipeline import run_pipeline

        return run_pipeline(self.prim_func, self.target, stop_after)

    def _lower(self) -> None:
        with self._lock:
            if self._source is None:
                from tilec.codegen.cuda import generate_cuda

                self._source, self._metadata = generate_cuda(self.lowered(), self.target)

    def get_kernel_source(self) -> str:
        self._lower()
        return self._source  # type: ignore[return-value]

    @property
    def metadata(self) -> Any:
        self._lower()
        return self._metadata

    def show(self, after: str | None = None) -> str:
        """The IR after pass `after` ('parse', 'infer_layout', ...), or the CUDA source when after is None/'cuda'."""
        if after in (None, "cuda", "codegen"):
            return self.get_kernel_source()
        from tilec.transform.pipeline import PASS_NAMES

        if after not in PASS_NAMES:
            raise TilecError(f"unknown pass '{after}'; passes are {', '.join(PASS_NAMES)} (or 'cuda')")
        return func_str(self.lowered(after))

    def compile(self) -> Any:
        with self._lock:
            pass
        if self._compiled is None:
            from tilec.toolchain.nvcc import compile_cubin

            src = self.get_kernel_source()
            self._compiled = compile_cubin(src, self.target, name=self.name, options=self._options)
        return self._compiled

    @property
    def cubin(self) -> bytes:
        return self.compile().cubin

    @property
    def resources(self) -> dict:
        return self.compile().resources

    def interpret(self, *args: Any) -> Any:
        """Run on the CPU with numpy arrays (outputs written in place); see tilec.interp.interpret."""
        import numpy as np

        from tilec.interp import interpret
        from tilec.ir import dtypes as dt

        if self.out_idx:
            args = self._with_outputs(list(args), lambda shape, d: np.full(shape, np.nan, dt.numpy_dtype(d)))
        interpret(self.prim_func, *args)
        return self._outputs(args)

    def _with_outputs(self, args: list, alloc: Callable) -> list:
        n = len(self.prim_func.params)
        if len(args) != n - len(self.out_idx):
            raise TilecError(f"{self.name} takes {n - len(self.out_idx)} inputs (outputs {self.out_idx} are "
                             f"allocated for you), got {len(args)}")
        full: list = []
        it = iter(args)
        syms: dict = {}
        for i, p in enumerate(self.prim_func.params):
            if i in self.out_idx:
                full.append(None)
                continue
            a = next(it)
            full.append(a)
            if p.buffer is not None:
                for d, s in zip(p.buffer.shape, getattr(a, "shape", ())):
                    if not isinstance(d, int):
                        syms[d.name] = int(s)
        for i in self.out_idx:
            p = self.prim_func.params[i]
            if p.buffer is None:
                raise TilecError(f"out_idx {i} names a scalar parameter")
            shape = []
            for d in p.buffer.shape:
                if isinstance(d, int):
                    shape.append(d)
                elif d.name in syms:
                    shape.append(syms[d.name])
                else:
                    raise TilecError(f"cannot size output '{p.name}': its dim {d.name} appears in no input")
            full[i] = alloc(tuple(shape), p.buffer.dtype)
        return full

    def _outputs(self, args: Any) -> Any:
        if not self.out_idx:
            return None
        outs = [args[i] for i in self.out_idx]
        return outs[0] if len(outs) == 1 else outs

    def __call__(self, *args: Any) -> Any:
        if self._launcher is None:
            from tilec.runtime.launcher import Launcher

            self._launcher = Launcher(self.cubin, self.metadata)
        if self.out_idx:
            args = tuple(self._with_outputs(list(args), self._alloc_like(args)))
        self._launcher(*args)
        return self._outputs(args)

    def _alloc_like(self, args: tuple) -> Callable:
        import torch

        dev = next((a.device for a in args if hasattr(a, "device")), "cuda")
        table = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
                 "int32": torch.int32, "int8": torch.int8, "uint8": torch.uint8, "float64": torch.float64}
        return lambda shape, d: torch.empty(shape, dtype=table[d.name], device=dev)


def compile(pf: PrimFuncDef, target: object = None, out_idx: object = None, options: object = None) -> JITKernel:
    """Compile a @T.prim_func for `target` ("sm_80", "sm_90", "sm_90a", ...; None: the current GPU)."""
    if not isinstance(pf, PrimFuncDef):
        raise TilecError(f"tilec.compile expects a @T.prim_func, got {type(pf).__name__}")
    return JITKernel(pf, target, out_idx, options)


def jit(fn: Callable | None = None, *, target: object = None, out_idx: object = None, options: object = None,
        **ignored: object) -> Any:
    """Decorate a kernel generator (a function returning a @T.prim_func): calling it compiles (once per
    argument tuple) and returns a JITKernel. Also accepts a @T.prim_func directly."""

    def wrap(gen: Callable) -> Any:
        if isinstance(gen, PrimFuncDef):
            return JITKernel(gen, target, out_idx, options)
        cache: dict = {}

        @functools.wraps(gen)
        def make(*args: Any, **kwargs: Any) -> JITKernel:
            try:
                key: Any = (args, tuple(sorted(kwargs.items())))
                hash(key)
            except TypeError:
                key = None
            if key is not None and key in cache:
                return cache[key]
            pf = gen(*args, **kwargs)
            if not isinstance(pf, PrimFuncDef):
                raise TilecError(f"{gen.__name__} must return a @T.prim_func, got {type(pf).__name__}")
            k = JITKernel(pf, target, out_idx, options)
            if key is not None:
                cache[key] = k
            return k

        return make

    return wrap(fn) if fn is not None else wrap
