#!/usr/bin/env bash
# One measuring session on a lent GPU machine (no internet): install the carried wheel, then run the named stages,
# writing everything under $OUT (default ./gpu-out). Every stage runs even when an earlier one failed; the exit
# status says whether any failed.
#
#   bench/h100_session.sh wheel jit reference     # stages, in order:
#     wheel      python -m tilekernels, the GPU tests of the installed wheel, time to first result, host time/call
#     jit        tilec's sm_90a GEMM (JIT) vs cuBLAS: checks on ragged shapes, TFLOP/s per tile config
#     reference  the hand-written sm_90a reference GEMM vs cuBLAS (what TMA store, clusters, raster groups buy)
#     suite      bench.run_suite: the pytest-benchmark suite through the public API -> results JSON, table, plot
#     reliab     the reliability suite's GPU part, then compute-sanitizer memcheck + racecheck over every variant
#     cluster    tilec's sm_90a GEMM with thread-block clusters (TMA multicast) vs the catalogue kernel and cuBLAS
#     pingpong   attention with ping-pong turns on the order/stage schedule vs the catalogue variants and cuDNN
#     exp4       GEMM tiles with 32-deep K steps in deeper rings (large shapes and M = 128)
#     exp5       GEMM with C staged in column chunks and one more pipeline stage
#     exp6       d128 attention with the P fragment double-buffered (source edit experiment)
#     exp7       M = 128 GEMM with 64 x 128 tiles in clusters of 2 (B multicast)
#     jitgpu     tests/gpu/test_sm90a_gemm_gpu.py through the JIT (tilec from the tree)
#     exp2       GEMM 128x192 / 4-stage tiles; attention with O staged in Q's tile, deeper and wider K/V tiles
#     exp3       M = 128 GEMM tiles (the descriptor A/B of 2026-12-02 is recorded in bench/results/)
#     ab         d128 attention from this tree and from the tree at $AB_OLD (old compiler files), alternating
#     handoff    attention's persistent variants from this tree and from $AB_OLD, alternating (tile-to-tile hand-off)
#     ring256    the ring counters' A/B (this tree vs $AB_OLD) for d256 attention, twice, and the catalogue GEMM
#     skiprescale d128 attention with the O rescale skipped when no row's max moved (source edit), twice
#     skipunit   d128 attention with T.Parallel(skip_unit=alpha) (the compiler's) vs the source edit, with checks
#     prefetch   d128 attention with the TMA descriptors prefetched at the block's start (source edit), twice
#     pvwait     d128 attention with the K release / P.V wait pinned after n exponentials (source edit), twice
#     ring       persistent rings with unsigned counters: attention's persistent rows and the catalogue GEMM from this
#                tree and from $AB_OLD, alternating; the tail of d128 attention over head counts (attention_tail.py)
# TILEC_CACHE_DIR may point at a carried compile cache (.tilec_cache) so the JIT stages skip nvcc.
#
# The wheel: .whl/tilekernels-*-cp312-*.whl, built here with TILEC_ARCHS set (see README), carried with the run;
# .whl/COMMIT, if present, names the commit it was built from (git rev-parse HEAD of the build tree).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/gpu-out}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
status=0
step() {  # step NAME CMD...: run, log to $OUT/NAME.log, remember a failure
  local name="$1"; shift
  echo "=== $name: $*"
  local t0=$SECONDS
  "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  echo "=== $name: rc=$rc in $((SECONDS - t0)) s"; tail -n 25 "$OUT/$name.log"
  [ $rc -eq 0 ] || status=1
}

# ab_alternate NAME TIMEOUT MODE DIMS WHICH SET [ROUNDS]: bench/attention_sm90_jit.py on config SET from this tree
# and from $AB_OLD in alternating processes, ROUNDS (default 2) times each (logs/JSON $OUT/NAME_{new,old}_{1,2..});
# MODE (e.g. "all": checks too) for this tree's first run, "bench" for the others.
ab_alternate() {
  local name=$1 limit=$2 first=$3 dims=$4 which=$5 set=$6 rounds=${7:-2} i side dir mode
  for i in $(seq 1 "$rounds"); do
    for side in new old; do
      dir=$PWD; [ $side = old ] && dir=$AB_OLD
      mode=bench; [ $side$i = new1 ] && mode=$first
      step ${name}_${side}_$i env -C "$dir" PYTHONPATH="$dir" timeout "$limit" python3 bench/attention_sm90_jit.py \
        "$OUT/${name}_${side}_$i.json" $mode float16,bfloat16 "$dims" $which $set
    done
  done
}

wheel=$(ls .whl/tilekernels-*cp312*.whl 2>/dev/null | head -n 1)
if [ -n "$wheel" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$wheel"
  # The installed wheel, never the source tree's bindings/; tilec and kernels/ come from the tree (JIT stages).
  export PYTHONPATH="/tmp/site:$PWD"
  # .whl/COMMIT (written next to the wheel when it is built): the commit it was built from, for the results header
  [ -f .whl/COMMIT ] && export TILEKERNELS_WHEEL_COMMIT="$(head -c 40 .whl/COMMIT)"
else
  echo "no .whl/tilekernels-*cp312*.whl carried: the wheel, suite and reliab stages will fail"
  export PYTHONPATH="$PWD"
fi

for stage in "$@"; do
  case "$stage" in
    wheel)
      step tilekernels_info python3 -m tilekernels
      step gpu_tests python3 -m pytest -q -p no:cacheprovider tests/gpu/test_tilekernels_gpu.py \
        tests/gpu/test_tilekernels_attention_gpu.py
      step host_overhead python3 bench/host_overhead.py "$OUT/host_overhead.json"
      step host_overhead_fake python3 bench/host_overhead.py "$OUT/host_overhead_fake.json" --fake ;;
    jit)
      step sm90a_jit python3 bench/gemm_sm90_jit.py "$OUT/gemm_sm90a_jit.json" all float16,bfloat16 ;;
    reference)
      step sm90a_reference python3 bench/gemm_sm90_reference.py "$OUT/gemm_sm90a_reference.json" ;;
    suite)
      step suite python3 -m bench.run_suite --out-dir "$OUT" ${SUITE_ARGS:-} ;;
    cluster)  # sm_90a GEMM with thread-block clusters + TMA multicast vs the catalogue kernel and cuBLAS
      step gemm_cluster timeout 200 python3 bench/gemm_sm90_jit.py "$OUT/gemm_cluster.json" all float16,bfloat16 \
        cluster ;;
    pingpong)  # attention: ping-pong turns on the order/stage schedule vs the catalogue's sm90a variants and cuDNN
      step attn_pp_fp16 timeout 220 python3 bench/attention_sm90_jit.py "$OUT/attn_pp_fp16.json" all float16 \
        64,128,256 both pingpong-overlap
      step attn_pp_bf16 timeout 150 python3 bench/attention_sm90_jit.py "$OUT/attn_pp_bf16.json" all bfloat16 128 \
        both pingpong-overlap ;;
    exp2)  # wider/deeper tiles: GEMM 128x192 and 4 stages; attention with O staged in Q's tile (one tile per block)
      step gemm_tiles timeout 150 python3 bench/gemm_sm90_jit.py "$OUT/gemm_tiles.json" all float16,bfloat16 tiles
      step attn_ote_fp16 timeout 200 python3 bench/attention_sm90_jit.py "$OUT/attn_ote_fp16.json" all float16 \
        64,128 both one-tile-epi
      step attn_ote_bf16 timeout 150 python3 bench/attention_sm90_jit.py "$OUT/attn_ote_bf16.json" all bfloat16 128 \
        both one-tile-epi ;;
    exp3)  # M = 128 GEMM tiles (deeper rings, A multicast)
      step gemm_m128 timeout 150 python3 bench/gemm_sm90_jit.py "$OUT/gemm_m128.json" all float16,bfloat16 m128 ;;
    exp4)  # shorter K steps in deeper rings: the large-shape GEMM tiles and the M = 128 tile
      step gemm_bk32 timeout 200 python3 bench/gemm_sm90_jit.py "$OUT/gemm_bk32.json" all float16,bfloat16 bk32
      step gemm_m128_bk32 timeout 150 python3 bench/gemm_sm90_jit.py "$OUT/gemm_m128_bk32.json" all float16,bfloat16 \
        m128-bk32 ;;
    exp5)  # C through shared memory in column chunks, the freed shared memory holding another stage
      step gemm_epi_chunk timeout 200 python3 bench/gemm_sm90_jit.py "$OUT/gemm_epi_chunk.json" all float16,bfloat16 \
        epi-chunk ;;
    exp6)  # d128 attention with P double-buffered (a source edit: bench/attention_p_double_buffer.py)
      step attn_pdb timeout 300 python3 bench/attention_sm90_jit.py "$OUT/attn_pdb.json" all float16,bfloat16 128 \
        full p-double-buffer ;;
    exp7)  # M = 128 GEMM tiles as cuBLAS reads them (64 x 128, clusters of 2 sharing B)
      step gemm_m128_cluster timeout 150 python3 bench/gemm_sm90_jit.py "$OUT/gemm_m128_cluster.json" all \
        float16,bfloat16 m128-cluster ;;
    jitgpu)  # tilec's own sm_90a GEMM GPU tests (JIT: clusters, persistent tiles, TMA stores, both tile widths)
      step jit_gpu_tests timeout 300 python3 -m pytest -q -p no:cacheprovider tests/gpu/test_sm90a_gemm_gpu.py ;;
    reliab)
      step reliability_gpu env TILEKERNELS_FUZZ_EXAMPLES=30 python3 -m pytest -q -p no:cacheprovider tests/reliability
      cp tests/reliability/last_run.json "$OUT/reliability_report.json" 2>/dev/null
      step sanitizers bash ci/run_sanitizers.sh ;;
    ab)  # a compiler A/B: d128 attention (catalogue configs) from this tree and from the tree at $AB_OLD (a copy with
      # the old files in place), in alternating processes, twice each; every run also times cuDNN interleaved
      for which in full causal; do
        ab_alternate ab_$which 150 bench 128 $which catalogue-$which
      done ;;
    handoff)  # attention's persistent variants (and d128's one-tile kernel) from this tree and from $AB_OLD, the same
      # way (this tree's first run also checks them on ragged shapes)
      ab_alternate ho 240 all 64,128,256 both handoff ;;
    ring256)  # the ring counters' A/B for d256 attention (persistent and one tile per block), twice, and the GEMM once
      ab_alternate ring_d256 240 all 256 both ring
      for side in new old; do
        dir=$PWD; [ $side = old ] && dir=$AB_OLD
        step ring_gemm_$side env -C "$dir" PYTHONPATH="$dir" timeout 200 python3 bench/gemm_sm90_jit.py \
          "$OUT/ring_gemm_$side.json" bench float16,bfloat16 catalogue
      done ;;
    skiprescale)  # the main loop's O rescale behind a warp vote (source edit), one tile per block and persistent
      for i in 1 2; do
        mode=bench; [ $i = 1 ] && mode=all
        step skiprescale_$i timeout 300 python3 bench/attention_sm90_jit.py "$OUT/skiprescale_$i.json" $mode \
          float16,bfloat16 128 both skip-rescale
      done ;;
    skipunit)  # T.Parallel(skip_unit=alpha) through the compiler vs the source edit and the catalogue's d128 rows, once
      step skipunit timeout 300 python3 bench/attention_sm90_jit.py "$OUT/skipunit.json" all float16,bfloat16 128 both \
        skip-unit ;;
    defersum)  # the row sum's quad reduction deferred to the epilogue (source edit), one tile, persistent, + vote
      for i in 1 2; do
        mode=bench; [ $i = 1 ] && mode=all
        step defersum_$i timeout 300 python3 bench/attention_sm90_jit.py "$OUT/defersum_$i.json" $mode \
          float16,bfloat16 128 both defer-sum
      done ;;
    defercat)  # defer_lane_reductions on vs T.annotate_defer_reductions(False), every catalogue row (+ the vote on d64/d256)
      step defercat timeout 560 python3 bench/attention_sm90_jit.py "$OUT/defercat.json" all float16,bfloat16 64,128,256 \
        both defer-catalogue ;;
    prefetch)  # the TMA descriptors prefetched at the block's start (source edit), one tile per block and persistent
      for i in 1 2; do
        mode=bench; [ $i = 1 ] && mode=all
        step prefetch_$i timeout 300 python3 bench/attention_sm90_jit.py "$OUT/prefetch_$i.json" $mode float16,bfloat16 \
          128 both prefetch
      done ;;
    pvwait)  # the K release and the P.V wait pinned after the first n exponentials (bench/attention_pv_wait.py)
      for i in 1 2; do
        mode=bench; [ $i = 1 ] && mode=all
        step pvwait_$i timeout 300 python3 bench/attention_sm90_jit.py "$OUT/pvwait_$i.json" $mode float16,bfloat16 128 \
          both pv-wait
      done ;;
    ring)  # the stage ring's counters in uint32_t (ptxas keeps the softmax ahead of the P.V wait): d128 attention
      # (one-tile kernel with the same arithmetic as a source edit) twice each side, d64/d256 and GEMM once each
      ab_alternate ring 240 all 128 both ring
      ab_alternate ring_d64_d256 240 bench 64,256 both ring 1
      for side in new old; do
        dir=$PWD; [ $side = old ] && dir=$AB_OLD
        step ring_gemm_$side env -C "$dir" PYTHONPATH="$dir" timeout 200 python3 bench/gemm_sm90_jit.py \
          "$OUT/ring_gemm_$side.json" all float16,bfloat16 catalogue
      done
      step tail timeout 120 python3 bench/attention_tail.py "$OUT/tail_fp16.json" float16 ;;
    *) echo "unknown stage $stage (see the header of $0)"; status=1 ;;
  esac
done
exit $status
