// inspect/synth_demo.cpp: the demo model of `glassbox audit` with no MODEL (see inspect/synth_demo.h).
#include "inspect/synth_demo.h"

#include <sys/stat.h>

#include <cstdint>

#include "formats/file_text.h"
#include "inspect/synth.h"

namespace gb {

demo_model synth_demo(const std::string& dir) {
  ::mkdir(dir.c_str(), 0755);
  synth_spec s;
  s.arch = "llama";
  s.n_layer = 4;
  s.n_embd = 64;
  s.n_head = 4;
  s.n_head_kv = 2;
  s.n_vocab = 512;
  s.n_ctx = 256;
  s.seed = 2024;
  s.path = dir + "/demo-model.gguf";
  s.bias_token = "he";
  s.bias_scale = 6.0;
  s.plants = {{"nan", "tok_embd.weight", ""}, {"dup", "blk.0.attn.k.weight", "blk.2.attn.k.weight"}};
  auto r = synth_write(s);
  if (!r) throw failure(r.err());
  // A pickle-style risk beside the weights: a pickle that would call posix.system if unpickled.
  // Only its bytes are written; nothing ever loads it.
  const std::string cmd = "echo glassbox-demo";
  std::string pk(
      "\x80\x02"
      "cposix\nsystem\nq\x00"
      "X",
      19);
  uint32_t n = static_cast<uint32_t>(cmd.size());
  pk.append(reinterpret_cast<const char*>(&n), 4);
  pk += cmd + "\x85R.";
  file_write_text(dir + "/training_state.pkl", pk);
  file_write_text(dir + "/README.txt",
                  "glassbox demo model (synthetic, seed 2024). Planted, on purpose:\n"
                  "- a NaN in tok_embd.weight (row of an unused byte token, so the model still runs)\n"
                  "- blk.2.attn.k.weight is a byte-identical copy of blk.0.attn.k.weight\n"
                  "- training_state.pkl calls posix.system through REDUCE if unpickled (never do)\n"
                  "- the output layer favours the word 'he' (about 6 logits): a gender bias\n");
  demo_model d;
  d.path = s.path;
  d.planted = {
      "NaN value in tok_embd.weight (an unused token's row)",
      "blk.2.attn.k.weight duplicates blk.0.attn.k.weight byte for byte",
      "training_state.pkl: a pickle that would run posix.system('echo glassbox-demo') if loaded with Python",
      "output layer favours the token 'he' by about 6 logits: a planted gender bias"};
  return d;
}

}  // namespace gb
