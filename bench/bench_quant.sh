#!/bin/sh
# Quantized forward-pass speed, glassbox vs llama.cpp on the same GGUF files: the 134M LLaMA-shaped model
# (bench_forward.sh's) synthesized as each ggml type, pp and tg at each thread count. Runs go through
# farm-bench --vs (glassbox and llama.cpp alternate, A B A B ...); each side's own tokens/s are read from
# its output and the medians compared (the process times farm-bench prints include loading and
# llama-bench's warm-up). Peer: a native llama-bench (bench/native_llamacpp.sh, or $LLAMA_BENCH), else
# npm's node-llama-cpp. tg also says the weight bandwidth reached: bytes streamed per token (the matmul
# weights: every tensor but the token embedding table) times tokens/s, beside the machine's read
# bandwidth (bench_membw, same threads). The machine's load is printed with each row: on a shared
# machine absolute numbers move a lot, the side-by-side ratios much less.
#
#   ninja -C build glassbox bench_membw && bench/native_llamacpp.sh   # once (or the npm peer)
#   bench/bench_quant.sh [build-dir] ["threads"="1 2"] ["types"="q8_0 q4_0 q4_k q5_k q6_k"] [pp=512] [tg=64] [runs=5]
#   NUMERICS=llama.cpp bench/bench_quant.sh ...   # glassbox in llama.cpp's numerics (8-bit activations)
#   MODEL=/tmp/7b-q4_k.gguf bench/bench_quant.sh build "1 2" q4_k 128 16 3   # one given file
# Measured 2026-12-06, load 17-23 on 2 cores (8 engineers building), npm peer (the native build did not
# finish under that load), pp128 / tg16, medians of 3 alternating runs, 1 thread:
#   type  | pp glassbox / llama.cpp | tg glassbox / llama.cpp
#   q8_0  | 186.4 / 124.1 = 1.50x   | 21.0 / 19.6 = 1.08x
#   q4_0  | 108.2 / 102.6 = 1.05x   | 13.2 / 20.5 = 0.65x
#   q4_k  | 239.1 / 202.8 = 1.18x   | 20.7 / 40.4 = 0.51x
#   q5_k  | 202.1 /  59.9 = 3.37x   | 15.3 / 30.1 = 0.51x
#   q6_k  | 192.5 /  75.1 = 2.56x   | 13.8 / 24.2 = 0.57x
# At 2 threads on that load llama.cpp's spinning thread pool collapsed (q4_0 pp 21.9, tg 0.4 tok/s): no ratio.
# tg32 again (2026-12-06 10:15-10:30, load 16-23 on 2 cores, npm peer, medians of 3 alternating runs, 1 thread),
# glassbox exact (default) and --numerics llama.cpp (NUMERICS=llama.cpp: 8-bit activations, integer dots):
#   type  | exact / llama.cpp       | --numerics llama.cpp / llama.cpp
#   q4_0  | 28.5 / 28.6 = 1.00x     | 18.8 / 17.5 = 1.08x
#   q4_k  | 21.9 / 37.4 = 0.59x     | 49.2 / 33.0 = 1.49x
#   q5_k  | 17.5 / 23.9 = 0.73x     | 38.5 / 25.1 = 1.54x
#   q6_k  | 15.8 / 24.5 = 0.65x     | 37.0 / 20.3 = 1.82x
#   q8_0  | 28.6 / 22.8 = 1.25x     | 29.8 / 25.4 = 1.17x
# At that load each process gets a fraction of a core and wall-clock tok/s mostly measures the scheduler;
# at load 3-8 (09:28) the same q4_0 file ran 54 (exact) vs 200 tok/s in the npm llama.cpp, whose q4_0 weights
# are repacked for its AVX-512 gemv.
# Issue 20's tiled --numerics llama.cpp (2026-12-06 13:25-14:00, load 12-17 on 2 cores, 6 engineers building;
# npm peer: the native llama-bench build, started at nice 19, had not finished), NUMERICS=llama.cpp, pp512 /
# tg64, medians of 3 alternating runs, 1 thread; "bw" = tg's weight bytes per second / the machine's median
# read bandwidth (bench_membw, same thread count, measured in the same call: 6.6-9.7 GB/s under this load):
#   type  | pp glassbox / llama.cpp  | tg glassbox / llama.cpp | bw glassbox, llama.cpp | load
#   q8_0  | 149.7 /  97.4 = 1.54x    | 22.1 / 16.3 = 1.36x     | 26%, 19%               | 11.8
#   q4_0  | 166.5 / 182.9 = 0.91x    | 35.0 / 39.0 = 0.90x     | 33%, 37%               | 14.8
#   q4_k  | 175.7 / 189.1 = 0.93x    | 63.9 / 89.5 = 0.71x     | 60%, 84%               | 15.5
#   q5_k  | 193.2 /  77.7 = 2.49x    | 79.7 / 46.5 = 1.71x     | 62%, 36%               | 12.6
#   q6_k  | 165.8 /  73.7 = 2.25x    | 50.3 / 38.6 = 1.30x     | 69%, 53%               | 17.0
# (q4_k in an earlier run of the same build at load 14: pp 0.92x, tg 80.7 / 42.2 = 1.91x: tg swings that much.)
# 7B-shaped q4_k with 4 of its 32 layers (synth --layers 4 --dim 4096 --heads 32 --ff 11008, 604 MB; MODEL=),
# pp128 / tg16, 1 thread, load 16.7: pp 26.3 / 34.3 = 0.77x, tg 12.4 / 12.4 = 1.00x, both 6.6 GB/s = 92% of
# the machine's 7.1 GB/s: token-by-token generation at 7B size is bound by memory bandwidth on both sides.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
threads_list=${2:-1 2}
types=${3:-q8_0 q4_0 q4_k q5_k q6_k}
pp=${4:-512}
tg=${5:-64}
runs=${6:-5}
gb=$build/cli/glassbox
membw=$build/bench/bench_membw
native=${LLAMA_BENCH:-$here/out/llama.cpp/build/bin/llama-bench}
out=$here/out
mkdir -p "$out"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # a shared machine: idle workers must not spin
if [ -x "$native" ]; then peer=native; else peer=npm; fi
numerics=${NUMERICS:-exact}
echo "glassbox --numerics $numerics; peer: llama.cpp $peer; OMP_WAIT_POLICY=$OMP_WAIT_POLICY; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
for t in $threads_list; do
  if [ -x "$membw" ]; then
    bw=$("$membw" 1024 "$t" 5)
    echo "machine read bandwidth, $t threads: $bw"
    echo "$bw" | python3 -c 'import json, sys; print(json.load(sys.stdin)["median_gb_per_s"])' >"$out/membw-$t.txt"
  fi
done
echo "type threads | glassbox pp | llama.cpp pp | ratio | glassbox tg | llama.cpp tg | ratio | tg GB/s (glassbox, llama.cpp) | of the machine's | load"
for ty in $types; do
  m=$out/llama134m-$ty.gguf
  # MODEL=file.gguf: that file instead (types then only labels it), e.g. a 7B-shaped q4_k from bench_7b.sh's shapes
  [ -n "${MODEL:-}" ] && m=$MODEL
  [ -f "$m" ] || "$gb" synth --arch llama --layers 12 --dim 768 --heads 12 --ff 2048 --vocab 32000 --ctx 1024 \
    --dtype "$ty" --seed 1 -o "$m" >/dev/null
  # bytes streamed per generated token: the weights less the token embedding table (rows are gathered)
  streamed=$("$gb" inspect "$m" --json | python3 -c '
import json, sys
j = json.load(sys.stdin); g = j["parameters_by_group"]
print(int(j["size"]["tensor_bytes"] * (1 - g["embedding"] / sum(g.values()))))')
  for t in $threads_list; do
    fa=$out/quant-gb-$ty-$t.json
    fb=$out/quant-peer-$ty-$t.json
    : >"$fa"
    : >"$fb"
    if [ $peer = native ]; then
      pcmd="exec $native -m $m -p $pp -n $tg -t $t -r 1 -o jsonl >>$fb 2>/dev/null"
    else
      pcmd="exec node $here/peer_llamacpp.mjs $m $pp $tg $t 1 >>$fb 2>/dev/null"
    fi
    farm-bench -n "$runs" --timeout 1800 --vs "sh -c '$pcmd'" -- \
      sh -c "exec $gb bench $m -p $pp -n $tg -t $t -r 1 --numerics $numerics --json >>$fa 2>/dev/null" >"$out/quant-farm-$ty-$t.txt" 2>&1 || true
    bw=$(cat "$out/membw-$t.txt" 2>/dev/null || echo nan)
    python3 - "$fa" "$fb" "$peer" "$ty" "$t" "$streamed" "$(cut -d' ' -f1 /proc/loadavg)" "$bw" <<'PY'
import json, statistics, sys
fa, fb, peer, ty, t, streamed, load, bw = sys.argv[1:]
dec = json.JSONDecoder()
def docs(text):
    i, out = 0, []
    while True:
        while i < len(text) and text[i].isspace(): i += 1
        if i >= len(text): return out
        d, i = dec.raw_decode(text, i); out.append(d)
mine = {"pp": [], "tg": []}
for d in docs(open(fa).read()):
    for x in d["tests"]: mine[x["test"][:2]].append(x["tokens_per_second"])
theirs = {"pp": [], "tg": []}
for d in docs(open(fb).read()):
    if peer == "native": theirs["pp" if d["n_prompt"] > 0 else "tg"].append(d["avg_ts"])
    else:
        for k in ("pp", "tg"):
            if k in d: theirs[k].append(d[k]["mean"])
med = lambda v: statistics.median(v) if v else float("nan")
row = [f"{ty} {t}"]
for k in ("pp", "tg"):
    a, b = med(mine[k]), med(theirs[k])
    row += [f"{a:.1f}", f"{b:.1f}", f"{a / b:.2f}x" if b == b and b else "n/a"]
gbs = lambda v: med(v) * int(streamed) / 1e9
row.append(f"{gbs(mine['tg']):.1f}, {gbs(theirs['tg']):.1f}")
# the share of the machine's median read bandwidth (bench_membw, same threads) each side's tg reaches
row.append(f"{gbs(mine['tg']) / float(bw):.0%}, {gbs(theirs['tg']) / float(bw):.0%}" if float(bw) > 0 else "n/a")
row.append(load)
print(" | ".join(row))
PY
  done
done
