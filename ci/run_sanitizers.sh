#!/usr/bin/env bash
# Run compute-sanitizer over every tilekernels catalogue variant at small ragged sizes and print a summary.
#
# Usage (GPU machine, tilekernels and torch installed, from anywhere):
#   ci/run_sanitizers.sh                 # memcheck + racecheck
#   ci/run_sanitizers.sh --all           # also synccheck and initcheck
#   ci/run_sanitizers.sh -- --only bf16  # arguments after -- go to tests/reliability/sanitize_driver.py
# Environment: COMPUTE_SANITIZER (path of the binary), SANITIZER_ARGS (extra compute-sanitizer flags).
# Exit status: 0 when every tool reports 0 errors and the driver found no wrong result; 1 otherwise; 2 when
# compute-sanitizer cannot be found.
set -uo pipefail
cd "$(dirname "$0")/.."

tools=(memcheck racecheck)
driver_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --all) tools=(memcheck racecheck synccheck initcheck) ;;
    --) shift; driver_args=("$@"); break ;;
    *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
  shift
done

find_sanitizer() {
  if [ -n "${COMPUTE_SANITIZER:-}" ]; then echo "$COMPUTE_SANITIZER"; return; fi
  if command -v compute-sanitizer >/dev/null 2>&1; then command -v compute-sanitizer; return; fi
  for d in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda /usr/local/cuda-*; do
    if [ -n "$d" ] && [ -x "$d/bin/compute-sanitizer" ]; then echo "$d/bin/compute-sanitizer"; return; fi
  done
  # PyPI's nvidia-cuda-sanitizer-api(-cu12) wheel ships the binary inside the nvidia package.
  python3 - <<'PY' 2>/dev/null
import glob, os
try:
    import nvidia
except ImportError:
    raise SystemExit(1)
for root in nvidia.__path__:
    for p in glob.glob(os.path.join(root, "**", "compute-sanitizer"), recursive=True):
        if os.path.isfile(p) and os.access(p, os.X_OK):
            print(p)
            raise SystemExit(0)
raise SystemExit(1)
PY
}

SAN="$(find_sanitizer)"
if [ -z "$SAN" ]; then
  echo "compute-sanitizer not found: install a CUDA toolkit, or 'pip install nvidia-cuda-sanitizer-api-cu12'," \
       "or set COMPUTE_SANITIZER=/path/to/compute-sanitizer" >&2
  exit 2
fi
echo "compute-sanitizer: $SAN ($("$SAN" --version 2>/dev/null | grep -i version | head -1))"

# Without torch's caching allocator every tensor is its own cudaMalloc, so an out-of-bounds access past a small
# tensor is past an allocation that memcheck knows about (inside a cached block it would go unseen).
export PYTORCH_NO_CUDA_MEMORY_CACHING=1
export PYTHONWARNINGS=ignore

logdir="$(mktemp -d)"
declare -A result
status=0
for tool in "${tools[@]}"; do
  extra=()
  case "$tool" in
    racecheck) extra=(--racecheck-report all) ;;
    initcheck) extra=(--track-unused-memory no) ;;
  esac
  # racecheck and initcheck are slow: fewer shapes per variant.
  quick=()
  [ "$tool" != memcheck ] && quick=(--quick)
  log="$logdir/$tool.log"
  echo "=== $tool ==="
  # shellcheck disable=SC2086
  "$SAN" --tool "$tool" --error-exitcode 86 --print-limit 50 --target-processes all "${extra[@]}" \
      ${SANITIZER_ARGS:-} python3 tests/reliability/sanitize_driver.py "${quick[@]}" "${driver_args[@]}" 2>&1 \
      | tee "$log"
  rc=${PIPESTATUS[0]}
  summary="$(grep -E '(ERROR|RACECHECK) SUMMARY' "$log" | tail -1 | sed 's/^========= //')"
  driver="$(grep -E '^driver summary' "$log" | tail -1)"
  case $rc in
    0) verdict="clean" ;;
    86) verdict="SANITIZER ERRORS"; status=1 ;;
    1) verdict="WRONG RESULTS"; status=1 ;;
    *) verdict="FAILED (exit $rc)"; status=1 ;;
  esac
  result[$tool]="$verdict | ${summary:-no summary line} | ${driver:-driver printed no summary}"
done

echo
echo "=== sanitizer summary (logs in $logdir) ==="
for tool in "${tools[@]}"; do
  printf '%-10s %s\n' "$tool" "${result[$tool]}"
done
exit $status
