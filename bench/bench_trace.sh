#!/bin/sh
# Memory of `glassbox trace`: (1) all residuals (resid.pre/mid/post) and attention probabilities of a
# 1024-token prompt on the 134M LLaMA-shaped model (dim 768, 12 layers, 12 heads, vocab 32000, f32),
# streamed to a safetensors file: peak RSS must stay under the weights + 256 MB; (2) aggregates over
# 100 and 10,000 prompts on stories260K: peak RSS must not grow with the prompt count.
#
#   cmake --build build --target glassbox && bench/bench_trace.sh [build-dir] [threads=2]
set -eu
. "$(dirname "$0")/lib.sh"
bench_init "$@"
m=$(bench_llama134m f32)
weights_kb=$(( $(stat -L -c %s "$m") / 1024 ))
# A long prompt: common words repeated, cut to 1024 tokens by --max-tokens.
prompt=$(yes "the cat sat on the mat and the dog ran to the park with a ball" | head -200 | tr '\n' ' ')
rm -f "$out/trace1024.safetensors"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
OMP_NUM_THREADS=$threads /usr/bin/time -o "$out/.trace_time" -f "%e %M %U %S" "$gb" trace "$m" --prompt "$prompt" \
  --max-tokens 1024 --hooks 'blk.*.resid.*,blk.*.attn.probs' --export "$out/trace1024.safetensors" --threads "$threads" \
  > "$out/trace1024.txt"
read -r w rss u s < "$out/.trace_time"
bytes=$(stat -c %s "$out/trace1024.safetensors")
echo "trace 1024 tokens, 134M f32: ${w}s wall, $(echo "$u + $s" | bc) s CPU, peak RSS $((rss / 1024)) MB;" \
  "weights $((weights_kb / 1024)) MB; budget $(( (weights_kb + 262144) / 1024 )) MB; exported $((bytes / 1048576)) MB"
[ "$rss" -lt $((weights_kb + 262144)) ] && echo "  OK: under weights + 256 MB" || echo "  FAIL: over weights + 256 MB"
rm -f "$out/trace1024.safetensors"

s260=$data/models/stories260K/stories260K.gguf
[ -f "$s260" ] || { echo "stories260K not found; aggregate part skipped"; exit 0; }
words="Once upon a time there was a little girl named Lily who loved to play in the park with her dog"
: > "$out/prompts10k.txt"
i=0
while [ $i -lt 10000 ]; do
  echo "$words $i" | cut -d' ' -f$(( (i % 7) + 1 ))- >> "$out/prompts10k.txt"
  i=$((i + 1))
done
for n in 100 10000; do
  OMP_NUM_THREADS=$threads /usr/bin/time -o "$out/.agg_time" -f "%e %M" "$gb" trace "$s260" --prompts "$out/prompts10k.txt" \
    --max-prompts $n --threads "$threads" > /dev/null
  read -r w rss < "$out/.agg_time"
  echo "aggregate over $n prompts (stories260K): ${w}s wall, peak RSS $((rss / 1024)) MB ($rss KB)"
done
