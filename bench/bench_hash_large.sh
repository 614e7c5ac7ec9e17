#!/usr/bin/env bash
# bench_hash_large.sh: `glassbox hash` against `openssl dgst -sha256` over the same bytes, side by side with
# bench/ab.sh (alternating pairs A B A B ..., medians; A = glassbox, B = openssl, one SHA-NI stream), per row:
#   hash --no-file-hash : canonical tensor digests + full statistics, one pass over the bytes on all cores;
#   hash (default)      : + the whole-file SHA-256, itself one serial stream like openssl's, on its own core.
# Rows: the 134M LLaMA-shaped models (bench_llama134m: f32, f16, q8_0, q4_0, q4_k), a 2-layer file with 7B
# dims (q4_0, 376 MB) and an HF folder of 4 f32 safetensors shards; MODEL=PATH instead runs that one model
# (a file or a folder). The machine is shared (2 cores, other engineers' builds): wall ratios move with the
# load, CPU seconds much less; "2-core" = A cpu / 2 / B cpu, what two idle cores allow when no single stream
# is longer (the default mode's file stream is: its bound is about 1.0 by nature, every byte hashed twice).
#
#   RUNS=3 bench/bench_hash_large.sh [build]          # the table
#   MODEL=/tmp/7b-f16.gguf RUNS=2 bench/bench_hash_large.sh
#
# Measured Dec 7 2026 (#21 section 3, after q8_0 / q4_k statistics from their blocks, pages mapped ahead and the
# file stream by pread), 2 shared cores at load 4.4-7.4 (other builds running: wall ratios do not show the
# second core, so the 2-core column is the projection from CPU seconds), medians of 3 alternating pairs:
#   row (bytes)                   mode            A cpu  B cpu  A/B cpu  A/B wall  2-core: B cpu / (A cpu / 2)  peak RSS
#   134M f32 (537 MB)             --no-file-hash  0.68   0.51   1.25     1.05      1.50x faster                 208 MB
#                                 default         1.01   0.49   2.00     1.37      0.97x (file stream bound)    114 MB
#   134M f16 (269 MB)             --no-file-hash  0.34   0.24   1.42     1.16      1.41x                        114 MB
#                                 default         0.57   0.26   2.16     1.47      0.91x                         72 MB
#   134M q8_0 (143 MB)            --no-file-hash  0.23   0.14   1.64     1.40      1.22x                         72 MB
#                                 default         0.34   0.14   2.36     1.77      0.82x                         53 MB
#   134M q4_0 (76 MB)             --no-file-hash  0.18   0.09   2.00     1.56      1.0x                          45 MB
#                                 default         0.29   0.10   2.80     2.18      0.69x                         39 MB
#   134M q4_k (76 MB)             --no-file-hash  0.19   0.08   2.38     1.71      0.84x                         45 MB
#                                 default         0.24   0.07   3.43     3.94      0.58x                         46 MB
#   7B dims, 2 layers, q4_0       --no-file-hash  0.43   0.31   1.31     1.20      1.44x                        127 MB
#   (376 MB)                      default         0.56   0.30   1.87     1.84      1.07x                        130 MB
#   134M f32 HF, 4 shards         --no-file-hash  0.42   0.43   0.98     1.01      2.05x                        211 MB
#   (537 MB)                      default         0.78   0.45   1.73     2.08      1.15x                        193 MB
# Not yet at 1.6x on the single files: the 134M quantised files take openssl 0.07-0.14 s CPU, and glassbox's
# fixed cost is ~0.03 s CPU (hash of a 1-layer toy file); its digests alone on the 134M q4_0 take 0.11 s CPU
# (--no-stats, 3 runs) against openssl's 0.09, the statistics ~0.07 more (CPU seconds come in 0.01 s steps).
# The single-file default mode is bound by its whole-file stream (every byte hashed twice). Same-binary A/B of this change
# (bench/ab.sh, load 9): q8_0 / q4_k block statistics cpu 0.93 / 0.95 of the float path; pages mapped 2 MiB
# ahead + dropped 4 MiB behind cpu 0.92 on f32; the file stream by pread cpu 0.87, wall 0.84 (default mode).
# The large run (MODEL=7B-shaped f16 GGUF from synth, 13.48 GB, 291 tensors, page cache warm, RUNS=2, the
# machine near idle: load 2.4 -> 1.0):
#   --no-file-hash  A cpu 9.53  B cpu 11.52  A/B cpu 0.83  A/B wall 0.428 (2.34x faster than openssl)  peak RSS 278 MB
#   default         A cpu 17.11 B cpu 11.33  A/B cpu 1.51  A/B wall 0.767 (1.30x faster)               peak RSS 152 MB
# (synth wrote it in 183 s at 784 MB peak RSS.) At this size fixed costs vanish and the second core shows.
# The 2-core column above overstates the small files: right after, at load 1.3-1.6, 3 pairs, the 134M f16
# --no-file-hash ran at wall A/B 1.54 (cpu 0.36 vs 0.23 s) and the 134M q4_0 at 1.90 (cpu 0.21 vs 0.09 s),
# i.e. glassbox SLOWER than openssl in wall on them (its two largest tensors, tok_embd and output, 37% of
# the bytes, end as single streams; the thread team and the model's set-up are fixed costs).
# Earlier tables (lanes, Q4_0 block scan, the stream on its own core) are in git history.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init "$@"
runs=${RUNS:-3}
tmp=${TMPDIR:-/tmp}/gb-hash-bench
mkdir -p "$tmp"
# row NAME PATH: both modes against openssl over the same bytes (a folder: its weight files, one stream).
row() {
  local name=$1 model=$2 files
  if [ -d "$model" ]; then files=$(ls "$model"/*.safetensors); else files=$model; fi
  # shellcheck disable=SC2086
  cat $files > /dev/null # page cache warm for both tools
  for args in "--no-file-hash" ""; do
    # shellcheck disable=SC2086
    r=$("$here/ab.sh" -n "$runs" --warmup "${WARMUP:-1}" --timeout 3600 --vs "openssl dgst -sha256 $(echo $files)" -- \
      "$gb" hash $args "$model")
    printf "%-26s %-16s %s | %s | load %s\n" "$name" "${args:-default}" \
      "$(echo "$r" | grep -E '^A ' | sed -E 's/.*cpu s [^/]+\/ ([0-9.]+) .*peak ([0-9.]+ MB).*/A cpu \1 s, peak \2/')" \
      "$(echo "$r" | grep -E '^B ' | sed -E 's/.*cpu s [^/]+\/ ([0-9.]+) .*/B cpu \1 s/') $(echo "$r" | grep 'A/B' | sed 's/.*ratios: //')" \
      "$(cut -d' ' -f1-3 /proc/loadavg)"
  done
}
echo "$(nproc) cores; A = glassbox hash, B = openssl dgst -sha256; medians of $runs alternating pairs"
if [ -n "${MODEL:-}" ]; then
  row "$(basename "$MODEL")" "$MODEL"
  exit 0
fi
shape=(--arch llama --layers 12 --dim 768 --heads 12 --ff 2048 --vocab 32000)
for t in f32 f16 q8_0 q4_0 q4_k; do row "134M $t" "$(bench_llama134m $t)"; done
two=$tmp/7b-2layers-q4_0.gguf
[ -f "$two" ] || "$gb" synth --arch llama --layers 2 --dim 4096 --heads 32 --ff 11008 --vocab 32000 --dtype q4_0 \
  -o "$two" > /dev/null
row "7B dims, 2 layers, q4_0" "$two"
hf=$tmp/134m-hf-f32
[ -d "$hf" ] || "$gb" synth "${shape[@]}" --dtype f32 --format hf --shard-mb 150 -o "$hf" > /dev/null
row "134M f32 HF, 4 shards" "$hf"
