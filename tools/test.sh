#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (the README's second command; CI runs it):
#   1. the normal build and its ctest run (build/);
#   2. tools/sanitize.sh: the whole test suite built with ASan + UBSan (gcc, build-asan/) and run;
#   3. tools/fuzz.sh: the libFuzzer targets and the attack corpus built with clang + ASan + UBSan
#      (build-fuzz/); the attack corpus runs under the sanitizers, each target replays its corpus and
#      the targets fuzz a minute in all, two at a time (GB_FUZZ_SECONDS changes that budget).
# The builds of steps 2 and 3 run alongside the test runs before them (build-asan/ compiles while the
# normal suite runs, build-fuzz/ while the sanitized suite runs): a test run alone leaves a core idle
# while its longest tests finish. Their output goes to <build>/ci-build.log, shown when they fail.
# GB_TEST_QUICK=1 runs step 1 only; GB_TEST_SANITIZE=0 skips step 2. GB_TEST_OVERLAP=0 runs each step's
# build after the previous step's tests (one thing at a time, e.g. to time them).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=${GB_TEST_QUICK:-0} sanitize=${GB_TEST_SANITIZE:-1} overlap=${GB_TEST_OVERLAP:-1}
# The fuzz build compiles at -O0: 2.4x less compiler CPU than -O1 (gb_formats' largest unity batch: 57 -> 24
# s), and it runs beside the sanitized suite, CI's longest step. A minute of fuzzing is a smoke run that
# replays the corpora; long campaigns use tools/fuzz.sh's default -O1.
export GB_FUZZ_OPT=${GB_FUZZ_OPT:--O0}
ncpu=$(nproc)
bg_pid="" bg_name="" bg_log="" bg_t0=0
timing=""
# the background build runs in its own process group (set -m), so stopping it stops its compilers too
trap '[ -z "$bg_pid" ] || kill -- "-$bg_pid" 2>/dev/null || true' EXIT
note() { timing="$timing, $1 $2 s"; }
# bg_start NAME LOG CMD...: runs CMD in the background, its output into LOG
bg_start() {
  bg_name=$1 bg_log=$2; shift 2
  mkdir -p "$(dirname "$bg_log")"
  bg_t0=$SECONDS
  set -m
  "$@" >"$bg_log" 2>&1 &
  bg_pid=$!
  set +m
}
# bg_wait: waits for the background build; on failure shows its log and stops
bg_wait() {
  [ -n "$bg_pid" ] || return 0
  local rc=0
  wait "$bg_pid" || rc=$?
  bg_pid=""
  if [ "$rc" != 0 ]; then
    echo "test.sh: $bg_name FAILED (exit $rc); the end of $bg_log:"; tail -60 "$bg_log"; exit "$rc"
  fi
  echo "test.sh: $bg_name done ($((SECONDS - bg_t0)) s)"
  note "$bg_name" $((SECONDS - bg_t0))
}
t0=$SECONDS
GB_WITH_TEST_DEPS=1 tools/setup.sh build
# style: every C++ source is clean under the repository's .clang-format (a failure names the files)
if git rev-parse --git-dir >/dev/null 2>&1; then
  mapfile -t sources < <(git ls-files '*.cpp' '*.h' | grep -v -e '^tests/fuzz/corpus/' -e '\.pb\.')
  if ! clang-format --dry-run -Werror "${sources[@]}" 2>build/clang-format.log; then
    echo "test.sh: clang-format: these files differ from .clang-format (run clang-format -i on them):"
    grep -o '^[^:]*:[0-9]*:[0-9]*: error' build/clang-format.log | cut -d: -f1 | sort -u
    exit 1
  fi
fi
note "normal build" $((SECONDS - t0))
[ "$quick" = 1 ] && overlap=0
if [ "$overlap" = 1 ] && [ "$sanitize" = 1 ]; then
  bg_start "sanitized build" build-asan/ci-build.log tools/sanitize.sh --build-only build-asan
fi
t=$SECONDS
ctest --test-dir build -j"$ncpu" --output-on-failure
note "normal suite" $((SECONDS - t))
bg_wait
t1=$SECONDS
if [ "$quick" = 1 ]; then
  echo "test.sh: normal $((t1 - t0)) s${timing}"
  exit 0
fi
if [ "$sanitize" = 1 ]; then
  if [ "$overlap" = 1 ]; then
    bg_start "fuzz build" build-fuzz/ci-build.log tools/fuzz.sh --build-only
  else
    t=$SECONDS; tools/sanitize.sh --build-only build-asan; note "sanitized build" $((SECONDS - t))
  fi
  t=$SECONDS
  tools/sanitize.sh --test-only build-asan
  note "sanitized suite" $((SECONDS - t))
  bg_wait
fi
t2=$SECONDS
fuzz_args=(--total "${GB_FUZZ_SECONDS:-60}" --jobs "$ncpu")
if [ -n "$bg_name" ] && [ "$bg_name" = "fuzz build" ]; then
  fuzz_args+=(--no-build)
fi
t=$SECONDS
tools/fuzz.sh "${fuzz_args[@]}"
note "fuzz" $((SECONDS - t))
t3=$SECONDS
echo "test.sh: normal $((t1 - t0)) s, sanitized suite $((t2 - t1)) s, fuzz + sanitized attack corpus $((t3 - t2)) s," \
     "total $((t3 - t0)) s${timing}"
# CPU seconds (user + system) of everything it ran: `times` in this shell (not in a $(...) subshell)
times > build/ci-times.txt
cpu=$(awk 'NR == 2 {split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d", u[1] * 60 + u[2] + s[1] * 60 + s[2]}' build/ci-times.txt)
echo "test.sh: CPU time of everything it ran: $cpu s (user + system; wall $((t3 - t0)) s on $ncpu cores)"
