// tests/attack/attack_bytes.h: byte builders for the attack corpus (tests/attack/test_attack_corpus.cpp).
// Each builder writes a format's fields one by one so a test can put any hostile value in any field,
// which the project's writers (formats/writers.h) rightly refuse to do.
//
//   gb::attack::gguf g(3);                       // GGUF v3 header, counts filled in by bytes()
//   g.kv_u32("general.alignment", 3);            // not a power of two
//   g.tensor("t", {4}, 0, 0);                    // name, ne[], ggml type, offset
//   std::vector<uint8_t> file = g.file(16);      // header, alignment padding, 16 data bytes
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace gb::attack {

using bytes = std::vector<uint8_t>;

inline void le(bytes& b, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void app(bytes& b, std::string_view s) {
  b.insert(b.end(), s.begin(), s.end());
}
inline void app(bytes& b, const bytes& s) {
  b.insert(b.end(), s.begin(), s.end());
}
inline bytes str_bytes(std::string_view s) {
  return bytes(s.begin(), s.end());
}

// GGUF by fields. Counts are written as given when set (override), else as the number of calls made.
class gguf {
 public:
  explicit gguf(uint32_t version = 3) : v_(version) {}
  void str(std::vector<uint8_t>& b, std::string_view s) const {
    le(b, s.size(), v_ == 1 ? 4 : 8);
    app(b, s);
  }
  void key(std::string_view k, uint32_t type) {
    str(kv_, k);
    le(kv_, type, 4);
    ++n_kv_;
  }
  void kv_u32(std::string_view k, uint32_t v) {
    key(k, 4);
    le(kv_, v, 4);
  }
  void kv_str(std::string_view k, std::string_view v) {
    key(k, 8);
    str(kv_, v);
  }
  void kv_raw(std::string_view k, uint32_t type, const std::vector<uint8_t>& value) {
    key(k, type);
    app(kv_, value);
  }
  void tensor(std::string_view name, const std::vector<uint64_t>& ne, uint32_t type, uint64_t offset) {
    str(ti_, name);
    le(ti_, ne.size(), 4);
    for (uint64_t d : ne) le(ti_, d, v_ == 1 ? 4 : 8);
    le(ti_, type, 4);
    le(ti_, offset, 8);
    ++n_t_;
  }
  uint64_t n_tensors_override = UINT64_MAX, n_kv_override = UINT64_MAX;
  uint32_t alignment = 32;

  // The whole file: header, key/values, tensor infos, zero padding to the alignment, data_size data bytes.
  std::vector<uint8_t> file(uint64_t data_size = 0, bool pad = true) const {
    std::vector<uint8_t> b;
    app(b, "GGUF");
    le(b, v_, 4);
    const int w = v_ == 1 ? 4 : 8;
    le(b, n_tensors_override != UINT64_MAX ? n_tensors_override : n_t_, w);
    le(b, n_kv_override != UINT64_MAX ? n_kv_override : n_kv_, w);
    app(b, kv_);
    app(b, ti_);
    if (pad)
      while (b.size() % alignment) b.push_back(0);
    b.resize(b.size() + data_size, 0x11);
    return b;
  }

 private:
  uint32_t v_;
  std::vector<uint8_t> kv_, ti_;
  uint64_t n_kv_ = 0, n_t_ = 0;
};

// safetensors: 8-byte header size, header text, buffer.
inline bytes safetensors(std::string_view header, uint64_t buffer_size, uint64_t declared = UINT64_MAX) {
  bytes b;
  le(b, declared != UINT64_MAX ? declared : header.size(), 8);
  app(b, header);
  b.resize(b.size() + buffer_size, 0x22);
  return b;
}

// protobuf pieces (ONNX, SentencePiece)
inline void varint(bytes& b, uint64_t v) {
  while (v >= 0x80) {
    b.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  b.push_back(static_cast<uint8_t>(v));
}
inline void pb_int(bytes& b, int field, uint64_t v) {
  varint(b, static_cast<uint64_t>(field) << 3);
  varint(b, v);
}
inline void pb_len(bytes& b, int field, const bytes& payload) {
  varint(b, (static_cast<uint64_t>(field) << 3) | 2);
  varint(b, payload.size());
  app(b, payload);
}
inline void pb_str(bytes& b, int field, std::string_view s) {
  pb_len(b, field, str_bytes(s));
}

// An ONNX model whose graph holds one Identity node reading initializer "E" of `n` float32 values with
// the given external-data location (offset/length optional).
inline bytes onnx_external(std::string_view location, uint64_t n, int64_t offset = -1, int64_t length = -1) {
  bytes e;
  pb_int(e, 1, n);  // dims
  pb_int(e, 2, 1);  // FLOAT
  pb_str(e, 8, "E");
  auto entry = [&](std::string_view k, std::string_view v) {
    bytes kv;
    pb_str(kv, 1, k);
    pb_str(kv, 2, v);
    pb_len(e, 13, kv);
  };
  entry("location", location);
  if (offset >= 0) entry("offset", std::to_string(offset));
  if (length >= 0) entry("length", std::to_string(length));
  pb_int(e, 14, 1);  // EXTERNAL
  bytes node;
  pb_str(node, 1, "E");
  pb_str(node, 2, "y");
  pb_str(node, 4, "Identity");
  bytes g;
  pb_len(g, 1, node);
  pb_str(g, 2, "g");
  pb_len(g, 5, e);
  bytes m;
  pb_int(m, 1, 8);
  pb_len(m, 7, g);
  bytes op;
  pb_int(op, 2, 17);
  pb_len(m, 8, op);
  return m;
}

// Pickle helpers.
inline std::string binunicode(std::string_view s) {
  std::string r = "X";
  for (int i = 0; i < 4; ++i) r.push_back(static_cast<char>((s.size() >> (8 * i)) & 0xff));
  r.append(s);
  return r;
}

}  // namespace gb::attack
