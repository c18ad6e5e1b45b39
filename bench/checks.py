"""What every benchmark shares besides timing: the "cannot run here" signal and the correctness check."""
from __future__ import annotations

from typing import Any

TOLERANCE = 1e-2     # DESIGN.md § 8: fp16/bf16 operands, ‖out − ref‖/‖ref‖ against a higher-precision reference


class Unavailable(Exception):
    """The implementation cannot run this case here (not installed, no such function): skip with the note."""


def rel_err(out: Any, ref: Any) -> float:
    """‖out − ref‖ / ‖ref‖ in fp32 (NaN when out has NaN: callers test `not err <= TOLERANCE`)."""
    out, ref = out.float(), ref.float()
    return float((out - ref).norm() / ref.norm().clamp_min(1e-30))
