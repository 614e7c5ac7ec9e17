#!/bin/sh
# Builds a native llama.cpp `llama-bench` (-march=native, like glassbox's default build) from the source
# that npm's node-llama-cpp ships (a git bundle), into bench/out/llama.cpp. Only when asked (minutes of
# compile on 2 cores, not in CI); bench_forward.sh then adds it as the native peer beside the npm one.
# Needs: cd bench && npm install --no-save node-llama-cpp (for the bundle), cmake, ninja or make, git.
#
#   bench/native_llamacpp.sh [jobs=2]
#   bench/out/llama.cpp/build/bin/llama-bench -m bench/out/llama134m-f32.gguf -p 512 -n 128 -t 2
set -eu
here=$(cd "$(dirname "$0")" && pwd)
jobs=${1:-2}
bundle=$here/node_modules/node-llama-cpp/llama/gitRelease.bundle
dst=$here/out/llama.cpp
if [ ! -f "$bundle" ]; then
  echo "no llama.cpp source bundle at $bundle: (cd bench && npm install --no-save node-llama-cpp)" >&2
  exit 2
fi
mkdir -p "$here/out"
[ -d "$dst/.git" ] || git clone --quiet "$bundle" "$dst"
gen=""
command -v ninja >/dev/null 2>&1 && gen="-G Ninja"
# shellcheck disable=SC2086  # $gen is empty or two words
cmake -S "$dst" -B "$dst/build" $gen -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF >/dev/null
cmake --build "$dst/build" --target llama-bench -j "$jobs"
echo "$dst/build/bin/llama-bench"
