"""Numpy reference interpreter of tile programs: the executable definition of the language's semantics.

Runs one block at a time, tile ops as numpy operations (float32 accumulation), T.Parallel bodies
vectorised over their iteration space. Must not import tilec.transform or tilec.codegen.
"""
from tilec.interp.interpreter import interpret

__all__ = ["interpret"]
