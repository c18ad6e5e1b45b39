"""The checks of an installed tilekernels wheel, run inside the venv it was installed into (wheels/smoke_test.sh,
and cibuildwheel's test-command): no torch needed, runtime dependencies numpy at most, `from tilekernels import
gemm` works, `python -m tilekernels` reports, and a gemm call without a GPU raises a Python exception that says
what is missing (never a crash). TILEKERNELS_SMOKE_GPU=1: a GPU (and torch) is expected and gemm on torch tensors
must match torch.
"""
from __future__ import annotations

import importlib.metadata as md
import os
import subprocess
import sys


def main() -> int:
    import tilekernels
    import tilekernels._C  # the extension itself must load without a driver
    from tilekernels import gemm

    if "site-packages" not in tilekernels.__file__:
        print(f"FAIL: imported tilekernels from {tilekernels.__file__}, not from the installed wheel")
        return 1
    deps = [d for d in (md.requires("tilekernels") or []) if "extra ==" not in d]
    if any(not d.lower().startswith("numpy") for d in deps):
        print(f"FAIL: runtime dependencies other than numpy: {deps}")
        return 1
    print(f"import OK: {tilekernels.__file__}; runtime dependencies: {deps}")
    if tilekernels.__version__ != md.version("tilekernels") or tilekernels._C.cuda_version == "unknown":
        print(f"FAIL: tilekernels.__version__ {tilekernels.__version__!r} (the wheel says {md.version('tilekernels')!r}),"
              f" built with CUDA {tilekernels._C.cuda_version!r}: the build did not pass its version defines")
        return 1

    proc = subprocess.run([sys.executable, "-m", "tilekernels"], capture_output=True, text=True, check=False)
    print(f"--- python -m tilekernels (exit {proc.returncode})\n{proc.stdout}{proc.stderr}")
    if proc.returncode != 0:
        print("FAIL: python -m tilekernels failed")
        return 1

    want_gpu = os.environ.get("TILEKERNELS_SMOKE_GPU", "") not in ("", "0")
    if want_gpu:
        return _gemm_on_gpu(gemm)
    # No GPU: arrays that claim to live on the GPU (__cuda_array_interface__, distinct fake pointers, nothing
    # dereferenced on the host) get through validation to the driver, which must be reported missing cleanly.
    n = 64
    a, b, c = (_FakeCudaArray((n, n), 0x7F0000000000 + i * 0x100000) for i in range(3))
    try:
        out = gemm(a, b, out=c)
    except Exception as e:  # noqa: BLE001 - any Python exception is the contract; a crash is not
        msg = f"{type(e).__name__}: {e}"
        print(f"gemm without a GPU raised {msg}")
        if not any(w in msg.lower() for w in ("gpu", "cuda", "driver", "device")) or len(str(e)) < 20:
            print("FAIL: the error does not say what is missing")
            return 1
    else:
        print(f"FAIL: gemm without a GPU returned {type(out).__name__} instead of raising")
        return 1
    return 0


class _FakeCudaArray:
    def __init__(self, shape: tuple, ptr: int) -> None:
        self.__cuda_array_interface__ = {"shape": shape, "typestr": "<f2", "data": (ptr, False), "version": 3,
                                         "strides": None}


def _gemm_on_gpu(gemm) -> int:
    import torch

    a = torch.randn(256, 128, dtype=torch.float16, device="cuda")
    b = torch.randn(128, 192, dtype=torch.float16, device="cuda")
    out = gemm(a, b)
    ref = a.float() @ b.float()
    err = ((out.float() - ref).norm() / ref.norm()).item()
    print(f"gemm on the GPU: relative error {err:.2e}")
    return 0 if err <= 1e-2 else 1

if __name__ == "__main__":
    raise SystemExit(main())
