"""Buffers (named, typed, shaped storage in one memory scope) and regions of them."""
from __future__ import annotations

from dataclasses import dataclass, field

from tilec.errors import NO_LOC, SourceLoc
from tilec.ir.dtypes import DType
from tilec.ir.expr import as_int

# global: device memory (kernel parameters, T.alloc_global); shared: one copy per block;
# fragment: a tile distributed over the block's threads' registers (layout inferred);
# local: a per-thread array; var: a per-thread scalar (T.alloc_var).
SCOPES = ("global", "shared", "fragment", "local", "var")


@dataclass(frozen=True, eq=False)
class Buffer:
    """Storage. `shape` entries are ints (compile time) or Exprs (symbolic dims, global only)."""

    name: str
    shape: tuple
    dtype: DType
    scope: str
    loc: SourceLoc = field(default=NO_LOC, compare=False)

    def __post_init__(self) -> None:
        assert self.scope in SCOPES, f"bad scope {self.scope} (internal error, please report)"

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def static_shape(self) -> tuple[int, ...] | None:
        dims = tuple(as_int(d) for d in self.shape)
        return None if any(d is None for d in dims) else dims  # type: ignore[return-value]

    def numel(self) -> int:
        s = self.static_shape()
        assert s is not None, f"{self.name} has a symbolic shape (internal error, please report)"
        n = 1
        for d in s:
            n *= d
        return n

    def __repr__(self) -> str:
        return f"Buffer({self.name}, {self.scope})"

    __hash__ = object.__hash__


@dataclass(frozen=True, eq=False)
class Region:
    """A rectangular part of a buffer: `starts` (Exprs or ints) and static `extents` per dimension."""

    buffer: Buffer
    starts: tuple
    extents: tuple

    @staticmethod
    def full(buf: Buffer) -> "Region":
        return Region(buf, tuple(0 for _ in buf.shape), tuple(buf.shape))

    def squeezed_extents(self) -> tuple:
        """Extents with unit dimensions dropped (how regions of different rank are matched)."""
        return tuple(e for e in self.extents if as_int(e) != 1)

    def is_full(self) -> bool:
        return all(as_int(s) == 0 for s in self.starts) and all(
            (as_int(e) is not None and as_int(e) == as_int(d)) or e is d for e, d in zip(self.extents, self.buffer.shape)
        )


def region_dims_of(r: Region) -> list[int]:
    """Indices of the non-unit dimensions of a region."""
    return [i for i, e in enumerate(r.extents) if as_int(e) != 1]

