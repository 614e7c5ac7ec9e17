#!/usr/bin/env bash
# bench_suite_rates.sh: each bias suite's throughput (tokens it computed per wall second of the whole run, from
# its --json "cost") beside the model's prompt-processing rate (`glassbox bench -p 512`), on the 134M synthetic
# LLaMA of bench_bias.sh (dim 768, 12 layers, ff 2048, vocab 32000, f32). A suite within 1.5x of the pp rate
# spends its time in forward passes, not around them. Same threads for all; one machine, one run.
#
#   bench/bench_suite_rates.sh                 # LIMIT=100 items per suite, THREADS=2, SUITES="crows-pairs ..."
#
# Measured (Dec 2026, 2 shared cores at load ~18, LIMIT=50; pp and each suite run at different moments, so the
# ratio carries the load's drift): pp512 190 tok/s; crows-pairs 2260 tokens in 23.6 s, 96 tok/s (1.98x below
# pp); bbq 7196 tokens in 123.3 s, 58 tok/s (3.25x); winobias 1817 tokens in 19.9 s, 91 tok/s (2.08x). Each
# wall includes loading the model and the data and 100 bootstrap resamples.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init "${BUILD:-}"
limit=${LIMIT:-100}
threads=${THREADS:-2}
suites=${SUITES:-"crows-pairs stereoset winobias bbq holisticbias templates"}
m=$(bench_llama134m f32)
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (shared machine), $threads threads, $(basename "$m"), limit $limit"
pp=$("$gb" bench "$m" -p 512 -n 0 -r 2 -t "$threads" --json 2> /dev/null |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["tests"][0]["tokens_per_second"])')
printf "%-14s %8s %10s %9s %11s %9s\n" "suite" "items" "tokens" "wall s" "tokens/s" "pp/suite"
printf "%-14s %8s %10s %9s %11.0f %9s\n" "pp512" "-" "512" "-" "$pp" "1.00"
for s in $suites; do
  if ! /usr/bin/time -o "$out/.rate_time" -f "%e" "$gb" bias "$m" --suite "$s" --data-root "$data/bias" \
    --limit "$limit" --threads "$threads" --resamples 100 --json > "$out/.rate_json" 2> "$out/.rate_err"; then
    printf "%-14s failed: %s\n" "$s" "$(tail -1 "$out/.rate_err")"
    continue
  fi
  wall=$(tail -1 "$out/.rate_time")
  python3 - "$out/.rate_json" "$wall" "$pp" "$s" << 'PY'
import json, sys
j = json.load(open(sys.argv[1])); wall = float(sys.argv[2]); pp = float(sys.argv[3])
r = j["bias"] if isinstance(j, dict) and "bias" in j else j
r = r[0] if isinstance(r, list) else r
tok = r["cost"]["tokens_computed"]; rate = tok / wall if wall > 0 else 0
print("%-14s %8d %10d %9.2f %11.0f %9.2f" % (sys.argv[4], r["items"], tok, wall, rate, pp / rate if rate else 0))
PY
done
