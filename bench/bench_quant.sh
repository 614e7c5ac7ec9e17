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
# Side by side with the NATIVE llama-bench (bench/native_llamacpp.sh: -march=native, AVX-512 VNNI, no AMX
# on this AMD EPYC), 2026-12-06 17:03-17:40, load 8-15 on 2 cores (6 engineers building), pp512 / tg128,
# medians of 3 alternating runs; bw = tg's weight bytes/s over bench_membw's median read bandwidth measured
# at the start of each call (30.5 / 15.8 GB/s in the first, 5-6 / 4.5-7.5 GB/s in the later ones: the
# machine's load moved it 5x, so the shares are only comparable within a row).
# glassbox exact (the default: f32 products of ggml's dequantized weights), few-token matmul decoding each
# block column in registers (probes/engine/kernels_blocks.cpp, commit 3005449), 2026-12-06 20:20-20:35,
# load 16-25 on 2 cores, pp512 / tg64, medians of 3 alternating runs, bench_membw 10.6 / 8.7 GB/s (1 / 2 thr):
#   type t | pp glassbox / llama.cpp   | tg glassbox / llama.cpp | bw glassbox, llama.cpp | load
#   q8_0 1 | 292.0 / 134.9 = 2.16x    | 23.6 / 37.9 = 0.62x     | 26%, 42%               | 19.6
#   q8_0 2 | 377.7 / 156.6 = 2.41x    | 46.6 / 80.2 = 0.58x     | 63%, 108%              | 18.7
#   q4_0 1 | 225.1 / 236.9 = 0.95x    | 34.7 / 67.2 = 0.52x     | 20%, 39%               | 16.4
#   q4_0 2 | 473.1 / 344.0 = 1.38x    | 92.6 / 93.7 = 0.99x     | 66%, 67%               | 16.6
#   q4_k 1 | 169.1 / 141.6 = 1.19x    | 28.5 / 50.7 = 0.56x     | 17%, 29%               | 18.1
#   q4_k 2 | 539.7 / 351.6 = 1.53x    | 73.3 / 160.7 = 0.46x    | 52%, 114%              | 17.0
#   q5_k 1 | 257.3 /  80.9 = 3.18x    | 26.2 / 50.6 = 0.52x     | 19%, 36%               | 20.3
#   q5_k 2 | 469.8 /  82.8 = 5.68x    | 52.9 / 115.2 = 0.46x    | 46%, 100%              | 24.0
#   q6_k 1 | 250.2 /  97.4 = 2.57x    | 19.0 / 58.0 = 0.33x     | 16%, 49%               | 23.5
#   q6_k 2 | 224.2 /  71.1 = 3.15x    | 43.7 / 92.8 = 0.47x     | 45%, 96%               | 24.8
# Before (the L1 tile, 17:03-17:40, load 8-15): tg 0.55 / 0.70 (q8_0, 1 / 2 thr), 0.39 / 0.43 (q4_0),
# 0.30 / 0.69 (q4_k), 0.42 / 0.50 (q5_k), 0.51 / 0.38 (q6_k); pp as above within the noise.
# (the 7B-shaped q4_k rows: the 2026-12-07 table at the end of this comment)
# --numerics llama.cpp (NUMERICS=llama.cpp: 8-bit activations, integer dots), same file, same peer:
#   q8_0 1 | 144.3 / 118.3 = 1.22x    | 21.6 / 30.0 = 0.72x     | 49%, 69%               |  8.6
#   q8_0 2 | 344.1 / 143.3 = 2.40x    | 48.1 / 82.7 = 0.58x     | 75%, 129% (bw drifted) | 10.3
#   q4_0 1 | 134.2 / 203.4 = 0.66x    | 29.6 / 57.1 = 0.52x     | 36%, 69%               | 11.1
#   q4_0 2 | 239.1 / 342.9 = 0.70x    | 102.7 / 96.0 = 1.07x    | 85%, 79%               | 11.6
#   q4_k 1 | 600.2 / 719.2 = 0.83x    | 250.1 / 220.5 = 1.13x   | 303%, 267% (bw drifted)|  8.7
#   q4_k 2 | 417.2 / 571.1 = 0.73x    | 121.0 / 120.2 = 1.01x   | 100%, 99%              |  8.7
#   q5_k 1 | 381.0 / 188.0 = 2.03x    | 139.6 / 118.8 = 1.18x   | 207%, 176% (bw drifted)|  8.1
#   q5_k 2 | 339.7 / 184.8 = 1.84x    | 103.6 / 70.0 = 1.48x    | 105%, 71%              |  8.2
#   q6_k 1 | 450.4 / 254.4 = 1.77x    | 141.6 / 151.5 = 0.93x   | 250%, 268% (bw drifted)|  8.1
#   q6_k 2 | 425.9 / 242.2 = 1.76x    | 98.5 / 101.0 = 0.98x    | 119%, 122%             |  8.4
# Where the gaps are (perf, tg32, 1 thread, exact, registers): the decode + FMA loop is 70-78% of the run,
# its hottest spots the first loads of each block (the d gathers, the row prefetches: memory latency over
# 32-64 interleaved row streams). Per 16 weights exact mode needs about 5 vector instructions (extract,
# convert, scale, subtract or fused scale-subtract, FMA) where llama.cpp's tg multiplies 64 int8 pairs per
# VNNI instruction: tg reaches 17-66% of the machine's bandwidth, llama.cpp 29-114%. Exact mode rounds every weight as ggml's
# dequantisation does (convert, multiply, subtract per weight at 16 lanes) before its f32 FMA, where
# llama.cpp's tg multiplies 64 int8 pairs per VNNI instruction. pp is f32 FMA-bound in exact mode
# (~80 GFLOP/s on one core, near the 6x64 micro-kernel's peak); llama.cpp's q4_0 pp is its repacked
# int8 GEMM, which only --numerics llama.cpp could match (its tiled pp is still below exact mode's).
# After the q8_0 one-shuffle column decode (929a9f1) and the 32-byte transposes (5ecf17d), exact mode,
# 2026-12-06 23:32-23:46, load 12-15.5 on 2 cores (6 engineers building, a 7B llama-bench of another
# engineer running: 2 threads were barely faster than 1 on either side), pp512 / tg64, medians of 3
# alternating runs, bench_membw 7.9 / 9.0 GB/s (1 / 2 thr):
#   type t | pp glassbox / llama.cpp   | tg glassbox / llama.cpp | bw glassbox, llama.cpp | load
#   q8_0 1 | 283.9 / 180.6 = 1.57x    | 32.1 / 41.8 = 0.77x     | 48%, 62%               | 13.4
#   q8_0 2 | 371.9 / 188.6 = 1.97x    | 34.0 / 39.8 = 0.86x     | 44%, 51%               | 12.4
#   q4_0 1 | 289.9 / 286.8 = 1.01x    | 37.5 / 80.7 = 0.46x     | 29%, 63%               | 12.1
#   q4_0 2 | 333.1 / 324.5 = 1.03x    | 37.5 / 64.9 = 0.58x     | 26%, 44%               | 13.2
#   (the k-quant rows: the 2026-12-07 table at the end of this comment)
# glassbox against its previous build in alternating runs (tg48, 1 thread, 8 runs, load 10-13): q8_0 1.095x
# (shuffle) then 1.04x (transposes), q4_k 1.11x (transposes). Measured and dropped: no software prefetch
# at all, or an L1 distance of 512 (q8_0 tg: 1.00x, 0.90-0.96x: the prefetch loops' share of a profile is
# memory stalls landing there); 4 interleaved 16-row groups for the k-quants (q4_k 1.03-1.09x at 1 thread,
# 0.75-0.98x at 2, q5_k 0.81x, q6_k 0.90x: decoder state spills), 2 for q8_0 (1.01x).
# Load-time block-interleaved repack (probes/engine/repack.h, 2026-12-07 03:00-03:15, load 12-20 on 2 cores),
# tg64 tok/s, repack on vs GB_REPACK=0 vs native llama-bench, 3 alternating runs (medians):
#   q4_0 1 | 29.8 vs 25.1 (1.19x), llama.cpp 45.8 | q4_0 2 | 39.4 vs 38.2 (1.03x), llama.cpp 62.8
#   q8_0 1 | 36.0 vs 37.6 (0.96x), llama.cpp 34.0 | q8_0 2 | 43.5 vs 52.8 (noisy), llama.cpp 107.3
#   q4_k 1 | 62.8 vs 77.6 (0.81x), llama.cpp 105.9 | q6_k 1 | 34.4 vs 51.3 (noisy), llama.cpp 57.0
# So the runner repacks q4_0 only by default (repack_mode::measured). Peak RSS (q4_0, -p 1 -n 1): 91.4 vs
# 79.4 MB (the weights plus about one tensor), load +0.5 s wall at this load (one thread, 18-byte copies).
# K-quants after the q6_k one-shuffle columns, the q5_k constant shift counts and the 4-at-a-time k4 scales
# (quant_cols_simd.h, s12-tg-kquants), exact mode, stored layout, 2026-12-07 06:27-06:34, load 9-10.5 on 2
# cores (other engineers building and benchmarking; the lead's idle baseline at 05:45 had glassbox / llama.cpp
# tg q4_k 129.4 / 279.9 = 0.46x and 178.8 / 204.3 = 0.88x, q5_k 62.7 / 203.3 = 0.31x and 0.76x, q6_k
# 79.0 / 236.2 = 0.33x and 0.51x at 1 / 2 threads), pp512 / tg64, medians of 3 alternating runs:
#   type t | pp glassbox / llama.cpp   | tg glassbox / llama.cpp | tg GB/s glassbox, llama.cpp | load
#   q4_k 1 | 355.4 / 269.5 = 1.32x    | 42.9 / 77.5 = 0.55x     | 2.6, 4.8                    |  9.4
#   q4_k 2 | 431.1 / 388.7 = 1.11x    | 44.7 / 76.6 = 0.58x     | 2.8, 4.7                    | 10.5
#   q5_k 1 | 390.6 /  97.8 = 4.00x    | 43.0 / 66.3 = 0.65x     | 3.2, 5.0                    |  9.9
#   q5_k 2 | 405.3 /  94.0 = 4.31x    | 42.8 / 43.4 = 0.99x     | 3.2, 3.3                    |  9.9
#   q6_k 1 | 435.9 / 173.4 = 2.51x    | 41.0 / 85.5 = 0.48x     | 3.7, 7.7                    | 10.0
#   q6_k 2 | 429.5 / 160.1 = 2.68x    | 33.4 / 55.4 = 0.60x     | 3.0, 5.0                    | 10.3
# The same, 06:37-06:40, load 4.7-7.3 (falling):
#   q4_k 1 | 519.3 / 490.3 = 1.06x    | 72.2 / 166.1 = 0.43x    | 4.4, 10.2                   |  5.8
#   q4_k 2 | 533.9 / 436.1 = 1.22x    | 61.8 / 95.6 = 0.65x     | 3.8, 5.9                    |  6.5
#   q5_k 1 | 458.1 / 153.1 = 2.99x    | 47.6 / 89.6 = 0.53x     | 3.6, 6.8                    |  7.3
#   q5_k 2 | 748.1 / 183.7 = 4.07x    | 77.0 / 110.9 = 0.69x    | 5.8, 8.4                    |  6.8
#   q6_k 1 | 893.1 / 424.0 = 2.11x    | 107.2 / 191.6 = 0.56x   | 9.6, 17.2                   |  5.6
#   q6_k 2 | 1080.6 / 397.6 = 2.72x   | 88.1 / 131.1 = 0.67x    | 7.9, 11.8                   |  4.8
# 7B-shaped q4_k with 2 of its 32 layers (synth --layers 2 --dim 4096 --heads 32 --ff 11008 --vocab 32000
# --seed 1, 376 MB; 2 layers keep the file small), pp128 / tg32, MODEL=, 06:32-06:34:
#   q4_k 1 | 125.8 / 145.2 = 0.87x    | 10.8 / 25.3 = 0.42x     | 3.2, 7.6                    |  9.6
#   q4_k 2 | 170.8 / 162.6 = 1.05x    | 14.6 / 25.9 = 0.57x     | 4.4, 7.8                    |  9.0
# (the last session's 7B rows, load ~10: tg 0.25x / 0.08x.) glassbox against itself in alternating runs
# (tg64, 1 thread, 5 pairs, load 8-10.5): q6_k 1.23x, then q5_k 1.10x and 1.69x, q4_k 1.05x (noise);
# the branch against main at 2 threads (4 pairs, load 4.3-5.4): q5_k 1.79x, q6_k 1.23x, q4_k 1.51x.
# The repack (GB_REPACK=all against GB_REPACK=0, same runs) is still slower on the k-quants: q4_k 0.84x,
# q5_k 0.82x, q6_k 0.85x, and 0.89x on the 7B-shaped q4_k, so they stay on the stored layout.
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
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # a shared machine: idle workers must not spin
if [ -x "$native" ]; then peer=native; else peer=npm; fi
numerics=${NUMERICS:-exact}
echo "glassbox --numerics $numerics; peer: llama.cpp $peer; OMP_WAIT_POLICY=$OMP_WAIT_POLICY; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
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
