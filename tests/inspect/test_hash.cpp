// Digests: SHA-256 vectors, the gb-tensor-v1 definition rebuilt by hand, layout independence, stories260K
// in four containers, manifest + verify, and the CLI (hash, verify, truncated file).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <map>

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

}  // namespace

TEST_CASE("sha256: FIPS 180-2 vectors and chunked file hashing") {
  CHECK(gb::digest_hex(gb::sha256_of("abc", 3)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(gb::digest_hex(gb::sha256_of("", 0)) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  std::vector<uint8_t> big(9u << 20);  // spans three 4 MiB reads
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
  const std::string dir = gb::test::temp_dir("hash_file");
  gb::test::write_file(dir + "/big.bin", big.data(), big.size());
  CHECK(gb::file_sha256(dir + "/big.bin") == gb::sha256_of(big.data(), big.size()));
  // The in-place hash over the map (what `hash` uses) gives the same digest, odd tail included.
  gb::test::write_file(dir + "/odd.bin", big.data(), big.size() - 12345);
  CHECK(gb::mapped_sha256(*gb::mapped_file::open(dir + "/odd.bin")) == gb::sha256_of(big.data(), big.size() - 12345));
}

TEST_CASE("hash: tensor digest follows the documented gb-tensor-v1 byte layout") {
  std::vector<float> v = gbt::gaussian(6 * 4, 5);
  gbt::mem_model m;
  m.add("blk.0.attn.q.weight", gb::dtype::f32, {6, 4}, v, 0);
  m.finish();
  gb::hash_report h = gb::hash_model(m.items, {}, {});
  REQUIRE(h.tensors.size() == 1);
  // values = SHA-256(f32 bytes); tensor = SHA-256("gb-tensor-v1\0" name "\0" "f32" "\0" u64 rank, i64 dims, values)
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
  CHECK(ref.size() == 47);  // 5 x 9 layer tensors + embedding + output norm; the tied output copy is not counted
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
    gb::synth_spec s;
    s.arch = arch;
    s.n_layer = 2;
    s.n_embd = 64;
    s.n_head = 4;
    s.n_vocab = 300;
    s.seed = 5;
    if (arch == "falcon") s.n_head_kv = 1;  // HF Falcon is written multi-query only
    s.path = dir + "/" + arch + ".gguf";
    gb::result<gb::synth_report> w = gb::synth_write(s);
    REQUIRE_MESSAGE(w.ok(), (w.ok() ? "" : w.err().to_string()));
    s.format = gb::synth_format::hf;
    s.path = dir + "/" + arch + "-hf";
    w = gb::synth_write(s);
    REQUIRE_MESSAGE(w.ok(), (w.ok() ? "" : w.err().to_string()));
    gb::hash_report g = hash_path(dir + "/" + arch + ".gguf"), h = hash_path(dir + "/" + arch + "-hf");
    auto dg = digests_by_name(g), dh = digests_by_name(h);
    CHECK(dg.size() == dh.size());
    for (const auto& [name, d] : dg) {
      CAPTURE(name);
      CHECK(dh[name] == d);
    }
    CHECK(g.root_hex == h.root_hex);
  }
}
