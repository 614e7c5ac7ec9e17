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
# Idle baseline (the tables of earlier sessions, taken at load 8-25, are dropped: mostly other builds' noise):
# main at 72ae4eb, 2026-12-07 05:42-05:48, load 1.2-1.9 on 2 cores, native llama-bench (AVX-512, no AMX),
# pp512 / tg64, medians of 3 alternating runs, OMP_WAIT_POLICY=PASSIVE, bench_membw 36.5 / 72.0 GB/s (1 / 2 thr):
#   type t | pp glassbox / llama.cpp    | tg glassbox / llama.cpp  | tg GB/s glassbox, llama.cpp
#   q4_0 1 | 1178.7 / 1141.6 = 1.03x   | 153.2 / 307.9 = 0.50x    |  9.4, 19.0
#   q4_0 2 | 2072.5 / 1882.7 = 1.10x   | 189.1 / 199.7 = 0.95x    | 11.7, 12.3
#   q8_0 1 | 1071.2 /  652.5 = 1.64x   | 108.8 / 145.4 = 0.75x    | 12.7, 16.9
#   q8_0 2 | 1809.9 / 1072.7 = 1.69x   | 118.5 / 144.0 = 0.82x    | 13.8, 16.8
#   q4_k 1 | 1037.8 /  897.7 = 1.16x   | 129.4 / 279.9 = 0.46x    |  8.0, 17.3
#   q4_k 2 | 2022.3 / 1408.6 = 1.44x   | 178.8 / 204.3 = 0.88x    | 11.0, 12.6
#   q5_k 1 | 1029.7 /  308.3 = 3.34x   |  62.7 / 203.3 = 0.31x    |  4.7, 15.3
#   q5_k 2 | 1870.1 /  608.0 = 3.08x   | 115.4 / 152.1 = 0.76x    |  8.7, 11.5
#   q6_k 1 | 1024.2 /  432.8 = 2.37x   |  79.0 / 236.2 = 0.33x    |  7.1, 21.2
#   q6_k 2 | 1049.4 /  419.5 = 2.50x   |  74.7 / 145.8 = 0.51x    |  6.7, 13.1
# That 2-thread tg was measured with OMP_WAIT_POLICY=PASSIVE exported to both tools, and llama.cpp's CPU
# backend (built with OpenMP) waits between graph nodes at OpenMP barriers: each of a token's barriers then
# waited on a futex wake-up, which is why its 2-thread tg read slower than its 1-thread one. The script no longer forces a policy: glassbox chooses its
# own (cli/wait_policy.h: a short spin on free cores, passive beside other work) and llama.cpp keeps libgomp's
# default spinning. main at 48a89ce (the k-quant decoders of s12-tg-kquants, that choice), 2026-12-07
# 06:59-07:02, load 1.2-1.6, bench_membw 31.5 / 73.8 GB/s (1 / 2 thr), same runs and columns (then: bw share
# of the machine's, load):
#   q4_0 1 | 1046.8 | 963.3 | 1.09x | 128.5 | 254.5 | 0.50x | 7.9, 15.7 | 25%, 50% | 1.20
#   q4_0 2 | 1881.4 | 1662.1 | 1.13x | 216.3 | 335.1 | 0.65x | 13.3, 20.7 | 18%, 28% | 1.24
#   q8_0 1 | 1002.7 | 705.1 | 1.42x | 91.7 | 215.2 | 0.43x | 10.7, 25.0 | 34%, 80% | 1.19
#   q8_0 2 | 2114.9 | 1311.5 | 1.61x | 205.3 | 236.8 | 0.87x | 23.9, 27.6 | 32%, 37% | 1.31
#   q4_k 1 | 1200.2 | 1017.7 | 1.18x | 160.2 | 358.9 | 0.45x | 9.9, 22.1 | 31%, 70% | 1.34
#   q4_k 2 | 2197.5 | 1931.4 | 1.14x | 275.0 | 494.5 | 0.56x | 17.0, 30.5 | 23%, 41% | 1.45
#   q5_k 1 | 1231.3 | 352.3 | 3.50x | 149.6 | 237.7 | 0.63x | 11.3, 17.9 | 36%, 57% | 1.49
#   q5_k 2 | 2197.7 | 633.3 | 3.47x | 251.1 | 253.5 | 0.99x | 18.9, 19.1 | 26%, 26% | 1.57
#   q6_k 1 | 1184.0 | 454.3 | 2.61x | 101.8 | 266.7 | 0.38x | 9.2, 24.0 | 29%, 76% | 1.41
#   q6_k 2 | 2063.2 | 784.0 | 2.63x | 167.2 | 236.8 | 0.71x | 15.0, 21.3 | 20%, 29% | 1.42
# Where a q4_0 / q8_0 token goes (perf record -e cpu-clock: this VM exposes no hardware counters; tg256,
# 1 thread): the few-token kernel rows_fused_t<1> 78% / 86%, attention (scores + weighing) 7% / 6%, the
# rest small; no per-token allocation shows. Inside the kernel (q4_0, repacked): about a quarter of the
# samples land on each block's first loads (the d gathers and the 16-row loads: stalls on lines the
# software prefetch has not yet brought), a tenth on the prefetch loops, the rest on the column decode and
# FMAs (shift, permute, multiply, FMA: 4 zmm instructions per 16 weights). q8_0 (stored layout, 64 row
# streams) spends ~18% in the prefetch loops (stalls at the prefetches: outstanding misses). At 153 tok/s
# the q4_0 kernel runs ~4.5 weights a cycle (at ~3.7 GHz), far below its instruction bound and the read
# bandwidth (9.4 of 36.5 GB/s): it waits on memory it asks for too late or in too many streams.
# Measured and dropped (2026-12-07 05:55-06:40, load 7-11; CPU seconds of bench -p 1 -n 256 or 512 -t 1,
# medians of 3-8 alternating runs, > 1 = more CPU than the kept code): one 16-lane gather for a repacked
# group's d instead of two 8-lane ones (1.007x); software prefetch off or L1-only (q4_0 tg 0.65x / 0.74x
# tok/s), q8_0 L2-only / L1-only (1.11x / 1.34x); L1 distance 128 or 512 bytes a row (q4_0 1.12x / 0.99x,
# q8_0 512: 1.15x); the L2 prefetch 2 or 4 panels ahead (1.09x / 1.05x); 2 groups for q4_0 (1.06x); q8_0
# repacked (1.08x: stays off); the repacked weights on 2 MiB transparent huge pages (1.00-1.10x, any start
# offset; glibc.malloc.hugetlb=1, which puts every large buffer there, read 0.92x / 0.96x: worth a look).
# Earlier sessions dropped: 4 groups for the k-quants, 2 for q8_0 (1.01x).
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
