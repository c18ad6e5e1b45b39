"""tilekernels: ahead-of-time compiled tile-language GPU kernels, dispatched from C++ through the CUDA driver API.

`import tilekernels` needs no GPU, driver or torch: the driver is loaded on the first call that needs a GPU, and
torch only when a torch tensor is passed in. Owns the public API; must not import tilec (the compiler).
"""
from __future__ import annotations

import os as _os

from . import _C
from .attention import flash_attn, flash_attn_varlen
from .errors import CudaError, NoGPUError, TilekernelsError, UnsupportedGPUError
from .gemm import gemm

_C._init(_os.path.dirname(_os.path.abspath(__file__)))

__version__: str = _C.__version__


def built_archs() -> list[str]:
    """The GPU archs this build of tilekernels was compiled for.

    Returns:
        The arch names, e.g. ``["sm_80", "sm_90a"]`` (``compute_XY`` entries are PTX, which later GPUs JIT-compile).
    """
    return _C.built_archs()


def kernels() -> list[dict]:
    """The compiled kernel variants in this build.

    Returns:
        One dict per variant: ``name``, ``fatbin``, ``entry``, ``threads``, ``smem_bytes``, ``cluster``, ``archs``,
        ``family``, and the family's dispatch fields (for GEMM: ``dtype``, ``trans_b``, ``max_m``, ``min_k``, ``block``,
        ``preference`` — lower is tried first; for ``attention`` and ``attention_varlen``: ``dtype``, ``head_dim``,
        ``causal``, ``block`` (query rows, keys), ``preference``).
    """
    return _C.kernels()


def device_info(device: int | None = None) -> dict:
    """Describe a GPU and which kernels of this build can run on it.

    Args:
        device: CUDA device ordinal; None for the calling thread's current device (else 0).

    Returns:
        ``index``, ``name``, ``compute_capability``, ``sm_count``, ``max_shared_memory_per_block_optin``,
        ``driver_cuda_version``, ``device_count``, ``usable_kernels`` and ``unusable_kernels`` (name, reason).

    Raises:
        NoGPUError: no NVIDIA driver or GPU.
        CudaError: e.g. the ordinal does not exist.
    """
    return _C.device_info(device)


def warmup(device: int | None = None) -> list[str]:
    """Load every kernel of this build that can run on a GPU, so that no later call pays for loading.

    Loading happens lazily on first use otherwise (milliseconds per kernel; longer when the driver has to compile
    PTX for a GPU newer than the build).

    Args:
        device: CUDA device ordinal; None for the calling thread's current device (else 0).

    Returns:
        The names of the kernels loaded (or already loaded) for that device.

    Raises:
        NoGPUError: no NVIDIA driver or GPU.
        CudaError: a kernel failed to load (UnsupportedGPUError when its fatbin has no code for this GPU).
    """
    import logging  # not at import time: it costs ~10 ms

    logging.getLogger("tilekernels").info("tilekernels: loading the kernels for %s", "the current GPU" if device is None else f"cuda:{device}")
    return _C.warmup(device)


__all__ = [
    "CudaError",
    "NoGPUError",
    "TilekernelsError",
    "UnsupportedGPUError",
    "__version__",
    "built_archs",
    "device_info",
    "flash_attn",
    "flash_attn_varlen",
    "gemm",
    "kernels",
    "warmup",
]
