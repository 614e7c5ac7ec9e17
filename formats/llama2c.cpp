// llama2.c checkpoints (karpathy/llama2.c export.py) and llama2.c tokenizer files.
//
// Checkpoints:
//   v0 (legacy): 7 x int32 header {dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len};
//       vocab_size < 0 means a separate classifier follows. Then f32 weights in run.c order, each group
//       for all layers in turn: token_embd, attn_norm, wq, wk, wv, wo, ffn_norm, w1, w2, w3, final norm,
//       freq_cis real and imag (seq_len x head_size/2 each), [wcls].
//   v1: "ak42" magic (uint32 0x616b3432), int32 version, the 7 ints, uint8 shared_classifier, zero pad to
//       256 bytes; f32: attn_norm x L, ffn_norm x L, final norm, token_embd, wq x L ... w3 x L, [wcls].
//   v2: as v1 plus int32 group_size after the flag; norms in f32, then every matrix as int8 in v1 order,
//       then one f32 scale per group for each matrix in the same order. Listed as i8 tensors plus
//       "<name>.scale" f32 tensors (no ggml block type has an arbitrary group size).
// Names follow GGUF (token_embd.weight, blk.N.attn_q.weight ...) and shapes are row-major [out, in], so
// the architecture table needs no llama2.c spelling.
//
// Tokenizer files (tokenizer.bin, tok512.bin): int32 max_token_length, then per token {f32 score,
// int32 length, bytes} until EOF. export uses ' ' where SentencePiece stores U+2581; we map it back so
// every "llama" vocab spells pieces the same way (finding llama2c.tokenizer.space_mapped says so).
//
// Tokenizer beside a checkpoint: never guessed, with one documented exception: when the checkpoint's
// file name is stories260K.bin and tok512.bin sits in the same folder (the llama2.c test convention),
// tok512.bin is attached as the tokenizer and finding llama2c.tokenizer.beside records it.
#include <cmath>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "formats/loaders.h"
#include "formats/meta_make.h"
#include "formats/reader.h"
#include "formats/tokenizer_files.h"

namespace gb::loaders {
namespace {

constexpr uint32_t k_magic = 0x616b3432;  // "ak42" as little-endian uint32
constexpr uint64_t k_v1_header = 256;
constexpr uint64_t k_v0_header = 28;
// Caps on header values (far above any llama2.c model; they keep byte arithmetic far from overflow).
constexpr int64_t k_max_dim = 1 << 16;
constexpr int64_t k_max_hidden = 1 << 20;
constexpr int64_t k_max_layers = 4096;
constexpr int64_t k_max_heads = 4096;
constexpr int64_t k_max_vocab = 1 << 22;
constexpr int64_t k_max_seq = 1 << 24;
constexpr int64_t k_max_group = 1 << 20;
constexpr uint64_t k_max_tokens = 1 << 22;
constexpr int32_t k_max_token_len = 1 << 16;

struct l2c_config {
  int version = 0;  // 0 legacy, 1 f32 with header, 2 int8 groups
  int64_t dim = 0, hidden = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, vocab = 0, seq_len = 0;
  bool shared = true;
  int64_t group_size = 0;
  uint64_t header_bytes = k_v0_header;
  int64_t head_size() const { return dim / n_heads; }
  int64_t kv_dim() const { return dim / n_heads * n_kv_heads; }
};

struct l2c_entry {
  std::string name;
  std::vector<int64_t> shape;
  dtype type = dtype::f32;
  uint64_t nbytes = 0;
};

// Reads the header without throwing; false when the bytes cannot be a llama2.c checkpoint header.
bool header_read(const uint8_t* d, uint64_t n, l2c_config& c) {
  uint64_t p = 0;
  if (n >= 8 && load_le<uint32_t>(d) == k_magic) {
    if (n < k_v1_header) return false;
    c.version = load_le<int32_t>(d + 4);
    c.header_bytes = k_v1_header;
    p = 8;
  } else {
    if (n < k_v0_header) return false;
    c.version = 0;
    c.header_bytes = k_v0_header;
  }
  int32_t v[7];
  for (int i = 0; i < 7; ++i) v[i] = load_le<int32_t>(d + p + 4 * i);
  c.dim = v[0], c.hidden = v[1], c.n_layers = v[2], c.n_heads = v[3], c.n_kv_heads = v[4];
  c.seq_len = v[6];
  if (c.version == 0) {
    c.shared = v[5] > 0;
    c.vocab = v[5] < 0 ? -static_cast<int64_t>(v[5]) : v[5];
  } else {
    c.vocab = v[5];
    c.shared = d[p + 28] != 0;
    if (c.version == 2) c.group_size = load_le<int32_t>(d + p + 29);
  }
  return true;
}

// Why the header values are impossible, or nullopt when they are sane.
std::optional<std::string> header_problem(const l2c_config& c) {
  auto range = [](int64_t x, int64_t hi) { return x > 0 && x <= hi; };
  if (c.version < 0 || c.version > 2) return "unknown llama2.c version " + std::to_string(c.version);
  if (!range(c.dim, k_max_dim))
    return "dim " + std::to_string(c.dim) + " outside 1.." + std::to_string(k_max_dim);
  if (!range(c.hidden, k_max_hidden)) return "hidden_dim " + std::to_string(c.hidden) + " out of range";
  if (!range(c.n_layers, k_max_layers)) return "n_layers " + std::to_string(c.n_layers) + " out of range";
  if (!range(c.n_heads, k_max_heads)) return "n_heads " + std::to_string(c.n_heads) + " out of range";
  if (!range(c.n_kv_heads, c.n_heads))
    return "n_kv_heads " + std::to_string(c.n_kv_heads) + " outside 1..n_heads";
  if (!range(c.vocab, k_max_vocab)) return "vocab_size " + std::to_string(c.vocab) + " out of range";
  if (!range(c.seq_len, k_max_seq)) return "seq_len " + std::to_string(c.seq_len) + " out of range";
  if (c.dim % c.n_heads != 0) return "dim is not a multiple of n_heads";
  if (c.n_heads % c.n_kv_heads != 0) return "n_heads is not a multiple of n_kv_heads";
  if (c.version == 2 && !range(c.group_size, k_max_group))
    return "group_size " + std::to_string(c.group_size) + " out of range";
  return std::nullopt;
}

// Every tensor in file order. Values are capped, so products fit comfortably in uint64.
std::vector<l2c_entry> layout(const l2c_config& c) {
  const int64_t d = c.dim, h = c.hidden, kv = c.kv_dim(), V = c.vocab, L = c.n_layers;
  std::vector<l2c_entry> out;
  auto add = [&](std::string name, std::vector<int64_t> shape, dtype t = dtype::f32) {
    uint64_t n = 1;
    for (int64_t s : shape) n *= static_cast<uint64_t>(s);
    out.push_back({std::move(name), std::move(shape), t, t == dtype::f32 ? n * 4 : n});
  };
  auto per_layer = [&](const char* role, std::vector<int64_t> shape, dtype t = dtype::f32) {
    for (int64_t l = 0; l < L; ++l) add("blk." + std::to_string(l) + "." + role + ".weight", shape, t);
  };
  struct matrix {
    const char* role;
    std::vector<int64_t> shape;
  };
  const std::vector<matrix> matrices = {{"attn_q", {d, d}},      {"attn_k", {kv, d}},  {"attn_v", {kv, d}},
                                        {"attn_output", {d, d}}, {"ffn_gate", {h, d}}, {"ffn_down", {d, h}},
                                        {"ffn_up", {h, d}}};
  if (c.version == 0) {
    add("token_embd.weight", {V, d});
    per_layer("attn_norm", {d});
    for (size_t i = 0; i < 4; ++i) per_layer(matrices[i].role, matrices[i].shape);
    per_layer("ffn_norm", {d});
    for (size_t i = 4; i < matrices.size(); ++i) per_layer(matrices[i].role, matrices[i].shape);
    add("output_norm.weight", {d});
    add("rope_freqs.cis_real", {c.seq_len, c.head_size() / 2});
    add("rope_freqs.cis_imag", {c.seq_len, c.head_size() / 2});
    if (!c.shared) add("output.weight", {V, d});
    return out;
  }
  per_layer("attn_norm", {d});
  per_layer("ffn_norm", {d});
  add("output_norm.weight", {d});
  const dtype mt = c.version == 1 ? dtype::f32 : dtype::i8;
  const size_t first_matrix = out.size();
  add("token_embd.weight", {V, d}, mt);
  for (const matrix& m : matrices) per_layer(m.role, m.shape, mt);
  if (!c.shared) add("output.weight", {V, d}, mt);
  if (c.version == 2) {
    const size_t last_matrix = out.size();
    for (size_t i = first_matrix; i < last_matrix; ++i) {
      uint64_t n = out[i].nbytes;  // int8: bytes == elements
      if (n % static_cast<uint64_t>(c.group_size) != 0)
        fail(errc::bad_value, 0,
             "llama2.c: tensor '" + out[i].name + "' has " + std::to_string(n) +
                 " elements, not a multiple of group_size " + std::to_string(c.group_size));
      add(out[i].name + ".scale", {static_cast<int64_t>(n / static_cast<uint64_t>(c.group_size))});
    }
  }
  return out;
}

std::string piece_text(std::string_view raw) {
  // llama2.c export wrote ' ' for SentencePiece's U+2581; map it back.
  std::string s;
  s.reserve(raw.size());
  for (char ch : raw) {
    if (ch == ' ')
      s += "\xe2\x96\x81";
    else
      s += ch;
  }
  return s;
}

// Builds the vocab of a llama2.c tokenizer file; throws on malformed bytes, adds findings to `a`.
std::shared_ptr<vocab> tokenizer_read(archive& a, const uint8_t* data, uint64_t size,
                                      const std::string& where) {
  reader r(data, size, "llama2.c tokenizer");
  int32_t max_len = r.i32("max_token_length");
  if (max_len <= 0 || max_len > k_max_token_len)
    r.error_at(
        errc::bad_value, 0,
        "max_token_length " + std::to_string(max_len) + " outside 1.." + std::to_string(k_max_token_len));
  auto v = std::make_shared<vocab>();
  v->model = "llama";
  v->pre = "default";
  v->source = "llama2c tokenizer";
  v->bos_id = 1, v->eos_id = 2, v->unk_id = 0;
  v->add_bos = true;
  v->add_space_prefix = true;
  v->byte_fallback = true;
  uint64_t too_long = 0, non_finite = 0, spaces = 0;
  while (!r.at_end()) {
    if (v->tokens.size() >= k_max_tokens)
      r.error(errc::limit, "more than " + std::to_string(k_max_tokens) + " tokens");
    float score = r.f32("token score");
    int32_t len = r.i32("token length");
    if (len < 0 || len > k_max_token_len)
      r.error_at(
          errc::bad_value, r.offset() - 4,
          "token " + std::to_string(v->tokens.size()) + " length " + std::to_string(len) + " out of range");
    if (len > max_len) ++too_long;
    if (!std::isfinite(score)) ++non_finite;
    std::string_view raw = r.str(static_cast<uint64_t>(len), "token bytes");
    if (raw.find(' ') != std::string_view::npos) ++spaces;
    std::string piece = piece_text(raw);
    int32_t type = 1;
    size_t id = v->tokens.size();
    if (id == 0)
      type = 2;
    else if (id == 1 || id == 2)
      type = 3;
    else if (vocab_is_byte_piece(piece))
      type = 6;
    v->tokens.push_back(std::move(piece));
    v->scores.push_back(score);
    v->token_types.push_back(type);
  }
  if (v->tokens.size() < 3)
    fail(errc::truncated, size, "llama2.c tokenizer: fewer than 3 tokens (unk, bos, eos)");
  if (too_long)
    a.add_finding(
        severity::low, "llama2c.tokenizer.long_token", where,
        std::to_string(too_long) + " tokens are longer than max_token_length " + std::to_string(max_len));
  if (non_finite)
    a.add_finding(severity::medium, "llama2c.tokenizer.non_finite_score", where,
                  std::to_string(non_finite) + " token scores are NaN or infinite");
  if (spaces)
    a.add_finding(severity::info, "llama2c.tokenizer.space_mapped", where,
                  std::to_string(spaces) + " pieces: ' ' read as U+2581 (SentencePiece spelling)");
  return v;
}

// Cheap: walks the token records without building anything.
bool tokenizer_walk_ok(const uint8_t* d, uint64_t n) {
  if (n < 4 + 8) return false;
  int32_t max_len = load_le<int32_t>(d);
  if (max_len <= 0 || max_len > k_max_token_len) return false;
  uint64_t p = 4, count = 0;
  while (p < n) {
    if (n - p < 8 || ++count > k_max_tokens) return false;
    float score = load_le<float>(d + p);
    int32_t len = load_le<int32_t>(d + p + 4);
    if (std::isnan(score) || len < 0 || len > max_len) return false;
    p += 8;
    if (n - p < static_cast<uint64_t>(len)) return false;
    p += static_cast<uint64_t>(len);
  }
  return count >= 3;
}

void metadata_fill(archive& a, const l2c_config& c) {
  // Each header value under its llama2.c name and its GGUF name (so downstream code reads one spelling).
  struct field {
    const char* l2c;
    const char* gguf;
    int64_t value;
  };
  const field fields[] = {
      {"llama2c.dim", "llama.embedding_length", c.dim},
      {"llama2c.hidden_dim", "llama.feed_forward_length", c.hidden},
      {"llama2c.n_layers", "llama.block_count", c.n_layers},
      {"llama2c.n_heads", "llama.attention.head_count", c.n_heads},
      {"llama2c.n_kv_heads", "llama.attention.head_count_kv", c.n_kv_heads},
      {"llama2c.vocab_size", "llama.vocab_size", c.vocab},
      {"llama2c.seq_len", "llama.context_length", c.seq_len},
  };
  a.metadata.emplace_back("llama2c.version", meta_int(c.version));
  for (const field& f : fields) a.metadata.emplace_back(f.l2c, meta_int(f.value));
  a.metadata.emplace_back("llama2c.shared_classifier", meta_bool(c.shared));
  if (c.version == 2) a.metadata.emplace_back("llama2c.group_size", meta_int(c.group_size));
  a.metadata.emplace_back("general.architecture", meta_str("llama"));
  for (const field& f : fields) a.metadata.emplace_back(f.gguf, meta_int(f.value));
  a.metadata.emplace_back("llama.rope.dimension_count", meta_int(c.head_size()));
  // run.c hard-codes these two; the file does not carry them.
  a.metadata.emplace_back("llama.attention.layer_norm_rms_epsilon", meta_double(1e-5));
  a.metadata.emplace_back("llama.rope.freq_base", meta_double(10000.0));
}

}  // namespace

bool llama2c_plausible(const uint8_t* data, uint64_t size) {
  if (data == nullptr) return false;
  l2c_config c;
  if (!header_read(data, size, c)) return false;
  if (c.version != 0) return true;  // the magic is enough; the loader explains what is wrong
  if (header_problem(c)) return false;
  // A legacy header has no magic: demand that at least the token embedding fits.
  uint64_t embd = static_cast<uint64_t>(c.vocab) * static_cast<uint64_t>(c.dim) * 4;
  return size >= k_v0_header + embd;
}

bool llama2c_tokenizer_plausible(const uint8_t* data, uint64_t size) {
  return data != nullptr && tokenizer_walk_ok(data, size);
}

void load_llama2c(archive& a, const mapped_file_ptr& m, const open_options& opt) {
  const uint8_t* d = m->data();
  const uint64_t n = m->size();
  l2c_config c;
  if (n >= 4 && load_le<uint32_t>(d) == k_magic && n < k_v1_header)
    fail(errc::truncated, n,
         "llama2.c: file of " + std::to_string(n) + " bytes is shorter than the 256-byte header");
  if (!header_read(d, n, c))
    fail(errc::truncated, n,
         "llama2.c: file of " + std::to_string(n) + " bytes is shorter than the 28-byte header");
  if (auto why = header_problem(c))
    fail(c.version > 2 ? errc::unsupported : errc::bad_value, 0, "llama2.c: " + *why);
  if (c.version != 0) {
    for (uint64_t i = (c.version == 2 ? 41 : 37); i < k_v1_header; ++i)
      if (d[i] != 0) {
        a.add_finding(severity::medium, "llama2c.header_padding", m->path(),
                      "non-zero bytes in the header padding", i);
        break;
      }
  }

  a.format = file_format::llama2c;
  a.format_version = "v" + std::to_string(c.version);
  a.files.push_back({m->path(), "weights", file_format::llama2c, m});
  metadata_fill(a, c);

  std::vector<l2c_entry> es = layout(c);
  uint64_t off = c.header_bytes;
  for (const l2c_entry& e : es) {
    if (n - off < e.nbytes)
      fail(errc::truncated, off,
           "llama2.c: tensor '" + e.name + "' needs " + std::to_string(e.nbytes) + " bytes at offset " +
               std::to_string(off) + " but the file has " + std::to_string(n - off) + " left");
    tensor_view t;
    t.name = e.name;
    t.type = e.type;
    t.shape = e.shape;
    t.data = d + off;
    t.nbytes = e.nbytes;
    t.file_offset = off;
    t.file_index = 0;
    a.tensors.push_back(std::move(t));
    off += e.nbytes;
  }
  if (off != n) {
    uint64_t extra = n - off;
    std::string msg = "llama2.c: " + std::to_string(extra) + " bytes after the last tensor (expected size " +
                      std::to_string(off) + ", file has " + std::to_string(n) + ")";
    uint64_t cls = static_cast<uint64_t>(c.vocab) * static_cast<uint64_t>(c.dim) * (c.version == 2 ? 1 : 4);
    if (c.shared && extra == cls) msg += "; that is exactly a classifier matrix, but the header says shared";
    fail(errc::mismatch, off, msg);
  }
  if (c.version == 2)
    a.add_finding(severity::info, "llama2c.int8_groups", m->path(),
                  "v2 matrices are int8 with one f32 scale per " + std::to_string(c.group_size) +
                      " values (listed as <name> and <name>.scale)");

  // The one tokenizer convention we follow (see the file comment).
  namespace fs = std::filesystem;
  fs::path p(m->path());
  if (opt.load_tokenizer && p.filename() == "stories260K.bin") {
    fs::path tok = p.parent_path() / "tok512.bin";
    std::error_code ec;
    if (fs::is_regular_file(tok, ec)) {
      mapped_file_ptr tm = mapped_file::open(tok.string());
      if (tm->size() > 0 && tokenizer_walk_ok(tm->data(), tm->size())) {
        a.tokenizer = tokenizer_read(a, tm->data(), tm->size(), tm->path());
        a.files.push_back({tm->path(), "tokenizer", file_format::llama2c_tokenizer, tm});
        a.add_finding(severity::info, "llama2c.tokenizer.beside", tm->path(),
                      "tok512.bin beside stories260K.bin attached as its tokenizer (llama2.c convention)");
      }
    }
  }
}

void load_llama2c_tokenizer(archive& a, const mapped_file_ptr& m, const open_options&) {
  a.format = file_format::llama2c_tokenizer;
  a.format_version = "llama2c";
  a.files.push_back({m->path(), "tokenizer", file_format::llama2c_tokenizer, m});
  a.tokenizer = tokenizer_read(a, m->data(), m->size(), m->path());
  a.metadata.emplace_back("llama2c.max_token_length", meta_int(load_le<int32_t>(m->data())));
  a.metadata.emplace_back("tokenizer.ggml.model", meta_str("llama"));
  a.metadata.emplace_back("llama2c.token_count", meta_int(static_cast<int64_t>(a.tokenizer->size())));
}

}  // namespace gb::loaders
