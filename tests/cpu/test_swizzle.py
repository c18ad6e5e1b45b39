"""Tests of swizzles, composed layouts and the shared-memory tile layout (tilec/layout/swizzle.py)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tilec.layout import ComposedLayout, Layout, Swizzle, make_smem_tile_layout
from tilec.layout.layout import draw, make_row_major
from tilec.layout.swizzle import swizzle_bank_conflicts

PROPERTY = settings(max_examples=40, deadline=None)


@st.composite
def swizzles(draw_):
    bits = draw_(st.integers(0, 4))
    shift = draw_(st.integers(bits, 6)) * draw_(st.sampled_from([1, -1]))
    if shift == 0 and bits > 0:
        shift = bits
    return Swizzle(bits, draw_(st.integers(0, 4)), shift)


def reference_smem_offset(row: int, col: int, rows: int, cols: int, elem_bytes: int) -> int:
    """The spec of make_smem_tile_layout written out with plain integers (what smem.cuh implements)."""
    vec = 16 // elem_bytes
    m = vec.bit_length() - 1
    row_bytes = cols * elem_bytes
    if row_bytes % 128 == 0:
        p = 128 // elem_bytes
        off, bits = (col // p) * (rows * p) + row * p + col % p, 3
    elif row_bytes in (64, 32):
        off, bits = row * cols + col, 2 if row_bytes == 64 else 1
    else:
        return row * cols + col
    yyy = ((1 << bits) - 1) << (m + 3)
    return off ^ ((off & yyy) >> 3)


# The 16-bit and 32-bit tiles the compiler uses, with row_bytes 128 or more, 64, and 32.
CONFLICT_FREE = [(64, 32, 2), (128, 32, 2), (64, 64, 2), (128, 64, 2), (64, 128, 2), (128, 256, 2), (32, 16, 4),
                 (64, 32, 4), (64, 16, 2), (128, 16, 2), (32, 8, 4), (64, 64, 1), (64, 128, 1), (32, 32, 1),
                 (64, 16, 8), (16, 8, 16)]


# ---------------------------------------------------------------------------------------------------------------------
# Swizzle
# ---------------------------------------------------------------------------------------------------------------------


def test_swizzle_golden():
    sw = Swizzle(3, 4, 3)
    assert str(sw) == "SW_3_4_3" and sw.mangle() == "SW_3_4_3"
    assert sw.yyy_mask == 0b1110000000 and sw.zzz_mask == 0b0001110000
    assert sw(0x380) == 0x3F0 and sw(0x3F0) == 0x380
    assert sw(0x7F) == 0x7F  # nothing set in YYY: unchanged
    assert Swizzle(0, 4, 3)(12345) == 12345
    neg = Swizzle(2, 0, -3)
    assert str(neg) == "SW_2_0_-3" and neg.mangle() == "SW_2_0_m3"
    assert neg.yyy_mask == 0b00011 and neg.zzz_mask == 0b11000 and neg(0b00011) == 0b11011


def test_swizzle_validation():
    with pytest.raises(ValueError):
        Swizzle(3, 4, 2)  # masks would overlap
    with pytest.raises(ValueError):
        Swizzle(-1, 0, 3)
    with pytest.raises(TypeError):
        Swizzle(3, 4.0, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Swizzle(3, 4, 3)(-1)
    assert hash(Swizzle(3, 4, 3)) == hash(Swizzle(3, 4, 3))


@PROPERTY
@given(swizzles())
def test_swizzle_involution_and_bijection(sw):
    # Every aligned block of 2^(M + |S| + B) offsets maps onto itself.
    block = 1 << (sw.base + abs(sw.shift) + sw.bits)
    x = np.arange(3 * block)
    y = sw.apply(x)
    assert np.array_equal(sw.apply(y), x)
    for k in range(3):
        assert sorted(y[k * block:(k + 1) * block].tolist()) == list(range(k * block, (k + 1) * block))
    assert y[:64].tolist() == [sw(int(i)) for i in x[:64]]
    assert np.array_equal(y & ((1 << sw.base) - 1), x & ((1 << sw.base) - 1))  # the 2^M-element vectors stay put


# ---------------------------------------------------------------------------------------------------------------------
# ComposedLayout
# ---------------------------------------------------------------------------------------------------------------------


def test_composed_layout_golden():
    cl = ComposedLayout(Swizzle(3, 4, 3), 0, make_row_major((64, 64)))
    assert str(cl) == "SW_3_4_3 o 0 o (64,64):(64,1)"
    assert repr(cl) == "ComposedLayout(SW_3_4_3 o 0 o (64,64):(64,1))"
    assert cl.mangle() == "SW_3_4_3_o0_l64_64rsl64_1r"
    assert cl.shape == (64, 64) and cl.size() == 4096 and cl.rank() == 2 and cl.cosize() == 4096
    assert cl(1, 16) == Swizzle(3, 4, 3)(80) == cl((1, 16)) == cl(1 + 64 * 16)
    with pytest.raises(TypeError):
        ComposedLayout(Layout(4), 0, Layout(4))  # type: ignore[arg-type]


@PROPERTY
@given(swizzles(), st.integers(0, 64), st.sampled_from([(8, 16), (16, 8), (4, 32), (32, 32)]), st.booleans())
def test_composed_layout_matches_definition(sw, offset, shape, row_major):
    inner = make_row_major(shape) if row_major else Layout(shape)
    cl = ComposedLayout(sw, offset, inner)
    n = inner.size()
    assert cl.apply(np.arange(n)).tolist() == [sw(offset + inner(i)) for i in range(n)]
    r, c = np.arange(shape[0])[:, None], np.arange(shape[1])[None, :]
    assert cl.offsets(r, c).tolist() == [[cl(i, j) for j in range(shape[1])] for i in range(shape[0])]
    tile = cl.compose((Layout(4, 2), None))  # every other row of the first 8
    assert [tile(i, j) for i in range(4) for j in range(3)] == [cl(2 * i, j) for i in range(4) for j in range(3)]


# ---------------------------------------------------------------------------------------------------------------------
# make_smem_tile_layout
# ---------------------------------------------------------------------------------------------------------------------


def test_smem_layout_golden():
    assert str(make_smem_tile_layout(64, 64, 2)) == "SW_3_3_3 o 0 o (64,64):(64,1)"
    assert str(make_smem_tile_layout(64, 128, 2)) == "SW_3_3_3 o 0 o (64,(64,2)):(64,(1,4096))"
    assert str(make_smem_tile_layout(128, 32, 4)) == "SW_3_2_3 o 0 o (128,32):(32,1)"
    assert str(make_smem_tile_layout(64, 32, 2)) == "SW_2_3_3 o 0 o (64,32):(32,1)"
    assert str(make_smem_tile_layout(64, 16, 2)) == "SW_1_3_3 o 0 o (64,16):(16,1)"
    plain = make_smem_tile_layout(64, 8, 2)  # 16-byte rows: 8 rows already fill the 32 banks
    assert isinstance(plain, Layout) and str(plain) == "(64,8):(8,1)"
    assert isinstance(make_smem_tile_layout(32, 48, 2), Layout)  # 96-byte rows: not swizzled
    with pytest.raises(ValueError):
        make_smem_tile_layout(64, 64, 3)
    with pytest.raises(ValueError):
        make_smem_tile_layout(0, 64, 2)


def test_smem_layout_draw():
    # 32-byte rows of fp16 (2 chunks): rows 4..7 of each 8 swap their two chunks.
    lines = draw(make_smem_tile_layout(8, 16, 2)).splitlines()
    assert lines[0] == "SW_1_3_3 o 0 o (8,16):(16,1)"
    assert lines[3].split("|")[1:3] == ["   0 ", "   1 "]
    assert lines[11].split("|")[1:3] == ["  72 ", "  73 "]  # row 4, cols 0-1 -> chunk 1 of row 4


@pytest.mark.parametrize("rows,cols,elem_bytes", CONFLICT_FREE + [(64, 8, 2), (64, 48, 2), (16, 4, 2), (8, 256, 4)])
def test_smem_layout_follows_spec_and_is_bijective(rows, cols, elem_bytes):
    lay = make_smem_tile_layout(rows, cols, elem_bytes)
    r, c = np.arange(rows)[:, None], np.arange(cols)[None, :]
    offs = lay.offsets(r, c)
    assert sorted(offs.ravel().tolist()) == list(range(rows * cols))
    assert lay.cosize() == rows * cols
    for i, j in [(0, 0), (1, 0), (7, cols - 1), (rows - 1, cols // 2), (rows // 2, cols - 1), (rows - 1, cols - 1)]:
        assert lay((i, j)) == offs[i, j] == reference_smem_offset(i, j, rows, cols, elem_bytes)
    ref = np.array([[reference_smem_offset(i, j, rows, cols, elem_bytes) for j in range(cols)] for i in range(rows)])
    assert np.array_equal(offs, ref)


@pytest.mark.parametrize("rows,cols,elem_bytes", CONFLICT_FREE)
def test_smem_layout_is_conflict_free(rows, cols, elem_bytes):
    assert swizzle_bank_conflicts(make_smem_tile_layout(rows, cols, elem_bytes), rows, cols, elem_bytes) == 1


@PROPERTY
@given(st.sampled_from([8, 16, 24, 64, 72]), st.integers(0, 4), st.sampled_from([1, 2, 4, 8]))
def test_smem_layout_bijective_random(rows, log_cols, elem_bytes):
    cols = (1 << log_cols) * (128 // elem_bytes) // 4  # 32-byte to 512-byte rows
    lay = make_smem_tile_layout(rows, cols, elem_bytes)
    offs = lay.offsets(np.arange(rows)[:, None], np.arange(cols)[None, :])
    assert sorted(offs.ravel().tolist()) == list(range(rows * cols))
    if rows % 8 == 0:
        assert swizzle_bank_conflicts(lay, rows, cols, elem_bytes) == 1


def test_bank_conflict_counter():
    # Unswizzled row-major tiles: 8 rows of 128 bytes land in the same 4 banks (8-way); 64-byte rows put two
    # rows in each line (4-way); 96-byte rows repeat every 4 rows (2-way).
    assert swizzle_bank_conflicts(make_row_major((64, 64)), 64, 64, 2) == 8
    assert swizzle_bank_conflicts(make_row_major((64, 32)), 64, 32, 2) == 4
    assert swizzle_bank_conflicts(make_row_major((64, 48)), 64, 48, 2) == 2
    assert swizzle_bank_conflicts(make_row_major((64, 8)), 64, 8, 2) == 1
    # The 64-byte swizzle is not enough for 128-byte rows.
    too_weak = ComposedLayout(Swizzle(2, 3, 3), 0, make_row_major((64, 64)))
    assert swizzle_bank_conflicts(too_weak, 64, 64, 2) == 2
