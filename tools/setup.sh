#!/usr/bin/env bash
# Installs what glassbox needs on Debian 12 (only what is missing), then configures and builds.
#   tools/setup.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}; shift || true
PKGS="build-essential cmake ninja-build pkg-config libeigen3-dev libboost-program-options-dev
libprotobuf-dev protobuf-compiler libonnx-dev libgraphviz-dev xtensor-dev libxsimd-dev doctest-dev
nlohmann-json3-dev libssl-dev zlib1g-dev"
if [ "${GB_WITH_TEST_DEPS:-0}" = 1 ]; then
  PKGS="$PKGS libonnx-testdata libsentencepiece-dev clang libclang-rt-14-dev openssl chromium"
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
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
