#!/usr/bin/env bash
# bench_tokenize.sh: glassbox's tokenizer against llama.cpp's (npm node-llama-cpp) on the same 1 MB of varied
# text (seeded random words over Latin, accented, Cyrillic, CJK, digits, punctuation and emoji, like the
# text tests/engine/test_tokenizer_vectors.cpp round-trips) for the SPM, BPE (LLaMA 3), GPT-2 and BERT
# vocabularies. Best-of-RUNS CPU seconds of the encode call alone in each process (load time excluded), and
# the ratio llama.cpp / glassbox (> 1: glassbox faster). CPU seconds, not wall: on a shared machine the wall
# clock measures the other processes.
#
#   BUILD=build bench/bench_tokenize.sh          # needs target bench_tokenize_speed; RUNS=5 by default
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD:-$here/../build}
[[ $build = /* ]] || build=$here/../$build
data=${GLASSBOX_DATA:-$here/../../shared/data}
vocab=$data/tokenizers/llama.cpp-vocab
runs=${RUNS:-5}
out=$here/out
mkdir -p "$out"
text=$out/tokenize-1mb.txt
python3 - "$text" <<'PY'
import random, sys
alphabet = list("abcdefghiklmnoprstuwy") + ["é", "ü", "ж", "я", "日", "本"] + list("0179,.'-") + ["😀"]
seps = [" ", " ", " ", " ", "\n", "  ", "\t", ". "]
rng = random.Random(7)
parts, size = [], 0
while size < (1 << 20):
    w = "".join(rng.choice(alphabet) for _ in range(1 + rng.randrange(9))) + rng.choice(seps)
    parts.append(w)
    size += len(w.encode())
open(sys.argv[1], "w", encoding="utf-8").write("".join(parts))
PY
files=()
for v in llama-spm llama-bpe gpt-2 bert-bge; do files+=("$vocab/ggml-vocab-$v.gguf"); done
"$build/bench/bench_tokenize_speed" "$text" "$runs" "${files[@]}" > "$out/tok-glassbox.txt"
peer=0
if [ -f "$here/node_modules/node-llama-cpp/package.json" ] && command -v node > /dev/null; then
  NODE_PATH=$here/node_modules node "$here/peer_llamacpp_tokenize.mjs" "$text" "$runs" "${files[@]}" \
    > "$out/tok-llamacpp.txt" 2> "$out/tok-llamacpp.log" && peer=1  # vocab-only loads log "missing tensor"
fi
printf "%-22s %9s %10s %14s %14s %8s\n" vocabulary bytes tokens "glassbox CPU s" "llama.cpp CPU s" ratio
while read -r f bytes tokens secs; do
  name=$(basename "$f" .gguf)
  if [ "$peer" = 1 ]; then
    read -r _ _ ptok psecs < <(grep -F "$f " "$out/tok-llamacpp.txt")
    printf "%-22s %9s %10s %14s %14s %7.2fx\n" "${name#ggml-vocab-}" "$bytes" "$tokens" "$secs" "$psecs ($ptok)" \
      "$(echo "$psecs / $secs" | bc -l)"
  else
    printf "%-22s %9s %10s %14s %14s %8s\n" "${name#ggml-vocab-}" "$bytes" "$tokens" "$secs" "-" "-"
  fi
done < "$out/tok-glassbox.txt"
