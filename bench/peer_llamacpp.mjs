// llama.cpp peer for bench_forward.sh, through npm node-llama-cpp (prebuilt CPU binaries, f32 KV cache,
// flash attention off, like glassbox). Measures pp (one batch of N random tokens into an empty context)
// and tg (N tokens one at a time), `reps` timed runs after one warm-up, and prints one JSON line.
//
//   cd bench && npm install --no-save node-llama-cpp     # once; bench/node_modules is not committed
//   node bench/peer_llamacpp.mjs MODEL.gguf [pp=512] [tg=128] [threads=2] [reps=3]
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { getLlama, LlamaLogLevel } = await import(require.resolve("node-llama-cpp"));

const [modelPath, ppArg = "512", tgArg = "128", thArg = "2", repArg = "3"] = process.argv.slice(2);
if (!modelPath) { console.error("usage: peer_llamacpp.mjs MODEL.gguf [pp] [tg] [threads] [reps]"); process.exit(2); }
const pp = Number(ppArg), tg = Number(tgArg), threads = Number(thArg), reps = Number(repArg);

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath });
const ctx = await model.createContext({ contextSize: Math.max(pp, tg) + 16, batchSize: Math.max(pp, 1), threads,
  flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" });
const seq = ctx.getSequence();
const vocab = 32000;  // the benchmark model's vocabulary (random ids below it)
let seed = 1234;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed; };
const randomTokens = (n) => Array.from({ length: n }, () => 3 + (rnd() % (vocab - 3)));

const stats = (v) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - m) * (b - m), 0) / (v.length - 1)) : 0;
  return { mean: m, sd, runs: v };
};

const out = { peer: "llama.cpp (node-llama-cpp)", model: modelPath, threads };
if (pp > 0) {
  const v = [];
  for (let r = 0; r <= reps; r++) {
    await seq.clearHistory();
    const toks = randomTokens(pp);
    const t0 = performance.now();
    await seq.evaluateWithoutGeneratingNewTokens(toks);
    const dt = (performance.now() - t0) / 1000;
    if (r > 0) v.push(pp / dt);
  }
  out.pp = stats(v);
}
if (tg > 0) {
  const v = [];
  for (let r = 0; r <= reps; r++) {
    await seq.clearHistory();
    const toks = randomTokens(tg);
    const t0 = performance.now();
    for (const t of toks) await seq.evaluateWithoutGeneratingNewTokens([t]);
    const dt = (performance.now() - t0) / 1000;
    if (r > 0) v.push(tg / dt);
  }
  out.tg = stats(v);
}
console.log(JSON.stringify(out));
await ctx.dispose(); await model.dispose(); await llama.dispose();
