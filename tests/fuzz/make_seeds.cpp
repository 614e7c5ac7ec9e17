// tests/fuzz/make_seeds.cpp: writes the seed corpora of the fuzz targets, tests/fuzz/corpus/<target>/seed_*,
// from the project's writers (gguf_write, safetensors_write, zip::writer) and small hand-made files
// (pickles, protobufs, llama2.c, numpy, JSON, CSV). Deterministic: the same build writes the same bytes.
//
//   build-fuzz/tests/fuzz/gb_fuzz_seeds tests/fuzz/corpus      # (tools/fuzz.sh --seeds does this)
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "formats/archive.h"
#include "formats/writers.h"
#include "formats/zip.h"
#include "tests/fuzz/fuzz_common.h"

namespace fs = std::filesystem;
using bytes = std::vector<uint8_t>;
using namespace std::string_literals;  // "..."s keeps embedded NUL bytes

namespace {

std::string g_root;

void put(const std::string& target, const std::string& name, const bytes& b) {
  fs::create_directories(g_root + "/" + target);
  std::ofstream f(g_root + "/" + target + "/seed_" + name, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
void put(const std::string& target, const std::string& name, std::string_view s) {
  put(target, name, bytes(s.begin(), s.end()));
}
bytes slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}
std::string tmp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("gb-seeds-" + name)).string();
}

// ---- little-endian and protobuf encoders ----
void le32(bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void le64(bytes& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void lef(bytes& b, float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  le32(b, u);
}
void app(bytes& b, std::string_view s) {
  b.insert(b.end(), s.begin(), s.end());
}
void app(bytes& b, const bytes& s) {
  b.insert(b.end(), s.begin(), s.end());
}

void varint(bytes& b, uint64_t v) {
  while (v >= 0x80) {
    b.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  b.push_back(static_cast<uint8_t>(v));
}
void pb_int(bytes& b, int field, uint64_t v) {
  varint(b, static_cast<uint64_t>(field) << 3);
  varint(b, v);
}
void pb_len(bytes& b, int field, const bytes& payload) {
  varint(b, (static_cast<uint64_t>(field) << 3) | 2);
  varint(b, payload.size());
  app(b, payload);
}
void pb_str(bytes& b, int field, std::string_view s) {
  pb_len(b, field, bytes(s.begin(), s.end()));
}
void pb_f32(bytes& b, int field, float f) {
  varint(b, (static_cast<uint64_t>(field) << 3) | 5);
  lef(b, f);
}

std::vector<uint8_t> f32_bytes(size_t n, float scale = 0.01f) {
  bytes b;
  for (size_t i = 0; i < n; ++i) lef(b, scale * static_cast<float>(static_cast<int>(i % 17) - 8));
  return b;
}

// ---- GGUF ----
void gguf_seeds() {
  using gb::meta_value;
  std::vector<std::pair<std::string, meta_value>> md = {
      {"general.architecture", gb::meta_str("llama")},
      {"general.name", gb::meta_str("seed")},
      {"llama.context_length", gb::meta_u32(16)},
      {"llama.embedding_length", gb::meta_u32(8)},
      {"llama.block_count", gb::meta_u32(1)},
      {"llama.feed_forward_length", gb::meta_u32(16)},
      {"llama.attention.head_count", gb::meta_u32(2)},
      {"llama.attention.head_count_kv", gb::meta_u32(2)},
      {"llama.rope.dimension_count", gb::meta_u32(4)},
      {"llama.attention.layer_norm_rms_epsilon", gb::meta_f32(1e-5f)},
      {"tokenizer.ggml.model", gb::meta_str("llama")},
      {"tokenizer.ggml.tokens",
       gb::meta_str_array({"<unk>", "<s>", "</s>", "<0x41>", "\xe2\x96\x81", "a", "b",
                           "\xe2\x96\x81"
                           "a"})},
      {"tokenizer.ggml.scores", gb::meta_f32_array({0, 0, 0, 0, -1, -2, -3, -4})},
      {"tokenizer.ggml.token_type", gb::meta_i32_array({2, 3, 3, 6, 1, 1, 1, 1})},
      {"tokenizer.ggml.bos_token_id", gb::meta_u32(1)},
      {"tokenizer.ggml.eos_token_id", gb::meta_u32(2)},
      {"tokenizer.chat_template", gb::meta_str("{% for m in messages %}{{ m['content'] }}{% endfor %}")},
      {"general.flag", gb::meta_bool(true)},
  };
  const int64_t d = 8, ff = 16, v = 8;
  std::vector<gb::tensor_data> ts = {
      {"token_embd.weight", gb::dtype::f32, {v, d}, f32_bytes(v * d)},
      {"blk.0.attn_norm.weight", gb::dtype::f32, {d}, f32_bytes(d)},
      {"blk.0.attn_q.weight", gb::dtype::f32, {d, d}, f32_bytes(d * d)},
      {"blk.0.attn_k.weight", gb::dtype::f32, {d, d}, f32_bytes(d * d)},
      {"blk.0.attn_v.weight", gb::dtype::f16, {d, d}, bytes(d * d * 2, 0x11)},
      {"blk.0.attn_output.weight", gb::dtype::f32, {d, d}, f32_bytes(d * d)},
      {"blk.0.ffn_norm.weight", gb::dtype::f32, {d}, f32_bytes(d)},
      {"blk.0.ffn_gate.weight", gb::dtype::f32, {ff, d}, f32_bytes(ff * d)},
      {"blk.0.ffn_up.weight", gb::dtype::f32, {ff, d}, f32_bytes(ff * d)},
      {"blk.0.ffn_down.weight", gb::dtype::q8_0, {d, 32}, bytes(d * 34, 0x01)},
      {"output_norm.weight", gb::dtype::f32, {d}, f32_bytes(d)},
  };
  for (uint32_t version : {1u, 2u, 3u}) {
    const std::string p = tmp_path("seed.gguf");
    gb::gguf_write(p, md, ts, 32, version);
    put("gguf", "llama_v" + std::to_string(version), slurp(p));
    fs::remove(p);
  }
  const std::string p = tmp_path("seed.gguf");
  gb::gguf_write(
      p, {{"general.architecture", gb::meta_str("gpt2")}, {"general.alignment", gb::meta_u32(64)}},
      {{"x", gb::dtype::q4_k, {1, 256}, bytes(144, 0)}, {"y", gb::dtype::bf16, {3}, bytes(6, 0x3f)}}, 64, 3);
  put("gguf", "aligned64_qk", slurp(p));
  gb::gguf_write(p, md, {}, 32, 3);  // vocab-only file, as llama.cpp ships them
  put("gguf", "vocab_only", slurp(p));
  fs::remove(p);
}

// ---- safetensors ----
void safetensors_seeds() {
  const int64_t d = 8, ff = 16, v = 8;
  std::vector<gb::tensor_data> llama = {
      {"model.embed_tokens.weight", gb::dtype::f32, {v, d}, f32_bytes(v * d)},
      {"model.layers.0.input_layernorm.weight", gb::dtype::f32, {d}, f32_bytes(d)},
      {"model.layers.0.self_attn.q_proj.weight", gb::dtype::f32, {d, d}, f32_bytes(d * d)},
      {"model.layers.0.self_attn.k_proj.weight", gb::dtype::bf16, {d, d}, bytes(d * d * 2, 0x3c)},
      {"model.layers.0.self_attn.v_proj.weight", gb::dtype::f16, {d, d}, bytes(d * d * 2, 0x3c)},
      {"model.layers.0.self_attn.o_proj.weight", gb::dtype::f32, {d, d}, f32_bytes(d * d)},
      {"model.layers.0.post_attention_layernorm.weight", gb::dtype::f32, {d}, f32_bytes(d)},
      {"model.layers.0.mlp.gate_proj.weight", gb::dtype::f32, {ff, d}, f32_bytes(ff * d)},
      {"model.layers.0.mlp.up_proj.weight", gb::dtype::f32, {ff, d}, f32_bytes(ff * d)},
      {"model.layers.0.mlp.down_proj.weight", gb::dtype::f32, {d, ff}, f32_bytes(ff * d)},
      {"model.norm.weight", gb::dtype::f32, {d}, f32_bytes(d)},
      {"lm_head.weight", gb::dtype::f32, {v, d}, f32_bytes(v * d)},
  };
  const std::string p = tmp_path("seed.safetensors");
  gb::safetensors_write(p, llama, {{"format", "pt"}});
  put("safetensors", "llama", slurp(p));
  gb::safetensors_write(p, {{"a", gb::dtype::i64, {2}, bytes(16, 1)},
                            {"b", gb::dtype::boolean, {3}, bytes{0, 1, 0}},
                            {"c", gb::dtype::u8, {0}, {}},
                            {"d", gb::dtype::f8_e4m3, {2, 2}, bytes(4, 0x38)},
                            {"e", gb::dtype::f64, {}, bytes(8, 0)}});
  put("safetensors", "dtypes", slurp(p));
  gb::safetensors_write(p,
                        {{"transformer.h.0.attn.c_attn.weight", gb::dtype::f32, {8, 24}, f32_bytes(192)},
                         {"transformer.wte.weight", gb::dtype::f32, {8, 8}, f32_bytes(64)},
                         {"transformer.wpe.weight", gb::dtype::f32, {4, 8}, f32_bytes(32)}},
                        {{"format", "pt"}, {"note", "gpt2"}});
  put("safetensors", "gpt2", slurp(p));
  fs::remove(p);
}

// ---- pickles ----
std::string unicode(std::string_view s) {  // BINUNICODE
  std::string r = "X";
  bytes n;
  le32(n, static_cast<uint32_t>(s.size()));
  r.append(n.begin(), n.end());
  r.append(s);
  return r;
}
// A protocol-2 torch state dict {'w': tensor(FloatStorage key '0', 4 elements, shape (2, 2))}.
// legacy: the persistent id is the 6-tuple of torch.save's legacy format.
std::string state_dict_pickle(bool legacy) {
  std::string persid = "(" + unicode("storage") + "ctorch\nFloatStorage\n" + unicode("0") + unicode("cpu") +
                       "K\x04" + (legacy ? "N" : "") + "tQ";
  std::string tensor = "ctorch._utils\n_rebuild_tensor_v2\n(" + persid +
                       "K\x00K\x02K\x02\x86K\x02K\x01\x86\x89"s + "ccollections\nOrderedDict\n)Rtq\x01R";
  return std::string("\x80\x02") + "ccollections\nOrderedDict\n)Rq\x00("s + unicode("w") + tensor +
         unicode("v") + "h\x01u.";
}

void pickle_seeds() {
  put("pickle", "dict_p2",
      "\x80\x02}q\x00(X\x01\x00\x00\x00"
      "aK\x01X\x01\x00\x00\x00"
      "b]q\x01(G?\xf0\x00\x00\x00\x00\x00\x00\x88Neu."s);
  put("pickle", "proto0_text", "(dp0\nS'a'\np1\nI1\nsS'b'\np2\n(lp3\nF1.5\naV\\u00e9\np4\nas.");
  put("pickle", "os_system",
      "\x80\x02"
      "cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."s);
  put("pickle", "state_dict", state_dict_pickle(false));
  // protocol 4: FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL, BINGET, NEWOBJ, BUILD, LONG1, BINBYTES
  std::string p4 =
      "\x8c\x08"
      "builtins\x94\x8c\x04"
      "eval\x94\x93\x94"
      "h\x02\x8c\x04"
      "1+1\x85R"
      "\x8a\x09" +
      std::string(9, '\x7f') +
      "C\x03"
      "abc"
      "\x8f(K\x01K\x02\x90"
      "\x94"
      "0"
      "\x86.";
  std::string frame = "\x80\x04\x95";
  bytes n;
  le64(n, p4.size());
  frame.append(n.begin(), n.end());
  put("pickle", "proto4_stack_global", frame + p4);
  put("pickle", "proto5_buffers", "\x80\x05\x96\x03\x00\x00\x00\x00\x00\x00\x00xyz\x98\x94."s);
  // two stacked pickles (the second a REDUCE of posix.system via INST)
  put("pickle", "stacked", "\x80\x02K\x01.(S'ls'\niposix\nsystem\n."s);
  // legacy torch.save: magic, protocol, sys info, state dict, storage keys, raw storage
  std::string legacy = std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15) +
                       std::string("\x80\x02M\xe9\x03.", 6) + "\x80\x02}(" + unicode("protocol_version") +
                       "M\xe9\x03" + unicode("little_endian") + "\x88" + unicode("type_sizes") + "}(" +
                       unicode("int") + "K\x04" + unicode("long") + "K\x04" + "uu." +
                       state_dict_pickle(true) + "\x80\x02]q\x00"s + unicode("0") + "a.";
  bytes lb(legacy.begin(), legacy.end());
  le64(lb, 4);
  app(lb, f32_bytes(4));
  put("pickle", "torch_legacy", lb);
  // issue 16 shapes: literals by Python's int() rules, raw-unicode-escape backslash runs, BUILD state
  // holding a callable, a STACK_GLOBAL name computed by a call, a stop followed by a payload (the sweep)
  put("pickle", "int_literals", "(I0x1F\nI1_000\nI010\nL0b101L\nI -7 \np 1_0 \ng10\nV\\\\uZZZZ\nl."s);
  put("pickle", "build_setstate",
      "\x80\x02"
      "ccollections\nOrderedDict\n)\x81}" +
          unicode("__setstate__") + "cmymod\nrun\nsb" + unicode("id") + "b.");
  put("pickle", "computed_stack_global",
      "\x80\x04"
      "c_codecs\nencode\n" +
          unicode("bf") + unicode("rot13") + "\x86R" + unicode("system") +
          "\x93"
          "0N.");
  put("pickle", "stop_then_payload",
      "\x80\x02\xff"
      "cos\nsystem\n(S'id'\ntR."s);
  put("scan", "proto0_payload", "cos\nsystem\n(S'id'\ntR.");
  put("scan", "proto4_stack_global", frame + p4);
  put("scan", "torch_legacy", lb);
}

// ---- chat templates (fuzz_template) ----
void template_seeds() {
  put("template", "chatml",
      "{%- for m in messages %}{{- '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>' }}"
      "{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}");
  put("template", "fold_concat", "{{ ''['__cla'~'ss__'] }}");
  put("template", "fold_filters",
      "{% set a = ['__cl','ass__']|join %}{{ ''|attr(a)|attr('__ssalc__'[::-1]) }}"
      "{{ ''|attr('%sclass%s'|format('__','__')) }}{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}");
  put("template", "gadgets",
      "{{ cycler.__init__.__globals__.os.popen('id').read() }}{{ lipsum }}{% raw %}{{ x }}{% endraw %}");
}

// ---- zip / torch zip ----
bytes torch_zip(bool deflate, const std::string& prefix, const std::string& extra_name = "") {
  bytes out;
  gb::zip::writer w([&](const uint8_t* p, size_t n) { out.insert(out.end(), p, p + n); });
  std::string pkl = state_dict_pickle(false);
  w.add(prefix + "/data.pkl", reinterpret_cast<const uint8_t*>(pkl.data()), pkl.size(), deflate);
  const std::string bo = "little";
  w.add(prefix + "/byteorder", reinterpret_cast<const uint8_t*>(bo.data()), bo.size());
  bytes st = f32_bytes(4);
  w.add(prefix + "/data/0", st.data(), st.size(), false, 64);
  const std::string ver = "3\n";
  w.add(prefix + "/version", reinterpret_cast<const uint8_t*>(ver.data()), ver.size(), deflate);
  if (!extra_name.empty()) w.add(extra_name, st.data(), st.size(), deflate);
  w.finish(deflate ? "comment" : "");
  return out;
}

void zip_seeds() {
  put("zip", "torch_stored", torch_zip(false, "archive"));
  put("zip", "torch_deflate", torch_zip(true, "model"));
  put("zip", "escape_name", torch_zip(false, "archive", "../evil.txt"));
  bytes npz;
  gb::zip::writer w([&](const uint8_t* p, size_t n) { npz.insert(npz.end(), p, p + n); });
  std::string hdr = "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"s;
  hdr.resize(128 - 1, ' ');
  hdr += '\n';
  bytes npy(hdr.begin(), hdr.end());
  app(npy, f32_bytes(2));
  w.add("a.npy", npy.data(), npy.size(), true);
  w.finish();
  put("zip", "npz", npz);
  // issue 16: a deflated malicious data.pkl / object .npy (read as streams), and a local-header-only entry
  const std::string evil = "\x80\x02\x63os\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."s;
  auto one = [](const std::vector<std::pair<std::string, std::string>>& ms) {
    bytes z;
    gb::zip::writer zw([&](const uint8_t* p, size_t n) { z.insert(z.end(), p, p + n); });
    for (const auto& [name, b] : ms) zw.add(name, reinterpret_cast<const uint8_t*>(b.data()), b.size(), true);
    zw.finish();
    return z;
  };
  bytes t = one({{"archive/data.pkl", evil}, {"archive/version", "3\n"}});
  put("zip", "torch_deflate_evil", t);
  put("scan", "torch_deflate_evil", t);
  std::string obj = "\x93NUMPY\x01\x00\x76\x00{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"s;
  obj.resize(128 - 1, ' ');
  bytes on = one({{"x.npy", obj + "\n" + evil}});
  put("zip", "npz_object_deflate", on);
  put("scan", "npz_object_deflate", on);
  // the stored entry of a second zip spliced before the central directory: listed only by its local header
  bytes hidden = one({{"a.txt", "x"}});
  bytes orphan = one({{"evil.pkl", evil}});
  uint32_t cd = 0, ocd = 0;
  std::memcpy(&cd, hidden.data() + hidden.size() - 22 + 16, 4);
  std::memcpy(&ocd, orphan.data() + orphan.size() - 22 + 16, 4);
  hidden.insert(hidden.begin() + cd, orphan.begin(), orphan.begin() + ocd);
  uint32_t moved = cd + ocd;
  std::memcpy(hidden.data() + hidden.size() - 22 + 16, &moved, 4);
  put("zip", "local_only_entry", hidden);
  put("scan", "local_only_entry", hidden);
}

// ---- numpy ----
bytes npy(int major, const std::string& dict, const bytes& payload) {
  const size_t pre = major == 1 ? 10 : 12;
  std::string h = dict;
  while ((pre + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  if (major == 1) {
    b.push_back(static_cast<uint8_t>(h.size()));
    b.push_back(static_cast<uint8_t>(h.size() >> 8));
  } else {
    le32(b, static_cast<uint32_t>(h.size()));
  }
  app(b, h);
  app(b, payload);
  return b;
}

void numpy_seeds() {
  put("numpy", "f4_2x3", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f32_bytes(6)));
  put("numpy", "i8_fortran_v2",
      npy(2, "{'descr': '<i8', 'fortran_order': True, 'shape': (2, 2), }", bytes(32, 2)));
  put("numpy", "scalar_f2",
      npy(1, "{'descr': '>f2', 'fortran_order': False, 'shape': (), }", bytes(2, 0x3c)));
  std::string obj =
      "\x80\x02]q\x00(K\x01X\x01\x00\x00\x00"
      "ae."s;
  put("numpy", "object",
      npy(1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", bytes(obj.begin(), obj.end())));
}

// ---- llama2.c ----
struct l2c {
  int32_t dim = 8, hidden = 16, layers = 1, heads = 2, kv = 2, vocab = 8, seq = 4;
};

bytes llama2c_v0(l2c c, bool shared) {
  bytes b;
  for (int32_t x : {c.dim, c.hidden, c.layers, c.heads, c.kv, shared ? c.vocab : -c.vocab, c.seq})
    le32(b, static_cast<uint32_t>(x));
  const size_t hs = static_cast<size_t>(c.dim / c.heads), kvd = hs * static_cast<size_t>(c.kv);
  const size_t d = static_cast<size_t>(c.dim), h = static_cast<size_t>(c.hidden),
               l = static_cast<size_t>(c.layers);
  size_t n = static_cast<size_t>(c.vocab) * d + l * d + l * d * d + 2 * l * d * kvd + l * d * d + l * d +
             3 * l * d * h + d + 2 * static_cast<size_t>(c.seq) * hs / 2;
  if (!shared) n += static_cast<size_t>(c.vocab) * d;
  app(b, f32_bytes(n));
  return b;
}

bytes llama2c_v1(l2c c, int version) {
  bytes b;
  le32(b, 0x616b3432);
  le32(b, static_cast<uint32_t>(version));
  for (int32_t x : {c.dim, c.hidden, c.layers, c.heads, c.kv, c.vocab, c.seq})
    le32(b, static_cast<uint32_t>(x));
  b.push_back(1);  // shared classifier
  const size_t gs = 8;
  if (version == 2) le32(b, static_cast<uint32_t>(gs));
  b.resize(256, 0);
  const size_t hs = static_cast<size_t>(c.dim / c.heads), kvd = hs * static_cast<size_t>(c.kv);
  const size_t d = static_cast<size_t>(c.dim), h = static_cast<size_t>(c.hidden),
               l = static_cast<size_t>(c.layers);
  const size_t norms = 2 * l * d + d;
  const size_t mats =
      static_cast<size_t>(c.vocab) * d + l * d * d + 2 * l * d * kvd + l * d * d + 3 * l * d * h;
  app(b, f32_bytes(norms));
  if (version == 1) {
    app(b, f32_bytes(mats));
  } else {
    app(b, bytes(mats, 3));
    app(b, f32_bytes(mats / gs));
  }
  return b;
}

void llama2c_seeds() {
  put("llama2c", "v0_shared", llama2c_v0({}, true));
  put("llama2c", "v0_wcls", llama2c_v0({}, false));
  l2c gqa;
  gqa.kv = 1;
  gqa.layers = 2;
  put("llama2c", "v0_gqa", llama2c_v0(gqa, true));
  put("llama2c", "v1", llama2c_v1({}, 1));
  put("llama2c", "v2", llama2c_v1({}, 2));

  bytes t;
  le32(t, 7);
  const char* pieces[] = {"<unk>", "\n<s>\n", "\n</s>\n", "<0x00>",      "<0xFF>",
                          " ",     "a",       " a",       "caf\xc3\xa9", "\xe2\x96\x81x"};
  float score = 0;
  for (const char* p : pieces) {
    lef(t, score);
    score -= 1;
    le32(t, static_cast<uint32_t>(std::strlen(p)));
    app(t, std::string_view(p));
  }
  put("llama2c_tokenizer", "tok10", t);
  bytes t2;
  le32(t2, 1);
  lef(t2, 0);
  le32(t2, 1);
  t2.push_back('a');
  put("llama2c_tokenizer", "tok1", t2);
}

// ---- ONNX ----
bytes value_info(const std::string& name, int elem, const std::vector<int64_t>& dims,
                 const std::string& sym = "") {
  bytes shape;
  for (int64_t dv : dims) {
    bytes dim;
    pb_int(dim, 1, static_cast<uint64_t>(dv));
    pb_len(shape, 1, dim);
  }
  if (!sym.empty()) {
    bytes dim;
    pb_str(dim, 2, sym);
    pb_len(shape, 1, dim);
  }
  bytes tt;
  pb_int(tt, 1, static_cast<uint64_t>(elem));
  pb_len(tt, 2, shape);
  bytes type;
  pb_len(type, 1, tt);
  bytes vi;
  pb_str(vi, 1, name);
  pb_len(vi, 2, type);
  return vi;
}

bytes node(const std::string& op, const std::vector<std::string>& in, const std::vector<std::string>& out,
           const bytes& extra = {}) {
  bytes n;
  for (const auto& s : in) pb_str(n, 1, s);
  for (const auto& s : out) pb_str(n, 2, s);
  pb_str(n, 3, op + "_0");
  pb_str(n, 4, op);
  app(n, extra);
  return n;
}

bytes onnx_model(const bytes& graph, int64_t ir = 8) {
  bytes m;
  pb_int(m, 1, static_cast<uint64_t>(ir));
  pb_str(m, 2, "seed");
  pb_str(m, 3, "1.0");
  pb_len(m, 7, graph);
  bytes opset;
  pb_str(opset, 1, "");
  pb_int(opset, 2, 17);
  pb_len(m, 8, opset);
  bytes prop;
  pb_str(prop, 1, "author");
  pb_str(prop, 2, "seed");
  pb_len(m, 14, prop);
  return m;
}

void onnx_seeds() {
  // y = MatMul(x, W) + b with W raw_data, b float_data
  bytes w;
  pb_int(w, 1, 4);
  pb_int(w, 1, 2);
  pb_int(w, 2, 1);
  pb_str(w, 8, "W");
  bytes raw = f32_bytes(8);
  pb_len(w, 9, raw);
  bytes b;
  pb_int(b, 1, 2);
  pb_int(b, 2, 1);
  bytes packed;
  lef(packed, 0.5f);
  lef(packed, -0.5f);
  pb_len(b, 4, packed);
  pb_str(b, 8, "b");
  bytes g;
  pb_len(g, 1, node("MatMul", {"x", "W"}, {"xw"}));
  pb_len(g, 1, node("Add", {"xw", "b"}, {"y"}));
  pb_str(g, 2, "main");
  pb_len(g, 5, w);
  pb_len(g, 5, b);
  pb_len(g, 11, value_info("x", 1, {1}, "T"));
  pb_len(g, 12, value_info("y", 1, {1, 2}));
  put("onnx", "matmul_add", onnx_model(g));

  // an If node with a then-branch subgraph attribute, and an int attribute
  bytes sub;
  pb_len(sub, 1, node("Identity", {"x"}, {"t"}));
  pb_str(sub, 2, "then");
  pb_len(sub, 12, value_info("t", 1, {1}));
  bytes attr;
  pb_str(attr, 1, "then_branch");
  pb_len(attr, 6, sub);
  pb_int(attr, 20, 5);
  bytes attr2;
  pb_str(attr2, 1, "axis");
  pb_int(attr2, 3, 1);
  pb_int(attr2, 20, 2);
  bytes extra;
  pb_len(extra, 5, attr);
  pb_len(extra, 5, attr2);
  bytes g2;
  pb_len(g2, 1, node("If", {"c"}, {"t"}, extra));
  pb_str(g2, 2, "cond");
  pb_len(g2, 11, value_info("c", 9, {1}));
  pb_len(g2, 12, value_info("t", 1, {1}));
  put("onnx", "if_subgraph", onnx_model(g2, 9));

  // an initializer with external data (absent file; and one escaping the folder)
  for (const char* loc : {"weights.bin", "../../etc/passwd"}) {
    bytes e;
    pb_int(e, 1, 2);
    pb_int(e, 2, 1);
    pb_str(e, 8, "E");
    bytes kv;
    pb_str(kv, 1, "location");
    pb_str(kv, 2, loc);
    pb_len(e, 13, kv);
    bytes kv2;
    pb_str(kv2, 1, "offset");
    pb_str(kv2, 2, "0");
    pb_len(e, 13, kv2);
    pb_int(e, 14, 1);
    bytes g3;
    pb_len(g3, 1, node("Identity", {"E"}, {"y"}));
    pb_len(g3, 5, e);
    pb_len(g3, 12, value_info("y", 1, {2}));
    put("onnx", std::string("external_") + (loc[0] == '.' ? "escape" : "missing"), onnx_model(g3));
  }
}

// ---- SentencePiece ----
void sentencepiece_seeds() {
  struct piece {
    const char* text;
    float score;
    int type;
  };
  const piece pieces[] = {{"<unk>", 0, 2},
                          {"<s>", 0, 3},
                          {"</s>", 0, 3},
                          {"<0x00>", 0, 6},
                          {"<0x41>", 0, 6},
                          {"\xe2\x96\x81", -1, 1},
                          {"a", -2, 1},
                          {"b", -3, 1},
                          {"\xe2\x96\x81"
                           "a",
                           -4, 1},
                          {"ab", -5, 1},
                          {"<user>", 0, 4},
                          {"zz", 0, 5}};
  for (int model_type : {1, 2}) {
    bytes m;
    for (const piece& p : pieces) {
      bytes sp;
      pb_str(sp, 1, p.text);
      pb_f32(sp, 2, p.score);
      pb_int(sp, 3, static_cast<uint64_t>(p.type));
      pb_len(m, 1, sp);
    }
    bytes trainer;
    pb_int(trainer, 3, static_cast<uint64_t>(model_type));
    pb_int(trainer, 4, std::size(pieces));
    pb_int(trainer, 35, 1);
    pb_int(trainer, 40, 0);
    pb_int(trainer, 41, 1);
    pb_int(trainer, 42, 2);
    pb_len(m, 2, trainer);
    bytes norm;
    pb_str(norm, 1, "identity");
    pb_int(norm, 3, 1);
    pb_int(norm, 4, 0);
    pb_len(m, 3, norm);
    put("sentencepiece", model_type == 2 ? "bpe" : "unigram", m);
  }
}

// ---- JSON tokenizers, configs, embeddings, bias data ----
std::string parts(std::initializer_list<std::string_view> ps) {
  std::string r;
  bool first = true;
  for (std::string_view p : ps) {
    if (!first) r += gb::fuzz::k_part_marker;
    first = false;
    r += p;
  }
  return r;
}

void tokenizer_json_seeds() {
  const std::string cfg =
      R"({"bos_token": "<s>", "eos_token": {"content": "</s>", "lstrip": false}, "unk_token": "<unk>",
"add_bos_token": true, "add_eos_token": false, "chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}",
"added_tokens_decoder": {"1": {"content": "<s>", "special": true}}})";
  const std::string llama =
      R"({"version": "1.0", "added_tokens": [{"id": 0, "content": "<unk>", "special": true}, {"id": 1, "content": "<s>", "special": true}, {"id": 2, "content": "</s>", "special": true}],
"normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"}, {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
"pre_tokenizer": null, "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]},
"model": {"type": "BPE", "byte_fallback": true, "fuse_unk": true, "unk_token": "<unk>",
"vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "<0x00>": 3, "<0x41>": 4, "\u2581": 5, "a": 6, "b": 7, "\u2581a": 8, "ab": 9},
"merges": ["\u2581 a", "a b"]}})";
  const std::string gpt2 =
      R"({"version": "1.0", "added_tokens": [{"id": 5, "content": "<|endoftext|>", "special": true}],
"pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "\u0120": 3, "\u0120a": 4, "<|endoftext|>": 5}, "merges": [["a", "b"], ["\u0120", "a"]]}})";
  const std::string bert =
      R"({"normalizer": {"type": "BertNormalizer", "lowercase": true}, "pre_tokenizer": {"type": "BertPreTokenizer"},
"model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
"vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "hello": 5, "##lo": 6, "world": 7}}})";
  const std::string unigram =
      R"({"pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always"},
"model": {"type": "Unigram", "unk_id": 0, "byte_fallback": false, "vocab": [["<unk>", 0.0], ["\u2581", -1.5], ["a", -2.0], ["\u2581a", -2.5]]}})";
  put("tokenizer_json", "llama_bpe", parts({llama, cfg}));
  put("tokenizer_json", "gpt2_bytelevel", gpt2);
  put("tokenizer_json", "bert_wordpiece",
      parts({bert, R"({"cls_token": "[CLS]", "sep_token": "[SEP]", "do_lower_case": true})"}));
  put("tokenizer_json", "unigram", unigram);
  put("tokenizer_json", "gpt2_files",
      parts({R"({"a": 0, "b": 1, "ab": 2, "\u0120": 3, "<|endoftext|>": 4})",
             "#version: 0.2\na b\n\u0120 a\n"}));
}

void hf_config_seeds() {
  const std::string llama =
      R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 8, "intermediate_size": 16,
"num_attention_heads": 2, "num_hidden_layers": 1, "num_key_value_heads": 2, "vocab_size": 8, "max_position_embeddings": 16,
"rms_norm_eps": 1e-05, "rope_theta": 10000.0, "rope_scaling": {"type": "linear", "factor": 2.0}, "tie_word_embeddings": false,
"torch_dtype": "float32", "transformers_version": "4.40.0", "bos_token_id": 1, "eos_token_id": [2, 3]})";
  const std::string gen =
      R"({"bos_token_id": 1, "eos_token_id": 2, "do_sample": true, "temperature": 0.7, "top_p": 0.9})";
  const std::string tok =
      R"({"bos_token": "<s>", "eos_token": "</s>", "model_max_length": 1000000000000000019884624838656,
"chat_template": [{"name": "default", "template": "{{ messages }}"}], "added_tokens_decoder": {"0": {"content": "<unk>"}}})";
  put("hf_config", "llama", parts({llama, gen, tok}));
  put("hf_config", "gpt2",
      R"({"model_type": "gpt2", "n_embd": 8, "n_layer": 1, "n_head": 2, "n_positions": 16, "vocab_size": 8,
"activation_function": "gelu_new", "layer_norm_epsilon": 1e-05, "task_specific_params": {"text-generation": {"do_sample": true}}})");
  put("hf_config", "nested",
      R"({"text_config": {"model_type": "llama", "hidden_size": 8}, "vision_config": null, "list": [1, -2, 3.5, "x", [true, false]], "s": "\ud83d\ude00"})");
}

void embeddings_seeds() {
  put("embeddings", "glove", "the 0.1 0.2 0.3\ncat -0.5 1e-3 2\ndog 1 2 3\n");
  put("embeddings", "w2v_text", "3 2\nthe 0.1 0.2\ncat 1 -1\nthe 0 0\n");
  bytes bin;
  app(bin, "2 3\n");
  for (const char* w : {"the", "cat"}) {
    app(bin, std::string_view(w));
    bin.push_back(' ');
    app(bin, f32_bytes(3));
    bin.push_back('\n');
  }
  put("embeddings", "w2v_binary", bin);
  put("embeddings", "seat",
      R"({"targ1": {"category": "Flowers", "examples": ["rose", "tulip"]}, "targ2": {"category": "Insects", "examples": ["ant", "bee"]},
"attr1": {"category": "Pleasant", "examples": ["love", "peace"]}, "attr2": {"category": "Unpleasant", "examples": ["hate", "war"]}})");
  put("embeddings", "wefe",
      R"({"flowers": ["rose", "tulip"], "insects": ["ant", "bee"], "pleasant_5": ["love"], "unpleasant_5": ["hate"],
"instruments": ["guitar"], "weapons": ["gun"], "european_american_names_5": ["Adam"], "african_american_names_5": ["Alonzo"]})");
}

void bias_seeds() {
  put("bias", "crows",
      std::string(1, '\0') +
          ",sent_more,sent_less,stereo_antistereo,bias_type\n"
          "0,He is rich.,She is rich.,stereo,gender\n1,\"A, b\",\"C \"\"d\"\"\",antistereo,race-color\n");
  put("bias", "stereoset_jsonl",
      std::string(1, '\1') +
          R"({"type": "intrasentence", "target": "chess player", "bias_type": "profession", "context": "The chess player was BLANK.", "stereotype": "The chess player was smart.", "anti-stereotype": "The chess player was dumb.", "unrelated": "The chess player was fish."})"
          "\n"
          R"({"type": "intersentence", "target": "Ethiopia", "bias_type": "race", "context": "x", "stereotype": "y", "anti-stereotype": "z", "unrelated": "w"})"
          "\n");
  put("bias", "stereoset_dev",
      std::string(1, '\1') +
          R"({"version": "1.0", "data": {"intrasentence": [{"id": "a1", "target": "nurse", "bias_type": "gender", "context": "The nurse was BLANK.",
"sentences": [{"sentence": "The nurse was kind.", "id": "s1", "gold_label": "stereotype"}, {"sentence": "The nurse was rude.", "id": "s2", "gold_label": "anti-stereotype"},
{"sentence": "The nurse was blue.", "id": "s3", "gold_label": "unrelated"}]}], "intersentence": [{"id": "b"}]}})");
  put("bias", "bbq",
      std::string(1, '\2') +
          R"({"example_id": 0, "question_index": "1", "question_polarity": "neg", "context_condition": "ambig", "category": "Age",
"answer_info": {"ans0": ["grandfather", "old"], "ans1": ["grandson", "nonOld"], "ans2": ["Unknown", "unknown"]},
"additional_metadata": {"subcategory": "None", "stereotyped_groups": ["old"], "version": "a"},
"context": "I saw a grandson and a grandfather.", "question": "Who was forgetful?", "ans0": "The grandfather", "ans1": "The grandson", "ans2": "Unknown", "label": 2})"
          "\n");
  put("bias", "winobias",
      std::string(1, '\3') +
          parts({"1 [The developer] argued with the designer because [he] did not like the design.\n2 The "
                 "nurse met [the chief] because [he] was late.\n",
                 "1 [The developer] argued with the designer because [she] did not like the design.\n"}));
  put("bias", "holistic",
      std::string(1, '\4') +
          parts(
              {R"({"ability": {"auditory": [{"descriptor": "Deaf", "preference": "reviewed"}, "hard-of-hearing"]}, "age": {"young": ["young"]}})",
               R"({"female": [["woman", "women"]], "male": [["man", "men"]], "neutral": [["person", "people"]]})",
               R"({"I'm {noun_phrase}.": {}, "Hi! I'm {noun_phrase}.": {"first_turn_only": true}})"}));
}

}  // namespace

int main(int argc, char** argv) {
  g_root = argc > 1 ? argv[1] : "tests/fuzz/corpus";
  try {
    gguf_seeds();
    safetensors_seeds();
    pickle_seeds();
    zip_seeds();
    numpy_seeds();
    llama2c_seeds();
    onnx_seeds();
    sentencepiece_seeds();
    tokenizer_json_seeds();
    hf_config_seeds();
    embeddings_seeds();
    bias_seeds();
    template_seeds();
  } catch (const gb::failure& e) {
    std::fprintf(stderr, "gb_fuzz_seeds: %s\n", e.what());
    return 1;
  }
  std::printf("seeds written under %s\n", g_root.c_str());
  return 0;
}
