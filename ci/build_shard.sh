#!/usr/bin/env bash
# Build the cubins (and PTX) of ONE arch of the matrix: one nightly shard, runnable locally.
#
#   ci/build_shard.sh 90a [OUT_DIR]          # OUT_DIR default .shards/90a (120+PTX -> .shards/120+PTX)
#
# Configures build/shard-<arch> with TILEC_ARCHS=<arch> (catalogue only, no _C), builds the target
# tilekernels_catalogue_cubins, and copies into OUT_DIR every NAME.cu with its NAME.<arch>.cubin,
# NAME.<arch>.cubin.json (ptxas report) and NAME.compute_XY.ptx. ci/merge_shards.sh combines shards.
#
# nvcc goes through ci/cubin_cache.py (a content-hashed launcher; the workflow keeps TILEC_CUBIN_CACHE_DIR with
# actions/cache) unless TILEC_COMPILER_LAUNCHER says otherwise (set it to "none" for plain nvcc).
set -euo pipefail
ARCH="${1:?usage: ci/build_shard.sh ARCH [OUT_DIR]   (one entry of TILEC_ARCHS, e.g. 90a or 120+PTX)}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${2:-$ROOT/.shards/$ARCH}"
BUILD="$ROOT/build/shard-$ARCH"
PYTHON="${PYTHON:-python3}"
case "${TILEC_COMPILER_LAUNCHER:-}" in
  none) LAUNCHER="" ;;
  "") LAUNCHER="$PYTHON $ROOT/ci/cubin_cache.py" ;;
  *) LAUNCHER="$TILEC_COMPILER_LAUNCHER" ;;
esac

start=$(date +%s)
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DTILEKERNELS_BUILD_BINDINGS=OFF -DTILEC_ARCHS="$ARCH" \
  -DTILEC_COMPILER_LAUNCHER="$LAUNCHER" -DTILEC_PREBUILT_DIR= -DPython_EXECUTABLE="$(command -v "$PYTHON")"
cmake --build "$BUILD" --target tilekernels_catalogue_cubins

rm -rf "$OUT" && mkdir -p "$OUT"
GEN="$BUILD/gen"
shopt -s nullglob
n=0
for img in "$GEN"/*.cubin "$GEN"/*.ptx; do
  base="$(basename "$img")"
  name="${base%%.*}"
  cp "$img" "$OUT/"
  [[ "$img" == *.cubin ]] && cp "$img.json" "$OUT/"
  cp "$GEN/$name.cu" "$OUT/"
  n=$((n + 1))
done
echo "$ARCH" > "$OUT/ARCH"
echo "shard $ARCH: $n images in $OUT ($(($(date +%s) - start)) s)"
if [[ -n "$LAUNCHER" && "$LAUNCHER" == *cubin_cache.py ]]; then $PYTHON "$ROOT/ci/cubin_cache.py" --stats; fi
