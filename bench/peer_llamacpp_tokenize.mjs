// llama.cpp's tokenizer (npm node-llama-cpp, vocabulary only) on one text file: the peer column of
// bench/bench_tokenize.sh. Best-of-RUNS CPU seconds of model.tokenize per vocabulary (process.cpuUsage).
//   NODE_PATH=bench/node_modules node bench/peer_llamacpp_tokenize.mjs TEXT_FILE RUNS VOCAB.gguf...
// Prints one line per vocabulary: "<file> <bytes> <tokens> <best CPU s>".
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
const require = createRequire(import.meta.url);
const { getLlama, LlamaLogLevel } = await import(require.resolve("node-llama-cpp"));
const [textPath, runsArg, ...models] = process.argv.slice(2);
const text = readFileSync(textPath, "utf8");
const runs = Math.max(1, parseInt(runsArg, 10) || 1);
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
for (const modelPath of models) {
  const model = await llama.loadModel({ modelPath, vocabOnly: true });
  let best = Infinity, tokens = 0;
  for (let r = 0; r < runs; ++r) {
    const c0 = process.cpuUsage();
    tokens = model.tokenize(text, false).length;
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1e6);
  }
  console.log(`${modelPath} ${Buffer.byteLength(text)} ${tokens} ${best.toFixed(4)}`);
  await model.dispose();
}
await llama.dispose();
