#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (the README's second command; CI runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
GB_WITH_TEST_DEPS=1 tools/setup.sh build
ctest --test-dir build -j"$(nproc)" --output-on-failure
