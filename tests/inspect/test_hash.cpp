// Digests: SHA-256 vectors, the gb-tensor-v1 definition rebuilt by hand, layout independence, stories260K
// in four containers, manifest + verify, and the CLI (hash, verify, truncated file).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "inspect/hash.h"
#include "inspect/synth.h"
#include "tests/inspect/integrity_fixture.h"
#include "tests/support/data.h"

namespace {

std::map<std::string, std::string> digests_by_name(const gb::hash_report& h) {
  std::map<std::string, std::string> m;
  for (const auto& t : h.tensors)
    if (t.excluded.empty()) m[t.name] = t.digest_hex;
  return m;
}

gb::hash_report hash_path(const std::string& path) {
  gb::result<gb::integrity_input> in = gb::integrity_open(path);
  REQUIRE_MESSAGE(in.ok(), (in.ok() ? "" : in.err().to_string()));
  gb::hash_report h = gb::hash_model(in.value().items, in.value().ar->files, {});
  return h;
}

// One synth spec written as DIR/ARCH.gguf and as the HF folder DIR/ARCH-hf; returns the two paths.
std::pair<std::string, std::string> synth_both(const std::string& dir, const std::string& arch,
                                               uint64_t seed) {
  gb::synth_spec s;
  s.arch = arch;
  s.n_layer = 2;
  s.n_embd = 64;
  s.n_head = 4;
  s.n_vocab = 300;
  s.seed = seed;
  if (arch == "falcon") s.n_head_kv = 1;  // HF Falcon is written multi-query only
  s.path = dir + "/" + arch + ".gguf";
  gb::result<gb::synth_report> w = gb::synth_write(s);
  REQUIRE_MESSAGE(w.ok(), (w.ok() ? "" : w.err().to_string()));
  s.format = gb::synth_format::hf;
  s.path = dir + "/" + arch + "-hf";
  w = gb::synth_write(s);
  REQUIRE_MESSAGE(w.ok(), (w.ok() ? "" : w.err().to_string()));
  return {dir + "/" + arch + ".gguf", s.path};
}

// Every counted tensor digest and the root agree.
void check_same_digests(const gb::hash_report& g, const gb::hash_report& h) {
  auto dg = digests_by_name(g), dh = digests_by_name(h);
  CHECK(dg.size() == dh.size());
  for (const auto& [name, d] : dg) {
    CAPTURE(name);
    CHECK(dh[name] == d);
  }
  CHECK(g.root_hex == h.root_hex);
}

}  // namespace

TEST_CASE("sha256: FIPS 180-2 vectors and chunked file hashing") {
  CHECK(gb::digest_hex(gb::sha256_of("abc", 3)) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(gb::digest_hex(gb::sha256_of("", 0)) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  std::vector<uint8_t> big(9u << 20);  // spans three 4 MiB reads
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
  const std::string dir = gb::test::temp_dir("hash_file");
  gb::test::write_file(dir + "/big.bin", big.data(), big.size());
  CHECK(gb::file_sha256(dir + "/big.bin") == gb::sha256_of(big.data(), big.size()));
  // The in-place hash over the map (what `hash` uses) gives the same digest, odd tail included.
  gb::test::write_file(dir + "/odd.bin", big.data(), big.size() - 12345);
  CHECK(gb::mapped_sha256(*gb::mapped_file::open(dir + "/odd.bin")) ==
        gb::sha256_of(big.data(), big.size() - 12345));
  // The path replaced after mapping by another file of the same size and the same bytes but the last (a swap
  // no look at the header can tell): the digest is still the mapped bytes', never the new file's.
  const auto mapped = gb::mapped_file::open(dir + "/big.bin");
  std::vector<uint8_t> other = big;
  other.back() ^= 1;
  gb::test::write_file(dir + "/other.bin", other.data(), other.size());
  REQUIRE(std::rename((dir + "/other.bin").c_str(), (dir + "/big.bin").c_str()) == 0);
  CHECK(gb::mapped_sha256(*mapped) == gb::sha256_of(big.data(), big.size()));
  CHECK(gb::file_sha256(dir + "/big.bin") == gb::sha256_of(other.data(), other.size()));
}

TEST_CASE("hash: tensor digest follows the documented gb-tensor-v1 byte layout") {
  std::vector<float> v = gbt::gaussian(6 * 4, 5);
  gbt::mem_model m;
  m.add("blk.0.attn.q.weight", gb::dtype::f32, {6, 4}, v, 0);
  m.finish();
  gb::hash_report h = gb::hash_model(m.items, {}, {});
  REQUIRE(h.tensors.size() == 1);
  // values = SHA-256(f32 bytes); tensor = SHA-256("gb-tensor-v1\0" name "\0" "f32" "\0" u64 rank, i64 dims,
  // values)
  gb::digest values = gb::sha256_of(v.data(), v.size() * 4);
  std::string buf("gb-tensor-v1", 12);
  buf.push_back('\0');
  buf += "blk.0.attn.q.weight";
  buf.push_back('\0');
  buf += "f32";
  buf.push_back('\0');
  uint64_t rank = 2;
  int64_t d0 = 6, d1 = 4;
  buf.append(reinterpret_cast<const char*>(&rank), 8);
  buf.append(reinterpret_cast<const char*>(&d0), 8);
  buf.append(reinterpret_cast<const char*>(&d1), 8);
  buf.append(reinterpret_cast<const char*>(values.data()), 32);
  gb::digest want = gb::sha256_of(buf.data(), buf.size());
  CHECK(h.tensors[0].values_hex == gb::digest_hex(values));
  CHECK(h.tensors[0].digest_hex == gb::digest_hex(want));
  // root = SHA-256("gb-root-v1\0" + tensor digests sorted by name)
  std::string rb("gb-root-v1", 10);
  rb.push_back('\0');
  rb.append(reinterpret_cast<const char*>(want.data()), 32);
  CHECK(h.root_hex == gb::digest_hex(gb::sha256_of(rb.data(), rb.size())));
}

TEST_CASE("hash: a dtype change is a different digest; a tied copy and rope_freqs are not counted") {
  std::vector<float> v = gbt::gaussian(64 * 32, 8);
  gbt::mem_model a, b;
  a.add("tok_embd.weight", gb::dtype::f32, {64, 32}, v);
  b.add("tok_embd.weight", gb::dtype::f16, {64, 32}, v);
  b.add("output.weight", gb::dtype::f16, {64, 32}, v);
  b.add("rope_freqs.weight", gb::dtype::f32, {32}, gbt::gaussian(32, 1));
  a.finish();
  b.finish();
  b.items[2].excluded = "precomputed RoPE table";
  gb::hash_report ha = gb::hash_model(a.items, {}, {}), hb = gb::hash_model(b.items, {}, {});
  CHECK(ha.tensors[0].digest_hex != hb.tensors[0].digest_hex);
  CHECK(hb.counted == 1);
  CHECK(hb.tensors[1].excluded.find("tied") != std::string::npos);
  CHECK_FALSE(hb.tensors[2].excluded.empty());
}

TEST_CASE("hash: stories260K GGUF v1, GGUF v3, llama2.c and HF safetensors give equal canonical digests") {
  GB_DATA(v3, "models/stories260K/stories260K.gguf");
  GB_DATA(v1, "models/stories260K/tinyllamas-stories-260k-f32.ggufv1.gguf");
  GB_DATA(bin, "models/stories260K/stories260K.bin");
  GB_DATA(hf, "models/stories260K/hf");
  gb::hash_report h3 = hash_path(v3);
  auto ref = digests_by_name(h3);
  CHECK(ref.size() ==
        47);  // 5 x 9 layer tensors + embedding + output norm; the tied output copy is not counted
  CHECK(ref.count("blk.4.attn.q.weight"));
  for (const std::string& p : {v1, bin, hf}) {
    CAPTURE(p);
    gb::hash_report h = hash_path(p);
    auto got = digests_by_name(h);
    CHECK(got.size() == ref.size());
    for (const auto& [name, d] : ref) {
      CAPTURE(name);
      CHECK(got[name] == d);
    }
    CHECK(h.root_hex == h3.root_hex);
  }
}

TEST_CASE("manifest: verify passes on the same model and names every changed tensor") {
  gbt::mem_model a, b;
  gbt::llama_like(a, 1, gb::dtype::f32, {}, 0.1f, 3);
  gbt::llama_like(b, 1, gb::dtype::f32, {1}, 0.1f, 3);
  a.finish();
  b.finish();
  gb::hash_report ha = gb::hash_model(a.items, {}, {}), hb = gb::hash_model(b.items, {}, {});
  const std::string man = gb::manifest_json(ha, "glassbox hash test");
  nlohmann::json j = nlohmann::json::parse(man);
  CHECK(j["tool"] == "glassbox");
  CHECK(j["digest_scheme"] == "gb-tensor-v1");
  CHECK(j["root"] == ha.root_hex);
  CHECK(j.contains("time"));
  gb::verify_report same = gb::manifest_verify(man, ha);
  CHECK(same.changed.empty());
  CHECK(same.root_equal);
  gb::verify_report v = gb::manifest_verify(man, hb);
  CHECK_FALSE(v.root_equal);
  CHECK(v.changed.size() == 7);  // the seven matrices of layer 1
  for (const std::string& c : v.changed) CHECK(c.find("blk.1.") != std::string::npos);
  CHECK_THROWS_AS(gb::manifest_verify("{not json", ha), gb::failure);
  try {
    gb::manifest_verify("{\"x\": 1}", ha);
  } catch (const gb::failure& f) {
    CHECK(f.err().code == gb::errc::bad_json);
  }
}

TEST_CASE("cli: hash writes a manifest, verify accepts it and rejects a modified copy; truncation exits 3") {
  GB_DATA(v3, "models/stories260K/stories260K.gguf");
  const std::string dir = gb::test::temp_dir("hash_cli");
  std::string out;
  CHECK(gb::test::run_glassbox("hash " + v3 + " -o " + dir + "/m.json", &out) == 0);
  CHECK(out.find("root ") != std::string::npos);
  out.clear();
  CHECK(gb::test::run_glassbox("verify " + dir + "/m.json " + v3, &out) == 0);
  CHECK(out.find("OK") != std::string::npos);
  // Flip one byte inside the last tensor's data: verify names the tensor and the file, exit 1.
  std::vector<uint8_t> bytes = gb::test::read_file(v3);
  bytes[bytes.size() - 100] ^= 0x40;
  gb::test::write_file(dir + "/stories260K.gguf", bytes.data(), bytes.size());
  out.clear();
  CHECK(gb::test::run_glassbox("verify " + dir + "/m.json " + dir + "/stories260K.gguf", &out) == 1);
  CHECK(out.find("CHANGED tensor") != std::string::npos);
  CHECK(out.find("CHANGED file stories260K.gguf") != std::string::npos);
  // Truncated: the error names a tensor and exits 3.
  gb::test::write_file(dir + "/cut.gguf", bytes.data(), bytes.size() - 5000);
  out.clear();
  CHECK(gb::test::run_glassbox("hash " + dir + "/cut.gguf", &out, true) == 3);
  CHECK(out.find("blk.") != std::string::npos);
}

TEST_CASE("hash: synth GGUF and HF folders of every architecture hold equal canonical digests") {
  const std::string dir = gb::test::temp_dir("hash_synth");
  for (const std::string& arch : gb::synth_architectures()) {
    CAPTURE(arch);
    const auto [gguf, hf] = synth_both(dir, arch, 5);
    check_same_digests(hash_path(gguf), hash_path(hf));
  }
}

// Gemma's RMSNorm gains: a Hugging Face checkpoint stores w and applies (1 + w); llama.cpp's converter writes
// 1 + w into the GGUF. synth writes each file in its own convention; the canonical reader maps w -> 1 + w.
TEST_CASE("Gemma: a Hugging Face folder storing norm gains w gives its GGUF's (1 + w) stats and digests") {
  const std::string dir = gb::test::temp_dir("hash_gemma");
  const auto [gguf, hf] = synth_both(dir, "gemma", 9);
  gb::result<gb::integrity_input> g = gb::integrity_open(gguf), h = gb::integrity_open(hf);
  REQUIRE(g.ok());
  REQUIRE(h.ok());
  std::map<std::string, const gb::tensor_item*> gi;
  for (const gb::tensor_item& it : g.value().items) {
    CHECK_FALSE(it.plus_one);  // GGUF already holds 1 + w
    gi[it.name] = &it;
  }

  // The folder holds the checkpoint convention: every gain is stored as w = (GGUF value) - 1, near 0.
  size_t norms = 0;
  for (const gb::tensor_item& it : h.value().items) {
    if (!it.plus_one) continue;
    CAPTURE(it.stored_name);
    ++norms;
    REQUIRE(gi.count(it.name));
    const gb::tensor_view &hv = *it.view, &gv = *gi[it.name]->view;
    REQUIRE(hv.type == gb::dtype::f32);
    REQUIRE(gv.type == gb::dtype::f32);
    REQUIRE(hv.nbytes == gv.nbytes);
    double mean_w = 0;
    for (size_t i = 0; i < hv.nbytes / 4; ++i) {
      float w, v;
      std::memcpy(&w, hv.data + 4 * i, 4);
      std::memcpy(&v, gv.data + 4 * i, 4);
      CHECK(1.0f + w == v);
      mean_w += static_cast<double>(w) / static_cast<double>(hv.nbytes / 4);
    }
    CHECK(std::fabs(mean_w) < 0.05);
  }
  CHECK(norms == 2 * 2 + 1);  // attn_norm and ffn_norm per layer, output_norm

  // Statistics: the same numbers tensor by tensor, value digests included.
  gb::stats_report sg = gb::stats_compute(g.value().items, {}), sh = gb::stats_compute(h.value().items, {});
  std::map<std::string, const gb::tensor_stats*> by_name;
  for (const gb::tensor_stats& t : sh.tensors) by_name[t.name] = &t;
  REQUIRE(sg.tensors.size() == sh.tensors.size());
  for (const gb::tensor_stats& t : sg.tensors) {
    CAPTURE(t.name);
    REQUIRE(by_name.count(t.name));
    const gb::tensor_stats& u = *by_name[t.name];
    CHECK(u.values_hex == t.values_hex);
    CHECK(u.mean == t.mean);
    CHECK(u.std == t.std);
    CHECK(u.min == t.min);
    CHECK(u.max == t.max);
    CHECK(u.l2 == t.l2);
  }
  // Digests: every tensor and the root.
  const gb::hash_report hg = gb::hash_model(g.value().items, g.value().ar->files, {});
  check_same_digests(hg, gb::hash_model(h.value().items, h.value().ar->files, {}));
  auto dg = digests_by_name(hg);

  // Control: read as stored (no mapping), the norm gains are different numbers with different digests.
  std::vector<gb::tensor_item> raw = h.value().items;
  for (gb::tensor_item& it : raw) it.plus_one = false;
  auto draw = digests_by_name(gb::hash_model(raw, h.value().ar->files, {}));
  CHECK(draw["output_norm.weight"] != dg["output_norm.weight"]);
  CHECK(draw["blk.1.attn_norm.weight"] != dg["blk.1.attn_norm.weight"]);
  CHECK(draw["blk.1.attn.q.weight"] == dg["blk.1.attn.q.weight"]);
}

TEST_CASE(
    "tensor_reader: Gemma HF gains get the converter's 1 + w: f32 bytes and values, f16 in f16, bf16 in "
    "f32") {
  std::vector<float> w = gbt::gaussian(64, 3, 0.3f);
  w[0] = 0.0f;
  w[1] = -1.0f;
  w[2] = 0.25f;
  w[3] = 3e-4f;  // f16: 1 + w rounds back to 1 (step 2^-10 near 1); f32 and bf16 keep it
  w[4] = 7e-4f;  // f16: rounds up to 1 + 2^-10
  gbt::mem_model m;
  m.add("blk.0.attn_norm.weight", gb::dtype::f32, {64}, w, 0);
  m.add("blk.0.ffn_norm.weight", gb::dtype::f16, {64}, w, 0);
  m.add("output_norm.weight", gb::dtype::bf16, {64}, w);
  m.finish();
  const std::vector<gb::tensor_item> stored = m.items;  // the same tensors read as stored
  for (gb::tensor_item& it : m.items) it.plus_one = true;
  std::vector<float> scratch(64);

  gb::tensor_reader f32(m.items[0]);
  CHECK_FALSE(f32.direct());
  const float* x = f32.row_f32(0, scratch.data());
  std::vector<float> onep(64);
  for (size_t i = 0; i < 64; ++i) {
    onep[i] = 1.0f + w[i];
    CHECK(x[i] == onep[i]);
  }
  CHECK(x[1] == 0.0f);
  CHECK(x[2] == 1.25f);
  CHECK(x[3] > 1.0f);
  CHECK(std::memcmp(f32.row_raw(0), onep.data(), 64 * 4) == 0);  // hashed bytes are 1 + w

  gb::tensor_reader f16(m.items[1]);
  x = f16.row_f32(0, scratch.data());
  CHECK(x[0] == 1.0f);
  CHECK(x[1] == 0.0f);
  CHECK(x[2] == 1.25f);
  CHECK(x[3] == 1.0f);
  CHECK(x[4] == 1.0f + 1.0f / 1024.0f);
  for (size_t i = 0; i < 64; ++i) {
    const float wi = gb::fp16_to_f32(gb::f32_to_fp16(w[i]));
    CHECK(x[i] == gb::fp16_to_f32(gb::f32_to_fp16(1.0f + wi)));
  }
  CHECK(std::memcmp(f16.row_raw(0), m.entries[1].bytes.data(), 64 * 2) == 0);  // stored bytes kept

  gb::tensor_reader bf16(m.items[2]);
  x = bf16.row_f32(0, scratch.data());
  CHECK(x[2] == 1.25f);
  CHECK(x[3] > 1.0f);
  CHECK(std::fabs(x[3] - 1.0003f) < 2e-6f);
  for (size_t i = 0; i < 64; ++i) CHECK(x[i] == 1.0f + gb::bf16_to_f32(gb::f32_to_bf16(w[i])));
  CHECK(std::memcmp(bf16.row_raw(0), m.entries[2].bytes.data(), 64 * 2) == 0);

  // Digests: the f32 gain hashes as the GGUF tensor holding 1 + w; f16 / bf16 hash their stored bytes.
  gbt::mem_model gguf;
  gguf.add("blk.0.attn_norm.weight", gb::dtype::f32, {64}, onep, 0);
  gguf.finish();
  auto hm = digests_by_name(gb::hash_model(m.items, {}, {})),
       hs = digests_by_name(gb::hash_model(stored, {}, {}));
  auto hg = digests_by_name(gb::hash_model(gguf.items, {}, {}));
  CHECK(hm["blk.0.attn_norm.weight"] == hg["blk.0.attn_norm.weight"]);
  CHECK(hs["blk.0.attn_norm.weight"] != hg["blk.0.attn_norm.weight"]);
  CHECK(hm["blk.0.ffn_norm.weight"] == hs["blk.0.ffn_norm.weight"]);
  CHECK(hm["output_norm.weight"] == hs["output_norm.weight"]);
  // Statistics see the canonical values for every dtype.
  gb::stats_report st = gb::stats_compute(m.items, {});
  for (const gb::tensor_stats& t : st.tensors) CHECK(t.mean > 0.5);
}

TEST_CASE("hash --no-file-hash reads no file whole: the OMS subject digest is skipped and says why") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  std::string with, without;
  REQUIRE(gb::test::run_glassbox("hash --json " + model, &with) == 0);
  REQUIRE(gb::test::run_glassbox("hash --no-file-hash --json " + model, &without) == 0);
  const nlohmann::json a = nlohmann::json::parse(with), b = nlohmann::json::parse(without);
  CHECK(a["oms_subject"]["digest"].get<std::string>().size() == 64);
  CHECK(a["inputs"]["files"][0]["sha256"].get<std::string>().size() == 64);
  CHECK(b["oms_subject"]["digest"].get<std::string>().empty());
  CHECK(b["oms_subject"]["error"].get<std::string>().find("--no-file-hash") != std::string::npos);
  CHECK(b["inputs"]["files"][0]["sha256"].get<std::string>().empty());
  CHECK(a["root"] == b["root"]);  // the weights' digests do not depend on the file hashes
  CHECK(a["tensors"] == b["tensors"]);
}
