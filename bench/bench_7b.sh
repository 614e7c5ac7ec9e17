#!/usr/bin/env bash
# bench_7b.sh: real-size runs on a 7B-shaped synthetic llama (32 layers, dim 4096, 32 heads, ff 11008, vocab
# 32000; 6.74B parameters). For each dtype: synth writes it (streaming), then each command runs once with its
# wall seconds, CPU seconds and peak RSS (/usr/bin/time), checked against the bound "weights + 1 GiB".
# A 70B-shaped header-only check (80 layers, dim 8192, GQA 64/8, ff 28672) runs inspect and graph on a GGUF
# whose tensor data are holes (sparse: no disk, no decoding).
# Files go to $DIR (default /tmp/gb7b: a 7B f16 file is 13.5 GB, check `df -h` first) and are deleted after
# each dtype unless KEEP=1 (REUSE=1 takes an existing file instead of writing it again). STEPS picks the
# commands (default: all); DTYPES the models; LAYERS fewer layers
# of the same shapes (the per-layer cost times 32 projects the 7B).
#
#   DTYPES="q4_0" STEPS="inspect graph hash stats scan" bench/bench_7b.sh
#   DTYPES="f16 q8_0 q4_k hf-bf16" bench/bench_7b.sh          # all steps (run and bias take minutes)
#   DTYPES="q4_k q8_0 hf-bf16" bench/bench_7b.sh               # the 32-layer runs measured below
# Steps: inspect graph hash stats scan spectral run bias bench plan plancheck. `bench` is pp$PP / tg$TG (default 512 / 16,
# each side -r 1 after its own warm-up) interleaved with a native llama-bench on the same GGUF, $REPS rounds
# (default 2: glassbox, llama.cpp, glassbox, llama.cpp), both on all cores ($LLAMA_BENCH, default the one
# bench/native_llamacpp.sh builds; skipped when absent), as the ratio of the medians glassbox / llama.cpp. `plan` is
# `audit --plan --shards $RANKS` on the file: every bias suite's tokens at the rate it calibrates on this model,
# the projected audit time on this machine and on $RANKS ranks (default 32). SPECTRAL_OPTS passes options to
# spectral (e.g. "--top-k 32 --power-iters 1" for a quicker randomised pass), BIAS_LIMIT the CrowS pairs (100;
# BIAS_LIMIT_q8_0=40: that dtype's), each bias run followed by its tokens and computed tokens per CPU second.
# `plancheck` runs `audit --plan` on the CrowS pairs the bias step then scores (with `bias`): the estimate
# against the run (CPU seconds). MODEL=PATH runs the steps on an existing file instead (e.g. the 134M model).
# hf-bf16 is a sharded folder (--shard-mb $SHARD_MB, default 5000: HF's 5 GB shards + the index).
#
# Measured (Dec 2026, 2 cores shared by 7 engineers, load average 18-21; wall seconds are mostly waiting):
# LAYERS=2 DTYPES=q4_0 (7B dims with 2 of 32 layers, 0.67B parameters, 376 MB):
#   step              wall s   cpu s   peak RSS      step              wall s   cpu s   peak RSS
#   synth q4_0         122.1    25.9     610 MB      stats               3.7     0.9      28 MB
#   inspect              0.2     0.1      12 MB      scan                0.4     0.1      12 MB
#   graph (folded)       0.5     0.1      23 MB      spectral          323.2    72.6     808 MB
#   hash                 6.4     1.3      27 MB      run (8 tokens)      6.4     0.7     348 MB
#   openssl dgst         1.7     0.4       6 MB      bias crows 100    247.5    37.5     671 MB
# every peak below weights + 1 GiB (1.45 GB); synth's peak is the largest tensor (the 32000 x 4096
# embedding as floats), the same for 32 layers.
# spectral after f5c8fec (matrices over 256 MiB as floats streamed from the map; same file, both binaries side
# by side at load 15-19): peak RSS 1126 MB -> 661 MB, CPU 69.0 -> 62.4 s; the 14 layer matrices' metrics
# identical, the two streamed 32000 x 4096 ones within 1.3e-7 relative (block sums in another order). The
# peak left is two threads' 4096 x 11008 matrices (180 MB each, resident) and the 32000-row sketches.
# Full 32 layers, f16 (13.48 GB; RSS bound 14.55 GB), DTYPES=f16 STEPS="inspect graph hash", load 15-18:
#   synth f16 698.8 s wall / 331.8 s cpu / 766 MB; inspect 0.1 s / 13 MB; graph (folded) 0.2 s / 24 MB;
#   hash (file SHA-256 + tensor digests + stats) 63.8 s / 30.8 s cpu / 31 MB; openssl dgst 24.3 s / 15.3 s cpu.
# 70B header (80 layers, GQA 64/8, f16, 138 GB apparent):
# synth --sparse 0.3 s / 15 MB, inspect 1.0 s / 13 MB, graph 0.9 s / 24 MB.
# Full 32 layers (Dec 6, 20:08-20:52, load 16-23 on 2 cores; the Q4_K steps partly concurrent with each other and
# with the Q8_0 synth to fit the day: wall is 2-7x CPU), wall s / cpu s / peak RSS:
#   q4_k (3.79 GB, bound 4.87 GB): synth 734.8 / 230.2 / 586 MB (45 min before synth used all cores); inspect
#   0.4 / 13 MB; graph 0.8 / 24 MB; hash 70.6 / 12.1 / 30 MB (openssl 33.8 / 3.9); stats 39.8 / 6.8 / 33 MB;
#   scan 0.4 / 12 MB; run (8 tokens) 76.5 / 12.2 / 3848 MB; SPECTRAL_OPTS="--top-k 16 --power-iters 0" 982.0 /
#   131.0 / 466 MB; PP=128 TG=8: glassbox 1.33 / 0.058 tokens/s, native llama-bench 3.16 / 0.089 (0.42x / 0.64x,
#   run one after the other). Again Dec 6 23:04-00:02, load 11-16, the bias run beside the bench rounds:
#   synth 650.5 / 211.3 / 586 MB; bias crows-pairs 100 2518.6 / 453.0 / 3931 MB (6606 tokens, 5209 computed:
#   11.5 computed tokens per CPU s, pp512's rate; perf: 92% matmul); PP=512 TG=8 REPS=2 interleaved: glassbox
#   pp 1.96, 1.64 / tg 0.22, 0.17 tokens/s (102.5, 110.5 CPU s), llama-bench 1.74, 3.45 / 2.20, 1.14 (118.8,
#   123.4 CPU s): ratio of medians pp 0.69x, tg 0.12x.
#   q8_0 (7.16 GB, bound 8.24 GB): synth 1458.5 / 205.6 / 648 MB; inspect 0.6 / 13 MB; graph 0.7 / 24 MB;
#   hash 89.0 / 20.0 / 33 MB (openssl 23.4 / 9.9); stats 24.0 / 12.7 / 32 MB; scan 0.1 / 12 MB; PP=32 TG=2
#   (load 7-9): glassbox 2.69 / 0.24 tokens/s, native llama-bench 1.64 / 0.13 (1.65x / 1.84x).
#   hf-bf16 (3 shards + index, 13.48 GB, bound 14.55 GB; load 6-10): synth 365.2 / 184.5 / 936 MB; inspect
#   0.2 / 17 MB; graph 0.2 / 27 MB; hash 36.2 / 35.1 / 84 MB; stats 16.7 / 17.1 / 89 MB; scan 0.1 / 15 MB;
#   run (4 tokens) 16.3 / 14.3 / 12897 MB.
# Dec 7 02:13-03:30, q8_0 again (load 15-20; the steps concurrent with each other), MODEL=the file:
#   synth 1293.2 / 207.9 / 649 MB; run (8 tokens) 57.8 / 16.0 / 7001 MB; bias crows-pairs 24 462.2 / 132.4 /
#   6908 MB (1876 tokens, 1468 computed, 11.08 per CPU s); more rows in the README's scale section.
# plancheck, the estimate against the run (CPU seconds): 134M f32 model (bench/out/llama134m-f32.gguf, MODEL=),
#   100 CrowS pairs: 12.4 estimated vs 12.2 CPU s (1.01), tokens 6606 = 6606; 7B q8_0, 48 pairs: 244.0 vs
#   217.6 CPU s (1.12), tokens 3283 = 3283. The Dec 7 q8_0 rows: DTYPES=q8_0 STEPS="run spectral plancheck bias
#   bench plan" BIAS_LIMIT_q8_0=48 PP=512 TG=8 REPS=1 SPECTRAL_OPTS="--top-k 16 --power-iters 0" RANKS=32.
# Projected 7B audit: STEPS=plan on the 32-layer q4_k file counts 2,304,061 bias tokens; at the 100 CrowS pairs'
# 14.6 tokens scored per CPU s that is 43.9 CPU h: ~22 h on one idle 2-core machine, ~41 min on 32 such ranks
# (plan's own calibration, one round of 12 templates with the weights' first touch at load ~20, said 1074 h).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD:-$here/../build}
[[ $build = /* ]] || build=$here/../$build
gb=${GLASSBOX:-$build/cli/glassbox}
dir=${DIR:-/tmp/gb7b}
dtypes=${DTYPES:-"q4_0 q8_0 q4_k f16 hf-bf16"}
steps=${STEPS:-"inspect graph hash stats scan spectral run bias bench plan plancheck"}
native=${LLAMA_BENCH:-$here/out/llama.cpp/build/bin/llama-bench}
pp=${PP:-512}
tg=${TG:-16}
data=${DATA:-$here/../../shared/data}
mkdir -p "$dir"
# the wait policy: glassbox chooses it from the machine's run queue (cli/wait_policy.h) unless
# OMP_WAIT_POLICY or GOMP_SPINCOUNT is set here
layers=${LAYERS:-32}  # fewer layers of the same shapes on a busy machine: per-layer rates, projected to 32
shape=(--arch llama --layers "$layers" --dim 4096 --heads 32 --ff 11008 --vocab 32000 --ctx 4096)

# one LABEL BOUND_BYTES CMD...: a table row; "over" when the peak RSS passes the bound.
one() {
  local label=$1 bound=$2
  shift 2
  local rc=0
  /usr/bin/time -o "$dir/.time" -f "%e %M %U %S" "$@" > "$dir/.out" 2>&1 || rc=$?
  local w m u s
  read -r w m u s < <(tail -1 "$dir/.time")
  local verdict="ok"
  [ "$rc" = 0 ] || [ "$rc" = 1 ] || verdict="exit $rc"
  if [ "$bound" -gt 0 ] && [ $((m * 1024)) -gt "$bound" ]; then verdict="$verdict, RSS over the bound"; fi
  printf "%-28s %9.1f %9.1f %10.0f MB  %s\n" "$label" "$w" "$(echo "$u + $s" | bc -l)" "$(echo "$m/1024" | bc -l)" \
    "$verdict"
}

has() { [[ " $steps " == *" $1 "* ]]; }

# bench_pair MODEL BOUND: glassbox bench and llama-bench on one GGUF, pp and tg tokens/s, interleaved (glassbox,
# llama.cpp, glassbox, llama.cpp ... $REPS rounds, as bench_quant.sh alternates them: a drifting load hits both
# sides alike), both on $(nproc) threads; the medians and their ratios glassbox / llama.cpp.
bench_pair() {
  local m=$1 bound=$2 t
  t=$(nproc)
  : > "$dir/.gb.json"
  : > "$dir/.peer.jsonl"
  [ -x "$native" ] || echo "  native llama-bench absent (bench/native_llamacpp.sh): no peer"
  for r in $(seq "${REPS:-2}"); do
    one "  bench pp$pp tg$tg (round $r, load $(cut -d' ' -f1 /proc/loadavg))" "$bound" "$gb" bench "$m" -p "$pp" \
      -n "$tg" -t "$t" -r 1 --json
    cat "$dir/.out" >> "$dir/.gb.json"
    [ -x "$native" ] || continue
    one "  llama-bench pp$pp tg$tg (peer, load $(cut -d' ' -f1 /proc/loadavg))" 0 "$native" -m "$m" -p "$pp" \
      -n "$tg" -t "$t" -r 1 -o jsonl
    grep '^{' "$dir/.out" >> "$dir/.peer.jsonl" || true
  done
  python3 - "$dir/.gb.json" "$dir/.peer.jsonl" <<'PY'
import json, statistics, sys
text, dec, i = open(sys.argv[1]).read(), json.JSONDecoder(), 0
mine = {"pp": [], "tg": []}
while (i := text.find("{", i)) >= 0:  # the JSON documents (between any lines glassbox wrote on stderr)
    doc, i = dec.raw_decode(text, i)
    for x in doc.get("tests", []): mine[x["test"][:2]].append(x["tokens_per_second"])
peer = {"pp": [], "tg": []}
for line in open(sys.argv[2]):
    j = json.loads(line)
    peer["pp" if j["n_prompt"] > 0 else "tg"].append(j["avg_ts"])
for k in ("pp", "tg"):
    a, b = mine[k], peer[k]
    if a and b:
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"    {k}: glassbox {ma:.3f} tok/s {a}, llama.cpp {mb:.3f} tok/s {b}, ratio of medians {ma / mb:.2f}")
PY
}

# bias_cost: the tokens a `bias --json` run computed (its suites' cost) over its CPU seconds.
bias_cost() {
  python3 - "$dir/.out" "$dir/.time" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
doc = json.JSONDecoder().raw_decode(text[text.index("{"):])[0]
cpu = sum(map(float, open(sys.argv[2]).read().split()[-2:]))
for s in doc["bias"]:
    c = s["cost"]
    print(f"    {s['suite']}: {c['tokens']} tokens, {c['tokens_computed']} computed, "
          f"{c['tokens_computed'] / cpu:.2f} computed tokens per CPU s")
PY
}

# plan_check: audit --plan's crows-pairs estimate (idle machine: CPU seconds over the threads) against the
# bias run that followed: estimate x threads / the run's CPU seconds (1.0 = exact), and its tokens vs the run's.
plan_check() {
  python3 - "$dir/.plan" "$dir/.out" "$dir/.time" "$(nproc)" <<'PY'
import json, re, sys
plan = open(sys.argv[1]).read()
m = re.search(r"\ncrows-pairs +(\d+) +(\d+) +(\S+)( s)? ", plan)
h = re.fullmatch(r"(\d+)h(\d+)m(\d+)s", m.group(3))
est = int(h[1]) * 3600 + int(h[2]) * 60 + int(h[3]) if h else float(m.group(3))
text = open(sys.argv[2]).read()
doc = json.JSONDecoder().raw_decode(text[text.index("{"):])[0]
cpu = sum(map(float, open(sys.argv[3]).read().split()[-2:]))
tokens = doc["bias"][0]["cost"]["tokens"]
print(f"    plan: {m.group(2)} tokens (run: {tokens}), {est:.1f} s on {sys.argv[4]} idle threads = "
      f"{est * int(sys.argv[4]):.1f} CPU s; the run {cpu:.1f} CPU s: estimate / actual {est * int(sys.argv[4]) / cpu:.2f}")
PY
}

printf "7B-shaped runs, %s cores, load average %s (other engineers share this machine)\n" "$(nproc)" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-28s %9s %9s %13s  %s\n" "step" "wall s" "cpu s" "peak RSS" "verdict"
if [ "${SKIP70B:-0}" != 1 ]; then
  m70=$dir/70b-sparse.gguf
  one "synth 70B --sparse (f16)" 0 "$gb" synth --arch llama --layers 80 --dim 8192 --heads 64 --kv-heads 8 \
    --ff 28672 --vocab 32000 --dtype f16 --sparse -o "$m70"
  printf "  %s: %.1f GB apparent, %.1f MB of blocks\n" "$m70" "$(echo "$(stat -c %s "$m70")/10^9" | bc -l)" \
    "$(echo "$(stat -c %b "$m70")*512/10^6" | bc -l)"
  one "  inspect 70B header" $((1 << 30)) "$gb" inspect "$m70"
  one "  graph 70B (folded)" $((1 << 30)) "$gb" graph "$m70" -o "$dir/g70.svg"
  rm -f "$m70"
fi
[ -z "${MODEL:-}" ] || dtypes=model
for dt in $dtypes; do
  if [ "$dt" = model ]; then
    m=$MODEL
  elif [ "$dt" = hf-bf16 ]; then
    m=$dir/7b-hf-bf16
    if [ "${REUSE:-0}" = 1 ] && [ -e "$m" ]; then
      echo "  reusing $m"
    else
      one "synth hf bf16 (sharded)" 0 "$gb" synth "${shape[@]}" --dtype bf16 --format hf \
        --shard-mb "${SHARD_MB:-5000}" -o "$m"
    fi
  else
    m=$dir/7b-$dt.gguf
    if [ "${REUSE:-0}" = 1 ] && [ -e "$m" ]; then
      echo "  reusing $m"
    else
      one "synth $dt" 0 "$gb" synth "${shape[@]}" --dtype "$dt" -o "$m"
    fi
  fi
  weights=$(du -sbL --apparent-size "$m" | cut -f1)
  bound=$((weights + 1073741824))
  printf "  %s: %.2f GB; RSS bound %.2f GB\n" "$m" "$(echo "$weights/10^9" | bc -l)" "$(echo "$bound/10^9" | bc -l)"
  has inspect && one "  inspect" "$bound" "$gb" inspect "$m"
  has graph && one "  graph (folded)" "$bound" "$gb" graph "$m" -o "$dir/g.svg"
  has hash && one "  hash" "$bound" "$gb" hash "$m"
  has hash && [ -f "$m" ] && one "  openssl dgst -sha256 (peer)" 0 openssl dgst -sha256 "$m"
  has stats && one "  stats" "$bound" "$gb" stats "$m"
  has scan && one "  scan" "$bound" "$gb" scan "$m"
  # shellcheck disable=SC2086  # SPECTRAL_OPTS: several words
  has spectral && one "  spectral ${SPECTRAL_OPTS:-}" "$bound" "$gb" spectral "$m" ${SPECTRAL_OPTS:-}
  has run && one "  run (8 tokens)" "$bound" "$gb" run "$m" --prompt "The capital of France" --tokens 8
  lim=BIAS_LIMIT_${dt//[^a-z0-9]/_}  # BIAS_LIMIT_q8_0=...: that dtype's pairs
  lim=${!lim:-${BIAS_LIMIT:-100}}
  has plancheck && one "  audit --plan crows-pairs $lim" "$bound" "$gb" audit "$m" --plan --suite crows-pairs \
    --data-root "$data/bias" --limit "$lim" && cp "$dir/.out" "$dir/.plan"
  has bias && one "  bias crows-pairs $lim" "$bound" "$gb" bias "$m" --suite crows-pairs \
    --data-root "$data/bias" --limit "$lim" --json && bias_cost
  has plancheck && has bias && plan_check
  has bench && [ -f "$m" ] && bench_pair "$m" "$bound"
  has plan && one "  audit --plan --shards ${RANKS:-32}" "$bound" "$gb" audit "$m" --plan --shards "${RANKS:-32}" \
    --data-root "$data/bias" && grep -v '^$' "$dir/.out" | sed 's/^/    /'
  [ "${KEEP:-0}" = 1 ] || [ "$dt" = model ] || rm -rf "$m"
done
