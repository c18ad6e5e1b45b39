"""The counters of the reliability suite (shared by its conftest and test modules) and the report they write.

Every bad-input case tried is counted by (function, mutation, outcome); the conftest writes the totals to
`last_run.json` beside this file (not committed) at the end of the session and prints a one-line summary.
"""
from __future__ import annotations

import collections
import json
import os

COUNTS: collections.Counter = collections.Counter()   # (function, mutation, outcome) -> cases
EXCEPTIONS: collections.Counter = collections.Counter()  # (function, exception type name) -> cases
MODE: dict[str, str] = {}
REPORT_PATH = os.environ.get("TILEKERNELS_RELIABILITY_REPORT",
                             os.path.join(os.path.dirname(os.path.abspath(__file__)), "last_run.json"))


def count(function: str, mutation: str, outcome: str, exc: BaseException | None = None) -> None:
    COUNTS[(function, mutation, outcome)] += 1
    if exc is not None:
        EXCEPTIONS[(function, type(exc).__name__)] += 1


def total() -> int:
    return sum(COUNTS.values())


def write() -> str | None:
    if not COUNTS:
        return None
    by_fn: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for (fn, _, outcome), n in COUNTS.items():
        by_fn[fn][outcome] += n
    doc = dict(
        total_cases=total(), mode=MODE,
        by_function={fn: dict(c) for fn, c in sorted(by_fn.items())},
        by_mutation=[dict(function=fn, mutation=m, outcome=o, cases=n) for (fn, m, o), n in sorted(COUNTS.items())],
        exceptions=[dict(function=fn, type=t, cases=n) for (fn, t), n in sorted(EXCEPTIONS.items())],
    )
    with open(REPORT_PATH, "w") as f:
        json.dump(doc, f, indent=1)
    return REPORT_PATH


def summary_line() -> str:
    by_outcome: collections.Counter = collections.Counter()
    for (_, _, outcome), n in COUNTS.items():
        by_outcome[outcome] += n
    parts = ", ".join(f"{n} {o}" for o, n in sorted(by_outcome.items()))
    return f"reliability: {total()} bad-input cases tried ({parts}); mode: {MODE.get('mode', '?')}"
