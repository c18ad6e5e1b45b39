"""The catalogue's GEMM tile program (kernels/gemm.py), with the tests' historical fp16 output default."""
from kernels.gemm import matmul as _matmul


def matmul(*args, out_dtype="float16", **kwargs):
    return _matmul(*args, out_dtype=out_dtype, **kwargs)
