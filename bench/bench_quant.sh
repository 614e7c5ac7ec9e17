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
# glassbox: cli/wait_policy.h). Tables of earlier sessions are in git history. Morning (main at 651a0bd,
# 2026-12-07 10:33, load 1.2-1.5, bench_membw 29.4 / 61.5 GB/s at 1 / 2 threads) and after the packed
# stream's prefetch ran 8 KiB ahead into L1 in pieces per block part (main at b4f2240, 13:31-13:33, load
# 1.3-1.5, bench_membw 28.6 / 60.8 GB/s), glassbox / llama.cpp (llama.cpp's own rates move 5-15% between
# runs: compare ratios within one run):
#   type t | tg morning | tg now                  | pp512 now                | tg GB/s now (glassbox, llama.cpp)
#   q4_0 1 |   0.81x    | 382.4 / 319.9 = 1.20x   | 1196.4 / 1190.0 = 1.01x  | 23.6, 19.7
#   q4_0 2 |   1.03x    | 483.7 / 393.2 = 1.23x   | 2077.8 / 2035.3 = 1.02x  | 29.8, 24.2
#   q8_0 1 |   1.18x    | 244.1 / 176.4 = 1.38x   | 1096.7 /  657.2 = 1.67x  | 28.4, 20.5
#   q8_0 2 |   1.41x    | 273.0 / 171.9 = 1.59x   | 1688.0 /  830.4 = 2.03x  | 31.8, 20.0
#   q4_k 1 |   0.67x    | 255.9 / 298.1 = 0.86x   | 1121.5 /  968.1 = 1.16x  | 15.8, 18.4
#   q4_k 2 |   0.74x    | 333.2 / 387.4 = 0.86x   | 1979.4 / 1692.7 = 1.17x  | 20.5, 23.9
#   q5_k 1 |   0.86x    | 172.7 / 195.0 = 0.89x   | 1049.4 /  321.6 = 3.26x  | 13.0, 14.7
#   q5_k 2 |   1.14x    | 309.0 / 224.9 = 1.37x   | 2170.0 /  608.9 = 3.56x  | 23.3, 16.9
#   q6_k 1 |   0.71x    | 222.4 / 272.5 = 0.82x   | 1213.1 /  452.5 = 2.68x  | 20.0, 24.5
#   q6_k 2 |   1.09x    | 297.6 / 245.5 = 1.21x   | 2150.5 /  753.0 = 2.86x  | 26.8, 22.1
# Dec 8 02:07 (main at 6271a27, load 1.3-1.5, bench_membw 30.7 / 60.2 GB/s), tg64 / pp512, 1 and 2 threads:
#   q4_0 1.15x / 1.00x, 1.20x / 1.15x | q8_0 1.09x / 1.74x, 1.79x / 1.91x | q4_k 0.97x / 1.24x, 0.95x / 1.23x
#   q5_k 1.09x / 3.69x, 1.49x / 3.26x | q6_k 0.81x / 2.58x, 1.20x / 2.48x
# Single rounds that day read q4_k tg 0.71-0.84x at 1 thread and 0.84-1.01x at 2, q6_k 0.80-0.97x at 1.
# At 512 generated tokens attention was 23% of a token; with its values prefetched (attention.cpp) tg512
# read 1.07-1.13x main's tokens/s at 1 thread, 1.12x at 2.
# The full 32-layer 7B-shaped q4_k (synth --layers 32 --dim 4096 --heads 32 --ff 11008 --vocab 32000 --seed 1,
# 3.79 GB), MODEL=, pp128 / tg16, medians of 2, 13:33-13:36, load 1.1-1.4 (morning: pp 0.95x / 0.79x, tg
# 0.78x / 0.71x):
#   q4_k 1 | pp 15.6 / 16.7 = 0.94x | tg 5.1 / 5.9 = 0.87x | tg GB/s 19.1, 21.9
#   q4_k 2 | pp 29.1 / 29.4 = 0.99x | tg 8.2 / 9.7 = 0.85x | tg GB/s 30.6, 36.0
# Evening (main at 429da14: panels wider than L2 packed in 512-column chunks before their tiles; q4_k's
# byte_at controls from a table), 16:23-16:28, load 1.0-1.6, bench_membw 31.2 / 64.0 GB/s, tg / pp512:
#   q4_0 1.16x / 0.98x, 1.27x / 1.04x | q8_0 1.49x / 1.75x, 1.65x / 1.56x | q4_k 0.80x / 1.12x, 0.84x / 1.17x
#   q5_k 1.02x / 3.32x, 1.29x / 3.43x | q6_k 0.83x / 2.53x, 1.27x / 2.48x       (1 thread, 2 threads)
# (q4_k tg 266.4 / 331.3 at 1 thread: llama.cpp's own rate read 298 at 13:31.) The 32-layer q4_k: pp128
# 16.3 / 16.5 = 0.98x and 31.4 / 31.2 = 1.01x; tg16 0.70x and 0.92x in this run (4.4 and 9.4 tok/s against 6.3
# and 10.2), but 5.27-5.51 tok/s at 1 thread in 3 alternating runs right after (main at b4f2240: 5.23-5.80).
# What it took. A repacked 16-row group stores each block column field by field, each field of the 16 rows
# together (formats/quant_cols.h: group_block_pack), so a block column's start is a vcvtph2ps and plain
# loads, and a thread's panels are one sequential stream; a token with no hook is one parallel region. The
# kernel is then bound by how far ahead its one stream is prefetched, not by the decode: in L2 (bench/
# kernel_rate.cpp) q4_0 decodes 53-57 G weights/s, q4_k 38-41, q5_k/q6_k 26-30, against 15-30 from DRAM.
# A prefetch 1 KiB ahead into L1 (+ 8 KiB into L2) did not cover DRAM's latency; 8 KiB into L1, one line at
# a time spread over each block part, does (an L2 loop further on, 4 or 12-24 KiB, hints T1/NTA: no better).
# Tried and dropped (kernels_blocks.cpp rows_fused_t, engine.cpp team_job say the numbers): 3 or 4 row
# groups for q5_k/q6_k, a smaller unrolled body for q4_k, warming each stage's first panel before its barrier.
# The repack's cost is at load, mostly the kernel clearing the copy's fresh pages on this VM
# (clear_page_erms); the whole copy is advised onto huge pages, and runners of one model share it. The 7B
# q4_k `run --tokens 4`, idle, 13:37: wall 4.5-6.3 s (sys 4.3-7.3) against 3.2 s with GB_REPACK=0 (morning:
# 12-15 s against 4.7). GB_REPACK=0 keeps the stored layout.
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
