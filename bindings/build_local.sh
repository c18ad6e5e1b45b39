#!/usr/bin/env bash
# Build tilekernels._C in place (bindings/tilekernels/_C*.so) for development and the CPU tests, without CMake.
# Usage: bindings/build_local.sh [TABLE_DIR [OUT_DIR]]
#   TABLE_DIR: directory holding catalogue_table.inc (default: bindings/tests/fake_catalogue_table.inc)
#   OUT_DIR:   where _C*.so goes (default: bindings/tilekernels, so that PYTHONPATH=bindings imports it)
# Needs g++ and pybind11 (pip install pybind11). The real build is CMake's (CMakeLists.txt).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
table_dir="${1:-}"
if [[ -z "$table_dir" ]]; then
  table_dir="$(mktemp -d)"
  cp "$here/tests/fake_catalogue_table.inc" "$table_dir/catalogue_table.inc"
fi
out="${2:-$here/tilekernels}/_C$("${PYTHON:-python3}" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')"
${CXX:-g++} ${TK_OPT:--O2} -std=c++17 -shared -fPIC -fvisibility=hidden -Wall -Wextra \
  -DTILEKERNELS_CUDA_VERSION="\"${TILEKERNELS_CUDA_VERSION:-unknown}\"" -DTILEKERNELS_VERSION="\"${TILEKERNELS_VERSION:-0.0.0+local}\"" \
  $("${PYTHON:-python3}" -m pybind11 --includes) -I"$table_dir" "$here"/src/*.cpp -ldl -o "$out"
echo "$out"
