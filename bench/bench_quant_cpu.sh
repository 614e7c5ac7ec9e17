#!/bin/sh
# Quantized generation cost in CPU milliseconds per token, glassbox (--numerics llama.cpp and exact) beside
# npm llama.cpp, 1 thread: (cpu(tg=160) - cpu(tg=32)) / 256 tokens (each run is a warm-up and one timed
# repetition), so start-up and loading cancel. On a loaded shared machine wall-clock tok/s (bench_quant.sh)
# mostly measures the scheduler; CPU time per token much less (cache contention still moves it ~10-15%).
# Models: bench_quant.sh's bench/out/llama134m-<type>.gguf (run it once first), or any GGUF paths as types.
#
#   bench/bench_quant_cpu.sh [build-dir] ["types"="q4_0 q4_k q5_k q6_k q8_0"]
# Measured 2026-12-06 10:27-10:39, load 17-19 on 2 cores (ms/token; ratio = llama.cpp / glassbox):
#   type | --numerics llama.cpp | exact        | llama.cpp npm
#   q4_0 |  6.56 (1.06x)        | 11.05 (0.63x) |  6.95
#   q4_k |  5.70 (1.21x)        | 12.38 (0.56x) |  6.91
#   q5_k |  8.20 (1.25x)        | 14.92 (0.69x) | 10.27
#   q6_k |  8.01 (1.33x)        | 18.28 (0.58x) | 10.62
#   q8_0 | 11.80 (1.02x)        | 20.90 (0.58x) | 12.07
# A repeat of q4_0 at 10:42 (load 16-18): 9.22 (1.00x) | 11.13 (0.83x) | 9.22: runs move by up to a third here.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
gb=$build/cli/glassbox
[ -x "$gb" ] || { echo "no $gb: ninja -C $build glassbox" >&2; exit 2; }
cd "$here/out"
cpu() { /usr/bin/time -f "%U %S" "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1 + $2}'; }
per_token() { python3 -c "print(round(($2 - $1) / 256 * 1000, 2))"; }
echo "load $(cut -d' ' -f1-3 /proc/loadavg); ms of CPU per generated token, 1 thread"
for ty in ${2:-q4_0 q4_k q5_k q6_k q8_0}; do
  m=llama134m-$ty.gguf
  [ -f "$m" ] || m=$ty
  row="$ty"
  for mode in llama.cpp exact; do
    a=$(cpu "$gb" bench "$m" -p 0 -n 32 -t 1 -r 1 --numerics $mode)
    b=$(cpu "$gb" bench "$m" -p 0 -n 160 -t 1 -r 1 --numerics $mode)
    row="$row | glassbox $mode $(per_token "$a" "$b")"
  done
  a=$(cpu node "$here/peer_llamacpp.mjs" "$m" 0 32 1 1)
  b=$(cpu node "$here/peer_llamacpp.mjs" "$m" 0 160 1 1)
  echo "$row | llama.cpp npm $(per_token "$a" "$b")"
done
