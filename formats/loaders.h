// formats/loaders.h: the loader entry points archive_open() dispatches to (internal to formats/).
// Each throws gb::failure on bytes it cannot parse and adds findings for deviations that still parse.
#pragma once

#include <string>

#include "formats/archive.h"

namespace gb::loaders {

void load_safetensors(archive& a, const mapped_file_ptr& m, const open_options& opt);
void load_safetensors_index(archive& a, const std::string& index_path, const open_options& opt);
void load_gguf(archive& a, const mapped_file_ptr& m, const open_options& opt);
void load_onnx(archive& a, const mapped_file_ptr& m, const open_options& opt);
void load_pytorch_zip(archive& a, const mapped_file_ptr& m, const open_options& opt);
void load_pytorch_legacy(archive& a, const mapped_file_ptr& m, const open_options& opt);
void load_pickle(archive& a, const mapped_file_ptr& m, const open_options& opt);
void load_numpy(archive& a, const mapped_file_ptr& m, const open_options& opt);
void load_llama2c(archive& a, const mapped_file_ptr& m, const open_options& opt);
void load_llama2c_tokenizer(archive& a, const mapped_file_ptr& m, const open_options& opt);
void load_sentencepiece(archive& a, const mapped_file_ptr& m, const open_options& opt);
void load_hf_folder(archive& a, const std::string& dir, const open_options& opt);
// Meta's original release: params.json + consolidated.NN.pth (model-parallel shards merged) +
// tokenizer.model.
void load_meta_folder(archive& a, const std::string& dir, const open_options& opt);

// Appends b (opened from one file of a folder) to a: files, tensors (file_index shifted), metadata,
// findings, buffers, the graph and tokenizer when a has none.
void archive_append(archive& a, archive&& b);
// The end of a folder load: the tokenizer beside the weights when a has none (tokenizer.json, else
// tokenizer.model), then every other file of the folder listed with role "other".
void folder_finish(archive& a, const std::string& dir, const open_options& opt);

// Plausibility checks for formats without magic bytes (cheap; header only).
bool llama2c_plausible(const uint8_t* data, uint64_t size);
bool llama2c_tokenizer_plausible(const uint8_t* data, uint64_t size);

}  // namespace gb::loaders
