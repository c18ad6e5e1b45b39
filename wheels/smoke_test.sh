#!/usr/bin/env bash
# Smoke-test a tilekernels wheel the way a user meets it: a fresh venv without torch (and without a CUDA toolkit
# on PATH), `pip install WHEEL`, import, `python -m tilekernels`, the `tilec` command, and — on a machine without
# a GPU — a gemm call that must raise a Python exception saying why (never crash).
#
#   wheels/smoke_test.sh dist/tilekernels-*.whl [PYTHON]     # PYTHON: the interpreter for the venv (default python3)
#
# TILEKERNELS_SMOKE_GPU=1 expects a GPU instead: the gemm call must run and match numpy (the nightly GPU job).
set -euo pipefail
WHEEL="$(realpath "${1:?usage: smoke_test.sh WHEEL [PYTHON]}")"
PYTHON="${2:-python3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

"$PYTHON" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
"$VPY" -m pip install -q --disable-pip-version-check "$WHEEL"
cd "$WORK"   # never import the source tree
# Only the NVIDIA driver may be needed at run time: no toolkit on PATH, no torch.
export PATH="$WORK/venv/bin:/usr/bin:/bin"
unset CUDA_HOME CUDA_PATH PYTHONPATH
if "$VPY" -c "import torch" 2>/dev/null; then echo "FAIL: torch is importable in the fresh venv"; exit 1; fi

"$VPY" - <<'PY'
import importlib.metadata as md
import tilekernels
from tilekernels import gemm
import tilekernels._C
deps = md.requires("tilekernels") or []
bad = [d for d in deps if "extra ==" not in d and not d.lower().startswith("numpy")]
assert not bad, f"runtime dependencies other than numpy: {bad}"
print("import OK:", tilekernels.__file__, "| runtime deps:", [d for d in deps if "extra ==" not in d])
PY

echo "--- python -m tilekernels"
"$VPY" -m tilekernels
echo "--- tilec --help"
"$WORK/venv/bin/tilec" --help >/dev/null

echo "--- gemm"
"$VPY" - <<'PY'
import os
import numpy as np
import tilekernels

want_gpu = os.environ.get("TILEKERNELS_SMOKE_GPU", "") not in ("", "0")
a = np.ones((64, 64), np.float16)
b = np.ones((64, 64), np.float16)
try:
    out = tilekernels.gemm(a, b)
except Exception as e:  # noqa: BLE001 - any Python exception is the contract; a crash is not
    msg = f"{type(e).__name__}: {e}"
    print("gemm raised", msg)
    if want_gpu:
        raise
    words = ("gpu", "cuda", "driver", "device", "libcuda")
    assert any(w in msg.lower() for w in words), f"the error does not say what is missing: {msg}"
    assert len(str(e)) > 20, f"the error is too terse to act on: {msg}"
else:
    if not want_gpu:
        raise SystemExit(f"FAIL: gemm without a GPU returned {type(out).__name__} instead of raising")
    print("gemm ran on the GPU")
PY
echo "OK: smoke test of $(basename "$WHEEL") passed"
