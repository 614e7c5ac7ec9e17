#!/usr/bin/env bash
# bench_hash.sh: `glassbox hash` (file SHA-256 + canonical tensor digests + full statistics, one pass) against
# `openssl dgst -sha256` and coreutils `sha256sum` on the same ~500 MB f32 GGUF, side by side, with peak RSS.
# Wall and CPU (user + sys) seconds: on a loaded machine compare CPU seconds. Page cache warm for every tool (the file is read once first); best of RUNS runs (default 3).
#
#   BUILD=build-int bench/bench_hash.sh          # needs targets glassbox and bench_gen_f32_model
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD:-$here/../build-int}
[[ $build = /* ]] || build=$here/../$build
gb=${GLASSBOX:-$build/cli/glassbox}
gen=$build/bench/bench_gen_f32_model
runs=${RUNS:-3}
out=$here/out
mkdir -p "$out"
model=$out/bench-f32.gguf
[ -f "$model" ] || "$gen" "$model"
size=$(stat -c %s "$model")
cat "$model" > /dev/null
# shellcheck source=bench/measure.sh
. "$here/measure.sh"

printf "model: %s (%.0f MB), %s cores, best of %s\n" "$model" "$(echo "$size/1000000" | bc -l)" "$(nproc)" "$runs"
printf "%-44s %9s %11s %10s %8s\n" "tool" "wall s" "MB/s" "peak RSS" "cpu s"
row "glassbox hash (files+tensors+stats)" "$gb" hash "$model"
row "glassbox hash --no-stats" "$gb" hash --no-stats "$model"
row "glassbox hash --no-file-hash (tensors+stats)" "$gb" hash --no-file-hash "$model"
row "openssl dgst -sha256" openssl dgst -sha256 "$model"
row "sha256sum" sha256sum "$model"
row "glassbox stats" "$gb" stats "$model"
