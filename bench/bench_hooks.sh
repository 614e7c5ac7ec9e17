#!/bin/sh
# Hook overhead of the forward pass (issue 6: a hook that wants nothing costs < 1%, capturing every residual
# and all attention probabilities < 15%), on the 134M LLaMA-shaped f32 model of bench_forward.sh.
# The three modes alternate round by round, each in every position in turn, so a shared machine's drift
# hits them alike; prints the mean tokens/s per mode and the cost relative to --hook none.
#
#   bench/bench_hooks.sh [build-dir] [threads=2] [pp=512] [tg=128] [rounds=3]
set -eu
. "$(dirname "$0")/lib.sh"
bench_init "$@"
pp=${3:-512}
tg=${4:-128}
rounds=${5:-3}
bench_wait_policy # ACTIVE unless set: bench/lib.sh says why
m=$(bench_llama134m f32)
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
