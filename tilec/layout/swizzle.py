"""CuTe's Swizzle<B,M,S> bit-permutation functor, swizzled (composed) layouts, and the shared-memory tile layout."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tilec.layout.layout import IntTuple, Layout, Tiler, composition


@dataclass(frozen=True)
class Swizzle:
    """CuTe's `Swizzle<B, M, S>`: XOR B bits taken S positions above bit M into the B bits at M.

    ::

        0bxxxxxxxxxxxxxxxYYYxxxxxxxZZZxxxx
                                      ^--^  base M: least-significant bits kept as they are (a 2^M-element vector)
                         ^-^       ^-^      bits B: width of the mask
                           ^---------^      shift S: distance from ZZZ up to YYY (negative: YYY is below ZZZ)

        f(off) = off ^ ((off & yyy_mask) >> S)   with yyy_mask = ((1 << B) - 1) << (M + max(0, S))

    Because |S| >= B the YYY and ZZZ fields do not overlap, so f only changes ZZZ based on YYY, which it leaves
    alone: f is an involution, hence a bijection on every aligned block of 2^(M + max(0,S) + B) offsets.
    """

    bits: int
    base: int
    shift: int

    def __post_init__(self) -> None:
        for name in ("bits", "base", "shift"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"Swizzle: {name} must be an int, found {v!r}")
        if self.bits < 0 or self.base < 0:
            raise ValueError(f"Swizzle: bits and base must be >= 0, found bits={self.bits} base={self.base}")
        if abs(self.shift) < self.bits:
            raise ValueError(f"Swizzle: |shift| must be >= bits so the masks do not overlap, found "
                             f"bits={self.bits} shift={self.shift}")

    @property
    def yyy_mask(self) -> int:
        """The bits that are read (and kept)."""
        return ((1 << self.bits) - 1) << (self.base + max(0, self.shift))

    @property
    def zzz_mask(self) -> int:
        """The bits that are flipped."""
        return ((1 << self.bits) - 1) << (self.base - min(0, self.shift))

    def __call__(self, offset: int) -> int:
        """Swizzle one non-negative offset."""
        if offset < 0:
            raise ValueError(f"Swizzle: offset must be >= 0, found {offset}")
        y = offset & self.yyy_mask
        return offset ^ (y >> self.shift if self.shift >= 0 else y << -self.shift)

    def apply(self, offsets: np.ndarray) -> np.ndarray:
        """Vectorised `__call__` (int64)."""
        off = np.asarray(offsets, dtype=np.int64)
        y = off & self.yyy_mask
        return off ^ (y >> self.shift if self.shift >= 0 else y << -self.shift)

    def __str__(self) -> str:
        return f"SW_{self.bits}_{self.base}_{self.shift}"

    def mangle(self) -> str:
        """A deterministic identifier-safe name (negative shifts as `m3`)."""
        return str(self).replace("-", "m")


@dataclass(frozen=True)
class ComposedLayout:
    """`f(c) = swizzle(offset + layout(c))`: a layout whose offsets are then swizzled (CuTe's ComposedLayout)."""

    swizzle: Swizzle
    offset: int
    layout: Layout

    def __post_init__(self) -> None:
        if not isinstance(self.swizzle, Swizzle) or not isinstance(self.layout, Layout):
            raise TypeError(f"ComposedLayout: expected (Swizzle, int, Layout), found "
                            f"({type(self.swizzle).__name__}, {type(self.offset).__name__}, "
                            f"{type(self.layout).__name__})")
        if isinstance(self.offset, bool) or not isinstance(self.offset, int) or self.offset < 0:
            raise ValueError(f"ComposedLayout: offset must be an int >= 0, found {self.offset!r}")

    @property
    def shape(self) -> IntTuple:
        """The inner layout's shape (the domain)."""
        return self.layout.shape

    def size(self) -> int:
        """Number of coordinates."""
        return self.layout.size()

    def rank(self) -> int:
        """Number of top-level modes."""
        return self.layout.rank()

    def cosize(self) -> int:
        """One past the largest swizzled offset (found by enumeration: O(size))."""
        return int(self.apply(np.arange(self.size())).max()) + 1

    def __call__(self, *coord: IntTuple) -> int:
        """Swizzled offset of a coordinate (same coordinate forms as `Layout.__call__`)."""
        return self.swizzle(self.offset + self.layout(*coord))

    def apply(self, indices: np.ndarray) -> np.ndarray:
        """Vectorised `f(i)` for flat 1-D coordinates."""
        return self.swizzle.apply(self.offset + self.layout.apply(indices))

    def offsets(self, *coords: np.ndarray) -> np.ndarray:
        """Vectorised `f(c_0, ..., c_{r-1})` with one broadcastable array of 1-D coordinates per mode."""
        return self.swizzle.apply(self.offset + self.layout.offsets(*coords))

    def compose(self, tiler: Tiler) -> ComposedLayout:
        """`self o tiler`: the swizzle stays outermost, so only the inner layout is composed (e.g. to take a tile)."""
        return ComposedLayout(self.swizzle, self.offset, composition(self.layout, tiler))

    def __str__(self) -> str:
        return f"{self.swizzle} o {self.offset} o {self.layout}"

    def __repr__(self) -> str:
        return f"ComposedLayout({self})"

    def mangle(self) -> str:
        """A deterministic identifier-safe name."""
        return f"{self.swizzle.mangle()}_o{self.offset}_{self.layout.mangle()}"


# Shared memory: 32 banks of 4 bytes, so one 128-byte line covers every bank once; a 16-byte access is a
# "chunk" of 4 banks, and an ldmatrix phase (or a warp quarter of 16-byte vector accesses) issues 8 of them.
_CHUNK_BYTES = 16
_LINE_BYTES = 128
_BANKS = 32
_BANK_BYTES = 4


def make_smem_tile_layout(rows: int, cols: int, elem_bytes: int) -> ComposedLayout | Layout:
    """The shared-memory layout of a row-major `rows x cols` tile (the C++ side, `smem.cuh`, implements the same).

    The tile is swizzled on 16-byte chunks so that 8 consecutive rows read at the same column chunk (an ldmatrix
    phase, or 16-byte vector copies) hit 8 different chunks of the 128-byte bank line. With
    `vec = 16 // elem_bytes`, `M = log2(vec)` and `row_bytes = cols * elem_bytes`:

    - `row_bytes % 128 == 0`: columns are split into panels of `P = 128 // elem_bytes` elements stored one after
      another, `offset = (col // P) * rows * P + row * P + col % P`, then `Swizzle(3, M, 3)` (chunk ^= row % 8).
    - `row_bytes == 64`: `offset = row * cols + col`, then `Swizzle(2, M, 3)`.
    - `row_bytes == 32`: `offset = row * cols + col`, then `Swizzle(1, M, 3)`.
    - otherwise: plain row-major `row * cols + col` (a plain `Layout`).

    Coordinates are `(row, col)`; the result is a bijection onto `[0, rows * cols)`.

    Args:
        rows: tile rows (> 0).
        cols: tile columns (> 0).
        elem_bytes: bytes per element, one of 1, 2, 4, 8, 16.

    Raises:
        ValueError: bad sizes or element width.
    """
    for name, v in (("rows", rows), ("cols", cols)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"make_smem_tile_layout: {name} must be a positive int, found {v!r}")
    if elem_bytes not in (1, 2, 4, 8, 16):
        raise ValueError(f"make_smem_tile_layout: elem_bytes must be 1, 2, 4, 8 or 16, found {elem_bytes}")
    vec = _CHUNK_BYTES // elem_bytes
    m = vec.bit_length() - 1
    row_bytes = cols * elem_bytes
    if row_bytes % _LINE_BYTES == 0:
        p = _LINE_BYTES // elem_bytes
        panels = cols // p
        # The column mode is (col % P, col // P): colexicographic, so a plain col index selects the panel.
        inner = Layout((rows, p), (p, 1)) if panels == 1 else Layout((rows, (p, panels)), (p, (1, rows * p)))
        return ComposedLayout(Swizzle(3, m, 3), 0, inner)
    plain = Layout((rows, cols), (cols, 1))
    if row_bytes == 64:
        return ComposedLayout(Swizzle(2, m, 3), 0, plain)
    if row_bytes == 32:
        return ComposedLayout(Swizzle(1, m, 3), 0, plain)
    return plain


def swizzle_bank_conflicts(layout: ComposedLayout | Layout, rows: int, cols: int, elem_bytes: int) -> int:
    """Worst bank-conflict degree of 16-byte accesses by 8 consecutive rows at one column chunk.

    For every row group `[row0, row0 + 8)` (`row0 % 8 == 0`) and every 16-byte column chunk, the 8 rows' accesses
    are issued together (one ldmatrix phase). Each bank serves one distinct 4-byte word per cycle, so the degree
    is the largest number of distinct words any bank must serve (same-word accesses broadcast). 8 chunks that
    cover the 32 banks exactly once give 1 (conflict-free); an unswizzled 128-byte-row tile gives 8.

    Args:
        layout: the tile layout in elements, called with `(row, col)`; must have vectorised `offsets(rows, cols)`.
        rows: tile rows.
        cols: tile columns.
        elem_bytes: bytes per element.

    Returns:
        The worst-case number of ways (>= 1).
    """
    width = min(max(1, _CHUNK_BYTES // elem_bytes), cols)
    words_per_elem = max(1, elem_bytes // _BANK_BYTES)
    worst = 1
    for row0 in range(0, rows, 8):
        r = np.arange(row0, min(row0 + 8, rows))[:, None]
        for col0 in range(0, cols, width):
            c = np.arange(col0, min(col0 + width, cols))[None, :]
            byte = layout.offsets(r, c) * elem_bytes
            words = np.unique((byte[..., None] // _BANK_BYTES + np.arange(words_per_elem)).ravel())
            worst = max(worst, int(np.bincount(words % _BANKS, minlength=_BANKS).max()))
    return worst
