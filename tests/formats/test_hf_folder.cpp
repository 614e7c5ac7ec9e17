// Hugging Face folders: the stories260K HF export, and folders built on disk with bad or escaping files.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/archive.h"
#include "tests/support/data.h"

using namespace gb;
namespace fs = std::filesystem;

namespace {

bool has_file(const archive& a, const std::string& name, const std::string& role) {
  for (const auto& f : a.files)
    if (fs::path(f.path).filename() == name && f.role == role) return true;
  return false;
}

bool has_finding(const archive& a, const std::string& code) {
  for (const auto& f : a.findings)
    if (f.code == code) return true;
  return false;
}

// A small valid llama2.c legacy checkpoint (dim 8, hidden 12, 1 layer, 2 heads, 2 kv heads, vocab 4, seq 2).
std::vector<uint8_t> tiny_llama2c() {
  const int32_t h[7] = {8, 12, 1, 2, 2, 4, 2};
  const size_t floats = 4 * 8 + 8 + 4 * 8 * 8 + 8 + 3 * 8 * 12 + 8 + 2 * 2 * 2;
  std::vector<uint8_t> b(28 + 4 * floats, 0);
  std::memcpy(b.data(), h, 28);
  return b;
}

}  // namespace

TEST_CASE("hf folder: stories260K HF export") {
  GB_DATA(dir, "models/stories260K/hf");
  auto r = archive_open(dir);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  const archive& a = r.value();
  CHECK(a.format == file_format::hf_folder);
  CHECK(a.format_version.empty());  // config.json carries no transformers_version
  CHECK(a.meta("config.model_type")->as_string() == "llama");
  CHECK(a.meta("config.hidden_size")->as_int() == 64);
  CHECK(a.meta("config.num_key_value_heads")->as_int() == 4);
  CHECK(a.meta("config.architectures")->arr.size() == 1u);
  CHECK(a.meta("tokenizer_config.add_bos_token")->as_bool() == true);
  REQUIRE(a.tokenizer);
  CHECK(a.tokenizer->size() == 512u);
  CHECK(a.tokenizer->source == "tokenizer.json");
  CHECK(a.tokenizer->bos_id == 1);
  CHECK(a.tokenizer->eos_id == 2);
  CHECK(has_file(a, "config.json", "config"));
  CHECK(has_file(a, "tokenizer.json", "tokenizer"));
  CHECK(has_file(a, "tokenizer.model", "tokenizer"));
  CHECK(has_file(a, "tokenizer_config.json", "tokenizer"));
  CHECK(has_file(a, "model.safetensors", "weights"));
  CHECK(has_file(a, "tokenizer_tests.json", "other"));
  // Independent count of the safetensors header entries.
  std::vector<uint8_t> st = test::read_file(dir + "/model.safetensors");
  uint64_t n;
  std::memcpy(&n, st.data(), 8);
  auto header = nlohmann::json::parse(st.begin() + 8, st.begin() + 8 + static_cast<long>(n));
  size_t count = header.size() - (header.contains("__metadata__") ? 1 : 0);
  CHECK(a.tensors.size() == count);
  CHECK(a.tensor("model.embed_tokens.weight") != nullptr);
}

TEST_CASE("hf folder: config, generation and tokenizer configs become metadata") {
  std::string dir = test::temp_dir("hf_meta");
  test::write_file(dir + "/config.json",
                   R"({"model_type": "llama", "rope_scaling": {"type": "linear", "factor": 2.0},
                       "transformers_version": "4.40.0", "architectures": ["LlamaForCausalLM"]})");
  test::write_file(dir + "/generation_config.json", R"({"temperature": 0.6, "do_sample": true})");
  test::write_file(dir + "/tokenizer_config.json",
                   R"({"chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}",
                       "added_tokens_decoder": {"0": {"content": "<unk>"}}})");
  auto r = archive_open(dir);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  const archive& a = r.value();
  CHECK(a.format == file_format::hf_folder);
  CHECK(a.format_version == "4.40.0");
  CHECK(a.meta("config.rope_scaling.factor")->as_double() == 2.0);
  CHECK(a.meta("config.rope_scaling.type")->as_string() == "linear");
  CHECK(a.meta("generation_config.do_sample")->as_bool() == true);
  CHECK(a.meta("tokenizer_config.chat_template")->as_string()->find("{% for") == 0u);
  CHECK(a.meta("tokenizer_config.added_tokens_decoder")->k == meta_value::kind::object);
  CHECK(has_finding(a, "hf_folder.no_weights"));
  CHECK(a.tokenizer == nullptr);
}

TEST_CASE("hf folder: nothing recognisable") {
  std::string dir = test::temp_dir("hf_empty");
  auto r = archive_open(dir);
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::is_directory);
  CHECK(r.err().message.find("config.json") != std::string::npos);
  test::write_file(dir + "/notes.txt", "hello");
  auto r2 = archive_open(dir);
  REQUIRE(!r2.ok());
  CHECK(r2.err().code == errc::is_directory);
}

TEST_CASE("hf folder: one model file without config.json is opened") {
  std::string dir = test::temp_dir("hf_single");
  std::vector<uint8_t> b = tiny_llama2c();
  test::write_file(dir + "/model.bin", b.data(), b.size());
  test::write_file(dir + "/README.md", "tiny");
  auto r = archive_open(dir);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  CHECK(r.value().format == file_format::llama2c);
  CHECK(r.value().tensor("blk.0.ffn_up.weight") != nullptr);
  CHECK(has_file(r.value(), "README.md", "other"));

  test::write_file(dir + "/second.bin", b.data(), b.size());
  auto r2 = archive_open(dir);
  REQUIRE(!r2.ok());
  CHECK(r2.err().code == errc::is_directory);
  CHECK(r2.err().message.find("second.bin") != std::string::npos);
}

TEST_CASE("hf folder: files that leave the folder") {
  std::string outside = test::temp_dir("hf_outside");
  test::write_file(outside + "/config.json", R"({"model_type": "llama"})");
  std::string dir = test::temp_dir("hf_escape");
  fs::create_symlink(outside + "/config.json", dir + "/config.json");
  auto r = archive_open(dir);
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::path_escape);

  // A file we only list: a finding, not an error.
  std::string dir2 = test::temp_dir("hf_escape_other");
  test::write_file(dir2 + "/config.json", R"({"model_type": "llama"})");
  fs::create_symlink(outside + "/config.json", dir2 + "/notes.json");
  auto r2 = archive_open(dir2);
  REQUIRE(r2.ok());
  CHECK(has_finding(r2.value(), "hf_folder.symlink_escape"));

  // A shard name from an index that climbs out.
  std::string dir3 = test::temp_dir("hf_escape_shard");
  test::write_file(dir3 + "/config.json", R"({"model_type": "llama"})");
  test::write_file(dir3 + "/pytorch_model.bin.index.json", R"({"weight_map": {"w": "../hf_outside/x.bin"}})");
  auto r3 = archive_open(dir3);
  REQUIRE(!r3.ok());
  CHECK(r3.err().code == errc::path_escape);
}

TEST_CASE("hf folder: malformed config.json and tokenizer.json") {
  std::string dir = test::temp_dir("hf_badjson");
  test::write_file(dir + "/config.json", R"({"model_type": "llama",)");
  auto r = archive_open(dir);
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::bad_json);

  std::string dir2 = test::temp_dir("hf_badtok");
  test::write_file(dir2 + "/config.json", R"({"model_type": "llama"})");
  test::write_file(dir2 + "/tokenizer.json", R"({"model": {"type": "BPE", "vocab": [1, 2]}})");
  auto r2 = archive_open(dir2);
  REQUIRE(!r2.ok());
  CHECK(r2.err().code == errc::bad_json);
  CHECK(r2.err().where.find("tokenizer.json") != std::string::npos);
}

TEST_CASE("hf folder: pytorch_model.bin, plain and sharded") {
  GB_DATA(pt, "pickle-security/picklescan/data/pytorch_model.bin");
  std::vector<uint8_t> bytes = test::read_file(pt);  // copied at run time into a scratch folder
  std::string dir = test::temp_dir("hf_pt");
  test::write_file(dir + "/config.json", R"({"model_type": "gpt2"})");
  test::write_file(dir + "/pytorch_model.bin", bytes.data(), bytes.size());
  auto single = archive_open(pt);
  REQUIRE_MESSAGE(single.ok(), (single.ok() ? "" : single.err().to_string()));
  auto r = archive_open(dir);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  CHECK(r.value().format == file_format::hf_folder);
  CHECK(r.value().tensors.size() == single.value().tensors.size());
  CHECK(has_file(r.value(), "pytorch_model.bin", "weights"));

  // The same file as two shards: every tensor would be in both.
  std::string dir2 = test::temp_dir("hf_pt_shards");
  test::write_file(dir2 + "/config.json", R"({"model_type": "gpt2"})");
  test::write_file(dir2 + "/a.bin", bytes.data(), bytes.size());
  test::write_file(dir2 + "/b.bin", bytes.data(), bytes.size());
  std::string map;
  for (const auto& t : single.value().tensors)
    map += (map.empty() ? "\"" : ", \"") + t.name + "\": \"a.bin\"";
  test::write_file(dir2 + "/pytorch_model.bin.index.json",
                   "{\"weight_map\": {" + map + ", \"extra\": \"b.bin\"}}");
  auto r2 = archive_open(dir2);
  REQUIRE(!r2.ok());
  CHECK(r2.err().code == errc::mismatch);
  test::write_file(dir2 + "/pytorch_model.bin.index.json", R"({"weight_map": {"x": "a.bin", "y": "b.bin"}})");
  auto dup = archive_open(dir2);  // neither shard's tensors are mapped, and both shards hold the same names
  REQUIRE(!dup.ok());
  CHECK(dup.err().code == errc::duplicate);
  test::write_file(dir2 + "/pytorch_model.bin.index.json", "{\"weight_map\": {" + map + "}}");
  auto r3 = archive_open(dir2);
  REQUIRE_MESSAGE(r3.ok(), (r3.ok() ? "" : r3.err().to_string()));
  CHECK(r3.value().tensors.size() == single.value().tensors.size());
}
