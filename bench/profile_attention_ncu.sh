#!/usr/bin/env bash
# ncu of sm_90a attention configs (JIT through tilec from the tree; TILEC_CACHE_DIR may point at a carried cache):
# SpeedOfLight, pipes, warp states, scheduler, and the SASS with its stall samples, one launch each.
#   bench/profile_attention_ncu.sh D S CAUSAL CFG [CFG ...]     (CFG as in bench/attention_sm90_jit.py)
# Writes $OUT/ncu_attn_<i>_{details.txt,sass.csv}; the caller tars them (the device returns few files).
set -x
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
d=$1; s=$2; causal=$3; shift 3
i=0
for cfg in "$@"; do
  i=$((i + 1))
  rep=/tmp/ncu_attn_$i
  timeout 150 ncu --clock-control none -k main_kernel --launch-count 1 --section SpeedOfLight \
    --section ComputeWorkloadAnalysis --section WarpStateStats --section SchedulerStats --section SourceCounters \
    -f -o $rep python3 bench/profile_attention_once.py "$d" "$s" "$causal" "$cfg" > "$OUT/ncu_attn_${i}.log" 2>&1
  { echo "cfg $cfg"; ncu --import $rep.ncu-rep --page details; } > "$OUT/ncu_attn_${i}_details.txt" 2>&1
  ncu --import $rep.ncu-rep --page source --csv --print-source sass > "$OUT/ncu_attn_${i}_sass.csv" 2>&1
done
