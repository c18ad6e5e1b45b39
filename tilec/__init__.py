"""tilec: a compiler for a tile-level GPU kernel language embedded in Python (the TileLang model).

`import tilec.language as T` for the language, `@tilec.jit` to compile a kernel generator.
"""
from tilec.errors import TilecCompileError, TilecError, TilecRuntimeError
from tilec.jit import JITKernel, compile, jit

__version__ = "0.1.0"

__all__ = ["JITKernel", "TilecCompileError", "TilecError", "TilecRuntimeError", "__version__", "compile", "jit"]
