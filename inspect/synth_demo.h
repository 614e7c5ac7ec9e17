// inspect/synth_demo.h: the demo model `glassbox audit` runs with no MODEL: small, synthetic, deterministic
// (llama, 4 layers, dim 64, seed 2024), with documented planted properties for every section of the report
// to find: a NaN, a duplicated tensor, a pickle beside the weights that would call posix.system if
// unpickled (only its bytes are written; nothing ever loads it), and a gender bias in the output layer.
//
//   gb::demo_model d = gb::synth_demo(out_dir + "/demo-model");   // throws gb::failure on io errors
//   audit(d.path); for (auto& p : d.planted) list(p);
#pragma once

#include <string>
#include <vector>

namespace gb {

struct demo_model {
  std::string path;                  // the GGUF file
  std::vector<std::string> planted;  // one sentence per planted property, for the report
};

// Writes demo-model.gguf, training_state.pkl and README.txt into dir (created).
demo_model synth_demo(const std::string& dir);

}  // namespace gb
