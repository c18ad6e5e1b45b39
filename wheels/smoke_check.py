"""The checks of an installed tilekernels wheel, run inside the venv it was installed into (wheels/smoke_test.sh,
and cibuildwheel's test-command): no torch needed, runtime dependencies numpy at most, `from tilekernels import
gemm` works, `python -m tilekernels` reports, and a gemm call without a GPU raises a Python exception that says
what is missing (never a crash). TILEKERNELS_SMOKE_GPU=1: a GPU is expected and gemm must match numpy (torch
tensors when torch is installed, else the call must still raise cleanly).
"""
from __future__ import annotations

import importlib.metadata as md
import os
import subprocess
import sys


def main() -> int:
    import tilekernels
    import tilekernels._C  # noqa: F401 - the extension itself must load without a driver
    from tilekernels import gemm

    if "site-packages" not in tilekernels.__file__:
        print(f"FAIL: imported tilekernels from {tilekernels.__file__}, not from the installed wheel")
        return 1
    deps = [d for d in (md.requires("tilekernels") or []) if "extra ==" not in d]
    if any(not d.lower().startswith("numpy") for d in deps):
        print(f"FAIL: runtime dependencies other than numpy: {deps}")
        return 1
    print(f"import OK: {tilekernels.__file__}; runtime dependencies: {deps}")

    proc = subprocess.run([sys.executable, "-m", "tilekernels"], capture_output=True, text=True, check=False)
    print("--- python -m tilekernels (exit %d)\n%s%s" % (proc.returncode, proc.stdout, proc.stderr))
    if proc.returncode != 0:
        print("FAIL: python -m tilekernels failed")
        return 1

    import numpy as np

    want_gpu = os.environ.get("TILEKERNELS_SMOKE_GPU", "") not in ("", "0")
    a = np.ones((64, 64), np.float16)
    args = (a, a)
    if want_gpu:
        try:
            import torch

            args = (torch.randn(256, 128, dtype=torch.float16, device="cuda"),
                    torch.randn(128, 192, dtype=torch.float16, device="cuda"))
        except ImportError:
            pass
    try:
        out = gemm(*args)
    except Exception as e:  # noqa: BLE001 - any Python exception is the contract; a crash is not
        msg = f"{type(e).__name__}: {e}"
        print(f"gemm raised {msg}")
        if want_gpu and args[0] is not a:
            print("FAIL: gemm failed on the GPU")
            return 1
        if not any(w in msg.lower() for w in ("gpu", "cuda", "driver", "device")) or len(str(e)) < 20:
            print("FAIL: the error does not say what is missing")
            return 1
        return 0
    if not want_gpu:
        print(f"FAIL: gemm without a GPU returned {type(out).__name__} instead of raising")
        return 1
    ref = args[0].float() @ args[1].float()
    err = ((out.float() - ref).norm() / ref.norm()).item()
    print(f"gemm on the GPU: relative error {err:.2e}")
    return 0 if err <= 1e-2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
