// formats/archive.h: everything a loader read from a model's files, as plain data.
//
//   gb::result<gb::archive> r = gb::archive_open("stories260K.gguf");   // or a HF folder, .onnx, .pt ...
//   if (!r) return fail(r.err());
//   const gb::archive& a = r.value();
//   a.format;                      // gb::file_format::gguf
//   a.meta("general.architecture") // -> const meta_value* (nullptr if absent)
//   a.tensors;                     // views into the mapped files
//   a.findings;                    // deviations that still parsed
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/error.h"
#include "formats/mapped_file.h"
#include "formats/tensor.h"
#include "formats/vocab.h"

namespace gb {

enum class file_format : uint8_t {
  unknown,
  safetensors,
  gguf,
  onnx,
  pytorch_zip,
  pytorch_legacy,
  pickle,
  llama2c,
  llama2c_tokenizer,
  hf_folder,
  numpy,
  zip,
  sevenzip,
  json,
  sentencepiece
};
const char* file_format_name(file_format f);

struct meta_value;

// The elements of a metadata array, with the read interface of a std::vector<meta_value> (size, [], front,
// back, iteration; push_back/reserve to build one). GGUF typed arrays are stored packed (a 151k-token
// vocabulary + merges cost ~75 MB as one meta_value per element, ~5 MB packed): numbers as their raw
// little-endian bytes, strings as one text blob + end offsets. Mixed, nested and JSON arrays hold
// meta_values. Element access through [] / iteration hands out `const meta_value&`: a packed element is
// built on first access and kept (thread-safe), so references live as long as the array. Bulk readers use
// str(i) / number(i) / integer(i) / get(i), which build nothing that stays.
//
//   for (size_t i = 0; i < v.arr.size(); ++i) tokens.emplace_back(v.arr.str(i));   // no meta_value made
//   meta_array a = meta_array::packed_strings(8 /* GGUF STRING */, blob, ends);
class meta_array {
  struct packed_data;

 public:
  meta_array();
  meta_array(std::initializer_list<meta_value> init);
  meta_array(const meta_array&);
  meta_array(meta_array&&) noexcept;
  meta_array& operator=(const meta_array&);
  meta_array& operator=(meta_array&&) noexcept;
  meta_array& operator=(std::initializer_list<meta_value> init);
  ~meta_array();

  // Packed arrays. Numbers: `raw` holds size x width little-endian bytes of one kind (integer: signed,
  // uinteger, floating: width 4 or 8, boolean: width 1). Strings: element i is blob[ends[i-1], ends[i]).
  // Both fail (errc::bad_value) on inconsistent input.
  static meta_array packed_numbers(uint8_t kind, int gguf_type, unsigned width, std::string raw);
  static meta_array packed_strings(int gguf_type, std::string blob, std::vector<uint64_t> ends);

  size_t size() const;
  bool empty() const { return size() == 0; }
  const meta_value& operator[](size_t i) const;  // out of range: a null value
  const meta_value& front() const { return (*this)[0]; }
  const meta_value& back() const { return (*this)[size() - 1]; }

  bool packed() const { return packed_ != nullptr; }
  std::string_view str(size_t i) const;            // element i's text; empty when not a string
  std::optional<double> number(size_t i) const;    // as meta_value::as_double
  std::optional<int64_t> integer(size_t i) const;  // as meta_value::as_int
  meta_value get(size_t i) const;                  // element i by value (nothing cached)

  // Building (a packed array is unpacked first).
  void push_back(meta_value v);
  void reserve(size_t n);
  void resize(size_t n);
  void clear();

  class const_iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = meta_value;
    using difference_type = std::ptrdiff_t;
    using pointer = const meta_value*;
    using reference = const meta_value&;
    const_iterator() = default;
    const_iterator(const meta_array* a, size_t i) : a_(a), i_(i) {}
    reference operator*() const { return (*a_)[i_]; }
    pointer operator->() const { return &(*a_)[i_]; }
    reference operator[](difference_type n) const { return (*a_)[i_ + static_cast<size_t>(n)]; }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator t = *this;
      ++i_;
      return t;
    }
    const_iterator& operator--() {
      --i_;
      return *this;
    }
    const_iterator operator--(int) {
      const_iterator t = *this;
      --i_;
      return t;
    }
    const_iterator& operator+=(difference_type n) {
      i_ += static_cast<size_t>(n);
      return *this;
    }
    const_iterator& operator-=(difference_type n) {
      i_ -= static_cast<size_t>(n);
      return *this;
    }
    const_iterator operator+(difference_type n) const { return {a_, i_ + static_cast<size_t>(n)}; }
    const_iterator operator-(difference_type n) const { return {a_, i_ - static_cast<size_t>(n)}; }
    difference_type operator-(const const_iterator& o) const {
      return static_cast<difference_type>(i_) - static_cast<difference_type>(o.i_);
    }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }
    bool operator!=(const const_iterator& o) const { return i_ != o.i_; }
    bool operator<(const const_iterator& o) const { return i_ < o.i_; }

   private:
    const meta_array* a_ = nullptr;
    size_t i_ = 0;
  };
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size()}; }

 private:
  void unpack();
  std::vector<meta_value> items_;              // unpacked elements
  std::shared_ptr<const packed_data> packed_;  // or packed ones (shared by copies: immutable)
};

// A metadata value: GGUF typed values, JSON config values. Arrays hold elements of one kind (GGUF) or
// mixed (JSON). `gguf_type` keeps the GGUF value type id for faithful re-writing (-1 for JSON).
struct meta_value {
  enum class kind : uint8_t { null, boolean, integer, uinteger, floating, string, array, object };
  kind k = kind::null;
  int gguf_type = -1;
  int gguf_elem_type = -1;  // GGUF element type of an ARRAY (kept so empty arrays re-write faithfully)
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0;
  std::string s;
  meta_array arr;                                       // array elements (typed GGUF arrays packed)
  std::vector<std::pair<std::string, meta_value>> obj;  // object members (JSON), in file order

  bool is_number() const { return k == kind::integer || k == kind::uinteger || k == kind::floating; }
  std::optional<int64_t> as_int() const;  // integers, and floats with an integral value
  std::optional<double> as_double() const;
  std::optional<std::string> as_string() const;
  std::optional<bool> as_bool() const;
  std::string to_display(size_t max_array = 8) const;  // short human text; long arrays summarised

  // Special members defined out of line (archive.cpp): clang with libstdc++ cannot instantiate the implicit
  // destructor of a type holding vector<pair<string, meta_value>> while that pair is still incomplete.
  meta_value() = default;
  meta_value(const meta_value&);
  meta_value(meta_value&&) noexcept;
  meta_value& operator=(const meta_value&);
  meta_value& operator=(meta_value&&) noexcept;
  ~meta_value();
};

// One ONNX node (other formats have no op graph).
struct graph_node {
  std::string name, op_type, domain;
  std::vector<std::string> inputs, outputs;
  std::vector<std::pair<std::string, std::string>> attributes;  // name -> short text
};
struct op_graph {
  std::string name, producer, producer_version;
  int64_t ir_version = 0;
  std::vector<std::pair<std::string, int64_t>> opsets;  // domain ("" = ai.onnx) -> version
  std::vector<graph_node> nodes;
  std::vector<std::string> inputs, outputs;  // graph inputs (non-initializer) and outputs
  std::vector<std::pair<std::string, std::string>> value_shapes;  // value name -> "[1, T, 512] f32"
  size_t subgraph_count = 0;  // If/Loop/Scan bodies (counted, nodes inlined)
  bool present() const { return !nodes.empty() || ir_version != 0; }
};

struct source_file {
  std::string path;  // as opened
  std::string role;  // "weights", "config", "tokenizer", "index", "external_data", "other"
  file_format format = file_format::unknown;
  mapped_file_ptr map;  // kept alive for the tensor views
  uint64_t size() const { return map ? map->size() : 0; }
};

struct archive {
  file_format format = file_format::unknown;
  std::string format_version;  // "3" for GGUF v3, "v0" for llama2.c legacy, "ir 8" for ONNX ...
  std::string path;            // what the user named (file or folder)
  std::vector<source_file> files;
  std::vector<std::pair<std::string, meta_value>> metadata;  // ordered as in the file(s)
  std::vector<tensor_view> tensors;
  op_graph graph;
  std::shared_ptr<const vocab> tokenizer;  // when the files carry one (GGUF metadata, tokenizer.json ...)
  std::vector<finding> findings;
  // Memory that tensor views point into when no one file holds their bytes in order (model-parallel
  // shards merged at load time, formats/meta_folder.cpp); such views have file_index == k_no_file.
  std::vector<std::shared_ptr<const void>> buffers;

  const meta_value* meta(std::string_view key) const;
  const tensor_view* tensor(std::string_view name) const;
  uint64_t tensor_bytes() const;  // sum of nbytes
  void add_finding(severity s, std::string code, std::string where, std::string message,
                   uint64_t offset = UINT64_MAX) {
    findings.push_back({s, std::move(code), std::move(where), std::move(message), offset});
  }
};

struct open_options {
  bool load_tokenizer = true;  // build archive::tokenizer when the files carry one
  bool verify_offsets = true;  // full structural checks (always on for untrusted input)
};

// Opens a file or a folder: sniffs magic bytes first, extension second (a mismatch is a finding).
// Folders: a Hugging Face layout (config.json + weights) or a folder with one model file.
result<archive> archive_open(const std::string& path, const open_options& opt = {});

// Runs the loader of format `f` over an already mapped file, appending to `a` (archive_open's dispatch
// after sniffing; `glassbox scan` calls it to keep the findings of a file whose loader fails). Throws
// gb::failure; whatever the loader added before failing (findings, metadata) stays in `a`. Formats
// without a loader (7z, unknown, json, hf_folder) fail with unsupported / bad_magic.
//
//   try { gb::archive_load_as(a, map, gb::file_format::gguf, {}); } catch (const gb::failure& e) { ... }
void archive_load_as(archive& a, const mapped_file_ptr& m, file_format f, const open_options& opt = {});

// What the bytes look like, from the first bytes and the file name. Never fails.
file_format format_sniff(const uint8_t* data, uint64_t size, std::string_view filename);

}  // namespace gb
