#!/bin/bash
# The issue-23 speed target in one command: `glassbox bias-localize` with the whole pipeline (direct
# attribution, confirmation by ablation: top 3 against 10 random sets of 3, and --patch: activation patching
# of every layer's residual and every head) on PAIRS CrowS-Pairs pairs (default 1000) of the 134M synthetic
# LLaMA (dim 768, 12 layers x 12 heads, FFN 2048, vocab 32000, f32; the model bench_bias.sh and
# bench_localize.sh use), THREADS threads (default 2). Prints wall time, CPU time (user + sys), pairs/s, peak
# RSS and the load average before, during (sampled every 10 s) and after: on a shared machine wall time is
# CPU time / the share of the cores the run got, so read the two together. The budget: 1000 pairs in under
# 30 minutes on 2 cores.
#   cmake --build build --target glassbox
#   bench/bench_localize_full.sh [build-dir] [threads=2] [pairs=1000]
set -eu
. "$(dirname "$0")/lib.sh"
bench_init "$@"
pairs=${3:-1000}
m=$(bench_llama134m f32)
load() { cut -d' ' -f1 /proc/loadavg; }
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
(while sleep 10; do load; done) > "$out/.full_load" &
sampler=$!
trap 'kill $sampler 2>/dev/null' EXIT
OMP_NUM_THREADS=$threads /usr/bin/time -o "$out/.full_time" -f "%e %U %S %M" "$gb" bias-localize "$m" \
  --suite crows-pairs --data "$crows" --limit "$pairs" --threads "$threads" --patch --json \
  > "$out/localize-full-$pairs.json"
kill $sampler 2>/dev/null || true
read -r wall user sys rss < <(tail -1 "$out/.full_time")
cpu=$(echo "$user + $sys" | bc -l)
n=$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["pairs"])' "$out/localize-full-$pairs.json" 2>/dev/null || echo "$pairs")
during=$(awk '{s += $1; if ($1 > mx) mx = $1; k++} END {if (k) printf "mean %.1f, max %.1f over %d samples", s / k, mx, k; else print "n/a (run < 10 s)"}' "$out/.full_load")
printf "pairs %s, threads %s: wall %.1f s (%.1f min), CPU %.1f s (%.1f min), %.3f pairs/s wall, %.3f pairs/s per CPU s, peak RSS %.0f MB\n" \
  "$n" "$threads" "$wall" "$(echo "$wall / 60" | bc -l)" "$cpu" "$(echo "$cpu / 60" | bc -l)" \
  "$(echo "$n / $wall" | bc -l)" "$(echo "$n / $cpu" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
echo "load during: $during; after: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
echo "on $threads idle cores (CPU / $threads): $(echo "$cpu / $threads / 60" | bc -l | cut -c1-5) min for these pairs, $(echo "$cpu / $threads / 60 * 1000 / $n" | bc -l | cut -c1-5) min for 1000 (budget 30)"
