#!/usr/bin/env bash
# Installs what glassbox needs on Debian 12 (only what is missing), then configures and builds.
#   tools/setup.sh [BUILD_DIR] [extra cmake args...]
# GB_TARGETS="glassbox ..." builds only those targets (tools/demo.sh: the CLI alone, not every test and bench).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}; shift || true
PKGS="build-essential cmake ninja-build pkg-config libeigen3-dev libboost-program-options-dev
libprotobuf-dev protobuf-compiler libonnx-dev libgraphviz-dev xtensor-dev libxsimd-dev doctest-dev
nlohmann-json3-dev libssl-dev zlib1g-dev"
if [ "${GB_WITH_TEST_DEPS:-0}" = 1 ]; then
  # Test peers: ONNX test models, libsentencepiece (tokenizer parity), clang + its sanitizer runtime (fuzz
  # stage), clang-format (the style check), openssl, Chromium (report rendering), PyTorch + SentencePiece +
  # OpenBLAS (independent forward and CrowS-Pairs references), Node.js + npm (llama.cpp through
  # node-llama-cpp, below), Open MPI (mpirun launching sharded bias runs), Slurm + munge (a throwaway local
  # cluster runs the sbatch array example: tests/support/slurm_local.sh), python3-cryptography (an
  # independent OMS signature verifier, tests/support/oms_verify.py), python3-yaml (reads .eval_results).
  PKGS="$PKGS libonnx-testdata libsentencepiece-dev clang clang-format libclang-rt-14-dev openssl chromium
python3-torch python3-sentencepiece python3-numpy libopenblas0-pthread openmpi-bin python3-cryptography python3-yaml
slurm-wlm munge"
  command -v npm >/dev/null || PKGS="$PKGS nodejs npm"
fi
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "installing:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# llama.cpp as a test peer: node-llama-cpp's CPU build for x86-64 Linux only (85 MB, not the 700 MB of
# every GPU variant), pinned, into bench/node_modules (git-ignored) where the parity test looks for it.
NLC_VERSION=3.22.1
if [ "${GB_WITH_TEST_DEPS:-0}" = 1 ] && [ "$(uname -m)" = x86_64 ] &&
   [ ! -f bench/node_modules/node-llama-cpp/package.json ]; then
  (cd bench && npm install --no-save --omit=optional --no-audit --no-fund --loglevel=error \
     "node-llama-cpp@$NLC_VERSION" "@node-llama-cpp/linux-x64@$NLC_VERSION" >/dev/null) ||
    echo "setup.sh: npm install node-llama-cpp failed: the llama.cpp parity tests will say SKIP"
fi
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
# shellcheck disable=SC2086  # GB_TARGETS is a list of target names
cmake --build "$BUILD" -j"$(nproc)" ${GB_TARGETS:+--target $GB_TARGETS}
