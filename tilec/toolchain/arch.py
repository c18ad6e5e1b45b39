"""CUDA targets as data: the arch table, `Target`, arch-string and TILEC_ARCHS-list parsing, gencode flags."""
from __future__ import annotations

import re
from dataclasses import dataclass

from tilec.errors import TilecRuntimeError

KIB = 1024


@dataclass(frozen=True)
class Target:
    """One compilation target (a real `sm_` arch), with the hardware facts the compiler branches on.

    arch: "sm_80", "sm_90a", "sm_120f", ...; cc: compute capability; suffix: "", "a" (arch-specific,
    runs only on that exact arch) or "f" (family-specific, CUDA >= 12.9). family: the lowering family
    ("sm80", "sm90a" or "sm100a"). smem_max: max dynamic shared memory per block (opt-in), in bytes.
    """

    arch: str
    cc: tuple[int, int]
    suffix: str
    family: str
    has_wgmma: bool
    has_tma: bool
    has_cp_async: bool
    smem_max: int
    num_regs_per_thread_max: int = 255

    @property
    def sm(self) -> str:
        """The arch without its prefix: "90a", "120f"."""
        return self.arch[3:]

    @property
    def compute(self) -> str:
        """The virtual arch of the same name: "compute_90a"."""
        return "compute_" + self.sm

    @property
    def generic(self) -> Target:
        """The suffix-less target of the same compute capability (sm_90a -> sm_90)."""
        return _TABLE[f"sm_{self.cc[0]}{self.cc[1]}"] if self.suffix else self

    def __str__(self) -> str:
        return self.arch


def _make(sm: str, smem_kib: int) -> Target:
    m = re.fullmatch(r"(\d+)(\d)([af]?)", sm)
    assert m, f"bad arch table entry {sm} (internal error, please report)"
    cc = (int(m.group(1)), int(m.group(2)))
    suffix = m.group(3)
    if sm == "90a":
        family = "sm90a"
    elif suffix == "a" and cc[0] == 10:
        family = "sm100a"
    else:
        family = "sm80"
    return Target(
        arch="sm_" + sm, cc=cc, suffix=suffix, family=family, has_wgmma=(sm == "90a"),
        has_tma=cc >= (9, 0), has_cp_async=cc >= (8, 0), smem_max=smem_kib * KIB,
    )


# The supported archs and their opt-in shared memory per block (CUDA programming guide, compute capabilities
# table). Adding an arch is one line here; the allowed-set messages follow.
_SMEM_KIB = {
    "80": 163, "86": 99, "87": 163, "89": 99, "90": 227, "90a": 227, "100": 227, "100a": 227, "103a": 227,
    "120": 99, "120a": 99, "120f": 99, "121": 99,
}
_TABLE: dict[str, Target] = {"sm_" + sm: _make(sm, kib) for sm, kib in _SMEM_KIB.items()}
ALLOWED: tuple[str, ...] = tuple(_SMEM_KIB)


def _allowed_text() -> str:
    return ", ".join(ALLOWED)


def parse_target(s: str | Target) -> Target:
    """Parse one arch spelling into its Target.

    Accepts "sm_80", "sm80", "80", "8.0", "9.0a", "sm_90a", "compute_90a", "12.0f" (case-insensitive);
    a Target is returned unchanged.

    Raises:
        ValueError: the spelling is malformed or names an arch outside the allowed set (the message lists it).
    """
    if isinstance(s, Target):
        return s
    text = str(s).strip().lower()
    core = re.sub(r"^(sm_?|compute_?)", "", text)
    m = re.fullmatch(r"(\d+)\.(\d)([af]?)", core)
    if m:
        core = m.group(1) + m.group(2) + m.group(3)
    target = _TABLE.get("sm_" + core)
    if target is None:
        raise ValueError(f"unknown CUDA arch '{s}'; allowed: {_allowed_text()} "
                         f"(also spelled sm_90a, compute_90a or 9.0a)")
    return target


def target_for_cc(cc: tuple[int, int]) -> Target | None:
    """The generic (suffix-less) target whose cubins run on a device of compute capability `cc`, or None.

    That is sm_<major><minor> when known, else the same-major generic arch with the highest minor <= the
    device's (a cubin for sm_XY runs on the same major with minor >= Y). Never raises.
    """
    best = None
    for t in _TABLE.values():
        if not t.suffix and t.cc[0] == cc[0] and t.cc[1] <= cc[1] and (best is None or t.cc > best.cc):
            best = t
    return best


def current_device_target() -> Target:
    """The generic target of the current CUDA device (cc 9.0 -> sm_90: the sm80-family lowering; ask for
    sm_90a explicitly to get wgmma/TMA).

    Raises:
        TilecRuntimeError: no CUDA driver or GPU, or a GPU whose compute capability tilec has no target for.
    """
    from tilec.runtime import driver  # lazy: toolchain works on machines without a driver

    dev = driver.current_device()
    cc = driver.compute_capability(dev)
    target = target_for_cc(cc)
    if target is None:
        raise TilecRuntimeError(
            f"GPU '{driver.device_name(dev)}' has compute capability {cc[0]}.{cc[1]}, for which tilec has no "
            f"target; supported archs: {_allowed_text()}")
    return target


@dataclass(frozen=True)
class ArchEntry:
    """One entry of an arch matrix: a target, and whether to embed PTX (forward compatibility) for it."""

    target: Target
    ptx: bool = False

    def __str__(self) -> str:
        return self.target.sm + ("+PTX" if self.ptx else "")


def _sort_key(t: Target) -> tuple:
    return (t.cc, t.suffix)


def parse_arch_list(spec: str) -> list[ArchEntry]:
    """Parse a TILEC_ARCHS-style arch matrix into sorted, deduplicated entries.

    Accepts tilec's spelling ("80;86;89;90a;100a;120+PTX") and PyTorch's ("8.0 8.6 8.9 9.0a 10.0a 12.0f+PTX");
    separators are ';', ',' or whitespace. Entries are normalised, sorted by (compute capability, suffix) and
    deduplicated ("90" and "9.0+PTX" merge into one entry with PTX), so cache keys and file names are
    deterministic.

    Raises:
        ValueError: an empty list, an unknown entry (the message names the allowed set), or "+PTX" on an
            arch-specific "a" target (its PTX runs on no other GPU; put +PTX on a generic arch instead).
    """
    tokens = [t for t in re.split(r"[;,\s]+", spec.strip()) if t]
    if not tokens:
        raise ValueError(f"empty arch list '{spec}'; give e.g. '80;86;89;90a;120+PTX' (allowed: {_allowed_text()})")
    merged: dict[str, ArchEntry] = {}
    for tok in tokens:
        ptx = tok.lower().endswith("+ptx")
        name = tok[:-4] if ptx else tok
        try:
            target = parse_target(name)
        except ValueError:
            raise ValueError(f"unknown arch '{tok}' in arch list '{spec}'; allowed: {_allowed_text()}, "
                             f"each optionally with +PTX (PyTorch spellings like 9.0a and 12.0f+PTX work too)") from None
        if ptx and target.suffix == "a":
            raise ValueError(f"'{tok}' in arch list '{spec}': PTX for the arch-specific target {target.arch} runs "
                             f"only on that exact GPU, so it gives no forward compatibility; put +PTX on a generic "
                             f"arch instead (e.g. '{target.cc[0]}{target.cc[1]}+PTX' or the newest one you list)")
        old = merged.get(target.arch)
        merged[target.arch] = ArchEntry(target, ptx or (old is not None and old.ptx))
    return sorted(merged.values(), key=lambda e: _sort_key(e.target))


def format_arch_list(entries: list[ArchEntry]) -> str:
    """The canonical ';'-joined spelling of parsed entries ("80;90a;120+PTX"). Never raises."""
    return ";".join(str(e) for e in entries)


def nvcc_gencode_flags(entry: ArchEntry | Target) -> list[str]:
    """nvcc -gencode flags for one matrix entry: the cubin, plus PTX when the entry asks for it.

    The PTX is always the generic compute_XY: family ("f") PTX would run only within its family, and
    "+PTX" exists to carry kernels forward to later GPUs. Never raises.
    """
    if isinstance(entry, Target):
        entry = ArchEntry(entry)
    t = entry.target
    flags = [f"-gencode=arch={t.compute},code={t.arch}"]
    if entry.ptx:
        g = t.generic
        flags.append(f"-gencode=arch={g.compute},code={g.compute}")
    return flags
