#!/usr/bin/env bash
# Build the tilekernels wheels for CPython 3.10-3.13.
#
#   ci/build_wheels.sh                 # cibuildwheel, manylinux containers (needs docker; what the nightly runs)
#   ci/build_wheels.sh --local [VERS]  # this machine's Pythons (default VERS "3.10 3.11 3.12 3.13"), into dist/;
#                                      #   auditwheel repair --exclude libcuda.so.1 when auditwheel is installed
#
# TILEC_ARCHS picks the matrix (default: the shards' matrix when .shards/merged exists, else the CMake default).
# With .shards/merged (ci/merge_shards.sh) every cubin is taken from it; otherwise the Pythons after the first hit
# the content-hashed cubin cache (ci/cubin_cache.py), so the catalogue is compiled once.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
MODE="${1:-cibuildwheel}"
VERSIONS="${2:-3.10 3.11 3.12 3.13}"
MERGED="$ROOT/.shards/merged"
if [[ -d "$MERGED" ]]; then
  [[ -z "${TILEC_ARCHS:-}" && -f "$MERGED/ARCHS.env" ]] && export "$(cat "$MERGED/ARCHS.env")"
fi
echo "TILEC_ARCHS=${TILEC_ARCHS:-<default>}"

if [[ "$MODE" != --local ]]; then
  if [[ -d "$MERGED" ]]; then  # the container sees the project at /project
    export CMAKE_ARGS="${CMAKE_ARGS:-} -DTILEC_PREBUILT_DIR=/project/.shards/merged"
  fi
  python3 -m pip install -q "cibuildwheel>=2.22"
  exec python3 -m cibuildwheel --platform linux --config-file wheels/cibuildwheel.toml --output-dir wheelhouse
fi

# --local
find_python() {  # python3.X on PATH, else a pyenv install
  local v="$1" p
  p="$(command -v "python$v" 2>/dev/null || true)"
  if [[ -n "$p" ]] && "$p" -c "" 2>/dev/null; then echo "$p"; return; fi
  for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/python"$v"; do
    [[ -x "$p" ]] && { echo "$p"; return; }
  done
}
if [[ -d "$MERGED" ]]; then export CMAKE_ARGS="${CMAKE_ARGS:-} -DTILEC_PREBUILT_DIR=$MERGED"; fi
export TILEC_COMPILER_LAUNCHER="${TILEC_COMPILER_LAUNCHER:-python3 $ROOT/ci/cubin_cache.py}"
mkdir -p dist/raw wheelhouse build
built=()
for v in $VERSIONS; do
  py="$(find_python "$v")"
  if [[ -z "$py" ]]; then echo "skip CPython $v: not installed"; continue; fi
  start=$(date +%s)
  log="build/wheel-cp${v/./}.log"
  if ! "$py" -m pip wheel . -w dist/raw --no-deps -v > "$log" 2>&1; then
    tail -60 "$log"; echo "error: the CPython $v wheel failed (log: $log)" >&2; exit 1
  fi
  echo "CPython $v: built in $(($(date +%s) - start)) s ($(grep -h 'images' "$log" | sed 's/^ *//' | head -2 | tr '\n' ' '))"
  built+=("$v")
done
[[ ${#built[@]} -gt 0 ]] || { echo "error: none of CPython $VERSIONS found" >&2; exit 1; }
for whl in dist/raw/*.whl; do
  if command -v auditwheel >/dev/null; then
    auditwheel repair --exclude libcuda.so.1 -w wheelhouse "$whl" || { echo "auditwheel failed on $whl" >&2; exit 1; }
  else
    cp "$whl" wheelhouse/
  fi
done
command -v auditwheel >/dev/null || echo "note: auditwheel not installed; wheelhouse/ holds the unrepaired linux_x86_64 wheels"
ls -la wheelhouse/
