#!/usr/bin/env bash
# bench_suite_rates.sh: each bias suite's throughput (positions it computed, from its --json "cost", per wall and
# per CPU second of the whole run; items per wall second) beside the model's prompt-processing rate (`glassbox
# bench -p 512`), on the 134M synthetic LLaMA of bench_bias.sh (dim 768, 12 layers, ff 2048, vocab 32000; DTYPE,
# default f32). A suite within 1.5x of the pp rate spends its time in forward passes, not around them. Same
# threads for all. With BASE=another glassbox binary (e.g. main's), every suite runs alternately with BASE and
# with this build, REPS rounds each (default 1), medians per side, then the ratio BASE / this of the CPU seconds.
# pp512 runs before and after the suites (the mean of both is the pp column: the load drifts).
#
#   bench/bench_suite_rates.sh                 # LIMIT=100 items per suite, THREADS=2, SUITES="crows-pairs ..."
#   BASE=/tmp/glassbox-main SUITES="bbq templates" REPS=3 DTYPE=q8_0 bench/bench_suite_rates.sh
#
# History: at load ~18 (LIMIT=50) suites ran 2-3.3x below pp; packing BBQ and the templates
# (sentence_cache::prefetch_continuation) cut their CPU 1.09x and 5.0x; on the idle machine (lead, Dec 7
# 07:11, main at df3e44c, f32) every suite was 1.58-2.28x below pp512 at 100 items, 1.55-1.67x at 400.
# Packed passes that read only their scored rows' logits (runner::forward_packed_rows) cut every suite's CPU
# 1.21-1.52x against main at 8a64bce (Dec 7 09:15-10:01, load 2.5-5.5; that table is in git history).
# (The matmul prefetch table of Dec 7 12:33-12:50, neutral 0.91-1.03x: git history.)
# Idle (lead, Dec 7 10:39-10:41, load 1.5-1.9, main at 651a0bd: the packed rows, the 8-lane exp and the
# decode-ready repack), f32, 2 threads, wall (pp512 1983 / 1928 / 1851 tok/s in the three runs):
#   suite          100 items: tok/s  pp/suite    400 items: tok/s  pp/suite    whole suite
#   crows-pairs             1480      1.34                1638      1.18
#   stereoset               1356      1.46                1593      1.21
#   winobias                1376      1.44                1602      1.20
#   bbq                     1899      1.04                1872      1.03
#   holisticbias            1121      1.77                1318      1.46        6996 items 1651 tok/s, 1.12
#   templates               1066      1.86        (120: the whole suite)        120 items 1189 tok/s, 1.56-1.62
# The templates are 785 positions in 0.66 s, in two packed passes (T = 512 and 273), not short ones. perf's
# 22% in pack16 is the process's first touch of the mapped weights, not the packing: with --limit 1 (one
# 15-token pass) the suite still takes 0.38-0.41 CPU s (pack16 45% and rows16_kernel<1> 12% of it, the
# page-fault path ~20%), and touching each 4 KiB page of the 512 MiB file's mapping once costs 0.28-0.39
# CPU s on this VM (0.24-0.31 s even after MADV_POPULATE_READ; reading it all again then takes 0.02-0.04 s).
# (1.17 - 0.40) CPU s for the other 770 positions is ~1000 per CPU s, pp512's rate; `bench -p 512` warms up
# before it times, so the templates' 1.56x is that one-time cost over a 0.66 s run.
# The cold/suite column (lead, Dec 7 16:30, main at 429da14, idle, load 1.3-1.6, f32, 2 threads): a fresh
# process's pp512, load and first touch included, ran at 706 tok/s (666 in the second run), against 1824 warm:
# the process's fixed cost is ~0.45 s. Every suite is faster per position than that fresh process (cold/suite
# 0.38-0.72 at 100 items; the templates' 120 items 0.66), and within 1.5x of the warm rate except
# holisticbias at 100 items (1.86; 1.46 at 400, 1.12 whole) and the templates (1.70 whole: 785 positions in
# 0.78 s, over half of it that fixed cost).
# That first touch is not page faults: after MAP_POPULATE (0.026 s for the 537 MB file) a first read of one
# byte per 4 KiB page still costs 0.21-0.24 s of user time, a second 0.003 s: each page's first translation
# (nested paging on this VM, cold page-walk caches) costs ~1.7 us. Only huge pages would cut it.
# Huge pages it is (lead, Dec 7 18:40): Linux 6.18 caches ext4 files in folios up to 2 MiB, and a map of a
# file cached that way gets 2 MiB pages (FilePmdMapped in smaps), but only for a file written in large
# pieces or read in cold: synth wrote through stdio's 4 KiB buffer, which left the file in 4 KiB folios.
# Now writers.cpp writes 4 MiB at a time, and the engine advises MADV_HUGEPAGE on its weight files (a
# file read in cold lands in 2 MiB folios: mapped_file::advise_hugepage). The templates suite (120
# items, alternating runs, load 1.2): a 4 KiB-cached copy of the model 0.74-0.80 s wall, the synth-written
# file 0.60-0.67 s; --limit 1 0.10-0.12 s (0.38-0.41 before). The fresh-process pp512: 706 -> 868 tok/s.
# At 100 items, load 1.4-1.7 (another engineer's build beside it), pp512 1782, pp/suite: crows-pairs
# 1.36, stereoset 1.47, winobias 1.50, bbq 1.07, holisticbias 1.52, templates 1.49. A model file that sits
# in the page cache in 4 KiB folios (just copied, or written by a tool with small writes) keeps them until
# it is evicted: then the fixed cost is as before.
# A runner's working buffers on 2 MiB pages, not zero-filled (kernels.h huge_vector), and the scorer's logits
# in chunks of 128 rows (lm_scorer.cpp), beside main at e74583d (s17-A, Dec 7 21:45-21:50, f32, 2 threads,
# REPS=3, load 2.4-3.3 from other engineers' builds: pp512 read 801-1706 tok/s within a run, so pp/suite
# moved with it), medians, base/this of CPU and wall round by round in the two runs; faults and max RSS
# from /usr/bin/time:
#   suite          tokens  CPU s base  this  base/this CPU  base/this wall  minor faults     max RSS MB
#   templates         682       0.98  0.94   1.04x, 1.06x    1.12x, 1.08x   10324 -> 4793   474 -> 478
#   holisticbias     1199       2.07  2.04   1.01x, 1.13x    1.10x, 1.14x   10968 -> 5398   531 -> 488
#   crows-pairs      5209       7.72  7.56   1.04x, 1.06x    1.16x, 1.03x   21627 -> 5804   618 -> 533
# pp/suite in the first run (pp512 1706 before the suites, 1016 after): templates 1.16 -> 1.08,
# holisticbias 1.37 -> 1.25. bench/ab.sh -n 7, this vs main: templates wall 0.91x CPU 0.89x, holisticbias
# wall 0.95x CPU 0.99x (load 3.2-4.1); the fresh-process pp512 (the cold column) wall 0.79x CPU 0.78x,
# faults 19567 -> 4783 (its KV cache, 36 MB, was zero-filled). Left in a --limit 1 run (0.19 s, 4741
# faults): the model file's 4 KiB folios, the loader and tokenizer; and a fresh 2 MiB page costs up to
# ~1.8 s a GiB to zero when the host has reclaimed it (clear_page_erms 6% of the templates' CPU in one
# profile, the pass buffers and matmul's packing scratch).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init "${BUILD:-}"
limit=${LIMIT:-100}
threads=${THREADS:-2}
reps=${REPS:-1}
suites=${SUITES:-"crows-pairs stereoset winobias bbq holisticbias templates"}
m=$(bench_llama134m "${DTYPE:-f32}")
sides="this"
[ -n "${BASE:-}" ] && sides="base this"
bin_of() { if [ "$1" = base ]; then echo "$BASE"; else echo "$gb"; fi; }
pp_of() {
  "$gb" bench "$m" -p 512 -n 0 -r 2 -t "$threads" --json 2> /dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["tests"][0]["tokens_per_second"])'
}
# pp512 measured as the suites are: a fresh process loads the model and computes one pass of 512 positions
# (`run --top-k 1`); its positions per wall second of the whole process, load and first touch included.
# Median of 3.
ids512=$(python3 -c "print(','.join(str(100 + 7 * i % 31000) for i in range(512)))")
pp_cold_of() {
  for _ in 1 2 3; do
    /usr/bin/time -o "$out/.rate_time" -f "%e" "$gb" run "$m" --ids "$ids512" --no-bos --top-k 1 \
      --threads "$threads" > /dev/null 2>&1
    tail -1 "$out/.rate_time"
  done | python3 -c 'import statistics as st, sys; print(512 / st.median(float(l) for l in sys.stdin))'
}
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (shared machine), $threads threads, $(basename "$m"), limit $limit," \
  "$reps round(s)${BASE:+, base $BASE}"
pp0=$(pp_of)
cold0=$(pp_cold_of)
rows=$out/.rate_rows
: > "$rows"
for s in $suites; do
  for _ in $(seq "$reps"); do
    for side in $sides; do
      if ! /usr/bin/time -o "$out/.rate_time" -f "%e %U %S" "$(bin_of "$side")" bias "$m" --suite "$s" \
        --data-root "$data/bias" --limit "$limit" --threads "$threads" --resamples 100 --json \
        > "$out/.rate_json" 2> "$out/.rate_err"; then
        echo "$s $side failed: $(tail -1 "$out/.rate_err")"
        continue
      fi
      python3 - "$out/.rate_json" "$(tail -1 "$out/.rate_time")" "$s" "$side" >> "$rows" << 'PY'
import json, sys
j = json.load(open(sys.argv[1])); wall, user, sys_ = map(float, sys.argv[2].split())
r = j["bias"] if isinstance(j, dict) and "bias" in j else j
r = r[0] if isinstance(r, list) else r
print(sys.argv[3], sys.argv[4], r["items"], r["cost"]["tokens_computed"], wall, user + sys_)
PY
    done
  done
done
pp1=$(pp_of)
cold1=$(pp_cold_of)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$rows" "$pp0" "$pp1" "$cold0" "$cold1" << 'PY'
import statistics as st, sys
pp = (float(sys.argv[2]) + float(sys.argv[3])) / 2
cold = (float(sys.argv[4]) + float(sys.argv[5])) / 2
runs = {}
for line in open(sys.argv[1]):
    s, side, items, tok, wall, cpu = line.split()
    runs.setdefault((s, side), []).append((int(items), int(tok), float(wall), float(cpu)))
print("pp512 %.0f tok/s (before the suites %.0f, after %.0f); in a fresh process, load included, %.0f (%.0f, %.0f)"
      % (pp, float(sys.argv[2]), float(sys.argv[3]), cold, float(sys.argv[4]), float(sys.argv[5])))
print("%-13s %-5s %6s %8s %8s %8s %9s %9s %8s %8s %9s" % ("suite", "side", "items", "tokens", "wall s", "cpu s",
      "tok/s", "tok/cpu s", "items/s", "pp/suite", "cold/suite"))
suites = list(dict.fromkeys(s for s, _ in runs))
for s in suites:
    med = {}
    for side in ("base", "this"):
        if (s, side) not in runs: continue
        r = runs[(s, side)]
        items, tok = r[0][0], r[0][1]
        wall, cpu = st.median(x[2] for x in r), st.median(x[3] for x in r)
        med[side] = 1
        rate = tok / wall if wall > 0 else 0
        print("%-13s %-5s %6d %8d %8.2f %8.2f %9.0f %9.0f %8.2f %8.2f %9.2f" % (s, side, items, tok, wall, cpu,
              rate, tok / cpu if cpu > 0 else 0, items / wall if wall > 0 else 0, pp / rate if rate else 0,
              cold / rate if rate else 0))
    if len(med) == 2:  # round by round (each pair met the same load), then the median
        ratios = [b[3] / t[3] for b, t in zip(runs[(s, "base")], runs[(s, "this")]) if t[3] > 0]
        walls = [b[2] / t[2] for b, t in zip(runs[(s, "base")], runs[(s, "this")]) if t[2] > 0]
        print("%-13s base/this: CPU s %.2fx, wall s %.2fx (median of %d rounds)" % (s, st.median(ratios),
              st.median(walls), len(ratios)))
PY
