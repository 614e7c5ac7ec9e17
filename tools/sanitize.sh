#!/usr/bin/env bash
# ASan + UBSan build of the whole test suite (gcc, -DGB_SANITIZE=ON) and a ctest run under it.
#   tools/sanitize.sh [--build-only | --test-only] [BUILD_DIR] [ctest args...]      (default build-asan)
# Warnings are not errors here (the normal build enforces them; gcc with sanitizers adds false positives).
# -Og: the instrumented code compiles in about half the CPU time of -O1 (most of this stage's CI time was
# the compiler); the sanitizer checks are the same. The benchmark drivers and examples are not built (no
# test runs them; the normal build compiles them). --build-only / --test-only split the two halves
# (tools/test.sh builds while the previous suite runs). UBSan aborts on the first report
# (-fno-sanitize-recover) and ASan's leak checker is on, so any report fails its test.
set -euo pipefail
cd "$(dirname "$0")/.."
build=1 test=1
case "${1:-}" in
  --build-only) test=0; shift ;;
  --test-only) build=0; shift ;;
esac
BUILD=${1:-build-asan}; shift || true
if [ "$build" = 1 ]; then
  cmake -S . -B "$BUILD" -G Ninja -DGB_SANITIZE=ON -DGB_NATIVE=OFF -DGB_WERROR=OFF -DGB_BENCH=OFF -DGB_EXAMPLES=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-Og -g1" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-Og -g1" >/dev/null
  cmake --build "$BUILD" -j"$(nproc)"
fi
[ "$test" = 1 ] || exit 0
# Leaks inside third-party libraries that glassbox only calls (Graphviz keeps its plugin and font caches,
# fontconfig/glib/pango their globals until exit) are suppressed; a leak with any other origin fails.
cat > "$BUILD/lsan.supp" <<'SUPP'
leak:libgvc.so
leak:libcgraph.so
leak:libcdt.so
leak:libpathplan.so
leak:libgvplugin
leak:libfontconfig.so
leak:libglib-2.0.so
leak:libgobject-2.0.so
leak:libpango
leak:libcairo.so
leak:libharfbuzz.so
leak:libpixman
SUPP
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/$BUILD/lsan.supp:print_suppressions=0}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$BUILD" -j"$(nproc)" --output-on-failure "$@"
