#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan), runs the attack corpus (tests/attack) under the
# same sanitizers, then for each target replays its corpus tests/fuzz/corpus/<target>/ (plus the fixed
# regressions tests/attack/fuzz/<target>/) and fuzzes it.
#
#   tools/fuzz.sh [options] [SECONDS] [TARGET...]
#     SECONDS        fuzzing time for EACH target (default 60; 0 = replay the corpora only)
#     TARGET         fuzz_gguf, gguf, ... (default: every tests/fuzz/fuzz_*.cpp)
#     --total        SECONDS is the budget for all targets together (split evenly, at least 2 s each)
#     --jobs N       run N targets at once (default 1; the machine has 2 cores shared with builds)
#     --merge        fold new coverage into tests/fuzz/corpus/<target>/ (libFuzzer -merge=1)
#     --seeds        regenerate the seed files (gb_fuzz_seeds) before replaying
#     --no-build     use the existing build
#     --build-only   build, then stop
#     --no-attack    skip the sanitized attack-corpus run
#   env: GB_FUZZ_BUILD (default build-fuzz), GB_FUZZ_MAX_LEN (default 65536), GB_FUZZ_RSS_MB (default 2048),
#        GB_FUZZ_OPT (default -O1, OSS-Fuzz's level; CI's tools/test.sh builds at -O0: see there)
#
# A crash, leak, timeout (> 10 s for one input), out-of-memory (> GB_FUZZ_RSS_MB, or one malloc above it)
# or sanitizer report fails the run (exit 1); libFuzzer writes the input to $BUILD/fuzz-out/<target>-*.
# Each target prints one summary line: executions, cov and ft from libFuzzer's final stats.
# Example: `tools/fuzz.sh --total 60` (CI: a minute in all), `tools/fuzz.sh --jobs 2 --merge 600 gguf`.
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${GB_FUZZ_BUILD:-build-fuzz}
MAX_LEN=${GB_FUZZ_MAX_LEN:-65536}
RSS_MB=${GB_FUZZ_RSS_MB:-2048}
OPT=${GB_FUZZ_OPT:--O1}
total=0 jobs=1 merge=0 seeds=0 build=1 build_only=0 attack=1 secs=60
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --total) total=1 ;;
    --jobs) jobs=$2; shift ;;
    --merge) merge=1 ;;
    --seeds) seeds=1 ;;
    --no-build) build=0 ;;
    --build-only) build_only=1 ;;
    --no-attack) attack=0 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    [0-9]*) secs=$1 ;;
    *) t=${1#fuzz_}; targets+=("fuzz_$t") ;;
  esac
  shift
done
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi

if [ "$build" = 1 ]; then
  command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (apt-get install clang libclang-rt-14-dev)"; exit 2; }
  cmake -S . -B "$BUILD" -G Ninja -DGB_FUZZ=ON -DGB_TESTS=OFF -DGB_NATIVE=OFF \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$OPT -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="$OPT -DNDEBUG" >/dev/null
  cmake --build "$BUILD" --target gb_fuzz -j"$(nproc)"
fi
[ "$build_only" = 0 ] || exit 0
BIN=$BUILD/tests/fuzz
if [ "$seeds" = 1 ]; then "$BIN/gb_fuzz_seeds" tests/fuzz/corpus; fi

per=$secs
if [ "$total" = 1 ] && [ "$secs" -gt 0 ]; then
  per=$(( secs / ${#targets[@]} )); [ "$per" -ge 2 ] || per=2
fi
OUT=$BUILD/fuzz-out
mkdir -p "$OUT"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
  local t=$1 name=${1#fuzz_} exe=$BIN/$1 log=$OUT/$1.log work=$OUT/$1.corpus
  local corpus=tests/fuzz/corpus/$name
  [ -x "$exe" ] || { echo "$t: not built ($exe)"; return 1; }
  mkdir -p "$corpus" "$work"
  local flags=(-max_len="$MAX_LEN" -timeout=10 -rss_limit_mb="$RSS_MB" -print_final_stats=1
               -artifact_prefix="$OUT/$t-")
  # 1. replay: every corpus file once (regression inputs, incl. tests/attack/fuzz/<target>/ when present)
  local files=("$corpus"/*)
  [ -d "tests/attack/fuzz/$name" ] && files+=(tests/attack/fuzz/"$name"/*)
  local n_files=${#files[@]}
  if [ "$n_files" -gt 0 ] && ! "$exe" "${flags[@]}" "${files[@]}" >"$log.replay" 2>&1; then
    echo "$t: REPLAY FAILED (see $log.replay)"; tail -30 "$log.replay"; return 1
  fi
  if [ "$per" -le 0 ]; then echo "$t: replayed $n_files inputs, ok"; return 0; fi
  # 2. fuzz: new inputs go to $work, the committed corpus is read as seeds
  if ! "$exe" "${flags[@]}" -max_total_time="$per" "$work" "$corpus" >"$log" 2>&1; then
    echo "$t: FUZZING FAILED after $(grep -c '' "$log") log lines (see $log)"; tail -40 "$log"; return 1
  fi
  local execs cov ft
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  if [ "$merge" = 1 ]; then
    "$exe" -merge=1 -max_len="$MAX_LEN" -timeout=10 -rss_limit_mb="$RSS_MB" "$corpus" "$work" >"$log.merge" 2>&1 ||
      { echo "$t: merge failed (see $log.merge)"; return 1; }
  fi
  echo "$t: replayed $n_files inputs; fuzzed ${per}s: ${execs:-?} executions, cov ${cov:-?}, ft ${ft:-?}" \
       "$([ "$merge" = 1 ] && echo "; corpus now $(ls "$corpus" | wc -l) files")"
}

fail=0
if [ "$attack" = 1 ]; then
  if "$BIN/gb_attack_sanitized" >"$OUT/attack.log" 2>&1; then
    echo "attack corpus under ASan + UBSan: $(grep -E '^\[doctest\] (test cases|assertions)' "$OUT/attack.log" | tr -s ' ' | tr '\n' ' ')"
  else
    echo "attack corpus under ASan + UBSan: FAILED"; tail -40 "$OUT/attack.log"; fail=1
  fi
fi
pids=() names=()
for t in "${targets[@]}"; do
  if [ "$jobs" -le 1 ]; then
    run_one "$t" || fail=1
  else
    run_one "$t" > "$OUT/$t.summary" 2>&1 &
    pids+=($!) names+=("$t")
    if [ ${#pids[@]} -ge "$jobs" ]; then
      wait "${pids[0]}" || fail=1; cat "$OUT/${names[0]}.summary"; pids=("${pids[@]:1}"); names=("${names[@]:1}")
    fi
  fi
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || fail=1; cat "$OUT/${names[$i]}.summary"
done
[ "$fail" = 0 ] && echo "fuzz: all ${#targets[@]} targets clean" || echo "fuzz: FAILURES (inputs in $ROOT/$OUT)"
exit "$fail"
