#!/usr/bin/env bash
# bench/ab.sh: two commands timed side by side with /usr/bin/time, alternating A B A B ... so that both meet
# the same machine load; per side the min / median / max wall and CPU seconds (user + sys) and the peak RSS,
# then the median of the pair-by-pair ratios A/B (< 1: A is faster). It measures, it does not judge: the
# exit status is 0 whatever the commands return (their exit codes are printed).
#
#   bench/ab.sh [-n RUNS] [--warmup N] [--timeout SECONDS] --vs 'B SHELL COMMAND' -- A COMMAND [ARGS...]
#   bench/ab.sh -n 5 --vs 'openssl dgst -sha256 model.gguf' -- build/cli/glassbox hash model.gguf
#
# A runs as given (an argument vector); B is one shell command line. Both outputs are discarded.
set -eu
runs=5 warm=0 tmo=0 b=""
while [ $# -gt 0 ]; do
  case $1 in
    -n) runs=$2; shift 2 ;;
    --warmup) warm=$2; shift 2 ;;
    --timeout) tmo=$2; shift 2 ;;
    --vs) b=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "ab.sh: unknown option '$1' (see the usage at the top of bench/ab.sh)" >&2; exit 2 ;;
  esac
done
if [ -z "$b" ] || [ $# -eq 0 ]; then
  echo "ab.sh: usage: bench/ab.sh [-n RUNS] [--warmup N] [--timeout S] --vs 'B COMMAND' -- A COMMAND..." >&2
  exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
limit=()
[ "$tmo" -gt 0 ] && limit=(timeout "$tmo")
# run SIDE CMD...: one timed run, its line "wall user sys peak_kb exit" appended to $tmp/SIDE
run() {
  local side=$1
  shift
  /usr/bin/time -o "$tmp/t" -f "%e %U %S %M %x" "${limit[@]}" "$@" > /dev/null 2>&1 || true
  tail -1 "$tmp/t" >> "$tmp/$side"
}
for _ in $(seq "$warm"); do
  run warm "$@"
  run warm sh -c "$b"
done
for _ in $(seq "$runs"); do
  run A "$@"
  run B sh -c "$b"
done
python3 - "$tmp/A" "$tmp/B" << 'PY'
import statistics, sys
def rows(path):
    out = []
    for line in open(path):
        w, u, s, kb, rc = line.split()
        out.append((float(w), float(u) + float(s), int(kb), rc))
    return out
a, b = rows(sys.argv[1]), rows(sys.argv[2])
for name, r in (("A", a), ("B", b)):
    w = sorted(x[0] for x in r); c = sorted(x[1] for x in r)
    print(f"{name}  wall s {w[0]:.3f} / {statistics.median(w):.3f} / {w[-1]:.3f} (min / median / max)   "
          f"cpu s {c[0]:.3f} / {statistics.median(c):.3f} / {c[-1]:.3f}   peak {max(x[2] for x in r) / 1024:.1f} MB   "
          f"exit {','.join(sorted(set(x[3] for x in r)))}")
ratio = lambda k: statistics.median(x[k] / y[k] if y[k] else float("nan") for x, y in zip(a, b))
print(f"A/B median of {len(a)} pair ratios: wall {ratio(0):.3f}, cpu s {ratio(1):.3f}")
PY
