"""Compiler passes, one module each, IR -> IR with documented pre/post-conditions; pipeline.py orders them.

Must not import tilec.frontend or tilec.codegen.
"""
