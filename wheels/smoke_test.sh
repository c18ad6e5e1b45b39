#!/usr/bin/env bash
# Smoke-test a tilekernels wheel the way a user meets it: a fresh venv without torch and without a CUDA toolkit
# on PATH, `pip install WHEEL`, then wheels/smoke_check.py (import, runtime dependencies, `python -m tilekernels`,
# gemm's error without a GPU) and the `tilec` command.
#
#   wheels/smoke_test.sh dist/tilekernels-*.whl [PYTHON]     # PYTHON: the venv's interpreter (default python3)
#
# TILEKERNELS_SMOKE_GPU=1 expects a GPU instead (the nightly GPU job; install torch into the venv with
# TILEKERNELS_SMOKE_PIP="torch" to call gemm on torch tensors).
set -euo pipefail
WHEEL="$(realpath "${1:?usage: smoke_test.sh WHEEL [PYTHON]}")"
PYTHON="${2:-python3}"
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

"$PYTHON" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
"$VPY" -m pip install -q --disable-pip-version-check "$WHEEL" ${TILEKERNELS_SMOKE_PIP:-}
cp "$HERE/smoke_check.py" "$WORK/"
cd "$WORK"   # never import the source tree
export PATH="$WORK/venv/bin:/usr/bin:/bin"
unset CUDA_HOME CUDA_PATH PYTHONPATH
if [[ -z "${TILEKERNELS_SMOKE_PIP:-}" ]] && "$VPY" -c "import torch" 2>/dev/null; then
  echo "FAIL: torch is importable in the fresh venv"; exit 1
fi
"$VPY" smoke_check.py
"$WORK/venv/bin/tilec" --help > /dev/null
echo "OK: smoke test of $(basename "$WHEEL") with $("$VPY" -V)"
