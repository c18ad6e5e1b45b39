#!/usr/bin/env bash
# Check every wheel in DIR (default wheelhouse/): contents, manifest, archs (cuobjdump), linkage and size
# (wheels/check_wheel.py), then the smoke test (wheels/smoke_test.sh) of each wheel whose CPython is installed here.
#
#   ci/check_wheels.sh [DIR] [--archs "80;90a"]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${1:-$ROOT/wheelhouse}"
shift || true
shopt -s nullglob
wheels=("$DIR"/tilekernels-*.whl)
[[ ${#wheels[@]} -gt 0 ]] || { echo "error: no tilekernels wheels in $DIR" >&2; exit 1; }
python3 "$ROOT/wheels/check_wheel.py" "${wheels[@]}" "$@"
for whl in "${wheels[@]}"; do
  tag="$(basename "$whl" | sed -E 's/.*-cp([0-9])([0-9]+)-.*/\1.\2/')"
  py="$(command -v "python$tag" 2>/dev/null || ls "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$tag".*/bin/python"$tag" 2>/dev/null | head -1 || true)"
  if [[ -z "$py" ]]; then echo "skip smoke test of $(basename "$whl"): no CPython $tag here"; continue; fi
  bash "$ROOT/wheels/smoke_test.sh" "$whl" "$py"
done
echo "all wheels in $DIR passed"
