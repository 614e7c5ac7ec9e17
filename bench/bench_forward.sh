#!/bin/sh
# Forward-pass speed, glassbox vs llama.cpp (npm node-llama-cpp) and PyTorch side by side on one 134M
# LLaMA-shaped model (dim 768, 12 layers, 12 heads, FFN 2048, vocab 32000) in f32 and f16, same threads,
# same run; prints each peer's JSON and the ratios glassbox / peer for pp and tg (issue 6: >= 1x llama.cpp
# pp, >= 0.8x llama.cpp tg, >= 2x PyTorch).
# PyTorch is compared when python3-torch is installed (bench/peer_torch.py: threads made fair, BLAS named),
# at its fastest (OpenBLAS through the libblas.so.3 alternative); TORCH_REF_BLAS=1 adds a run on Debian's
# reference BLAS, what a plain `apt-get install python3-torch` gives.
# A native llama.cpp (llama-bench built -march=native by bench/native_llamacpp.sh, or $LLAMA_BENCH) is the
# real bar when present: npm's prebuilt binaries are generic builds, about half as fast at pp. llama-bench
# runs with its defaults (f16 KV cache, flash attention auto) and -r reps; its JSON lines name them.
#
#   cmake --build build --target glassbox && (cd bench && npm install --no-save node-llama-cpp)
#   bench/bench_forward.sh [build-dir] [threads=2] [pp=512] [tg=128] [reps=3]
# On a machine shared with other jobs the absolute numbers move a lot; the side-by-side ratios are what count.
set -eu
. "$(dirname "$0")/lib.sh"
bench_init "$@"
pp=${3:-512}
tg=${4:-128}
reps=${5:-3}
bench_wait_policy # ACTIVE unless set (faster idle; PASSIVE on a loaded machine): bench/lib.sh says why
native=${LLAMA_BENCH:-$here/out/llama.cpp/build/bin/llama-bench}
# ratio FILE_A FILE_B TEST: mean tokens/s of TEST (pp|tg) in glassbox's --json (A) over a peer's JSON line (B)
ratio() {
  $py - "$1" "$2" "$3" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
b = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
test = sys.argv[3]
mine = next((x["tokens_per_second"] for x in a["tests"] if x["test"].startswith(test)), None)
peer = b.get(test, {}).get("mean")
print(f"{mine / peer:.2f}x ({mine:.1f} / {peer:.1f})" if mine and peer else "n/a")
PY
}
echo "OMP_WAIT_POLICY=$OMP_WAIT_POLICY load: $(cut -d' ' -f1-3 /proc/loadavg)"
for t in f32 f16; do
  m=$(bench_llama134m $t)
  echo "== $t, $threads threads, pp$pp tg$tg, $reps runs"
  OMP_NUM_THREADS=$threads /usr/bin/time -f "glassbox peak RSS %M KiB" "$gb" bench "$m" -p "$pp" -n "$tg" -t "$threads" -r "$reps" --json > "$out/fwd-gb-$t.json"
  $py -c "import json,sys; j=json.load(open(sys.argv[1])); print('glassbox', ' '.join(f\"{x['test']} {x['tokens_per_second']:.1f}±{x['stddev']:.1f}\" for x in j['tests']), f\"peak RSS {j['peak_rss_mib']:.0f} MiB\")" "$out/fwd-gb-$t.json"
  if [ -d "$here/node_modules/node-llama-cpp" ]; then
    /usr/bin/time -f "llama.cpp peak RSS %M KiB" node "$here/peer_llamacpp.mjs" "$m" "$pp" "$tg" "$threads" "$reps" > "$out/fwd-llama-$t.json"
    cat "$out/fwd-llama-$t.json"
    echo "glassbox / llama.cpp: pp $(ratio "$out/fwd-gb-$t.json" "$out/fwd-llama-$t.json" pp)  tg $(ratio "$out/fwd-gb-$t.json" "$out/fwd-llama-$t.json" tg)"
  else
    echo "llama.cpp peer skipped: (cd bench && npm install --no-save node-llama-cpp)"
  fi
  if [ -x "$native" ]; then
    # llama-bench's JSON lines (one per test) folded into the peers' {"pp": {"mean", "sd"}, "tg": ...} line
    /usr/bin/time -f "native llama.cpp peak RSS %M KiB" "$native" -m "$m" -p "$pp" -n "$tg" -t "$threads" -r "$reps" -o jsonl 2>"$out/fwd-native-$t.err" |
      $py -c '
import json, sys
out = {"peer": "llama.cpp native (llama-bench)"}
for line in sys.stdin:
    j = json.loads(line)
    key = "pp" if j["n_prompt"] > 0 else "tg"
    out["build"] = j["build_commit"]; out["type_k"] = j["type_k"]; out["flash_attn"] = j["flash_attn"]
    out[key] = {"mean": j["avg_ts"], "sd": j["stddev_ts"], "runs": j["samples_ts"]}
print(json.dumps(out))' > "$out/fwd-native-$t.json"
    grep "peak RSS" "$out/fwd-native-$t.err" || true
    cat "$out/fwd-native-$t.json"
    echo "glassbox / native llama.cpp: pp $(ratio "$out/fwd-gb-$t.json" "$out/fwd-native-$t.json" pp)  tg $(ratio "$out/fwd-gb-$t.json" "$out/fwd-native-$t.json" tg)"
  else
    echo "native llama.cpp peer skipped: bench/native_llamacpp.sh builds it (or set LLAMA_BENCH)"
  fi
  if bench_torch; then
    OMP_WAIT_POLICY=${GB_TORCH_WAIT_POLICY:-PASSIVE} $py "$here/peer_torch.py" "$m" "$pp" "$tg" "$threads" "$reps" > "$out/fwd-torch-$t.json"
    cat "$out/fwd-torch-$t.json"
    echo "glassbox / PyTorch: pp $(ratio "$out/fwd-gb-$t.json" "$out/fwd-torch-$t.json" pp)  tg $(ratio "$out/fwd-gb-$t.json" "$out/fwd-torch-$t.json" tg)"
    # TORCH_REF_BLAS=1: PyTorch again on Debian's reference BLAS (libblas3: what `apt-get install python3-torch`
    # pulls in when no OpenBLAS is installed; ~40 s per pp512 run, so one run)
    refblas=/usr/lib/x86_64-linux-gnu/blas
    if [ "${TORCH_REF_BLAS:-0}" = 1 ] && [ -e $refblas/libblas.so.3 ]; then
      LD_LIBRARY_PATH=$refblas OMP_WAIT_POLICY=${GB_TORCH_WAIT_POLICY:-PASSIVE} $py "$here/peer_torch.py" "$m" "$pp" "$tg" "$threads" 1 > "$out/fwd-torchref-$t.json"
      cat "$out/fwd-torchref-$t.json"
      echo "glassbox / PyTorch (reference BLAS): pp $(ratio "$out/fwd-gb-$t.json" "$out/fwd-torchref-$t.json" pp)  tg $(ratio "$out/fwd-gb-$t.json" "$out/fwd-torchref-$t.json" tg)"
    fi
  fi
done
