// Token ids from llama.cpp itself (through the npm package node-llama-cpp), for tokenizer parity tests.
// Loads each GGUF's vocabulary only and tokenizes each text of a JSON array without BOS/EOS, once as plain
// text and once parsing special-token text (llama_tokenize, add_special = false, parse_special = false / true).
//   NODE_PATH=bench/node_modules node tests/support/llamacpp-tokenize.mjs TEXTS.json VOCAB.gguf...
// Prints one JSON object: for each vocabulary path, {"plain": ids of each text, "special": ids of each text}.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
const require = createRequire(import.meta.url);
const { getLlama, LlamaLogLevel } = await import(require.resolve("node-llama-cpp"));
const [textsPath, ...models] = process.argv.slice(2);
if (!textsPath || models.length === 0) { console.error("usage: llamacpp-tokenize.mjs TEXTS.json VOCAB.gguf..."); process.exit(2); }
const texts = JSON.parse(readFileSync(textsPath, "utf8"));
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const out = {};
for (const modelPath of models) {
  const model = await llama.loadModel({ modelPath, vocabOnly: true });
  out[modelPath] = {
    plain: texts.map((t) => Array.from(model.tokenize(t, false))),
    special: texts.map((t) => Array.from(model.tokenize(t, true))),
  };
  await model.dispose();
}
console.log(JSON.stringify(out));
await llama.dispose();
