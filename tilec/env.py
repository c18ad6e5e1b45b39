"""The only place tilec reads environment variables; each is a function so tests can monkeypatch the env.

Variables:
    TILEC_CACHE_DIR    compile cache root (default ~/.cache/tilec).
    TILEC_DEBUG        "1"/"true"/"yes"/"on" (or any integer > 0): verbose logging, extra checks.
    TILEC_ARCHS        the arch matrix, e.g. "80;86;89;90a;100a;120+PTX" (see toolchain.arch.parse_arch_list).
    CUDA_HOME          CUDA toolkit root (CUDA_PATH is the fallback spelling).
    TILEC_KEEP_SOURCE  also keep nvcc's intermediate files (PTX, ...) next to the kept .cu in the cache.
    PATH               searched for nvcc after CUDA_HOME.
"""
from __future__ import annotations

import os
from pathlib import Path

_FALSE = ("", "0", "false", "no", "off")


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in _FALSE


def cache_dir() -> Path:
    """Root of tilec's on-disk caches: $TILEC_CACHE_DIR, else ~/.cache/tilec. Never raises; may not exist yet."""
    value = os.environ.get("TILEC_CACHE_DIR", "").strip()
    if value:
        return Path(value).expanduser()
    return Path.home() / ".cache" / "tilec"


def debug() -> bool:
    """True when TILEC_DEBUG is set to a true value ("1", "true", "yes", "on", any non-"0" text). Never raises."""
    return _flag("TILEC_DEBUG")


def archs() -> str | None:
    """The raw TILEC_ARCHS string, or None when unset or empty (parse it with toolchain.arch.parse_arch_list)."""
    value = os.environ.get("TILEC_ARCHS", "").strip()
    return value or None


def cuda_home() -> str | None:
    """The CUDA toolkit root from $CUDA_HOME, else $CUDA_PATH, else None. Never raises; the path may not exist."""
    for name in ("CUDA_HOME", "CUDA_PATH"):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def keep_source() -> bool:
    """True when TILEC_KEEP_SOURCE asks to keep nvcc's intermediate files too (the .cu is always kept)."""
    return _flag("TILEC_KEEP_SOURCE")


def search_path() -> str | None:
    """$PATH (for finding nvcc), or None when unset. Never raises."""
    return os.environ.get("PATH")
