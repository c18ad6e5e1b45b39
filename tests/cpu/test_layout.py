"""Property and golden tests of the shape:stride layout algebra (tilec/layout/layout.py)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tilec.layout.layout import (
    Layout,
    blocked_product,
    coalesce,
    complement,
    composition,
    cosize,
    crd2idx,
    depth,
    draw,
    flatten,
    flatten_tuple,
    idx2crd,
    left_inverse,
    logical_divide,
    logical_product,
    make_layout,
    make_row_major,
    raked_product,
    rank,
    right_inverse,
    size,
    tiled_divide,
    zipped_divide,
)

# Small example counts: every property enumerates whole layouts (up to a few hundred points) per example.
PROPERTY = settings(max_examples=40, deadline=None)


# ---------------------------------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------------------------------


@st.composite
def shapes(draw_, max_size: int = 256, pow2: bool = False):
    """A shape of rank 1-3 with optional nested modes, product <= max_size."""
    budget = max_size

    def leaf() -> int:
        nonlocal budget
        if pow2:
            s = 2 ** draw_(st.integers(0, budget.bit_length() - 1))
        else:
            s = draw_(st.integers(1, max(1, min(budget, 16))))
        budget //= s
        return s

    modes = []
    for _ in range(draw_(st.integers(1, 3))):
        if draw_(st.booleans()):
            modes.append(tuple(leaf() for _ in range(draw_(st.integers(1, 3)))))
        else:
            modes.append(leaf())
    if len(modes) == 1 and not isinstance(modes[0], tuple) and draw_(st.booleans()):
        return modes[0]
    return tuple(modes)


def _strides_like(draw_, shape, elem):
    if isinstance(shape, tuple):
        return tuple(_strides_like(draw_, s, elem) for s in shape)
    return draw_(elem)


@st.composite
def layouts(draw_, max_size: int = 256, pow2: bool = False, pow2_strides: bool = False):
    """A random layout: random (nested) shape, random strides (0 allowed)."""
    shape = draw_(shapes(max_size, pow2))
    elem = st.sampled_from([0, 1, 2, 4, 8, 16, 32]) if pow2_strides else st.integers(0, 40)
    return Layout(shape, _strides_like(draw_, shape, elem))


@st.composite
def complementable(draw_, max_extent: int = 256, pow2: bool = False):
    """An injective layout whose sorted strides leave fillable gaps: stride_k = gap * extent of the smaller modes."""
    modes, current = [], 1
    for _ in range(draw_(st.integers(1, 3))):
        gap = draw_(st.sampled_from([1, 2, 4]) if pow2 else st.integers(1, 4))
        room = max_extent // (current * gap)
        if room < 1:
            break
        s = 2 ** draw_(st.integers(0, room.bit_length() - 1)) if pow2 else draw_(st.integers(1, min(room, 12)))
        modes.append((s, current * gap))
        current *= gap * s
    if not modes:
        modes = [(1, 1)]
    modes = draw_(st.permutations(modes))
    shape, stride = tuple(m[0] for m in modes), tuple(m[1] for m in modes)
    if len(modes) >= 2 and draw_(st.booleans()):  # nest the first two modes to exercise hierarchy
        shape, stride = ((shape[0], shape[1]),) + shape[2:], ((stride[0], stride[1]),) + stride[2:]
    if len(modes) == 1:
        shape, stride = shape[0], stride[0]
    return Layout(shape, stride)


@st.composite
def pow2_tilers(draw_, max_extent: int = 256):
    """An injective power-of-two layout (modes on disjoint bit ranges), maybe with a broadcast (stride-0) mode.

    For a B of several modes composition is by mode, (A o B0, A o B1, ...), which equals A o B only when B's modes
    address disjoint coordinates of A (as in CuTe, unchecked); disjoint bit ranges guarantee that for
    power-of-two A.
    """
    b = draw_(complementable(max_extent, pow2=True))
    if draw_(st.booleans()):
        b = make_layout(b, Layout(draw_(st.sampled_from([1, 2, 4])), 0))
    return b


def table(layout: Layout, n: int | None = None) -> list[int]:
    """layout(i) for i < n (default size), evaluated one by one through __call__."""
    return [layout(i) for i in range(layout.size() if n is None else n)]


# ---------------------------------------------------------------------------------------------------------------------
# Construction, printing, evaluation
# ---------------------------------------------------------------------------------------------------------------------


def test_str_golden():
    assert str(Layout((4, 8), (8, 1))) == "(4,8):(8,1)"
    assert str(Layout((4, 8))) == "(4,8):(1,4)"
    assert str(Layout(((2, 4), 8))) == "((2,4),8):((1,2),8)"
    assert str(make_row_major((4, 8))) == "(4,8):(8,1)"
    assert str(make_row_major(((2, 4), 8))) == "((2,4),8):((32,8),1)"
    assert str(Layout(8)) == "8:1"
    assert str(Layout((4,))) == "(4):(1)"
    assert repr(Layout(8, 2)) == "Layout(8:2)"
    assert Layout((4, 8), (8, 1)).mangle() == "l4_8rsl8_1r"


def test_validation():
    with pytest.raises(ValueError):
        Layout((4, 0))
    with pytest.raises(ValueError):
        Layout((4, 8), (1, -1))
    with pytest.raises(ValueError):
        Layout((4, 8), ((1, 2), 4))
    with pytest.raises(ValueError):
        Layout((4, 8), 1)
    with pytest.raises(TypeError):
        Layout((4, True))
    with pytest.raises(TypeError):
        Layout(4.0)
    with pytest.raises(ValueError):
        Layout(())


def test_frozen_hashable_normalized():
    a = Layout((np.int64(4), 8), [8, np.int32(1)])
    b = Layout((4, 8), (8, 1))
    assert a == b and hash(a) == hash(b) and type(a.shape[0]) is int
    assert {a: 1}[b] == 1
    with pytest.raises(AttributeError):
        a.shape = 3  # type: ignore[misc]


def test_queries():
    lay = Layout(((2, 4), 8), ((1, 16), 2))
    assert (lay.size(), lay.rank(), lay.depth(), len(lay)) == (64, 2, 2, 2)
    assert (size(lay), rank(lay), depth(lay), cosize(lay)) == (64, 2, 2, 1 + 1 + 48 + 14)
    assert size(((2, 3), 4)) == 24 and rank(((2, 3), 4)) == 2 and depth(5) == 0
    assert lay[0] == Layout((2, 4), (1, 16)) and lay[1] == Layout(8, 2) and lay[-1] == lay[1]
    assert list(lay) == [lay[0], lay[1]]
    assert Layout(8, 2)[0] == Layout(8, 2)
    assert flatten(lay) == Layout((2, 4, 8), (1, 16, 2))
    assert flatten(((2, 3), 4)) == (2, 3, 4)


def test_call_forms():
    lay = Layout(((2, 4), 8), ((1, 16), 2))
    assert lay(((1, 2), 3)) == 1 + 32 + 6
    assert lay((5, 3)) == lay(((1, 2), 3)) == lay(5, 3)  # int 5 in mode 0 is its colexicographic coordinate (1, 2)
    assert lay(5 + 8 * 3) == lay(5, 3)
    assert Layout(4, 3)(10) == 30  # the last mode is unbounded, as in CuTe
    assert Layout((2, 3), (1, 2))(7) == 1 + 2 * 3
    with pytest.raises(ValueError):
        lay((1, 2, 3))
    with pytest.raises(ValueError):
        lay(-1)
    with pytest.raises(TypeError):
        lay()


@PROPERTY
@given(layouts())
def test_apply_matches_call(lay):
    n = lay.size() + 5
    assert lay.apply(np.arange(n)).tolist() == table(lay, n)
    assert lay.apply(np.arange(lay.size()).reshape(-1, 1)).shape == (lay.size(), 1)
    if lay.rank() == 2:
        i, j = np.arange(lay[0].size())[:, None], np.arange(lay[1].size())[None, :]
        expect = [[lay(a, b) for b in range(lay[1].size())] for a in range(lay[0].size())]
        assert lay.offsets(i, j).tolist() == expect


@PROPERTY
@given(layouts())
def test_idx2crd_crd2idx_round_trip(lay):
    for i in range(lay.size()):
        crd = idx2crd(i, lay.shape)
        assert crd2idx(crd, lay.shape) == i
        assert lay(crd) == lay(i) == crd2idx(crd, lay.shape, lay.stride)


def test_draw_golden():
    assert draw(Layout((2, 3), (3, 1))) == "\n".join([
        "(2,3):(3,1)",
        "    0   1   2",
        "  +---+---+---+",
        "0 | 0 | 1 | 2 |",
        "  +---+---+---+",
        "1 | 3 | 4 | 5 |",
        "  +---+---+---+",
    ])
    with pytest.raises(ValueError):
        draw(Layout(8))


# ---------------------------------------------------------------------------------------------------------------------
# coalesce
# ---------------------------------------------------------------------------------------------------------------------


@PROPERTY
@given(layouts())
def test_coalesce_preserves_function(lay):
    c = coalesce(lay)
    assert c.size() == lay.size() and c.depth() <= 1
    assert table(c) == table(lay)
    assert coalesce(c) == c
    if lay.rank() >= 2:
        byp = coalesce(lay, (1,) * lay.rank())
        assert byp.rank() == lay.rank() and table(byp) == table(lay)


def test_coalesce_golden():
    assert coalesce(Layout((2, (1, 6)), (1, (6, 2)))) == Layout(12, 1)
    assert coalesce(Layout((4, 8), (8, 1))) == Layout((4, 8), (8, 1))
    assert coalesce(Layout((1, 1), (3, 5))) == Layout(1, 0)
    assert coalesce(Layout(((2, 2), (4, 2)), ((1, 2), (8, 64))), (1, 1)) == Layout((4, (4, 2)), (1, (8, 64)))


# ---------------------------------------------------------------------------------------------------------------------
# composition
# ---------------------------------------------------------------------------------------------------------------------


def test_composition_golden():
    # Examples from CuTe's layout algebra documentation.
    assert composition(Layout((6, 2), (8, 2)), Layout((4, 3), (3, 1))) == Layout(((2, 2), 3), ((24, 2), 8))
    assert composition(Layout((20, 2), (16, 4)), Layout((4, 5), (1, 4))) == Layout((4, 5), (16, 64))
    assert composition(Layout((4, 8), (8, 1)), 4) == Layout(4, 8)
    assert composition(Layout((4, 8), (8, 1)), Layout(8, 0)) == Layout(8, 0)
    # By-mode: (12,(4,8)):(59,(13,1)) o <3:4, 8:2>
    assert composition(Layout((12, (4, 8)), (59, (13, 1))), (Layout(3, 4), Layout(8, 2))) == \
        Layout((3, (2, 4)), (236, (26, 1)))
    assert composition(Layout((4, 8), (8, 1)), (None, Layout(2, 2))) == Layout((4, 2), (8, 2))


def test_composition_inadmissible_raises():
    with pytest.raises(ValueError):
        composition(Layout((4, 6), (1, 10)), Layout(3, 3))  # stride 3 vs mode of size 4
    with pytest.raises(ValueError):
        composition(Layout((4, 6), (1, 10)), Layout(6, 1))  # 6 elements are not whole passes of 4
    with pytest.raises(ValueError):
        composition(Layout(8), (Layout(2), Layout(2)))  # tiler rank > layout rank


@PROPERTY
@given(layouts(pow2=True), pow2_tilers())
def test_composition_pow2(a, b):
    # Power-of-two shapes and strides always satisfy the divisibility conditions.
    r = composition(a, b)
    assert r.size() == b.size()
    assert table(r) == [a(b(i)) for i in range(b.size())]
    if isinstance(b.shape, tuple):
        assert r.rank() == b.rank()


@PROPERTY
@given(layouts(), st.integers(1, 64), st.integers(0, 40))
def test_composition_1d_sound_or_raises(a, s, d):
    # A one-mode B has no by-mode caveat: the result is either exactly A o B or a ValueError.
    b = Layout(s, d)
    try:
        r = composition(a, b)
    except ValueError:
        return
    assert r.size() == b.size()
    assert table(r) == [a(b(i)) for i in range(b.size())]


@PROPERTY
@given(st.tuples(shapes(max_size=16, pow2=True), shapes(max_size=16, pow2=True)),
       pow2_tilers(max_extent=32), pow2_tilers(max_extent=32))
def test_composition_by_mode(shape, b0, b1):
    a = make_row_major(shape)
    r = composition(a, (b0, b1))
    assert r[0] == composition(a[0], b0) and r[1] == composition(a[1], b1)
    for i in range(b0.size()):
        for j in range(b1.size()):
            assert r(i, j) == a(b0(i), b1(j))


# ---------------------------------------------------------------------------------------------------------------------
# complement and inverses
# ---------------------------------------------------------------------------------------------------------------------


def test_complement_golden():
    assert complement(Layout(4, 1), 24) == Layout(6, 4)
    assert complement(Layout(6, 4), 24) == Layout(4, 1)
    assert complement(Layout((4, 6), (1, 4)), 24) == Layout(1, 0)
    assert complement(Layout((2, 2), (1, 6)), 24) == Layout((3, 2), (2, 12))
    assert complement(Layout((2, 4), (16, 1)), 64) == Layout((4, 2), (4, 32))
    assert complement(4) == Layout(1, 0)
    with pytest.raises(ValueError):
        complement(Layout((2, 2), (1, 3)))  # injective, but the gap at 2 cannot be filled by a layout
    with pytest.raises(ValueError):
        complement(Layout((2, 2), (1, 1)))  # not injective


@PROPERTY
@given(complementable(), st.integers(1, 512))
def test_complement_properties(a, cotarget):
    c = complement(a, cotarget)
    c_img = c.apply(np.arange(c.size()))
    assert len(set(c_img.tolist())) == c.size()  # injective
    assert set(c_img.tolist()) & set(table(a)) == {0}  # disjoint from A except at 0
    assert list(flatten_tuple(c.stride)) == sorted(flatten_tuple(c.stride))  # ordered
    ac = make_layout(a, c)
    assert ac.size() >= cotarget
    assert sorted(table(ac)) == list(range(ac.size()))  # (A, C) is a bijection onto [0, size)


def test_inverse_golden():
    assert right_inverse(Layout((4, 8), (8, 1))) == Layout((8, 4), (4, 1))
    assert right_inverse(Layout((4, 8), (1, 4))) == Layout(32, 1)
    assert right_inverse(Layout(4, 2)) == Layout(1, 0)
    assert right_inverse(Layout((2, 4), (0, 1))) == Layout(4, 2)
    assert left_inverse(Layout(4, 2)) == Layout((2, 4), (4, 1))
    assert left_inverse(Layout((4, 8), (8, 1))) == Layout((8, 4), (4, 1))


@PROPERTY
@given(layouts())
def test_right_inverse_round_trip(lay):
    r = right_inverse(lay)
    assert [lay(r(i)) for i in range(r.size())] == list(range(r.size()))


@PROPERTY
@given(complementable())
def test_right_inverse_of_bijection_is_full(a):
    lay = make_layout(a, complement(a))  # a bijection onto [0, size)
    r = right_inverse(lay)
    assert r.size() == lay.size()
    assert [lay(r(i)) for i in range(r.size())] == list(range(r.size()))


@PROPERTY
@given(complementable())
def test_left_inverse_round_trip(a):
    li = left_inverse(a)
    assert [li(a(i)) for i in range(a.size())] == list(range(a.size()))


# ---------------------------------------------------------------------------------------------------------------------
# divide and product
# ---------------------------------------------------------------------------------------------------------------------


def test_divide_golden():
    # CuTe documentation examples.
    assert logical_divide(Layout((4, 2, 3), (2, 1, 8)), Layout(4, 2)) == Layout(((2, 2), (2, 3)), ((4, 1), (2, 8)))
    a = Layout((9, (4, 8)), (59, (13, 1)))
    tiler = (Layout(3, 3), Layout((2, 4), (1, 8)))
    assert str(logical_divide(a, tiler)) == "((3,3),((2,4),(2,2))):((177,59),((13,2),(26,1)))"
    assert str(zipped_divide(a, tiler)) == "((3,(2,4)),(3,(2,2))):((177,(13,2)),(59,(26,1)))"
    assert str(tiled_divide(a, tiler)) == "((3,(2,4)),3,(2,2)):((177,(13,2)),59,(26,1))"
    assert str(zipped_divide(make_row_major((128, 64)), (32, 16))) == "((32,16),(4,4)):((64,1),(2048,16))"


@PROPERTY
@given(layouts(pow2=True), st.data())
def test_logical_divide(a, data):
    b = data.draw(complementable(max_extent=a.size(), pow2=True))
    d = logical_divide(a, b)
    bc = make_layout(b, complement(b, a.size()))
    assert d.size() == a.size() == bc.size()
    assert table(d) == [a(bc(i)) for i in range(bc.size())]
    assert d[0].size() == b.size() and table(d[0]) == [a(b(i)) for i in range(b.size())]
    assert d[1].size() == a.size() // b.size()


@PROPERTY
@given(shapes(max_size=32, pow2=True), shapes(max_size=32, pow2=True), st.data())
def test_zipped_divide_by_mode(s0, s1, data):
    a = data.draw(st.sampled_from([Layout((s0, s1)), make_row_major((s0, s1))]))
    b0 = data.draw(complementable(max_extent=size(s0), pow2=True))
    b1 = data.draw(complementable(max_extent=size(s1), pow2=True))
    d, z = logical_divide(a, (b0, b1)), zipped_divide(a, (b0, b1))
    assert d[0] == logical_divide(a[0], b0) and d[1] == logical_divide(a[1], b1)
    assert z.size() == a.size() and z[0].size() == b0.size() * b1.size()
    for i0 in range(b0.size()):
        for i1 in range(b1.size()):
            for j0 in range(d[0][1].size()):
                for j1 in range(d[1][1].size()):
                    assert z((i0, i1), (j0, j1)) == d((i0, j0), (i1, j1))
    t = tiled_divide(a, (b0, b1))
    assert t.rank() == 3 and t[0] == z[0]


def test_product_golden():
    assert logical_product(Layout((2, 2), (4, 1)), Layout(6, 1)) == Layout(((2, 2), (2, 3)), ((4, 1), (2, 8)))
    tile, grid = Layout((2, 2), (1, 2)), Layout((3, 4), (4, 1))
    assert logical_product(tile, grid) == Layout(((2, 2), (3, 4)), ((1, 2), (16, 4)))
    assert str(blocked_product(tile, grid)) == "((2,3),(2,4)):((1,16),(2,4))"
    assert str(raked_product(tile, grid)) == "((3,2),(4,2)):((16,1),(4,2))"
    assert str(blocked_product(Layout(4), Layout(3))) == "((4,3)):((1,4))"
    assert str(blocked_product(Layout((2, 2)), Layout(3))) == "((2,3),(2,1)):((1,4),(2,0))"


@PROPERTY
@given(complementable(max_extent=64, pow2=True), pow2_tilers(max_extent=16))
def test_logical_product(a, b):
    p = logical_product(a, b)
    c = complement(a, a.size() * b.cosize())
    assert p.size() == a.size() * b.size()
    assert p[0] == a
    assert table(p[1]) == [c(b(j)) for j in range(b.size())]
    if sorted(table(b)) == list(range(b.size())):  # B a bijection onto [0, n): no two tiles overlap
        assert len(set(table(p))) == p.size()


@PROPERTY
@given(st.tuples(shapes(max_size=8, pow2=True), shapes(max_size=8, pow2=True)),
       st.tuples(shapes(max_size=4, pow2=True), shapes(max_size=4, pow2=True)), st.booleans())
def test_blocked_raked_products(sa, sb, row_major):
    a = make_row_major(sa) if row_major else Layout(sa)
    b = Layout(sb)
    n = a.size() * b.size()
    for prod, inner in ((blocked_product(a, b), 0), (raked_product(a, b), 1)):
        assert prod.rank() == 2 and prod.size() == n
        assert sorted(prod.apply(np.arange(n)).tolist()) == list(range(n))  # compact A, B: a bijection onto [0, n)
        for m in range(2):
            assert prod[m][inner].size() == a[m].size() and prod[m][1 - inner].size() == b[m].size()
        # Mode 0 coordinate i of A within tile (0, 0) lands where A puts it.
        assert [prod((i if inner == 0 else (0, i)), 0) for i in range(a[0].size())] == \
            [a(i, 0) for i in range(a[0].size())]
