"""The tile language surface (`import tilec.language as T`): TileLang's public syntax.

Each primitive is defined once, in the module of its group, next to its IR node and its rules.
Must not import tilec.transform, tilec.codegen or tilec.frontend.
"""
from tilec.language.alloc import alloc_fragment, alloc_global, alloc_local, alloc_shared, alloc_var
from tilec.language.annotate import annotate_defer_reductions, annotate_layout, annotate_persistent, annotate_pingpong, use_swizzle
from tilec.language.copy import copy
from tilec.language.fill import clear, fill
from tilec.language.gemm import GemmWarpPolicy, gemm
from tilec.language.kernel import Kernel, get_block_binding, get_thread_binding, prim_func
from tilec.language.loops import Parallel, Pipelined, serial, unroll
from tilec.language.math import (abs, cast, ceil, ceildiv, exp, exp2, floor, if_then_else, infinity, log, log2, max,
                                 min, reinterpret, rsqrt, sigmoid, sqrt, tanh)
from tilec.language.reduce import reduce_absmax, reduce_abssum, reduce_max, reduce_min, reduce_sum
from tilec.language.types import (Buffer, Tensor, bfloat16, bool_, dynamic, float8_e4m3, float8_e5m2, float16,
                                  float32, float64, int4, int8, int16, int32, int64, symbolic, uint4, uint8, uint16,
                                  uint32, uint64)

__all__ = [
    "Buffer", "GemmWarpPolicy", "Kernel", "Parallel", "Pipelined", "Tensor", "abs", "alloc_fragment",
    "alloc_global", "alloc_local", "alloc_shared", "alloc_var", "annotate_defer_reductions", "annotate_layout", "annotate_persistent", "annotate_pingpong", "bfloat16", "bool_", "cast",
    "ceil", "ceildiv", "clear", "copy", "dynamic", "exp", "exp2", "fill", "float16", "float32", "float64",
    "float8_e4m3", "float8_e5m2", "floor", "gemm", "get_block_binding", "get_thread_binding", "if_then_else",
    "infinity", "int4", "int8", "int16", "int32", "int64", "log", "log2", "max", "min", "prim_func",
    "reduce_absmax", "reduce_abssum", "reduce_max", "reduce_min", "reduce_sum", "reinterpret", "rsqrt", "serial",
    "sigmoid", "sqrt", "symbolic", "tanh", "uint4", "uint8", "uint16", "uint32", "uint64", "unroll", "use_swizzle",
]
