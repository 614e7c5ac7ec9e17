#!/bin/sh
# bench/bench_graph.sh: how long `glassbox graph` takes on an 80-layer, 70B-shaped model (LLaMA-2-70B
# layout: 80 blocks, 64 query heads, 8 KV heads, gated MLP), folded (target < 2 s) and expanded (< 30 s).
#
#   bench/bench_graph.sh [path/to/glassbox]      (default: build/glassbox)
#
# The model: a real GGUF file with the 70B block structure (80 layers x 9 tensors, GQA 64/8, gated MLP,
# untied head) and tiny stored dimensions (d_model 128, d_ff 448, vocab 256; f16). Layout time depends on
# the number of nodes, edges and clusters and on the label sizes, not on the weight values; the shape
# strings of the real 70B ("[8192, 8192]") are as long as the tiny ones give or take two glyphs. It is
# written by `glassbox synth` when that command exists, else by a small embedded GGUF v3 writer (python3).
# The full 70B shapes are checked in-memory (header-only archive) by tests/viz/test_graph.cpp.
set -eu
GB=${1:-build/glassbox}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
M="$TMP/llama80.gguf"

if "$GB" synth --help >/dev/null 2>&1; then
  "$GB" synth --arch llama --layers 80 --dim 128 --heads 64 --kv-heads 8 --ff 448 --vocab 256 --ctx 4096 \
    --dtype f16 --seed 1 --format gguf -o "$M" >/dev/null
else
  python3 - "$M" <<'EOF'
import struct, sys
L, D, H, KV, FF, V = 80, 128, 64, 8, 448, 256
kvd = D // H * KV
def s(x): b = x.encode(); return struct.pack('<Q', len(b)) + b
kv = [('general.architecture', 8, s('llama')), ('llama.block_count', 4, struct.pack('<I', L)),
      ('llama.embedding_length', 4, struct.pack('<I', D)), ('llama.attention.head_count', 4, struct.pack('<I', H)),
      ('llama.attention.head_count_kv', 4, struct.pack('<I', KV)), ('llama.feed_forward_length', 4, struct.pack('<I', FF)),
      ('llama.context_length', 4, struct.pack('<I', 4096))]
ts = [('token_embd.weight', (V, D))]
for l in range(L):
    p = 'blk.%d.' % l
    ts += [(p + 'attn_norm.weight', (D,)), (p + 'attn_q.weight', (D, D)), (p + 'attn_k.weight', (kvd, D)),
           (p + 'attn_v.weight', (kvd, D)), (p + 'attn_output.weight', (D, D)), (p + 'ffn_norm.weight', (D,)),
           (p + 'ffn_gate.weight', (FF, D)), (p + 'ffn_up.weight', (FF, D)), (p + 'ffn_down.weight', (D, FF))]
ts += [('output_norm.weight', (D,)), ('output.weight', (V, D))]
out = bytearray(b'GGUF' + struct.pack('<IQQ', 3, len(ts), len(kv)))
for k, t, v in kv: out += s(k) + struct.pack('<I', t) + v
off, infos = 0, []
for name, shape in ts:
    n = 1
    for d in shape: n *= d
    out += s(name) + struct.pack('<I', len(shape)) + b''.join(struct.pack('<Q', d) for d in reversed(shape))
    out += struct.pack('<IQ', 1, off)  # type 1 = F16
    off += (n * 2 + 31) // 32 * 32
out += b'\0' * ((32 - len(out) % 32) % 32)
out += b'\0' * off
open(sys.argv[1], 'wb').write(out)
EOF
fi

now() { date +%s.%N; }
run() {  # label, limit seconds, args...
  label=$1; limit=$2; shift 2
  t0=$(now)
  "$GB" graph "$M" "$@" >"$TMP/log" 2>&1 || { cat "$TMP/log"; echo "FAIL $label: glassbox graph failed"; exit 1; }
  t1=$(now)
  secs=$(echo "$t1 - $t0" | bc)
  verdict=$(echo "$secs < $limit" | bc)
  [ "$verdict" = 1 ] && v=ok || v=SLOW
  printf '%-28s %8.2f s   (limit %s s) %s   %s\n' "$label" "$secs" "$limit" "$v" "$(head -n1 "$TMP/log" | sed 's/^wrote [^ ]* //')"
}
echo "glassbox graph on an 80-layer 70B-shaped llama ($(stat -c %s "$M") bytes):"
run "folded svg" 2 -o "$TMP/f.svg"
run "folded png" 2 -o "$TMP/f.png"
run "folded json" 2 -o "$TMP/f.json"
run "expanded svg" 30 --expand -o "$TMP/e.svg"
run "expanded dot (no layout)" 30 --expand -o "$TMP/e.dot"
