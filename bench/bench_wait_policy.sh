#!/bin/bash
# The OpenMP team's wait policy on an idle and on a busy machine. glassbox chooses it at start-up
# (cli/wait_policy.h): a short spin (GOMP_SPINCOUNT=10000) when no other task is runnable, passive sleeping
# when other work holds the cores. Rows, side by side with bench/ab.sh (alternating runs, ratios pair by pair):
# glassbox's choice against passive and against libgomp's default spinning (GOMP_SPINCOUNT=300000), alone and
# with two competing `yes` processes, on a BBQ run (4-layer 384-wide LLaMA) and on 2-thread token generation
# (the 134M Q4_0 model: ~85 parallel regions per token).
#
#   bench/bench_wait_policy.sh [build-dir] [limit=30]
#
# Measured (Dec 7 2026, 2 cores, idle apart from the `yes`; one-off runs, 3 each): tg128 at 2 threads, alone:
# passive 185-193 tok/s, GOMP_SPINCOUNT=1000 198-249, 3000 251-254, 10000 250-261, ACTIVE 252-262. BBQ, 30
# items, alone: 0.82-0.85 s passive, 0.74-0.82 s spinning 10000; with two `yes`: 1.29-2.12 s passive,
# 1.80-2.06 s spinning 10000, 1.76-3.91 s with libgomp's default (6 items). So spinning pays on free cores and
# costs on shared ones: glassbox spins only when the run queue is empty (inspect/parallel.h wait_spin_ok).
# Earlier (one-by-one BBQ continuations, load 17-21): passive 1.70 s vs default 8.75 s alone; with two `yes`
# passive 1.67 -> 4.26 s (2.56x), default 9.87 -> 24.7 s (2.76x).
set -eu
. "$(dirname "$0")/lib.sh"
bench_init "${1:-}"
limit=${2:-30}
m=$out/llama-4x384.gguf
[ -f "$m" ] || "$gb" synth --arch llama --layers 4 --dim 384 --heads 6 --ff 1024 --vocab 512 --ctx 512 --seed 3 -o "$m" >/dev/null
q4=$(bench_llama134m q4_0)
unset OMP_WAIT_POLICY GOMP_SPINCOUNT  # glassbox's own choice unless a row sets one
for run in "$gb bias $m --suite bbq --data-root $data/bias --limit $limit --resamples 10 --threads 2" \
  "$gb bench $q4 -p 1 -n 128 -t 2 -r 1"; do
  echo "== $run"
  echo "-- alone: glassbox's choice (A) vs passive (B), then vs libgomp's default spinning (B)"
  "$here/ab.sh" -n 5 --warmup 1 --timeout 300 --vs "env OMP_WAIT_POLICY=PASSIVE $run" -- $run
  "$here/ab.sh" -n 5 --warmup 1 --timeout 300 --vs "env GOMP_SPINCOUNT=300000 $run" -- $run
  # (GB_BENCH_LABEL is only a label: that row leaves the choice to glassbox)
  for pol in "GB_BENCH_LABEL=own-choice" "OMP_WAIT_POLICY=PASSIVE" "GOMP_SPINCOUNT=300000"; do
    echo "-- $pol: with two competing yes (A) vs alone (B)"
    "$here/ab.sh" -n 4 --warmup 0 --timeout 300 --vs "env $pol $run" -- \
      sh -c "yes >/dev/null & a=\$!; yes >/dev/null & b=\$!; env $pol $run >/dev/null; kill \$a \$b"
  done
done
