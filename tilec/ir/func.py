"""PrimFunc: a parsed tile program (parameters, symbolic dims, body) plus per-pass analysis results."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from tilec.errors import NO_LOC, SourceLoc
from tilec.ir.stmt import Stmt


@dataclass(frozen=True, eq=False)
class Param:
    """A kernel parameter: a global tensor (`buffer`) or a scalar (`var`)."""

    name: str
    buffer: object = None
    var: object = None


@dataclass(frozen=True, eq=False)
class PrimFunc:
    """A tile program.

    params: Param list in call order. sym_dims: Vars of symbolic dims (runtime int32 values) in order
    of first appearance. attrs: analysis results added by passes (e.g. "layouts", "smem_bytes").
    """

    name: str
    params: tuple
    sym_dims: tuple
    body: Stmt
    loc: SourceLoc = field(default=NO_LOC, compare=False)
    attrs: dict = field(default_factory=dict)

    def with_body(self, body: Stmt, **attrs: object) -> "PrimFunc":
        return replace(self, body=body, attrs={**self.attrs, **attrs})

    def with_attrs(self, **attrs: object) -> "PrimFunc":
        return replace(self, attrs={**self.attrs, **attrs})
