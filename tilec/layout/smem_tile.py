"""The shared-memory tile layout of the sm80 path as index arithmetic (works on ints, numpy arrays, IR).

Same formula as `tilec/include/tilec/smem.cuh::SmemTile` and `swizzle.make_smem_tile_layout`: a
row-major rows x cols tile, swizzled on 16-byte chunks (CuTe Swizzle<B, log2(vec), 3>) so that 8
consecutive rows at one chunk column hit 8 different bank groups (conflict-free ldmatrix); rows of
128 bytes or more are split into 128-byte panels stored one after another.
"""
from __future__ import annotations


def _log2(x: int) -> int:
    return x.bit_length() - 1


def _swz(off: object, bits: int, base: int, shift: int) -> object:
    mask = ((1 << bits) - 1) << (base + shift)
    return off ^ ((off & mask) >> shift)


def smem_tile_offset(row: object, col: object, rows: int, cols: int, elem_bytes: int) -> object:
    """Element offset of (row, col) in a rows x cols tile of elem_bytes-byte elements."""
    vec = 16 // elem_bytes if elem_bytes <= 16 else 1
    m = _log2(vec)
    row_bytes = cols * elem_bytes
    if row_bytes % 128 == 0:
        p = 128 // elem_bytes
        off = (col // p) * (rows * p) + row * p + col % p
        return _swz(off, 3, m, 3)
    off = row * cols + col
    if row_bytes == 64:
        return _swz(off, 2, m, 3)
    if row_bytes == 32:
        return _swz(off, 1, m, 3)
    return off


def is_swizzled(cols: int, elem_bytes: int) -> bool:
    rb = cols * elem_bytes
    return rb % 128 == 0 or rb in (32, 64)
