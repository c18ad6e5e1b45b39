"""The tile IR: dtypes, scalar expressions, buffers/regions, statements, PrimFunc, printer, verifier.

Must not import tilec.transform, tilec.codegen, tilec.frontend or tilec.language.
"""
