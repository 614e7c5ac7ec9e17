#!/bin/bash
# A bias run on a busy machine: glassbox's thread team waits passively (cli/wait_policy.h) vs libgomp's
# default (spin 300000 iterations at each barrier: GOMP_SPINCOUNT=300000), each alone and with two competing
# `yes` processes, side by side with bench/ab.sh (alternating runs, ratios pair by pair). BBQ's one-by-one continuation path
# (OpenMP threads inside each matmul) on a synthetic 4-layer 384-wide LLaMA.
#
#   bench/bench_wait_policy.sh [build-dir] [limit=6]
#
# Measured (Dec 2026, 2 cores, machine already at load average 17-21 from other builds, so "alone" is not
# idle): alone, passive 1.70 s wall vs default 8.75 s (A/B 0.18, CPU 0.45 vs 1.97 s); with two `yes`:
# passive 1.67 -> 4.26 s (2.56x), default 9.87 -> 24.7 s (2.76x); OMP_WAIT_POLICY=ACTIVE 7.6 s alone.
set -eu
. "$(dirname "$0")/lib.sh"
bench_init "${1:-}"
limit=${2:-6}
m=$out/llama-4x384.gguf
[ -f "$m" ] || "$gb" synth --arch llama --layers 4 --dim 384 --heads 6 --ff 1024 --vocab 512 --ctx 512 --seed 3 -o "$m" >/dev/null
run="$gb bias $m --suite bbq --data-root $data/bias --limit $limit --resamples 10 --threads 2"
echo "== alone: passive (A) vs libgomp default spinning (B)"
"$here/ab.sh" -n 5 --warmup 1 --timeout 300 --vs "env GOMP_SPINCOUNT=300000 $run" -- $run
for pol in "OMP_WAIT_POLICY=PASSIVE" "GOMP_SPINCOUNT=300000"; do
  echo "== $pol: with two competing yes (A) vs alone (B)"
  "$here/ab.sh" -n 4 --warmup 0 --timeout 300 --vs "env $pol $run" -- \
    sh -c "yes >/dev/null & a=\$!; yes >/dev/null & b=\$!; env $pol $run >/dev/null; kill \$a \$b"
done
