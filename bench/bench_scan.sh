#!/usr/bin/env bash
# bench_scan.sh: `glassbox scan` on (1) a ~500 MB torch.save-style zip checkpoint (stored storages, 100 tensors)
# and (2) a folder of 1000 small files (pickles, JSON configs with chat templates, text). Targets: < 50 ms and
# < 1 s. Wall time in ms (best of RUNS, page cache warm) plus minor page faults: a scan that read the tensor
# bytes would fault in ~128,000 pages of the big file, so a small fault count shows they were never touched.
#
#   BUILD=build-pk bench/bench_scan.sh          # needs targets glassbox and bench_scan_fixture
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD:-$here/../build-pk}
[[ $build = /* ]] || build=$here/../$build
gb=${GLASSBOX:-$build/cli/glassbox}
fix=$build/bench/bench_scan_fixture
runs=${RUNS:-5}
out=$here/out
mkdir -p "$out"
big=$out/scan-500mb.pt
dir=$out/scan-1000-files
[ -f "$big" ] || "$fix" big "$big" 500
[ -d "$dir" ] || "$fix" folder "$dir" 1000
cat "$big" > /dev/null

measure() {  # prints "best_ms minor_faults exit_code"
  local best="" faults="" rc=0
  for _ in $(seq "$runs"); do
    local t0 t1 ms f
    t0=$(date +%s%N)
    /usr/bin/time -f "%R" -o "$out/.scan-time" "$@" > /dev/null 2>&1 || true
    t1=$(date +%s%N)
    f=$(tail -1 "$out/.scan-time")
    "$@" > /dev/null 2>&1 || rc=$?
    ms=$(( (t1 - t0) / 1000000 ))
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; faults=$f; fi
  done
  echo "$best $faults $rc"
}

read -r ms1 pf1 rc1 <<< "$(measure "$gb" scan "$big")"
read -r ms2 pf2 rc2 <<< "$(measure "$gb" scan "$dir")"
size=$(stat -c %s "$big")
echo "glassbox scan, best of $runs (warm cache; the time includes /usr/bin/time's own fork)"
printf "  %-40s %8s ms  %8s minor faults  exit %s  (%s bytes; target < 50 ms)\n" "500 MB torch zip" "$ms1" "$pf1" "$rc1" "$size"
printf "  %-40s %8s ms  %8s minor faults  exit %s  (target < 1000 ms)\n" "folder of 1000 small files" "$ms2" "$pf2" "$rc2"
"$gb" scan "$big" | tail -3
