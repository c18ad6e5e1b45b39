"""bench/timing.py's interleaved measurement on a simulated GPU (a fake `torch` whose events read a clock that the
timed functions advance): the rounds alternate A B, B A, ..., every implementation gets its budget, and the times
each one records are its own calls'."""
from __future__ import annotations

import sys
import types

import pytest

from bench import timing


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.log: list[str] = []


def _fake_torch(clock: _Clock) -> types.ModuleType:
    class Event:
        def __init__(self, enable_timing: bool = False) -> None:
            self.t = None

        def record(self) -> None:
            self.t = clock.now

        def elapsed_time(self, end: "Event") -> float:
            return end.t - self.t

    class _Buf:
        def zero_(self) -> None:
            clock.now += 0.5  # the L2 flush: outside the events

    cuda = types.SimpleNamespace(Event=Event, synchronize=lambda: None, current_device=lambda: 0,
                                 get_device_properties=lambda d: types.SimpleNamespace(L2_cache_size=50 << 20))
    mod = types.ModuleType("torch")
    mod.cuda = cuda
    mod.int32 = "int32"
    mod.empty = lambda *a, **k: _Buf()
    return mod


def _impl(clock: _Clock, name: str, ms: float):
    def fn(*args) -> None:
        clock.now += ms
        clock.log.append(name)
    return fn


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    c = _Clock()
    monkeypatch.setitem(sys.modules, "torch", _fake_torch(c))
    return c


def _runs(log: list[str]) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for x in log:
        if out and out[-1][0] == x:
            out[-1] = (x, out[-1][1] + 1)
        else:
            out.append((x, 1))
    return out


def test_interleaved_rounds_alternate_and_time_their_own_calls(clock: _Clock) -> None:
    a, b = _impl(clock, "a", 1.0), _impl(clock, "b", 2.0)
    ta, tb = timing.measure_interleaved([a, b], [()], budget_ms=80.0, rounds=4, warmup_ms=5.0)
    assert set(ta.times_ms) == {1.0} and set(tb.times_ms) == {2.0}   # the flush stays outside the events
    assert len(ta.times_ms) == 80 and len(tb.times_ms) == 40          # each implementation its own budget
    # rounds a20 b10 | b10 a20 | a20 b10 | b10 a20 (the last 120 calls; the warm-ups come first)
    assert _runs(clock.log[-120:]) == [("a", 20), ("b", 20), ("a", 40), ("b", 20), ("a", 20)]
    assert ta.summary()["interleaved"] == 2 and tb.summary()["rounds"] == 4


def test_measure_alone_still_uses_the_budget(clock: _Clock) -> None:
    t = timing.measure(_impl(clock, "a", 2.0), [()], budget_ms=50.0, warmup_ms=4.0)
    assert len(t.times_ms) == 25 and set(t.times_ms) == {2.0}
    assert _runs(clock.log[-25:]) == [("a", 25)]
