"""What a results file records about the machine and the software (so a ratio can be traced to its run)."""
from __future__ import annotations

import ctypes
import datetime
import importlib
import os
import platform
import subprocess
from typing import Any

REPO = __file__.rsplit("/bench/", 1)[0]


def _run(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20, cwd=REPO).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _version(module: str) -> str | None:
    try:
        return getattr(importlib.import_module(module), "__version__", "unknown")
    except Exception as e:  # an import that fails for any reason means "not measured": record why
        return None if isinstance(e, ImportError) else f"import failed: {type(e).__name__}"


def git_commit() -> dict[str, Any]:
    commit = _run(["git", "rev-parse", "HEAD"])
    dirty = bool(_run(["git", "status", "--porcelain", "--untracked-files=no"]))
    return dict(commit=commit or None, dirty=dirty)


def driver_versions() -> dict[str, Any]:
    out: dict[str, Any] = {}
    smi = _run(["nvidia-smi", "--query-gpu=driver_version,clocks.max.sm,clocks.max.mem,power.limit",
                "--format=csv,noheader"])
    if smi:
        f = [x.strip() for x in smi.splitlines()[0].split(",")]
        out.update(driver=f[0], sm_clock_max=f[1:2] and f[1], mem_clock_max=f[2:3] and f[2],
                   power_limit=f[3:4] and f[3])
    try:
        v = ctypes.c_int()
        ctypes.CDLL("libcuda.so.1").cuDriverGetVersion(ctypes.byref(v))
        out["driver_cuda_api"] = f"{v.value // 1000}.{v.value % 1000 // 10}"
    except OSError:
        pass
    return out


def environment(torch: Any) -> dict[str, Any]:
    props = torch.cuda.get_device_properties(torch.cuda.current_device())
    env = dict(
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        device=torch.cuda.get_device_name(), compute_capability=f"{props.major}.{props.minor}",
        sm_count=props.multi_processor_count, memory_gib=round(props.total_memory / 2**30, 1),
        l2_bytes=getattr(props, "L2_cache_size", None),
        torch=torch.__version__, torch_cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version(),
        triton=_version("triton"), tilelang=_version("tilelang"), tilekernels=_version("tilekernels"),
        python=platform.python_version(), **driver_versions(), git=git_commit(),
    )
    if os.environ.get("TILEKERNELS_WHEEL_COMMIT"):  # the measured wheel's build commit (bench/h100_session.sh)
        env["wheel_commit"] = os.environ["TILEKERNELS_WHEEL_COMMIT"]
    try:
        import tilekernels._C as C  # the wheel's build facts, when the binding exposes them
        for attr in ("built_archs", "cuda_version", "git_commit"):
            if hasattr(C, attr):
                v = getattr(C, attr)
                env[f"tilekernels_{attr}"] = v() if callable(v) else v
    except Exception:  # noqa: BLE001 - optional information only
        pass
    return env
