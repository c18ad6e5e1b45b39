#!/usr/bin/env bash
# Install nvcc (+ fatbinary, ptxas, the CUDA headers) from PyPI into DEST, for machines without a CUDA toolkit
# (the manylinux containers of cibuildwheel, CI runners). Prints the CUDA_HOME to use: DEST/nvidia/cu13.
#
#   ci/install_cuda.sh /opt/cuda-pip [13.0]      then   export CUDA_HOME=/opt/cuda-pip/nvidia/cu13
#
# The packages are pinned to one CUDA minor: nvidia-cuda-nvcc alone pulls the newest nvvm/crt, which need not
# match it. About 270 MB installed.
set -euo pipefail
DEST="${1:?usage: ci/install_cuda.sh DEST [CUDA_MINOR, default 13.0]}"
V="${2:-${TILEC_CUDA_VERSION:-13.0}}"
PYTHON="${PYTHON:-$(command -v python3 || command -v python)}"
if [[ -x "$DEST/nvidia/cu13/bin/nvcc" ]]; then echo "$DEST/nvidia/cu13"; exit 0; fi
"$PYTHON" -m pip install -q --disable-pip-version-check --target "$DEST" \
  "nvidia-cuda-nvcc==$V.*" "nvidia-cuda-crt==$V.*" "nvidia-nvvm==$V.*" "nvidia-cuda-runtime==$V.*" \
  "nvidia-cuda-cccl==$V.*" "nvidia-cuda-cuobjdump==$V.*" >&2
"$DEST/nvidia/cu13/bin/nvcc" --version >&2
echo "$DEST/nvidia/cu13"
