#!/bin/sh
# Quantized forward-pass speed, glassbox vs llama.cpp on the same GGUF files: the 134M LLaMA-shaped model
# (bench_forward.sh's) synthesized as each ggml type, pp and tg at each thread count. Runs go through
# bench/ab.sh --vs (glassbox and llama.cpp alternate, A B A B ...); each side's own tokens/s are read from
# its output and the medians compared (the process times ab.sh prints include loading and
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
#   OUT=/tmp/q8 NUMERICS=llama.cpp bench/bench_quant.sh ...   # result files elsewhere (two runs at once)
# Measured on an idle machine (2 cores, AMD EPYC family 26, ~3.9 GHz, native llama-bench: AVX-512, no AMX),
# pp512 / tg64, medians of 3 alternating runs, each tool's own wait policy (llama.cpp: libgomp's spin;
# glassbox: cli/wait_policy.h). Tables of earlier sessions (load 8-25: other builds' noise) are in git history.
# Before (main at 48a89ce, 2026-12-07 06:59, load 1.2-1.6, bench_membw 31.5 / 73.8 GB/s at 1 / 2 threads) and
# after the decode-ready repack and the one-region token (main at 651a0bd, 2026-12-07 10:33-10:35, load
# 1.2-1.5, bench_membw 29.4 / 61.5 GB/s), glassbox / llama.cpp:
#   type t | tg before | tg now                  | pp512 now                | tg GB/s now (glassbox, llama.cpp)
#   q4_0 1 |   0.50x   | 282.3 / 347.2 = 0.81x   | 1204.4 / 1220.5 = 0.99x  | 17.4, 21.4
#   q4_0 2 |   0.65x   | 434.5 / 421.9 = 1.03x   | 2239.9 / 2091.7 = 1.07x  | 26.8, 26.0
#   q8_0 1 |   0.43x   | 219.4 / 186.3 = 1.18x   | 1226.5 /  698.4 = 1.76x  | 25.5, 21.7
#   q8_0 2 |   0.87x   | 316.6 / 224.7 = 1.41x   | 2219.2 / 1285.3 = 1.73x  | 36.9, 26.2
#   q4_k 1 |   0.45x   | 241.6 / 358.0 = 0.67x   | 1208.0 / 1056.9 = 1.14x  | 14.9, 22.1
#   q4_k 2 |   0.56x   | 332.9 / 451.3 = 0.74x   | 2251.3 / 1776.0 = 1.27x  | 20.5, 27.8
#   q5_k 1 |   0.63x   | 200.0 / 231.3 = 0.86x   | 1255.0 /  348.5 = 3.60x  | 15.1, 17.4
#   q5_k 2 |   0.99x   | 290.2 / 254.1 = 1.14x   | 2375.2 /  640.5 = 3.71x  | 21.9, 19.1
#   q6_k 1 |   0.38x   | 195.1 / 276.6 = 0.71x   | 1236.7 /  469.4 = 2.63x  | 17.5, 24.9
#   q6_k 2 |   0.71x   | 286.0 / 262.8 = 1.09x   | 2126.9 /  831.6 = 2.56x  | 25.7, 23.6
# The full 32-layer 7B-shaped q4_k (synth --layers 32 --dim 4096 --heads 32 --ff 11008 --vocab 32000 --seed 1,
# 3.79 GB), MODEL=, pp128 / tg16, medians of 2, 10:35-10:39, load 1.1-1.7:
#   q4_k 1 | pp 16.3 / 17.1 = 0.95x | tg 4.4 / 5.7 = 0.78x | tg GB/s 16.3, 21.0
#   q4_k 2 | pp 24.5 / 31.0 = 0.79x | tg 7.1 / 9.9 = 0.71x | tg GB/s 26.2, 36.8
# What it took. The q4_0 kernel ran ~4.5 weights a cycle, at the same rate with the weights in L2/L3 (a 1-layer
# model, 18.4 G weights/s) as from DRAM (15.4-17): compute-bound, not memory-bound. perf put ~35-40% of its
# samples on each block column's start (two d gathers, 16 loads, inserts and unpacks, the state spilled) and
# ~16% on the prefetch loops. A repacked 16-row group now stores each block column field by field, each
# field of the 16 rows together (formats/quant_cols.h: group_block_pack), so the start is a vcvtph2ps and
# plain loads, and a thread's panels are one sequential stream: q4_0 ~8.8 weights a cycle. A token with no
# hook is one parallel region (61 barriers instead of 85 region forks and joins).
# The repack's cost is at load: on this VM mostly the kernel clearing the copy's fresh pages (clear_page_erms,
# 50% of a 7B q4_k `run --tokens 1`): the 7B q4_k `run --tokens 4` takes 12-15 s against 4.7 s with GB_REPACK=0
# (sys 6.5-8 s), and 1-2 s more without the copy's huge-page hint. A run that generates more than ~40 tokens
# gains it back (7B q4_k: 0.23 s a token against 0.42 before). GB_REPACK=0 keeps the stored layout.
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
res=${OUT:-$out}  # OUT=dir: this run's result files there (two runs at once), the models stay in bench/out
mkdir -p "$out" "$res"
# the wait policy: glassbox chooses it from the machine's run queue (cli/wait_policy.h) unless
# OMP_WAIT_POLICY or GOMP_SPINCOUNT is set here
if [ -x "$native" ]; then peer=native; else peer=npm; fi
numerics=${NUMERICS:-exact}
echo "glassbox --numerics $numerics; peer: llama.cpp $peer; wait policy ${OMP_WAIT_POLICY:-${GOMP_SPINCOUNT:-chosen by glassbox}}; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
for t in $threads_list; do
  if [ -x "$membw" ]; then
    bw=$("$membw" 1024 "$t" 5)
    echo "machine read bandwidth, $t threads: $bw"
    echo "$bw" | python3 -c 'import json, sys; print(json.load(sys.stdin)["median_gb_per_s"])' >"$res/membw-$t.txt"
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
    fa=$res/quant-gb-$ty-$t.json
    fb=$res/quant-peer-$ty-$t.json
    : >"$fa"
    : >"$fb"
    if [ $peer = native ]; then
      pcmd="exec $native -m $m -p $pp -n $tg -t $t -r 1 -o jsonl >>$fb 2>/dev/null"
    else
      pcmd="exec node $here/peer_llamacpp.mjs $m $pp $tg $t 1 >>$fb 2>/dev/null"
    fi
    "$here/ab.sh" -n "$runs" --timeout 1800 --vs "sh -c '$pcmd'" -- \
      sh -c "exec $gb bench $m -p $pp -n $tg -t $t -r 1 --numerics $numerics --json >>$fa 2>/dev/null" >"$res/quant-ab-$ty-$t.txt" 2>&1 || true
    bw=$(cat "$res/membw-$t.txt" 2>/dev/null || echo nan)
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
