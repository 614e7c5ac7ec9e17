#!/usr/bin/env bash
# bench_inspect.sh: `glassbox inspect` reads headers only, so its time and memory must not grow with the
# weight bytes. On a ~500 MB f32 GGUF (written by `glassbox synth`) and a sharded safetensors folder of the
# same size (bench_gen_sharded_safetensors), it times inspect (mean of RUNS runs, page cache warm) and its
# peak RSS, side by side with `node-llama-cpp inspect gguf` on the same GGUF, and prints the ratios.
# Targets (issue 2): < 10 ms, < 30 MB peak RSS, >= 50x faster than node-llama-cpp. The first row is the
# start-up floor (`glassbox --version`); the cpu column (perf stat task-clock) is what the process costs
# when the wall clock is inflated by a loaded machine.
#
#   BUILD=build-st bench/bench_inspect.sh      # needs targets glassbox and bench_gen_sharded_safetensors
#   npm install --no-save --prefix bench node-llama-cpp    # once, for the peer column (bench/node_modules)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD:-$here/../build-st}
[[ $build = /* ]] || build=$here/../$build
gb=${GLASSBOX:-$build/cli/glassbox}
gen=$build/bench/bench_gen_sharded_safetensors
runs=${RUNS:-20}
peer_runs=${PEER_RUNS:-3}
out=$here/out
mkdir -p "$out"

gguf=$out/bench-inspect.gguf
hf=$out/bench-inspect-hf
shape=(--layers 8 --dim 1024 --ff 2816 --vocab 8000)
[ -f "$gguf" ] || "$gb" synth --arch llama "${shape[@]}" --heads 16 --dtype f32 --format gguf -o "$gguf" > /dev/null
[ -f "$hf/model.safetensors.index.json" ] || "$gen" "$hf" "${shape[@]}" --shards 4 > /dev/null
cat "$gguf" "$hf"/*.safetensors > /dev/null   # warm the page cache (inspect should not need it)

# mean CPU milliseconds (user + sys, from `perf stat`; "-" without perf): on a loaded machine the wall time
# is mostly waiting for a core, so CPU time is the number that shows what the process itself costs
cpu_ms() {
  local n=$1; shift
  if command -v perf > /dev/null && perf stat -x, -e task-clock true > /dev/null 2>&1; then
    perf stat -x, -e task-clock -r "$n" "$@" 2>&1 > /dev/null | awk -F, '/task-clock/ {print $1; exit}'
  else
    echo "-"
  fi
}

# mean wall milliseconds over n runs, and the largest peak RSS (KB) seen
measure() {
  local n=$1; shift
  local t0 t1 rss=0 m
  for _ in $(seq 2); do "$@" > /dev/null 2>&1 || true; done   # warm-up
  t0=$(date +%s%N)
  for _ in $(seq "$n"); do "$@" > /dev/null 2>&1; done
  t1=$(date +%s%N)
  local tf
  tf=$(mktemp)
  for _ in $(seq 3); do
    /usr/bin/time -o "$tf" -f "%M" "$@" > /dev/null 2>&1 || true
    m=$(tail -1 "$tf")
    [ "$m" -gt "$rss" ] && rss=$m
  done
  rm -f "$tf"
  echo "$(echo "($t1 - $t0) / 1000000 / $n" | bc -l) $rss"
}

gsize=$(stat -c %s "$gguf")
hsize=$(du -cb "$hf"/*.safetensors | tail -1 | cut -f1)
printf "GGUF: %s (%.0f MB); sharded safetensors: %s (%.0f MB, %s shards); %s cores, load %s\n" \
  "$gguf" "$(echo "$gsize/1000000" | bc -l)" "$hf" "$(echo "$hsize/1000000" | bc -l)" \
  "$(ls "$hf"/*.safetensors | wc -l)" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)"
printf "%-46s %10s %9s %11s\n" "tool" "mean ms" "cpu ms" "peak RSS"
declare -A ms cpu
row() {
  local key=$1 label=$2 n=$3; shift 3
  read -r w m < <(measure "$n" "$@")
  local c
  c=$(cpu_ms "$n" "$@")
  ms[$key]=$w
  cpu[$key]=$c
  printf "%-46s %10.2f %9s %8.1f MB\n" "$label" "$w" "$c" "$(echo "$m/1024" | bc -l)"
}
# the floor: process start-up (dynamic linking, static initialisers) with no work at all
row floor "glassbox --version (start-up floor)" "$runs" "$gb" --version
row gguf "glassbox inspect (GGUF)" "$runs" "$gb" inspect "$gguf"
row gguf_json "glassbox inspect --json (GGUF)" "$runs" "$gb" inspect --json "$gguf"
row hf "glassbox inspect (sharded safetensors folder)" "$runs" "$gb" inspect "$hf"
row index "glassbox inspect (index.json)" "$runs" "$gb" inspect "$hf/model.safetensors.index.json"

nlc=$here/node_modules/.bin/node-llama-cpp
if [ -x "$nlc" ]; then
  row peer "node-llama-cpp inspect gguf" "$peer_runs" "$nlc" inspect gguf "$gguf"
  printf "ratio node-llama-cpp / glassbox (GGUF): %.0fx (target >= 50x)\n" "$(echo "${ms[peer]} / ${ms[gguf]}" | bc -l)"
  if [ "${cpu[gguf]}" != "-" ]; then
    printf "ratio in CPU time (what each process costs, whatever the load): %.0fx\n" \
      "$(echo "${cpu[peer]} / ${cpu[gguf]}" | bc -l)"
  fi
else
  echo "node-llama-cpp not installed (npm install --no-save --prefix bench node-llama-cpp): peer column skipped"
fi
