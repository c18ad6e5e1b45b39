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
    from tilec.ir.expr import Expr

    if isinstance(off, Expr):
        # Terms that are multiples of 2^(base+shift+bits) do not touch the bits the swizzle reads or flips:
        # take them outside, so offsets of a thread's chunks differ by constants (hoistable base + immediates).
        low, high = _split_high(off, 1 << (base + shift + bits))
        if high is not None:
            return (low ^ ((low & mask) >> shift)) + high
    return off ^ ((off & mask) >> shift)


def _split_high(off: object, p: int) -> tuple:
    from tilec.ir.simplify import _rebuild, linear_form, simplify

    atoms: dict = {}
    e = simplify(off)
    f = linear_form(e, atoms)
    if f is None:
        return off, None
    high = {k: v for k, v in f.items() if v % p == 0}
    if not high:
        return off, None
    low = {k: v for k, v in f.items() if v % p != 0}
    from tilec.ir.expr import Const

    low_e = _rebuild(low, atoms, e.dtype) if low else Const(0, e.dtype)
    return low_e, _rebuild(high, atoms, e.dtype)


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
