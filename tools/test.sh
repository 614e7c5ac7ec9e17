#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (the README's second command; CI runs it):
#   1. the normal build and its ctest run (build/);
#   2. tools/sanitize.sh: the whole test suite built with ASan + UBSan (gcc, build-asan/) and run;
#   3. tools/fuzz.sh: the libFuzzer targets and the attack corpus built with clang + ASan + UBSan
#      (build-fuzz/); the attack corpus runs under the sanitizers, each target replays its corpus and
#      the targets fuzz a minute in all (GB_FUZZ_SECONDS changes that budget).
# GB_TEST_QUICK=1 runs step 1 only; GB_TEST_SANITIZE=0 skips step 2.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
GB_WITH_TEST_DEPS=1 tools/setup.sh build
ctest --test-dir build -j"$(nproc)" --output-on-failure
t1=$SECONDS
[ "${GB_TEST_QUICK:-0}" = 1 ] && exit 0
if [ "${GB_TEST_SANITIZE:-1}" = 1 ]; then
  tools/sanitize.sh build-asan
fi
t2=$SECONDS
tools/fuzz.sh --total "${GB_FUZZ_SECONDS:-60}"
t3=$SECONDS
echo "test.sh: normal $((t1 - t0)) s, sanitized suite $((t2 - t1)) s, fuzz + sanitized attack corpus $((t3 - t2)) s, total $((t3 - t0)) s"
