"""Fragments: how a tile is distributed over a block's threads' registers.

A Fragment maps (thread t, local index v) to tile coordinates through a function written only with
+ - * // %, so the same function evaluates on ints, on numpy arrays (to enumerate and check layouts
at compile time) and on IR expressions (to generate each thread's index arithmetic). Several threads
may hold the same element (replication, e.g. row statistics of an MMA accumulator).

Each fragment has a hashable `key` naming how it was built; two fragments with equal keys are the
same layout. `table()` enumerates coordinates for all (t, v) with numpy.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass(frozen=True, eq=False)
class Fragment:
    """A thread-value layout of a tile of `shape` over `threads` threads, `nlocal` values each."""

    shape: tuple
    threads: int
    nlocal: int
    fn: Callable = field(repr=False)
    key: tuple = ()

    def coords(self, t: object, v: object) -> tuple:
        return tuple(self.fn(t, v))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fragment) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def table(self) -> np.ndarray:
        """int64 array [threads, nlocal, ndim] of the coordinates each (t, v) holds."""
        t = np.arange(self.threads, dtype=np.int64)[:, None]
        v = np.arange(self.nlocal, dtype=np.int64)[None, :]
        cs = [np.broadcast_to(c, (self.threads, self.nlocal)) for c in self.coords(t, v)]
        return np.stack(cs, axis=-1)

    def __str__(self) -> str:
        return f"Fragment{self.key}: {'x'.join(map(str, self.shape))} over {self.threads} threads x {self.nlocal}"

    def check(self) -> None:
        """Assert every element of the tile is held by some (t, v) and all coordinates are in range."""
        tab = self.table().reshape(-1, len(self.shape))
        for d, n in enumerate(self.shape):
            assert tab[:, d].min() >= 0 and tab[:, d].max() < n, f"{self} maps outside the tile (internal error)"
        flat = np.ravel_multi_index(tab.T, self.shape)
        assert len(np.unique(flat)) == int(np.prod(self.shape)), f"{self} does not cover its tile (internal error)"


def mma_acc(m: int, n: int, warp_m: int, warp_n: int, threads: int) -> Fragment:
    """The accumulator of an m16n8 mma.sync tile op repeated over a warp grid (tilec/include/tilec/gemm_sm80.cuh).

    warp = t // 32, lane = t % 32; warp (wm, wn) = (warp % warp_m, warp // warp_m) owns the
    (m / warp_m) x (n / warp_n) sub-tile; v = ((i * (WN/8) + j) * 4 + e) with
    row = wm*WM + i*16 + lane//4 + 8*(e//2) and col = wn*WN + j*8 + (lane%4)*2 + e%2.
    Threads beyond warp_m * warp_n warps replicate (never happens for gemm-chosen partitions).
    """
    wm_, wn_ = m // warp_m, n // warp_n
    nj = wn_ // 8

    def fn(t: object, v: object) -> tuple:
        warp, lane = (t // 32) % (warp_m * warp_n), t % 32
        i, j, e = v // (nj * 4), (v // 4) % nj, v % 4
        row = (warp % warp_m) * wm_ + i * 16 + lane // 4 + (e // 2) * 8
        col = (warp // warp_m) * wn_ + j * 8 + (lane % 4) * 2 + e % 2
        return row, col

    return Fragment((m, n), threads, (wm_ // 16) * nj * 4, fn, ("mma_acc", m, n, warp_m, warp_n, threads))


def wgmma_acc(m: int, n: int, threads: int) -> Fragment:
    """The accumulator of warpgroup MMAs (wgmma m64nNk16) over an m x n tile (tilec/include/tilec/gemm_sm90.cuh).

    threads // 128 warpgroups split M: warpgroup g owns rows [g*WM, (g+1)*WM), WM = m / groups, as WM/64
    m64 slabs. Thread t: warp w = (t // 32) % 4, lane = t % 32; v = (i * (n/8) + j) * 4 + e with
    row = g*WM + i*64 + w*16 + lane//4 + 8*(e//2), col = j*8 + (lane%4)*2 + e%2 (PTX's wgmma D layout).
    """
    groups = threads // 128
    wm_ = m // groups
    nj = n // 8

    def fn(t: object, v: object) -> tuple:
        g, w, lane = t // 128, (t // 32) % 4, t % 32
        i, j, e = v // (nj * 4), (v // 4) % nj, v % 4
        row = g * wm_ + i * 64 + w * 16 + lane // 4 + (e // 2) * 8
        col = j * 8 + (lane % 4) * 2 + e % 2
        return row, col

    return Fragment((m, n), threads, (wm_ // 64) * nj * 4, fn, ("wgmma_acc", m, n, threads))


def blocked(shape: tuple, threads: int, vec: int = 1) -> Fragment:
    """Row-major elements dealt to threads in chunks of `vec`: chunk q goes to thread q % threads.

    The default layout of fragments nothing else constrains; with vec matching 16 bytes, copies
    from global memory become one vector load per chunk.
    """
    total = int(np.prod(shape))
    per = -(-total // (threads * vec)) * vec  # values per thread (the last round may wrap: replication)
    strides = [int(np.prod(shape[d + 1:])) for d in range(len(shape))]

    def fn(t: object, v: object) -> tuple:
        f = (((v // vec) * threads + t) * vec + v % vec) % total
        return tuple((f // s) % n for s, n in zip(strides, shape))

    return Fragment(tuple(shape), threads, per, fn, ("blocked", tuple(shape), threads, vec))


def project(src: Fragment, keep: tuple, first_v: list) -> Fragment:
    """The fragment of the coordinates `keep` (dimension indices) of `src`, one local value per distinct
    element: local u of thread t holds what src's value first_v[u] holds (first_v is thread-independent,
    checked by the caller). Used for reductions (keep all dims but one) and broadcasts.
    """
    fv = tuple(int(x) for x in first_v)

    def fn(t: object, u: object) -> tuple:
        if isinstance(u, (int, np.integer)):
            c = src.coords(t, fv[int(u)])
        else:
            c = _select_coords(src, t, u, fv)
        return tuple(c[d] for d in keep)

    shape = tuple(src.shape[d] for d in keep)
    return Fragment(shape, src.threads, len(fv), fn, ("project", src.key, tuple(keep), fv))


def _select_coords(src: Fragment, t: object, u: object, fv: tuple) -> tuple:
    """Vectorised coords for numpy u arrays (enumeration only; codegen always has constant u)."""
    if not isinstance(u, np.ndarray):
        raise TypeError("a projected fragment needs a constant local index (internal error, please report)")
    vs = np.asarray(fv, np.int64)[u]
    return src.coords(t, vs)


def local_index_map(frag: Fragment) -> dict:
    """{(t, coords): v} for every value a thread holds (first v when a thread holds an element twice)."""
    tab = frag.table()
    out: dict = {}
    for t in range(frag.threads):
        for v in range(frag.nlocal):
            out.setdefault((t, tuple(int(x) for x in tab[t, v])), v)
    return out
