#!/usr/bin/env bash
# bench_diff.sh: `glassbox diff` of two ~500 MB f32 GGUFs (a base and a copy with layer 3 perturbed) against a
# plain read of both files (`cat a b > /dev/null`), side by side, with peak RSS. Page cache warm; best of RUNS.
#
#   BUILD=build-int bench/bench_diff.sh          # needs targets glassbox and bench_gen_f32_model
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init "${BUILD:-build-int}"
gen=$build/bench/bench_gen_f32_model
runs=${RUNS:-3}
a=$out/bench-f32.gguf
b=$out/bench-f32-ft3.gguf
[ -f "$a" ] || "$gen" "$a"
[ -f "$b" ] || "$gen" "$b" --perturb-layer 3
size=$(( $(stat -c %s "$a") + $(stat -c %s "$b") ))
cat "$a" "$b" > /dev/null
# shellcheck source=bench/measure.sh
. "$here/measure.sh"

printf "models: %s + %s (%.0f MB together), %s cores, best of %s\n" "$a" "$b" "$(echo "$size/1000000" | bc -l)" "$(nproc)" "$runs"
printf "%-44s %9s %11s %10s %8s\n" "tool" "wall s" "MB/s" "peak RSS" "cpu s"
row "glassbox diff" "$gb" diff "$a" "$b"
row "cat a b > /dev/null" sh -c "cat '$a' '$b' > /dev/null"
row "glassbox diff --threads 1" "$gb" diff --threads 1 "$a" "$b"
echo
"$gb" diff "$a" "$b" | sed -n '/^verdict/,$p'
