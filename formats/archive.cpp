#include "formats/archive.h"

#include <cmath>
#include <cstdio>

namespace gb {

meta_value::meta_value(const meta_value&) = default;
meta_value::meta_value(meta_value&&) noexcept = default;
meta_value& meta_value::operator=(const meta_value&) = default;
meta_value& meta_value::operator=(meta_value&&) noexcept = default;
meta_value::~meta_value() = default;

const char* file_format_name(file_format f) {
  switch (f) {
    case file_format::unknown: return "unknown";
    case file_format::safetensors: return "safetensors";
    case file_format::gguf: return "gguf";
    case file_format::onnx: return "onnx";
    case file_format::pytorch_zip: return "pytorch-zip";
    case file_format::pytorch_legacy: return "pytorch-legacy";
    case file_format::pickle: return "pickle";
    case file_format::llama2c: return "llama2c";
    case file_format::llama2c_tokenizer: return "llama2c-tokenizer";
    case file_format::hf_folder: return "hf-folder";
    case file_format::numpy: return "numpy";
    case file_format::zip: return "zip";
    case file_format::sevenzip: return "7z";
    case file_format::json: return "json";
    case file_format::sentencepiece: return "sentencepiece";
  }
  return "unknown";
}

std::optional<int64_t> meta_value::as_int() const {
  switch (k) {
    case kind::integer: return i;
    case kind::uinteger:
      if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
      return static_cast<int64_t>(u);
    case kind::floating:
      if (std::isfinite(f) && std::floor(f) == f && std::fabs(f) < 9.2e18) return static_cast<int64_t>(f);
      return std::nullopt;
    case kind::boolean: return b ? 1 : 0;
    default: return std::nullopt;
  }
}

std::optional<double> meta_value::as_double() const {
  switch (k) {
    case kind::integer: return static_cast<double>(i);
    case kind::uinteger: return static_cast<double>(u);
    case kind::floating: return f;
    default: return std::nullopt;
  }
}

std::optional<std::string> meta_value::as_string() const {
  if (k == kind::string) return s;
  return std::nullopt;
}

std::optional<bool> meta_value::as_bool() const {
  if (k == kind::boolean) return b;
  if (k == kind::integer) return i != 0;
  if (k == kind::uinteger) return u != 0;
  return std::nullopt;
}

std::string meta_value::to_display(size_t max_array) const {
  switch (k) {
    case kind::null: return "null";
    case kind::boolean: return b ? "true" : "false";
    case kind::integer: return std::to_string(i);
    case kind::uinteger: return std::to_string(u);
    case kind::floating: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.7g", f);
      return buf;
    }
    case kind::string: {
      std::string t = s.size() > 200 ? s.substr(0, 200) + "... (" + std::to_string(s.size()) + " chars)" : s;
      std::string out;
      for (char c : t) {
        if (c == '\n') out += "\\n";
        else if (static_cast<unsigned char>(c) < 0x20) out += '?';
        else out += c;
      }
      return out;
    }
    case kind::array: {
      std::string r = "[";
      for (size_t j = 0; j < arr.size() && j < max_array; ++j) {
        if (j) r += ", ";
        r += arr[j].to_display(max_array);
      }
      if (arr.size() > max_array) r += ", ... (" + std::to_string(arr.size()) + " items)";
      return r + "]";
    }
    case kind::object: {
      std::string r = "{";
      for (size_t j = 0; j < obj.size() && j < max_array; ++j) {
        if (j) r += ", ";
        r += obj[j].first + ": " + obj[j].second.to_display(max_array);
      }
      if (obj.size() > max_array) r += ", ...";
      return r + "}";
    }
  }
  return "";
}

const meta_value* archive::meta(std::string_view key) const {
  for (const auto& [k, v] : metadata)
    if (k == key) return &v;
  return nullptr;
}

const tensor_view* archive::tensor(std::string_view name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

uint64_t archive::tensor_bytes() const {
  uint64_t n = 0;
  for (const auto& t : tensors) n += t.nbytes;
  return n;
}

}  // namespace gb
