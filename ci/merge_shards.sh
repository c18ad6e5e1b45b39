#!/usr/bin/env bash
# Merge nightly shards into one prebuilt directory, then build the fatbins and a wheel from it, compiling nothing
# that a shard already compiled.
#
#   ci/merge_shards.sh [SHARDS_DIR]           # default .shards (one sub-directory per arch, from ci/build_shard.sh)
#
# Writes SHARDS_DIR/merged/ (every shard's NAME.cu, cubins, reports and PTX; a NAME.cu that differs between shards
# is an error: the shards were built from different commits). Then, with TILEC_ARCHS = the shards' archs (or the
# TILEC_ARCHS you set), builds a wheel into dist/ with -DTILEC_PREBUILT_DIR=SHARDS_DIR/merged: the cubin rule of
# cmake/Tilec.cmake copies each prebuilt image after checking it was compiled from the very source this build
# emits; any image the shards lack is compiled here. MERGE_ONLY=1 stops after the merge (ci/build_wheels.sh then
# builds the wheels for every Python from the merged directory).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARDS="$(realpath "${1:-$ROOT/.shards}")"
MERGED="$SHARDS/merged"
PYTHON="${PYTHON:-python3}"

rm -rf "$MERGED" && mkdir -p "$MERGED"
archs=()
for dir in "$SHARDS"/*/; do
  dir="${dir%/}"
  [[ "$(basename "$dir")" == merged ]] && continue
  [[ -f "$dir/ARCH" ]] || { echo "skip $dir (no ARCH file: not a shard)"; continue; }
  archs+=("$(cat "$dir/ARCH")")
  for f in "$dir"/*; do
    base="$(basename "$f")"
    [[ "$base" == ARCH ]] && continue
    if [[ -e "$MERGED/$base" ]] && ! cmp -s "$f" "$MERGED/$base"; then
      echo "error: $base differs between shards ($dir and an earlier one): rebuild all shards from one commit" >&2
      exit 1
    fi
    cp "$f" "$MERGED/"
  done
done
[[ ${#archs[@]} -gt 0 ]] || { echo "error: no shards in $SHARDS (run ci/build_shard.sh ARCH first)" >&2; exit 1; }
ARCHS="$(IFS=';'; echo "${archs[*]}")"
echo "merged shards [$ARCHS] into $MERGED: $(ls "$MERGED" | grep -cE '\.(cubin|ptx)$') images"
echo "TILEC_ARCHS=$ARCHS" > "$MERGED/ARCHS.env"
[[ "${MERGE_ONLY:-}" == 1 ]] && exit 0

export TILEC_ARCHS="${TILEC_ARCHS:-$ARCHS}"
export CMAKE_ARGS="${CMAKE_ARGS:-} -DTILEC_PREBUILT_DIR=$MERGED"
cd "$ROOT"
rm -rf build/temp.* build/lib.*   # a stale CMake cache would keep an older TILEC_PREBUILT_DIR/TILEC_ARCHS
mkdir -p build
if ! "$PYTHON" -m pip wheel . -w dist --no-deps -v > build/merge_wheel.log 2>&1; then
  tail -60 build/merge_wheel.log; echo "error: the wheel build failed (log: build/merge_wheel.log)" >&2; exit 1
fi
grep -h "tilec: .*images" build/merge_wheel.log || true
grep -q "images from $MERGED" build/merge_wheel.log || { echo "error: the build did not use $MERGED" >&2; exit 1; }
ls -la dist/*.whl
