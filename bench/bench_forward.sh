#!/bin/sh
# Forward-pass speed, glassbox vs llama.cpp (npm node-llama-cpp) side by side on one 134M LLaMA-shaped
# model (dim 768, 12 layers, 12 heads, FFN 2048, vocab 32000) in f32 and f16, same threads, same run.
# PyTorch is compared when python3-torch is installed (bench/peer_torch.py).
#
#   cmake --build build --target glassbox && (cd bench && npm install --no-save node-llama-cpp)
#   bench/bench_forward.sh [build-dir] [threads=2] [pp=512] [tg=128] [reps=3]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
threads=${2:-2}
pp=${3:-512}
tg=${4:-128}
reps=${5:-3}
gb=$build/cli/glassbox
py=/usr/bin/python3  # Debian's python3-torch lives with the system interpreter
[ -x $py ] || py=python3
out=$here/out
mkdir -p "$out"
for t in f32 f16; do
  m=$out/llama134m-$t.gguf
  [ -f "$m" ] || "$gb" synth --arch llama --layers 12 --dim 768 --heads 12 --ff 2048 --vocab 32000 --ctx 1024 \
    --dtype $t --seed 1 -o "$m" >/dev/null
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (side-by-side ratios are what count on a shared machine)"
for t in f32 f16; do
  m=$out/llama134m-$t.gguf
  echo "== $t, $threads threads, pp$pp tg$tg, $reps runs"
  OMP_NUM_THREADS=$threads /usr/bin/time -f "glassbox peak RSS %M KiB" "$gb" bench "$m" -p "$pp" -n "$tg" -t "$threads" -r "$reps"
  if [ -d "$here/node_modules/node-llama-cpp" ]; then
    /usr/bin/time -f "llama.cpp peak RSS %M KiB" node "$here/peer_llamacpp.mjs" "$m" "$pp" "$tg" "$threads" "$reps"
  else
    echo "llama.cpp peer skipped: (cd bench && npm install --no-save node-llama-cpp)"
  fi
  if $py -c 'import torch' 2>/dev/null; then
    $py "$here/peer_torch.py" "$m" "$pp" "$tg" "$threads" "$reps"
  else
    echo "PyTorch peer skipped: python3-torch not installed"
  fi
done
