// inspect/summary.h: what `glassbox inspect` prints, as plain data: parameter counts (total, by role
// group, by layer), the dtype/quantisation mix, sizes on disk and in memory at common precisions, context,
// vocabulary and tokenizer, licence and provenance metadata. Header data only: no tensor bytes are read.
//
//   gb::model m = gb::model_build(ar).value();
//   gb::model_summary s = gb::summary_build(m);
//   std::printf("%llu parameters, %s\n", (unsigned long long)s.parameter_count, s.license.c_str());
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "inspect/model.h"

namespace gb {

struct dtype_share {
  dtype type = dtype::unknown;
  uint64_t tensors = 0;
  uint64_t elements = 0;
  uint64_t bytes = 0;  // as stored
};

struct group_share {
  std::string group;  // "embedding", "attention", "mlp", "norm", "output", "other" (role_group)
  uint64_t params = 0;
  uint64_t bytes = 0;
};

struct memory_estimate {
  std::string precision;  // "f32", "f16", "bf16", "q8_0", "q4_0"
  uint64_t bytes = 0;     // parameters stored at that precision; 1-D tensors (norms, biases) stay f32
                          // for the block types, as llama.cpp's quantiser keeps them
};

struct special_token {
  std::string kind;  // "bos", "eos", "unk", "pad", "sep", "cls", "mask"
  int32_t id = -1;
  std::string text;  // the piece, or "" when the id is out of range
};

struct tokenizer_summary {
  bool present = false;
  std::string model;  // vocab::model ("llama", "gpt2", "bert", "unigram")
  std::string pre;
  std::string source;  // "gguf", "tokenizer.json" ...
  uint64_t size = 0;
  uint64_t merges = 0;
  bool add_bos = false, add_eos = false;
  std::vector<special_token> special;
};

struct model_summary {
  std::string format;  // file_format_name
  std::string format_version;
  std::string architecture;  // as the files name it
  std::string family;        // arch_family_name
  uint64_t tensor_count = 0;
  uint64_t parameter_count =
      0;  // elements of parameter tensors: every tensor except rope_freqs tables and
          // buffers (causal masks, inv_freq); unmapped tensors count (they are weights)
  uint64_t non_parameter_elements = 0;  // rope_freqs + buffers, reported apart
  // An output matrix stored as a copy of the token embedding (tied weights written twice, e.g. the
  // stories260K GGUF) is one set of parameters: counted once in parameter_count, its elements here.
  // Detected without reading the weights: same shape and dtype, and equal bytes when small (<= 1 MiB),
  // else equal at 64 evenly spaced 64-byte windows; or stored transposed (ONNX MatMul initializer
  // [n_embd, n_vocab], plain dtypes): every element when small, else 4096 evenly spaced elements.
  uint64_t tied_copy_elements = 0;
  bool tied_output = false;             // the output head is the token embedding (stored once, or as a copy)
  std::vector<group_share> by_group;    // fixed order: embedding, attention, mlp, norm, output, other
  std::vector<uint64_t> by_layer;       // parameters per block index
  std::vector<dtype_share> dtypes;      // sorted by bytes, largest first
  uint64_t tensor_bytes = 0;            // sum of stored tensor bytes
  uint64_t file_bytes = 0;              // size on disk: every file of the archive
  std::vector<memory_estimate> memory;  // f32, f16, bf16, q8_0, q4_0
  int64_t context_length = 0;
  int64_t vocab_size = 0;
  tokenizer_summary tokenizer;
  // provenance, as text (never rendered or executed)
  std::string name, license, author, organization, description;
  std::vector<std::string> base_models;  // general.base_model.N.name / config _name_or_path ...
  std::vector<std::string> urls;         // general.url, general.source.url, general.repo_url ...
  std::string chat_template;             // tokenizer.chat_template / tokenizer_config.chat_template
};

model_summary summary_build(const model& m);

// "1.23 MB", "512 B" (decimal units)
std::string format_bytes(uint64_t n);
// "260.1K", "6.74B"
std::string format_count(uint64_t n);
// "260,032"
std::string format_thousands(uint64_t n);
// Shortest clean text of a number at `precision` significant digits: "0.25", "1.2e+06", "-3", "NaN";
// locale-free
std::string fmt_num(double v, int precision = 4);
// fmt_num, or "n/a" when v is not finite (a missing value in a table or a sentence)
std::string fmt_or_na(double v, int precision = 4);
// The one parameter count every command prints (inspect, graph, diff, report), saying what it counts:
// "260.03K parameters (260,032; tied output counted once)" (rotary tables and buffers are never counted).
std::string parameter_count_text(const model_summary& s);

}  // namespace gb
