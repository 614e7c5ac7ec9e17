#!/bin/sh
# Hook overhead of the forward pass (issue 6: a hook that wants nothing costs < 1%, capturing every residual
# and all attention probabilities < 15%), on the 134M LLaMA-shaped f32 model of bench_forward.sh.
# The three modes alternate round by round, each in every position in turn, so a shared machine's drift
# hits them alike; prints the mean tokens/s per mode and the cost relative to --hook none.
#
#   bench/bench_hooks.sh [build-dir] [threads=2] [pp=512] [tg=128] [rounds=3]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
threads=${2:-2}
pp=${3:-512}
tg=${4:-128}
rounds=${5:-3}
gb=$build/cli/glassbox
# libgomp's default (active) waiting spins idle workers between parallel regions; on a machine shared with
# other jobs that spinning steals the cores the working threads need (measured at load 5-8: glassbox tg
# 6-8 -> 13 tok/s, pp512 +15% with PASSIVE). Both OpenMP users here (glassbox, PyTorch) get the same policy.
# Default: libgomp's own (active) policy, which is faster on an idle machine (glassbox tg128 52 vs 41 tok/s
# with PASSIVE); on a shared, loaded machine run with OMP_WAIT_POLICY=PASSIVE. PyTorch's peer picks PASSIVE
# (GB_TORCH_WAIT_POLICY overrides): its OpenBLAS threads and OpenMP threads would otherwise spin against each other.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-ACTIVE}
py=/usr/bin/python3
[ -x $py ] || py=python3
out=$here/out
mkdir -p "$out"
m=$out/llama134m-f32.gguf
[ -f "$m" ] || "$gb" synth --arch llama --layers 12 --dim 768 --heads 12 --ff 2048 --vocab 32000 --ctx 1024 \
  --dtype f32 --seed 1 -o "$m" >/dev/null
echo "OMP_WAIT_POLICY=$OMP_WAIT_POLICY load: $(cut -d' ' -f1-3 /proc/loadavg); $threads threads, pp$pp tg$tg, $rounds rounds"
rm -f "$out"/hooks-*.json
r=1
while [ $r -le $rounds ]; do
  case $((r % 3)) in  # each mode leads and trails in turn: a drift within a round is not one mode's cost
    1) order="none idle capture" ;;
    2) order="idle capture none" ;;
    *) order="capture none idle" ;;
  esac
  for mode in $order; do
    OMP_NUM_THREADS=$threads "$gb" bench "$m" -p "$pp" -n "$tg" -t "$threads" -r 1 --hook $mode --json > "$out/hooks-$mode-$r.json"
  done
  r=$((r + 1))
done
$py - "$out" <<'PY'
import glob, json, sys
def mean(mode, test):
    v = [next(x["tokens_per_second"] for x in json.load(open(f))["tests"] if x["test"].startswith(test))
         for f in sorted(glob.glob(f"{sys.argv[1]}/hooks-{mode}-*.json"))]
    return sum(v) / len(v)
for test in ("pp", "tg"):
    base = mean("none", test)
    line = f"{test}: none {base:.1f} tok/s"
    for mode in ("idle", "capture"):
        m = mean(mode, test)
        line += f", {mode} {m:.1f} ({(base / m - 1) * 100:+.1f}% time)"
    print(line)
PY
