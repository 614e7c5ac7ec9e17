// Real vocabularies against reference token ids: llama.cpp's test vectors (.inp/.out beside each vocab
// GGUF, no BOS), llama.cpp itself (npm node-llama-cpp) on every vocab GGUF including those without vectors,
// stories260K in every format it ships, GPT-2's original files, round trips, and the 1 MB speed budget.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "formats/archive.h"
#include "formats/tokenizer_files.h"
#include "probes/engine/tokenizer.h"
#include "tests/support/data.h"

using gb::engine::tokenizer;
namespace fs = std::filesystem;

namespace {

// Each vocabulary is read once per process: four cases walk every vocabulary, and loading the large ones
// (Qwen2, LLaMA 3 BPE: 6-8 MB) was half of this file's time under ASan.
const tokenizer& open_tokenizer(const std::string& path) {
  static std::map<std::string, tokenizer> opened;
  if (auto it = opened.find(path); it != opened.end()) return it->second;
  auto a = gb::archive_open(path);
  REQUIRE_MESSAGE(a.ok(), (a.ok() ? "" : a.err().to_string()));
  REQUIRE_MESSAGE(a.value().tokenizer != nullptr, path << " carries no tokenizer");
  auto t = tokenizer::create(*a.value().tokenizer);
  REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.err().to_string()));
  return opened.emplace(path, std::move(t.value())).first->second;
}

std::string join(const std::vector<int32_t>& ids) {
  std::string s;
  for (const int32_t id : ids) s += " " + std::to_string(id);
  return s;
}

std::vector<int32_t> json_ids(const nlohmann::json& j) {
  std::vector<int32_t> ids;
  for (const auto& x : j) ids.push_back(x.get<int32_t>());
  return ids;
}

// The texts of a llama.cpp .inp file (separated by "\n__ggml_vocab_test__\n").
std::vector<std::string> inp_texts(const std::string& inp) {
  std::vector<std::string> tests;
  const std::string sep = "\n__ggml_vocab_test__\n";
  for (size_t pos = 0;;) {
    const size_t hit = inp.find(sep, pos);
    if (hit == std::string::npos) break;
    tests.push_back(inp.substr(pos, hit - pos));
    pos = hit + sep.size();
  }
  return tests;
}

}  // namespace

TEST_CASE("llama.cpp vocab test vectors: every .inp/.out pair reproduces exactly") {
  GB_DATA(dir, "tokenizers/llama.cpp-vocab");
  std::vector<std::string> inputs;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".inp") inputs.push_back(e.path().string());
  }
  std::sort(inputs.begin(), inputs.end());
  CHECK(inputs.size() >= 7);
  for (const std::string& inp_path : inputs) {
    const std::string gguf = inp_path.substr(0, inp_path.size() - 4);
    CAPTURE(gguf);
    const tokenizer& tk = open_tokenizer(gguf);
    const std::vector<std::string> tests = inp_texts(gb::test::read_text(inp_path));
    std::vector<std::string> lines;
    std::istringstream out(gb::test::read_text(gguf + ".out"));
    for (std::string l; std::getline(out, l);) lines.push_back(l);
    REQUIRE(tests.size() == lines.size());
    size_t pass = 0;
    for (size_t i = 0; i < tests.size(); ++i) {
      CAPTURE(tests[i]);
      const std::string got = join(tk.encode(tests[i], /*add_bos=*/false));
      CHECK(got == lines[i]);
      pass += got == lines[i];
    }
    MESSAGE(fs::path(gguf).filename().string() << ": " << pass << "/" << tests.size());
  }
}

// The vocabularies without .inp/.out vectors (Falcon, MPT, GPT-NeoX, StarCoder, DeepSeek LLM, Baichuan,
// Aquila, Phi-3, Qwen 3.5) get their reference from llama.cpp itself: node-llama-cpp loads each GGUF's
// vocabulary and tokenizes llama.cpp's 46 vector texts plus code, scripts, emoji and special-token text, as
// plain text and parsing specials (tests/support/llamacpp-tokenize.mjs). Runs when node and the package are
// installed (bench/node_modules or LLAMACPP_NODE_PATH); CI requires them.
TEST_CASE(
    "every llama.cpp vocabulary tokenizes exactly as llama.cpp itself (node-llama-cpp), with or without "
    "vectors") {
  GB_DATA(dir, "tokenizers/llama.cpp-vocab");
  GB_DATA(inp, "tokenizers/llama.cpp-vocab/ggml-vocab-llama-spm.gguf.inp");
  const std::string node_path = gb::test::llamacpp_node_path();
  const std::string tool = std::string(GB_SOURCE_DIR) + "/tests/support/llamacpp-tokenize.mjs";
  if (node_path.empty()) {
    if (gb::test::in_ci())
      FAIL("CI: node / bench/node_modules/node-llama-cpp missing (tools/setup.sh installs them)");
    MESSAGE("SKIP: node / node-llama-cpp not available");
    return;
  }
  std::vector<std::string> texts = inp_texts(gb::test::read_text(inp));
  REQUIRE(texts.size() >= 40);
  for (const char* t :
       {"    indented\n\tcode();  // comment\n}", "def f(x):\n    return x**2 + 1e-5\n",
        "3333333 3.14 1,000,000", "нещо на Български Cửa Việt ἈΘΗΝΑ µ Ω K",
        "🚀 (normal) 😶‍🌫️ ✅ 🦙🦙 日本語のテキスト 한국어",
        "I'm he's we'll they'd YOU'RE", "\r\n\r\n  \t\u00a0x  ", "emails: a.b@c.de https://x.y/z?q=1&r=2"})
    texts.push_back(t);
  // Special-token text (cut out only when parsing specials; Phi-3 also drops the whitespace after them):
  // each marker before, inside and after words, all of them in a row, and two chat templates.
  const std::vector<std::string> marks = {"<s>",
                                          "</s>",
                                          "<unk>",
                                          "<pad>",
                                          "<|endoftext|>",
                                          "<|im_start|>",
                                          "<|im_end|>",
                                          "<|eot_id|>",
                                          "<|begin_of_text|>",
                                          "[CLS]",
                                          "[SEP]",
                                          "[MASK]",
                                          "<mask>",
                                          "<|fim_prefix|>",
                                          "<|fim_middle|>",
                                          "<fim_prefix>",
                                          "<|end|>",
                                          "<|user|>",
                                          "<|assistant|>",
                                          "<｜begin▁of▁sentence｜>"};
  std::string all_marks;
  for (size_t i = 0; i < marks.size(); ++i) {
    texts.push_back(marks[i] + "Hello " + marks[(i + 1) % marks.size()] + " world" + marks[i]);
    all_marks += marks[i] + (i % 2 ? " " : "");
  }
  texts.push_back(all_marks);
  texts.push_back("<s>[INST] hi [/INST]</s>");
  texts.push_back("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  const std::string texts_path = gb::test::temp_dir("tok_llamacpp") + "/texts.json";
  std::ofstream(texts_path) << nlohmann::json(texts).dump();
  std::vector<std::string> vocabs;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".gguf") vocabs.push_back(e.path().string());
  std::sort(vocabs.begin(), vocabs.end());
  CHECK(vocabs.size() >= 16);
  std::string cmd = "NODE_PATH='" + node_path + "' node '" + tool + "' '" + texts_path + "'";
  for (const std::string& gguf : vocabs) cmd += " '" + gguf + "'";
  cmd += " 2>/dev/null";
  std::string out;
  REQUIRE(gb::test::run_command(cmd, &out) == 0);
  const nlohmann::json all = nlohmann::json::parse(out);
  for (const std::string& gguf : vocabs) {
    CAPTURE(gguf);
    REQUIRE(all.contains(gguf));
    const tokenizer& tk = open_tokenizer(gguf);
    size_t pass = 0;
    for (const bool special : {false, true}) {
      CAPTURE(special);
      const nlohmann::json& ref = all[gguf][special ? "special" : "plain"];
      REQUIRE(ref.size() == texts.size());
      for (size_t i = 0; i < texts.size(); ++i) {
        CAPTURE(texts[i]);
        const std::string want = join(json_ids(ref[i])),
                          got = join(tk.encode(texts[i], /*add_bos=*/false, special));
        CHECK(got == want);
        pass += got == want;
      }
    }
    MESSAGE(fs::path(gguf).filename().string()
            << ": " << pass << "/" << 2 * texts.size() << " as llama.cpp (plain + specials)");
  }
}

TEST_CASE("vocabularies without vectors tokenize and round-trip") {
  GB_DATA(dir, "tokenizers/llama.cpp-vocab");
  const std::vector<std::string> texts = {"Hello world",
                                          " Hello, y'all! How are you 😁 ?我想在apple工作1314151天～",
                                          "\n\n \t  x\r\n",
                                          "3333333 3.14 ...",
                                          "нещо на Български Cửa Việt",
                                          "🚀 (normal) 😶‍🌫️ ✅ 🦙🦙",
                                          "    indented\n\tcode();",
                                          "ἈΘΗΝΑ µ Ω K",
                                          "<|endoftext|> <s> [CLS]"};
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".gguf") continue;
    CAPTURE(e.path().string());
    const tokenizer& tk = open_tokenizer(e.path().string());
    for (const std::string& s : texts) {
      CAPTURE(s);
      const std::vector<int32_t> ids = tk.encode(s, false);
      CHECK_FALSE(ids.empty());
      for (const int32_t id : ids) CHECK((id >= 0 && id < tk.size()));
      if (tk.kind() != gb::engine::tokenizer_kind::wpm) {
        CHECK(tk.decode(ids) == s);  // BERT lowercases and drops accents: no round trip by design
      }
    }
  }
}

TEST_CASE("stories260K: GGUF, llama2.c tok512.bin and the HF folder give the reference ids") {
  GB_DATA(ref, "models/stories260K/reference/reference.json");
  GB_DATA(tests_path, "models/stories260K/hf/tokenizer_tests.json");
  const nlohmann::json reference = nlohmann::json::parse(gb::test::read_text(ref));
  const nlohmann::json cases = nlohmann::json::parse(gb::test::read_text(tests_path));
  const std::string root = gb::test::data_path("models/stories260K");
  for (const char* file : {"stories260K.gguf", "tinyllamas-stories-260k-f32.ggufv1.gguf", "tok512.bin", "hf",
                           "hf/tokenizer.model"}) {
    CAPTURE(file);
    const tokenizer& tk = open_tokenizer(root + "/" + file);
    CHECK(tk.encode(reference["prompt_text"].get<std::string>(), true) == json_ids(reference["prompt_ids"]));
    for (const auto& c : cases) {
      const std::string text = c["text"].get<std::string>();
      CAPTURE(text);
      const std::vector<int32_t> ids = tk.encode(text, true);
      CHECK(ids == json_ids(c["ids"]));
      CHECK(tk.decode(ids) == text);
    }
  }
}

TEST_CASE("GPT-2 encoder.json + vocab.bpe reproduce the llama.cpp gpt-2 vectors") {
  GB_DATA(enc, "tokenizers/gpt2/encoder.json");
  GB_DATA(bpe, "tokenizers/gpt2/vocab.bpe");
  GB_DATA(inp_path, "tokenizers/llama.cpp-vocab/ggml-vocab-gpt-2.gguf.inp");
  gb::vocab v = gb::vocab_from_gpt2_files(gb::test::read_text(enc), gb::test::read_text(bpe));
  if (v.pre.empty()) v.pre = "gpt-2";
  auto t = tokenizer::create(v);
  REQUIRE(t.ok());
  const std::string inp = gb::test::read_text(inp_path);
  std::istringstream out(gb::test::read_text(inp_path.substr(0, inp_path.size() - 4) + ".out"));
  const std::string sep = "\n__ggml_vocab_test__\n";
  size_t pos = 0, n = 0;
  for (std::string line; std::getline(out, line); ++n) {
    const size_t hit = inp.find(sep, pos);
    REQUIRE(hit != std::string::npos);
    const std::string text = inp.substr(pos, hit - pos);
    pos = hit + sep.size();
    CAPTURE(text);
    CHECK(join(t.value().encode(text, false)) == line);
  }
  CHECK(n >= 40);
}

TEST_CASE("1 MB of varied text: every vocabulary kind encodes it in range and round-trips") {
  GB_DATA(dir, "tokenizers/llama.cpp-vocab");
  // Seeded random words over Latin, accented, Cyrillic, CJK letters, digits and punctuation: few repeats, so
  // the per-call word cache does not hide a path. Its speed is measured in bench/bench_tokenize.sh, side by
  // side with llama.cpp (a test asserts no duration: the machine may be busy).
  const std::vector<std::string> alphabet = {"a", "b",  "c",  "d", "e", "f", "g", "h", "i", "k", "l", "m",
                                             "n", "o",  "p",  "r", "s", "t", "u", "w", "y", "é", "ü", "ж",
                                             "я", "日", "本", "0", "1", "7", "9", ",", ".", "'", "-", "😀"};
  const std::vector<std::string> seps = {" ", " ", " ", " ", "\n", "  ", "\t", ". "};
  std::mt19937 rng(7);
  std::string text;
#ifdef GB_SANITIZED
  const size_t bytes = 1u << 17;  // the same paths on an eighth of the text: ASan + UBSan run ~5x slower
#else
  const size_t bytes = 1u << 20;
#endif
  while (text.size() < bytes) {
    const size_t len = 1 + rng() % 9;
    for (size_t i = 0; i < len; ++i) text += alphabet[rng() % alphabet.size()];
    text += seps[rng() % seps.size()];
  }
  for (const std::string vocab_file : {"ggml-vocab-llama-spm.gguf", "ggml-vocab-llama-bpe.gguf",
                                       "ggml-vocab-gpt-2.gguf", "ggml-vocab-bert-bge.gguf"}) {
    CAPTURE(vocab_file);
    const tokenizer& tk = open_tokenizer(dir + "/" + vocab_file);
    const std::vector<int32_t> ids = tk.encode(text, false);
    MESSAGE(vocab_file << ": " << text.size() << " bytes -> " << ids.size() << " tokens");
    CHECK(ids.size() > text.size() / 16);  // every word yields tokens: nothing dropped
    CHECK(std::all_of(ids.begin(), ids.end(), [&](int32_t id) { return id >= 0 && id < tk.size(); }));
    if (tk.kind() != gb::engine::tokenizer_kind::wpm) CHECK(tk.decode(ids) == text);
  }
}

TEST_CASE("glassbox tokenize: ids, --no-bos, --json, --ids, usage and bad-input exit codes") {
  GB_DATA(gguf, "models/stories260K/stories260K.gguf");
  const std::string model = "'" + gguf + "'";
  std::string out;
  CHECK(gb::test::run_glassbox("tokenize " + model + " --text 'Once upon a time'", &out) == 0);
  CHECK(out == "1 403 407 261 378\n");
  out.clear();
  CHECK(gb::test::run_glassbox("tokenize " + model + " --text 'Once upon a time' --no-bos", &out) == 0);
  CHECK(out == "403 407 261 378\n");
  out.clear();
  CHECK(gb::test::run_glassbox("tokenize " + model + " --text 'Once upon a time' --json", &out) == 0);
  const nlohmann::json j = nlohmann::json::parse(out);
  CHECK(json_ids(j["ids"]) == std::vector<int32_t>{1, 403, 407, 261, 378});
  CHECK(j["tokens"].size() == 5);
  CHECK(j["tokenizer"]["kind"] == "spm");
  out.clear();
  CHECK(gb::test::run_glassbox("tokenize " + model + " --ids '1,403 407 261 378'", &out) == 0);
  CHECK(out == "Once upon a time\n");
  CHECK(gb::test::run_glassbox("tokenize " + model, nullptr) == 2);  // neither --text nor --ids
  CHECK(gb::test::run_glassbox("tokenize " + model + " --ids 512", nullptr) == 3);  // vocabulary is 512
  CHECK(gb::test::run_glassbox("tokenize /no/such/model --text x", nullptr) == 3);
}

TEST_CASE("hostile text: invalid UTF-8 and long runs give in-range ids") {
  GB_DATA(dir, "tokenizers/llama.cpp-vocab");
  std::mt19937 rng(99);
#ifdef GB_SANITIZED
  const size_t n = 50000;  // the same paths on a quarter of the text: ASan + UBSan run ~5x slower
#else
  const size_t n = 200000;
#endif
  std::string noise;
  for (size_t i = 0; i < n; ++i) noise.push_back(static_cast<char>(rng() & 0xFF));
  const std::vector<std::string> texts = {noise, std::string(n, ' ') + "x", std::string(n, 'a'),
                                          std::string(n / 2, '\n') + "b",
                                          std::string(n / 4, '\t') + " " + std::string(n / 4, ' ')};
  for (const char* file :
       {"ggml-vocab-deepseek-llm.gguf", "ggml-vocab-llama-bpe.gguf", "ggml-vocab-llama-spm.gguf",
        "ggml-vocab-falcon.gguf", "ggml-vocab-bert-bge.gguf"}) {
    CAPTURE(file);
    const tokenizer& tk = open_tokenizer(dir + "/" + file);
    for (size_t k = 0; k < texts.size(); ++k) {
      CAPTURE(k);
      // a quadratic path here would run into CTest's timeout; bench/bench_tokenize.sh times these texts
      const std::vector<int32_t> ids = tk.encode(texts[k], true, true);
      bool in_range = true;
      for (const int32_t id : ids) in_range = in_range && id >= 0 && id < tk.size();
      CHECK(in_range);
      // valid UTF-8 survives a round trip (BERT normalises, invalid bytes become U+FFFD as in llama.cpp)
      if (k > 0 && tk.kind() != gb::engine::tokenizer_kind::wpm) CHECK(tk.decode(ids) == texts[k]);
    }
  }
}
