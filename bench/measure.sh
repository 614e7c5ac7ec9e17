# bench/measure.sh: sourced by bench_hash.sh and bench_diff.sh. Needs $out (scratch folder) and $runs.
# measure CMD...: best-of-$runs wall seconds, the peak RSS (KB) and CPU seconds (user + sys) of that run.
# row LABEL CMD...: one aligned table row (wall s, MB/s of $size bytes, peak RSS, CPU s).
measure() {
  local best="" rss="" cpu=""
  for _ in $(seq "$runs"); do
    local t
    /usr/bin/time -o "$out/.time" -f "%e %M %U %S" "$@" > /dev/null 2>&1 || true
    t=$(tail -1 "$out/.time")
    local w m u s
    read -r w m u s <<< "$t"
    if [ -z "$best" ] || awk "BEGIN{exit !($w < $best)}"; then best=$w; rss=$m; cpu=$(echo "$u + $s" | bc -l); fi
  done
  echo "$best $rss $cpu"
}

row() {
  local label=$1; shift
  read -r w m c < <(measure "$@")
  printf "%-44s %9.3f %11.0f %7.1f MB %8.2f\n" "$label" "$w" "$(echo "$size/1000000/$w" | bc -l)" "$(echo "$m/1024" | bc -l)" "$c"
}
