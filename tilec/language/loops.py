"""Loop constructors: T.Parallel, T.Pipelined, T.serial, T.unroll (the front end's `for` consumes them)."""
from __future__ import annotations

from dataclasses import dataclass

from tilec.errors import TilecError
from tilec.ir.expr import Expr, as_int, const
from tilec.language.builder import current, loc


@dataclass
class LoopSpec:
    """What a loop constructor returns: the front end turns it into ir.For / ir.Parallel."""

    kind: str  # serial | unroll | pipelined | parallel
    extents: tuple
    start: object = 0
    num_stages: int = 0
    order: tuple = ()
    stage: tuple = ()
    group: tuple = ()
    skip_unit: object = None  # T.Parallel(skip_unit=factor): a fragment whose elements scale the body's store


def _range_args(what: str, args: tuple) -> tuple[Expr, Expr]:
    if len(args) == 1:
        start, stop = 0, args[0]
    elif len(args) == 2:
        start, stop = args
    else:
        raise TilecError(f"{what}: expected (stop) or (start, stop), got {len(args)} arguments", loc())
    for v in (start, stop):
        if not isinstance(v, Expr) and as_int(v) is None:
            raise TilecError(f"{what}: bounds must be ints or integer expressions, got {v!r}", loc())
    s, e = const(start), const(stop)
    if isinstance(s, Expr) and as_int(s) == 0:
        return s, e
    return s, e - s


def serial(*args: object) -> LoopSpec:
    """A sequential loop: `for k in T.serial(n)` or `T.serial(start, stop)`."""
    current("T.serial")
    start, extent = _range_args("T.serial", args)
    return LoopSpec("serial", (extent,), start)


def unroll(*args: object) -> LoopSpec:
    """A sequential loop the compiler fully unrolls."""
    current("T.unroll")
    start, extent = _range_args("T.unroll", args)
    return LoopSpec("unroll", (extent,), start)


def Pipelined(*args: object, num_stages: int = 0, order: object = None, stage: object = None,  # noqa: N802
              group: object = None) -> LoopSpec:
    """A sequential loop whose global->shared copies are software-pipelined `num_stages` deep.

    The copies of iteration k + num_stages - 1 are issued while iteration k computes. `order`,
    `stage` and `group` (TileLang's manual pipeline annotations) schedule the consumers of a warp-specialized
    loop on sm_90a (tilec/transform/schedule_consumers.py: groups of the body's statements, each run `stage`
    iterations late at position `order`); the sm80-family lowering records and ignores them.
    """
    current("T.Pipelined")
    start, extent = _range_args("T.Pipelined", args)
    if as_int(num_stages) is None or num_stages < 0:
        raise TilecError(f"T.Pipelined: num_stages must be a non-negative int, got {num_stages!r}", loc())
    return LoopSpec("pipelined", (extent,), start, int(num_stages), tuple(order or ()), tuple(stage or ()),
                    tuple(group or ()))


def Parallel(*extents: object, skip_unit: object = None) -> LoopSpec:  # noqa: N802
    """Element-wise loop nest over a tile: `for i, j in T.Parallel(M, N)`; extents are compile-time ints.

    The body runs once per element; the compiler distributes elements over threads by layout.

    skip_unit: a fragment `f` when the body is one scaling store `x[...] = x[...] * f[...]` (`x[...] *= f[...]`): the
    compiled code skips the multiplications where they change nothing, i.e. a warp whose threads hold only factors
    exactly 1.0 branches around its copy of the loop (one vote, no result changes: x * 1.0 is x). For rescales that
    are usually 1, such as attention's running-max correction of the output accumulator. The body's form is checked
    when the kernel is lowered.
    """
    current("T.Parallel")
    if skip_unit is not None and (getattr(skip_unit, "scope", None) != "fragment"):
        raise TilecError(f"T.Parallel: skip_unit must be a fragment (T.alloc_fragment) holding the scale factors, got "
                         f"{skip_unit!r}", loc())
    if not extents:
        raise TilecError("T.Parallel needs at least one extent", loc())
    out = []
    for e in extents:
        v = as_int(e)
        if v is None or v <= 0:
            raise TilecError(f"T.Parallel: extents must be positive compile-time ints, got {e!r}", loc())
        out.append(v)
    return LoopSpec("parallel", tuple(out), skip_unit=skip_unit)
