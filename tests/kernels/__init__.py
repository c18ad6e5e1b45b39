"""Tile-language kernels used by the tests (GEMM, softmax, attention)."""
