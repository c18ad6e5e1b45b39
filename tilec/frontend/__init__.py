"""Front end: Python AST of a @T.prim_func -> tile IR (PrimFunc), with errors located at the user's source.

Must not import tilec.transform or tilec.codegen.
"""
from tilec.frontend.parser import parse

__all__ = ["parse"]
