#!/bin/bash
# CrowS-Pairs in full (1508 pairs = 3016 sentences, lm-evaluation-harness rule) on the 134M synthetic
# LLaMA (dim 768, 12 layers, 12 heads, FFN 2048, vocab 32000, f32): `glassbox bias` (sentences packed into
# prefix tries, one forward_packed pass per ~512 rows; and with --no-prefix-reuse: the same packing without
# merging shared prefixes) vs bench/peer_bias_torch.py (the same rule in PyTorch, one sentence per forward
# as the harness's default batch size 1, and batched 8/16/32/64, right-padded), same threads, side by side;
# ratios against batch 1 and against PyTorch's best batch.
#
#   cmake --build build --target glassbox
#   bench/bench_bias.sh [build-dir] [threads=2] [limit=0 (all pairs)]
#   BATCHES="1 8 16 32 64" (PyTorch batch sizes), GB_ONLY=1 (skip PyTorch)
#
# Measured (Nov 2026, 2 threads, shared machine at load 5-9): full CrowS-Pairs, glassbox 393.6 s wall /
# 191.9 s CPU / 613 MB vs PyTorch batch 8 2013 s scoring alone / 1293 s CPU (5.1x wall, 6.7x CPU), same
# pct_stereotype 0.46088. 100 pairs side by side: glassbox 18.3 s; PyTorch batch 1 133.3 s (7.3x), 8 97.2 s,
# 16 83.4 s, 32 47.6 s (2.6x, CPU 3.5x); a second round: glassbox 12.2 s vs batch 64 34.1 s (2.8x, CPU 3.1x).
set -eu
. "$(dirname "$0")/lib.sh"
bench_init "$@"
limit=${3:-0}
m=$(bench_llama134m f32)
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (side-by-side ratios are what count on a shared machine)"
echo "== CrowS-Pairs (limit $limit, 0 = all 1508 pairs), $threads threads, $(basename "$m")"

# prints "wall_seconds peak_rss_kb cpu_seconds" and leaves stdout in $out/.bias_stdout
timed() {
  /usr/bin/time -o "$out/.bias_time" -f "%e %M %U %S" "$@" > "$out/.bias_stdout" 2> "$out/.bias_stderr" || {
    cat "$out/.bias_stderr" >&2
    return 1
  }
  tail -1 "$out/.bias_time" | awk '{print $1, $2, $3 + $4}'
}
gb_pct() { $py -c 'import json,sys; g=json.load(open(sys.argv[1]))["bias"][0]["groups"][0]; print(g["metrics"][0]["value"])' "$out/.bias_stdout"; }

read -r gw gr gc < <(OMP_NUM_THREADS=$threads timed "$gb" bias "$m" --suite crows-pairs --data "$crows" --limit "$limit" --threads "$threads" --json)
gpct=$(gb_pct)
read -r gnw gnr gnc < <(OMP_NUM_THREADS=$threads timed "$gb" bias "$m" --suite crows-pairs --data "$crows" --limit "$limit" --threads "$threads" --json --no-prefix-reuse)
printf "%-44s %8s %8s %8s  %s\n" "" "wall s" "CPU s" "RSS MB" "result"
printf "%-44s %8.2f %8.2f %8.0f  pct_stereotype %s\n" "glassbox bias (prefix reuse)" "$gw" "$gc" "$(echo "$gr/1024" | bc -l)" "$gpct"
printf "%-44s %8.2f %8.2f %8.0f  pct_stereotype %s\n" "glassbox bias --no-prefix-reuse" "$gnw" "$gnc" "$(echo "$gnr/1024" | bc -l)" "$(gb_pct)"
[ -n "${GB_ONLY:-}" ] && exit 0
bench_torch || exit 0
best=""
best_batch=""
for batch in ${BATCHES:-1 8 16 32 64}; do
  read -r pw pr pc < <(timed $py "$here/peer_bias_torch.py" --model "$m" --data "$crows" --limit "$limit" --threads "$threads" --batch $batch --summary)
  read -r ps ppct < <($py -c 'import json,sys; s=json.loads(open(sys.argv[1]).read().splitlines()[-1])["summary"]; print(s["seconds"], s["pct_stereotype"])' "$out/.bias_stdout")
  printf "%-44s %8.2f %8.2f %8.0f  pct_stereotype %s (scoring alone %.2f s wall)\n" "PyTorch harness rule, batch $batch" "$pw" "$pc" "$(echo "$pr/1024" | bc -l)" "$ppct" "$ps"
  printf "   ratio PyTorch/glassbox: wall (PyTorch scoring alone vs glassbox whole run) %.2fx, CPU %.2fx; without reuse %.2fx, CPU %.2fx\n" \
    "$(echo "$ps/$gw" | bc -l)" "$(echo "$pc/$gc" | bc -l)" "$(echo "$ps/$gnw" | bc -l)" "$(echo "$pc/$gnc" | bc -l)"
  if [ -z "$best" ] || [ "$(echo "$ps < $best" | bc -l)" = 1 ]; then best=$ps; best_batch=$batch; fi
done
printf "== best PyTorch: batch %s, %.2f s scoring alone; glassbox whole run %.2f s: %.2fx faster (without prefix reuse %.2fx)\n" \
  "$best_batch" "$best" "$gw" "$(echo "$best/$gw" | bc -l)" "$(echo "$best/$gnw" | bc -l)"
