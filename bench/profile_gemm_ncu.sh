#!/usr/bin/env bash
# ncu of tilekernels.gemm vs cuBLAS on a few shapes (SpeedOfLight, pipes, warp stalls), plus the cuBLAS kernel names;
# run on the device with the wheel carried in .whl/ (like h100_session.sh); writes $OUT/ncu_*.txt, names.txt, all.tgz.
set -x
cd "$(dirname "$0")/.."
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/tilekernels-*cp312*.whl
export PYTHONPATH=/tmp/site:$PWD
python3 bench/profile_gemm_peers.py names > $OUT/names.txt 2>&1
S="--section SpeedOfLight --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis --section WarpStateStats --section SchedulerStats --section LaunchStats"
for shape in "4096 28672 8192 bfloat16 NN" "8192 8192 8192 bfloat16 NT" "1024 8192 8192 float16 NT"; do
 for impl in tilekernels cublas; do
  tag=$(echo $impl $shape | tr ' ' '_')
  timeout 120 ncu --profile-from-start off --clock-control none --launch-skip 2 --launch-count 1 $S python3 bench/profile_gemm_peers.py run $impl $shape > $OUT/ncu_$tag.txt 2>&1
 done
done
cd $OUT && tar czf all.tgz *.txt
