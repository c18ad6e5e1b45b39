"""The IR builder the front end drives: a stack of statement lists that language functions emit into."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from tilec.errors import SourceLoc, TilecError, current_loc, set_current_loc
from tilec.ir.stmt import Stmt, seq

_state = threading.local()


class Builder:
    """Collects statements while a prim_func body is being parsed."""

    def __init__(self) -> None:
        self.frames: list[list[Stmt]] = [[]]
        self.kernel_threads: int | None = None
        self.in_kernel = False
        self.names: dict[str, int] = {}
        self.name_hint: str | None = None  # the assignment target being evaluated, to name buffers after it

    @property
    def loc(self) -> SourceLoc:
        return current_loc()

    @loc.setter
    def loc(self, value: SourceLoc) -> None:
        set_current_loc(value)

    def emit(self, s: Stmt) -> None:
        self.frames[-1].append(s)

    @contextmanager
    def frame(self) -> Iterator[list[Stmt]]:
        self.frames.append([])
        try:
            yield self.frames[-1]
        finally:
            self.frames.pop()

    def unique(self, name: str) -> str:
        """A name not used before in this function (buffers and vars share one namespace in C)."""
        n = self.names.get(name, 0)
        self.names[name] = n + 1
        return name if n == 0 else f"{name}_{n}"


def current(what: str = "this") -> Builder:
    """The active builder; raises TilecError if `what` is used outside a prim_func being compiled."""
    b = getattr(_state, "builder", None)
    if b is None:
        raise TilecError(f"{what} can only be used inside a @T.prim_func body that tilec is compiling")
    return b


def loc() -> SourceLoc:
    return current_loc()


@contextmanager
def building() -> Iterator[Builder]:
    prev, prev_loc = getattr(_state, "builder", None), current_loc()
    _state.builder = Builder()
    try:
        yield _state.builder
    finally:
        _state.builder = prev
        set_current_loc(prev_loc)


def block(stmts: list[Stmt]) -> Stmt:
    return seq(*stmts) if stmts else seq()
