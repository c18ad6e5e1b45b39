"""CuTe's shape:stride layout algebra (pycute-sized): layouts, coalesce, composition, complement, inverses, products."""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Callable, Iterator, Union

import numpy as np

# A (possibly nested) tuple of ints, CuTe's IntTuple. Shapes hold positive ints, strides non-negative ints.
IntTuple = Union[int, tuple["IntTuple", ...]]

# `_` in CuTe's by-mode tilers: leave this mode alone.
Tiler = Union["Layout", int, None, tuple["Tiler", ...]]


# ---------------------------------------------------------------------------------------------------------------------
# IntTuple helpers
# ---------------------------------------------------------------------------------------------------------------------


def as_int_tuple(t: object, what: str, lo: int) -> IntTuple:
    """Convert ints (numpy ints too) / nested tuples or lists to plain Python ints and tuples, checking `>= lo`."""
    if isinstance(t, (tuple, list)):
        if not t:
            raise ValueError(f"{what}: empty tuple is not a valid IntTuple")
        return tuple(as_int_tuple(e, what, lo) for e in t)
    if isinstance(t, bool) or not isinstance(t, numbers.Integral):
        raise TypeError(f"{what}: expected an int or a nested tuple of ints, found {t!r} ({type(t).__name__})")
    if int(t) < lo:
        raise ValueError(f"{what}: expected ints >= {lo}, found {int(t)}")
    return int(t)


def _congruent(a: IntTuple, b: IntTuple) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_congruent(x, y) for x, y in zip(a, b))
    return not isinstance(a, tuple) and not isinstance(b, tuple)


def product(t: IntTuple) -> int:
    """Product of all leaves of an IntTuple."""
    if isinstance(t, tuple):
        out = 1
        for e in t:
            out *= product(e)
        return out
    return t


def flatten_tuple(t: IntTuple) -> tuple[int, ...]:
    """Leaves of an IntTuple in order (an int becomes a 1-tuple)."""
    if isinstance(t, tuple):
        return tuple(x for e in t for x in flatten_tuple(e))
    return (t,)


def _unflatten(flat: list[int], profile: IntTuple) -> IntTuple:
    """Inverse of flatten_tuple: consume `flat` (front first) into the nesting of `profile`."""
    if isinstance(profile, tuple):
        return tuple(_unflatten(flat, p) for p in profile)
    return flat.pop(0)


def prefix_product(shape: IntTuple, init: int = 1) -> IntTuple:
    """Exclusive prefix product over the leaves, same nesting: the compact column-major (colexicographic) strides."""
    out, acc = [], init
    for s in flatten_tuple(shape):
        out.append(acc)
        acc *= s
    return _unflatten(out, shape)


def _suffix_product(shape: IntTuple) -> IntTuple:
    """Exclusive suffix product over the leaves: compact row-major strides (CuTe's LayoutRight)."""
    out, acc = [], 1
    for s in reversed(flatten_tuple(shape)):
        out.append(acc)
        acc *= s
    return _unflatten(out[::-1], shape)


def crd2idx(crd: IntTuple, shape: IntTuple, stride: IntTuple | None = None) -> int:
    """Map a coordinate to an index: `sum(c_i * d_i)`.

    Args:
        crd: an int (a 1-D colexicographic coordinate of the whole shape, or of a nested mode) or a tuple
            congruent with the top level of `shape` (its entries may again be ints for nested modes).
        shape: the shape.
        stride: the strides, congruent with `shape`; defaults to compact column-major, so the result is then the
            colexicographic index of `crd`.

    Like CuTe, an int coordinate is not bounds-checked in the last mode: it absorbs everything past the previous
    modes (this is what lets composition treat the last mode of a layout as unbounded).

    Raises:
        ValueError: the coordinate's nesting does not match the shape.
    """
    if stride is None:
        stride = prefix_product(shape)
    if isinstance(crd, tuple):
        if not isinstance(shape, tuple) or len(crd) != len(shape):
            raise ValueError(f"coordinate {_fmt(crd)} does not match shape {_fmt(shape)}")
        return sum(crd2idx(c, s, d) for c, s, d in zip(crd, shape, stride))
    if isinstance(shape, tuple):
        idx = 0
        for i, (s, d) in enumerate(zip(shape, stride)):
            if i == len(shape) - 1:
                idx += crd2idx(crd, s, d)
            else:
                crd, r = divmod(crd, product(s))
                idx += crd2idx(r, s, d)
        return idx
    return crd * stride


def idx2crd(idx: int, shape: IntTuple) -> IntTuple:
    """Colexicographic index -> natural (fully nested) coordinate of `shape`; the last mode is unbounded (CuTe).

    Raises:
        ValueError: `idx` is negative.
    """
    if idx < 0:
        raise ValueError(f"idx2crd: index must be >= 0, found {idx}")
    if isinstance(shape, tuple):
        out = []
        for i, s in enumerate(shape):
            if i == len(shape) - 1:
                out.append(idx2crd(idx, s))
            else:
                idx, r = divmod(idx, product(s))
                out.append(idx2crd(r, s))
        return tuple(out)
    return idx


def _fmt(t: IntTuple) -> str:
    return "(" + ",".join(_fmt(e) for e in t) + ")" if isinstance(t, tuple) else str(t)


# ---------------------------------------------------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """A function from coordinates to offsets: `L(c) = sum(c_i * stride_i)` over the leaves of `shape`.

    `shape` holds positive ints, `stride` non-negative ints, in congruent (possibly nested) tuples. `stride`
    defaults to compact column-major, as in CuTe. Equality and hashing are structural (`(4,2):(1,4)` and `8:1`
    are the same function but different layouts; compare `coalesce(a) == coalesce(b)` for that).
    """

    shape: IntTuple
    stride: IntTuple | None = None

    def __post_init__(self) -> None:
        shape = as_int_tuple(self.shape, "Layout shape", 1)
        stride = prefix_product(shape) if self.stride is None else as_int_tuple(self.stride, "Layout stride", 0)
        if not _congruent(shape, stride):
            raise ValueError(f"Layout: stride {_fmt(stride)} is not congruent with shape {_fmt(shape)}")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "stride", stride)

    # --- sizes ---------------------------------------------------------------------------------------------------
    def size(self) -> int:
        """Number of coordinates (the product of the shape)."""
        return product(self.shape)

    def cosize(self) -> int:
        """One past the largest offset: `L(size - 1) + 1` (strides are non-negative)."""
        return self(self.size() - 1) + 1

    def rank(self) -> int:
        """Number of top-level modes (1 for an int shape)."""
        return len(self.shape) if isinstance(self.shape, tuple) else 1

    def depth(self) -> int:
        """Nesting depth: 0 for an int shape, 1 for a flat tuple, ..."""

        def d(t: IntTuple) -> int:
            return 1 + max(d(e) for e in t) if isinstance(t, tuple) else 0

        return d(self.shape)

    # --- modes ---------------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.rank()

    def __getitem__(self, i: int | slice) -> Layout:
        """Mode `i` as a Layout (a slice gives a Layout of those modes). An int-shaped layout has the one mode 0."""
        if not isinstance(self.shape, tuple):
            if isinstance(i, slice) or i not in (0, -1):
                raise IndexError(f"layout {self} has rank 1; mode {i} does not exist")
            return self
        assert isinstance(self.stride, tuple)
        return Layout(self.shape[i], self.stride[i])

    def __iter__(self) -> Iterator[Layout]:
        return (self[i] for i in range(self.rank()))

    # --- evaluation ----------------------------------------------------------------------------------------------
    def __call__(self, *coord: IntTuple) -> int:
        """Offset of a coordinate: `L(i)` (1-D colexicographic), `L((i, j))`, `L(i, j)` or nested `L(((i, k), j))`.

        Raises:
            ValueError: negative entries, or the coordinate's nesting does not match the shape.
        """
        if not coord:
            raise TypeError("Layout.__call__ needs a coordinate")
        crd = as_int_tuple(coord[0] if len(coord) == 1 else coord, "Layout coordinate", 0)
        return crd2idx(crd, self.shape, self.stride)

    def apply(self, indices: np.ndarray) -> np.ndarray:
        """Vectorised `L(i)` for an array of flat 1-D coordinates (any array shape), as int64.

        Raises:
            ValueError: an index is negative.
        """
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size and idx.min() < 0:
            raise ValueError("Layout.apply: indices must be >= 0")
        shapes, strides = flatten_tuple(self.shape), flatten_tuple(self.stride)
        out = np.zeros_like(idx)
        for k, (s, d) in enumerate(zip(shapes, strides)):
            if k == len(shapes) - 1:
                out += idx * d  # the last mode is unbounded, as in __call__
            else:
                idx, r = np.divmod(idx, s)
                out += r * d
        return out

    def offsets(self, *coords: np.ndarray) -> np.ndarray:
        """Vectorised `L(c_0, ..., c_{r-1})` where `coords[i]` holds 1-D coordinates of mode `i` (broadcast together).

        With a single array this is `apply`.

        Raises:
            ValueError: the number of coordinate arrays is neither 1 nor the rank.
        """
        if len(coords) == 1:
            return self.apply(coords[0])
        if len(coords) != self.rank():
            raise ValueError(f"Layout.offsets: layout {self} has rank {self.rank()}, found {len(coords)} coordinates")
        return sum((mode.apply(c) for mode, c in zip(self, coords)), np.int64(0))  # type: ignore[return-value]

    # --- printing ------------------------------------------------------------------------------------------------
    def __str__(self) -> str:
        return f"{_fmt(self.shape)}:{_fmt(self.stride)}"

    def __repr__(self) -> str:
        return f"Layout({self})"

    def mangle(self) -> str:
        """A deterministic identifier-safe name, e.g. `(4,8):(8,1)` -> `l4_8rsl8_1r` (a character-wise bijection)."""
        return str(self).translate(str.maketrans({"(": "l", ")": "r", ",": "_", ":": "s"}))


# ---------------------------------------------------------------------------------------------------------------------
# Constructors and queries (functions accept Layouts or IntTuples, like pycute)
# ---------------------------------------------------------------------------------------------------------------------


def make_layout(*layouts: Layout) -> Layout:
    """Concatenate layouts as the modes of a new layout: `make_layout(A, B)` is `(A, B)`."""
    return Layout(tuple(x.shape for x in layouts), tuple(x.stride for x in layouts))


def make_row_major(shape: IntTuple) -> Layout:
    """Compact row-major layout (the last leaf has stride 1), e.g. `(4,8)` -> `(4,8):(8,1)`."""
    shape = as_int_tuple(shape, "make_row_major shape", 1)
    return Layout(shape, _suffix_product(shape))


def size(x: Layout | IntTuple) -> int:
    """Size of a layout or product of an IntTuple."""
    return x.size() if isinstance(x, Layout) else product(x)


def cosize(x: Layout) -> int:
    """One past the largest offset of a layout."""
    return x.cosize()


def rank(x: Layout | IntTuple) -> int:
    """Number of top-level modes."""
    shape = x.shape if isinstance(x, Layout) else x
    return len(shape) if isinstance(shape, tuple) else 1


def depth(x: Layout | IntTuple) -> int:
    """Nesting depth (0 for an int)."""
    return x.depth() if isinstance(x, Layout) else Layout(x).depth()


def flatten(x: Layout | IntTuple) -> Layout | IntTuple:
    """Flatten a layout (or IntTuple) to depth <= 1, keeping the function."""
    if isinstance(x, Layout):
        if not isinstance(x.shape, tuple):
            return x
        return Layout(flatten_tuple(x.shape), flatten_tuple(x.stride))
    return flatten_tuple(x) if isinstance(x, tuple) else x


def _from_lists(shapes: list[int], strides: list[int]) -> Layout:
    """A layout from flat mode lists; a single mode gives an int-shaped layout."""
    if len(shapes) == 1:
        return Layout(shapes[0], strides[0])
    return Layout(tuple(shapes), tuple(strides))


def _by_mode(op: Callable[[Layout, Tiler], Layout], a: Layout, tiler: tuple) -> Layout:
    """Apply `op` to each mode of `a` with the matching tiler entry (None keeps the mode); extra modes are kept."""
    if len(tiler) > a.rank():
        raise ValueError(f"by-mode tiler {tiler} has more modes than layout {a}")
    modes = [a[i] if t is None else op(a[i], t) for i, t in enumerate(tiler)]
    return make_layout(*modes, *(a[i] for i in range(len(tiler), a.rank())))


# ---------------------------------------------------------------------------------------------------------------------
# The algebra
# ---------------------------------------------------------------------------------------------------------------------


def coalesce(layout: Layout, profile: IntTuple | None = None) -> Layout:
    """Merge modes into the fewest that give the same function on `[0, size)`; result has depth <= 1.

    Args:
        layout: the layout.
        profile: if a tuple, coalesce each top-level mode `i < len(profile)` separately (CuTe's by-mode coalesce)
            and keep the rank.
    """
    if isinstance(profile, tuple):
        return _by_mode(coalesce, layout, tuple(1 if p is None else p for p in profile))
    return _from_lists(*_coalesce_modes(layout, keep_tail=False))


def _coalesce_modes(layout: Layout, keep_tail: bool) -> tuple[list[int], list[int]]:
    """Coalesced flat (shapes, strides).

    With `keep_tail`, the result also agrees with `layout` past its size, where the last mode is unbounded: a
    trailing size-1 mode is kept for its stride (composition relies on this extension).
    """
    leaves = list(zip(flatten_tuple(layout.shape), flatten_tuple(layout.stride)))
    shapes, strides = [1], [0]
    for k, (s, d) in enumerate(leaves):
        if s == 1 and not (keep_tail and k == len(leaves) - 1):
            continue  # a size-1 mode contributes nothing on [0, size) whatever its stride
        if shapes[-1] == 1:
            shapes[-1], strides[-1] = s, d
        elif shapes[-1] * strides[-1] == d:
            shapes[-1] *= s  # this mode continues the previous one: (s0,s1):(d0,s0*d0) == s0*s1:d0
        else:
            shapes.append(s)
            strides.append(d)
    return shapes, strides


def composition(a: Layout, b: Tiler) -> Layout:
    """Functional composition `R = A o B`, `R(c) == A(B(c))` for every coordinate `c` of B; R has B's shape.

    Args:
        a: the outer layout (its last mode is treated as unbounded, as in CuTe).
        b: a Layout, an int `n` (meaning `n:1`), or a tuple of those / None applied by mode to `a`'s modes.

    A B of several modes is composed mode by mode, `(A o B0, A o B1, ...)`, which is `A o B` when B's modes
    address disjoint coordinates of A (tilers, injective B); as in CuTe this is not checked.

    Raises:
        ValueError: B's strides and shapes do not meet CuTe's divisibility conditions with A's modes, so that
            `A o B` is not a layout.
    """
    if b is None:
        return a
    if isinstance(b, tuple):
        return _by_mode(composition, a, b)
    if not isinstance(b, Layout):
        b = Layout(b)
    if isinstance(b.shape, tuple):
        return make_layout(*(composition(a, mode) for mode in b))  # keeps B's hierarchy
    return _compose_1d(a, b.shape, b.stride)  # type: ignore[arg-type]


def _compose_1d(a: Layout, shape: int, stride: int) -> Layout:
    """`A o (shape:stride)`: walk A's coalesced modes, taking every `stride`-th element until `shape` are taken."""
    if stride == 0:
        return Layout(shape, 0)
    shapes, strides = _coalesce_modes(a, keep_tail=True)
    out_shape: list[int] = []
    out_stride: list[int] = []
    rest_shape, rest_stride = shape, stride
    for s, d in zip(shapes[:-1], strides[:-1]):
        if rest_shape == 1:
            break
        # Stride divisibility: stepping by rest_stride either stays inside this mode (rest_stride | s)
        # or skips whole copies of it (s | rest_stride); otherwise the walk is not affine in A's offsets.
        if s % rest_stride and rest_stride % s:
            raise ValueError(f"composition: {a} o {shape}:{stride} is not a layout (stride {rest_stride} "
                             f"neither divides nor is divided by mode size {s})")
        new_shape = min(max(1, s // rest_stride), rest_shape)
        if new_shape != 1:
            # Shape divisibility: the elements left after this mode must be a whole number of its passes.
            if rest_shape % new_shape:
                raise ValueError(f"composition: {a} o {shape}:{stride} is not a layout ({rest_shape} elements "
                                 f"do not split into passes of {new_shape})")
            out_shape.append(new_shape)
            out_stride.append(rest_stride * d)
        rest_shape //= new_shape
        rest_stride = -(-rest_stride // s)  # exact when s | rest_stride; 1 once this mode has been walked
    if rest_shape != 1 or not out_shape:
        out_shape.append(rest_shape)
        out_stride.append(rest_stride * strides[-1])
    return _from_lists(out_shape, out_stride)


def complement(a: Layout | int, cotarget: IntTuple = 1) -> Layout:
    """The layout C that fills the gaps of A, so that `(A, C)` is a bijection onto `[0, size(A) * size(C))`.

    `size(A) * size(C) >= cotarget`; C is injective, ordered by stride, and its image meets A's only at 0.

    Args:
        a: an injective layout whose sorted modes are "complementable" (each stride divisible by the extent
            `shape * stride` of the previous mode).
        cotarget: the size (int, or a shape whose product is used) that `(A, C)` must at least cover.

    Raises:
        ValueError: A is not injective or its strides leave gaps that cannot be filled by a layout.
    """
    if not isinstance(a, Layout):
        a = Layout(a)
    target = product(as_int_tuple(cotarget, "complement cotarget", 1))
    shapes, strides, current = [], [], 1
    for d, s in sorted(zip(flatten_tuple(a.stride), flatten_tuple(a.shape))):
        if d == 0 or s == 1:
            continue  # broadcast and trivial modes cover no new offsets
        if d % current:
            raise ValueError(f"complement: {a} is not complementable (stride {d} is not a multiple of {current}, "
                             "the extent of its smaller modes)")
        shapes.append(d // current)
        strides.append(current)
        current = s * d
    shapes.append(-(-target // current))
    strides.append(current)
    return coalesce(_from_lists(shapes, strides))


def right_inverse(layout: Layout | int) -> Layout:
    """A layout R with `L(R(i)) == i` for every `i < size(R)`, as large as the chain of L's strides 1, s0, s0*s1, ...

    Modes of L that are not on that chain (and stride-0 modes) are ignored, so R may be `1:0`.
    """
    if not isinstance(layout, Layout):
        return Layout(layout)
    shapes = flatten_tuple(layout.shape)
    by_stride: dict[int, tuple[int, int]] = {}
    for s, d, r in zip(shapes, flatten_tuple(layout.stride), flatten_tuple(prefix_product(layout.shape))):
        if s != 1 and d != 0:
            by_stride.setdefault(d, (s, r))  # r: the colexicographic stride of this mode within L's domain
    out_shape, out_stride, current = [], [], 1
    while current in by_stride:
        s, r = by_stride[current]
        out_shape.append(s)
        out_stride.append(r)
        current *= s
    if not out_shape:
        return Layout(1, 0)
    return coalesce(_from_lists(out_shape, out_stride))


def left_inverse(layout: Layout | int) -> Layout:
    """A layout Li with `Li(L(i)) == i` for every `i < size(L)`, for an injective complementable L.

    Raises:
        ValueError: L is not complementable.
    """
    if not isinstance(layout, Layout):
        return Layout(layout)
    # (L, complement(L)) is a bijection onto [0, n) whose first mode is L; its full inverse restricted to L's
    # image gives back L's colexicographic index.
    return right_inverse(make_layout(layout, complement(layout)))


def logical_divide(a: Layout, tiler: Tiler) -> Layout:
    """Split A into (tile, rest): `A o (B, complement(B, size(A)))`; mode 0 is `A o B`, mode 1 iterates the tiles.

    Args:
        a: the layout to divide.
        tiler: a Layout, an int `n` (`n:1`), or a tuple of those / None applied by mode.

    Raises:
        ValueError: the tiler is not complementable or the composition is not a layout.
    """
    if tiler is None:
        return a
    if isinstance(tiler, tuple):
        return _by_mode(logical_divide, a, tiler)
    b = tiler if isinstance(tiler, Layout) else Layout(tiler)
    return composition(a, make_layout(b, complement(b, a.size())))


def logical_product(a: Layout, tiler: Tiler) -> Layout:
    """Repeat A over B: `(A, complement(A, size(A) * cosize(B)) o B)`; size is `size(A) * size(B)`.

    Raises:
        ValueError: A is not complementable or the composition is not a layout.
    """
    if tiler is None:
        return a
    if isinstance(tiler, tuple):
        return _by_mode(logical_product, a, tiler)
    b = tiler if isinstance(tiler, Layout) else Layout(tiler)
    return make_layout(a, composition(complement(a, a.size() * b.cosize()), b))


def _hier_unzip(split: Callable[[Layout, Tiler], Layout], a: Layout, tiler: Tiler) -> Layout:
    """Apply a rank-2-producing `split` by mode and gather to ((tile modes...), (rest modes...))."""
    if tiler is None:
        return make_layout(Layout(1, 0), a)
    if isinstance(tiler, tuple):
        if len(tiler) > a.rank():
            raise ValueError(f"by-mode tiler {tiler} has more modes than layout {a}")
        parts = [_hier_unzip(split, a[i], t) for i, t in enumerate(tiler)]
        rest = [a[i] for i in range(len(tiler), a.rank())]
        return make_layout(make_layout(*(p[0] for p in parts)), make_layout(*(p[1] for p in parts), *rest))
    return split(a, tiler)


def zipped_divide(a: Layout, tiler: Tiler) -> Layout:
    """Like logical_divide by mode, but gathered as ((tile modes), (rest modes)); mode 0 is one whole tile."""
    return _hier_unzip(logical_divide, a, tiler)


def tiled_divide(a: Layout, tiler: Tiler) -> Layout:
    """zipped_divide with the rest modes unpacked: ((tile modes), rest_0, rest_1, ...)."""
    z = zipped_divide(a, tiler)
    return make_layout(z[0], *z[1])


def zipped_product(a: Layout, tiler: Tiler) -> Layout:
    """Like logical_product by mode, gathered as ((A modes), (B modes))."""
    return _hier_unzip(logical_product, a, tiler)


def _append(layout: Layout, r: int) -> Layout:
    """Pad a layout with `1:0` modes up to rank r (CuTe's append<R>)."""
    if layout.rank() >= r:
        return layout
    return make_layout(*layout, *([Layout(1, 0)] * (r - layout.rank())))


def _zip2(x: Layout, y: Layout) -> Layout:
    """((x0, y0), (x1, y1), ...) for equal-rank x and y."""
    return make_layout(*(make_layout(xi, yi) for xi, yi in zip(x, y)))


def blocked_product(a: Layout, b: Layout) -> Layout:
    """Tile A over B with A's elements contiguous in each mode: mode i is (A_i, B_i).

    E.g. `blocked_product((2,2):(1,2), (3,4):(4,1)) == ((2,3),(2,4)):((1,16),(2,4))`.
    """
    r = max(a.rank(), b.rank())
    res = logical_product(_append(a, r), _append(b, r))
    return _zip2(res[0], res[1])


def raked_product(a: Layout, b: Layout) -> Layout:
    """Interleave copies of A over B (each mode is (B_i, A_i)): A's elements are strided by B's size."""
    r = max(a.rank(), b.rank())
    res = logical_product(_append(a, r), _append(b, r))
    return _zip2(res[1], res[0])


def draw(layout: object) -> str:
    """An ASCII table of a rank-2 layout's offsets: row i, column j holds `layout(i, j)`.

    Works for anything with `.shape` (rank 2) and a vectorised `offsets(rows, cols)` (Layout, ComposedLayout).

    Raises:
        ValueError: the layout is not rank 2.
    """
    shape = layout.shape  # type: ignore[attr-defined]
    if not isinstance(shape, tuple) or len(shape) != 2:
        raise ValueError(f"draw: expected a rank-2 layout, found {layout}")
    rows, cols = product(shape[0]), product(shape[1])
    table = layout.offsets(np.arange(rows)[:, None], np.arange(cols)[None, :])  # type: ignore[attr-defined]
    w = max(len(str(int(table.max()))), len(str(cols - 1)))
    rw = len(str(rows - 1))
    sep = " " * (rw + 1) + "+" + "+".join("-" * (w + 2) for _ in range(cols)) + "+"
    lines = [str(layout), (" " * (rw + 2) + " ".join(f" {j:>{w}} " for j in range(cols))).rstrip(), sep]
    for i in range(rows):
        lines.append(f"{i:>{rw}} |" + "|".join(f" {int(v):>{w}} " for v in table[i]) + "|")
        lines.append(sep)
    return "\n".join(lines)
