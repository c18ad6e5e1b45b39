"""The one error type of tilec, located at the user's kernel source, plus the toolchain error."""
from __future__ import annotations

import linecache
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class SourceLoc:
    """A position in the user's kernel source (1-based line, 1-based column)."""

    file: str = "<unknown>"
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


NO_LOC = SourceLoc()
_where = threading.local()


def current_loc() -> SourceLoc:
    """The user-source location being compiled right now (set by the front end), or NO_LOC."""
    return getattr(_where, "loc", NO_LOC)


def set_current_loc(loc: SourceLoc) -> None:
    _where.loc = loc


class TilecError(Exception):
    """An error in a tile-language kernel, rendered rustc-style with the offending line and a caret.

    Attributes:
        msg: the message alone (expected, found, what to do).
        loc: the SourceLoc in the user's kernel, or NO_LOC when there is none.
    """

    def __init__(self, msg: str, loc: SourceLoc | None = None):
        self.msg = msg
        self.loc = loc or NO_LOC
        super().__init__(self._render())

    def _render(self) -> str:
        if self.loc.line <= 0:
            return self.msg
        text = linecache.getline(self.loc.file, self.loc.line).rstrip("\n")
        gutter = " " * len(str(self.loc.line))
        out = [f"error: {self.msg}", f"{gutter}--> {self.loc}"]
        if text:
            out += [f"{gutter} |", f"{self.loc.line} | {text}", f"{gutter} | {' ' * max(self.loc.col - 1, 0)}^"]
        return "\n".join(out)


class TilecCompileError(Exception):
    """nvcc (or another tool of the toolchain) failed on generated code: carries all that reproduces it.

    Attributes:
        command: the command line, as a list of strings.
        stderr: what the tool printed.
        source_path: path of the kept generated source file.
    """

    def __init__(self, message: str, command: list[str] | None = None, stderr: str = "", source_path: str = ""):
        self.command = list(command or [])
        self.stderr = stderr
        self.source_path = source_path
        detail = [message]
        if command:
            detail.append("command: " + " ".join(command))
        if source_path:
            detail.append(f"source kept at: {source_path}")
        if stderr:
            detail.append(stderr.strip()[-4000:])
        super().__init__("\n".join(detail))


class TilecRuntimeError(Exception):
    """A kernel call failed: bad arguments, no GPU/driver, or a CUDA error (message names the kernel)."""
