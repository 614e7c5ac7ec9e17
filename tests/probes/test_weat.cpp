// WEAT/SEAT: effect size and permutation p-value against an independent computation, and the published
// word2vec numbers of Caliskan et al. (2017).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "formats/embeddings.h"
#include "probes/weat.h"
#include "tests/support/data.h"

using namespace gb;
using namespace gb::probes;

namespace {

// Independent reference written from the formula (not sharing code with probes/weat.cpp).
double ref_s(const std::vector<double>& w, const std::vector<std::vector<double>>& A,
             const std::vector<std::vector<double>>& B) {
  auto cs = [](const std::vector<double>& a, const std::vector<double>& b) {
    double d = 0, na = 0, nb = 0;
    for (size_t i = 0; i < a.size(); ++i) d += a[i] * b[i], na += a[i] * a[i], nb += b[i] * b[i];
    return d / std::sqrt(na) / std::sqrt(nb);
  };
  double sa = 0, sb = 0;
  for (auto& a : A) sa += cs(w, a);
  for (auto& b : B) sb += cs(w, b);
  return sa / A.size() - sb / B.size();
}

}  // namespace

TEST_CASE("WEAT effect size and exact p-value match a brute-force reference") {
  // 4 target words per side, 3 attribute words per side, in 5 dimensions, from a fixed pattern.
  std::map<std::string, std::vector<double>> vec;
  auto put = [&](const std::string& w, std::vector<double> v) { vec[w] = v; };
  put("x1", {1, 0.2, 0.1, 0, 0.3});
  put("x2", {0.9, 0.1, 0.4, 0.2, 0});
  put("x3", {0.8, 0.5, 0, 0.1, 0.1});
  put("x4", {0.3, 0.9, 0.2, 0.4, 0.2});
  put("y1", {0.1, 1, 0.3, 0, 0.5});
  put("y2", {0.2, 0.1, 1, 0.3, 0.1});
  put("y3", {0, 0.3, 0.2, 1, 0.2});
  put("y4", {0.5, 0.2, 0.1, 0.3, 0.9});
  put("a1", {1, 0.1, 0, 0.2, 0});
  put("a2", {0.9, 0.3, 0.1, 0, 0.2});
  put("a3", {0.7, 0, 0.3, 0.1, 0.1});
  put("b1", {0, 0.2, 1, 0.9, 0.3});
  put("b2", {0.1, 0.8, 0.7, 0.2, 0.6});
  put("b3", {0.2, 0.1, 0.4, 0.5, 1});
  weat_sets t{"toy",
              {"X", {"x1", "x2", "x3", "x4"}},
              {"Y", {"y1", "y2", "y3", "y4"}},
              {"A", {"a1", "a2", "a3"}},
              {"B", {"b1", "b2", "b3"}}};
  auto lookup = [&](const std::string& w) -> std::vector<float> {
    auto it = vec.find(w);
    if (it == vec.end()) return {};
    return std::vector<float>(it->second.begin(), it->second.end());
  };
  weat_result r = weat_run(t, lookup, {.seed = 3, .bootstrap = 200});
  REQUIRE(r.error.empty());

  // reference: float-rounded vectors as the lookup gives them
  auto fv = [&](const std::string& w) {
    std::vector<double> d;
    for (double x : vec[w]) d.push_back(static_cast<float>(x));
    return d;
  };
  std::vector<std::vector<double>> A = {fv("a1"), fv("a2"), fv("a3")}, B = {fv("b1"), fv("b2"), fv("b3")};
  std::vector<double> s;
  for (auto w : {"x1", "x2", "x3", "x4", "y1", "y2", "y3", "y4"}) s.push_back(ref_s(fv(w), A, B));
  double mx = (s[0] + s[1] + s[2] + s[3]) / 4, my = (s[4] + s[5] + s[6] + s[7]) / 4, m = (mx + my) / 2, v = 0;
  for (double x : s) v += (x - m) * (x - m);
  double d = (mx - my) / std::sqrt(v / 7);
  CHECK(r.effect_size == doctest::Approx(d).epsilon(1e-9));

  // brute force over all 2^8 masks with exactly 4 bits: C(8,4) = 70 partitions
  double stat = (s[0] + s[1] + s[2] + s[3]) - (s[4] + s[5] + s[6] + s[7]);
  int ge = 0, total = 0;
  for (int mask = 0; mask < 256; ++mask) {
    if (__builtin_popcount(mask) != 4) continue;
    double a = 0, b = 0;
    for (int i = 0; i < 8; ++i) ((mask >> i) & 1 ? a : b) += s[i];
    if (a - b >= stat - 1e-12) ++ge;
    ++total;
  }
  CHECK(r.exact);
  CHECK(r.partitions == 70u);
  CHECK(r.p_value == doctest::Approx(static_cast<double>(ge) / total));
  CHECK(r.effect_ci.lo <= r.effect_size);
  CHECK(r.effect_ci.hi >= r.effect_size);

  // reproducible Monte Carlo path: same seed, same p; forced by a tiny exact limit
  weat_options mc{.seed = 9, .samples = 5000, .exact_limit = 10, .bootstrap = 0};
  weat_result m1 = weat_run(t, lookup, mc), m2 = weat_run(t, lookup, mc);
  CHECK(!m1.exact);
  CHECK(m1.p_value == m2.p_value);
  CHECK(m1.p_value == doctest::Approx(r.p_value).epsilon(0.05));
}

TEST_CASE("WEAT reports missing words and never divides an empty set") {
  weat_sets t{"missing", {"X", {"a"}}, {"Y", {"zz"}}, {"A", {"a"}}, {"B", {"a"}}};
  auto lookup = [](const std::string& w) -> std::vector<float> {
    if (w == "a") return {1.f, 2.f};
    return {};
  };
  weat_result r = weat_run(t, lookup);
  CHECK(!r.error.empty());
  CHECK(r.missing == std::vector<std::string>{"zz"});
}

TEST_CASE("SEAT test files: malformed JSON is a clear error") {
  CHECK_THROWS_AS(weat_sets_parse_seat("{\"targ1\": {\"examples\": [\"a\"]}}", "bad"), failure);
  CHECK_THROWS_AS(weat_sets_parse_seat("not json", "bad"), failure);
}

TEST_CASE("embeddings: GloVe text, word2vec text and binary parse; bad rows name the line") {
  std::string glove = "cat 0.5 1.0\ndog -1 2e-1\n";
  auto g = embeddings_parse(reinterpret_cast<const uint8_t*>(glove.data()), glove.size(), "g");
  REQUIRE(g);
  CHECK(g.value().format == "glove-text");
  CHECK(g.value().dim == 2);
  CHECK(g.value().find("dog")[1] == doctest::Approx(0.2f));
  std::string w2v = "2 2\ncat 0.5 1.0\ndog -1 2e-1\n";
  auto t = embeddings_parse(reinterpret_cast<const uint8_t*>(w2v.data()), w2v.size(), "t");
  REQUIRE(t);
  CHECK(t.value().format == "word2vec-text");
  std::string bin = "2 2\n";
  float v[4] = {0.5f, 1.0f, -1.0f, 0.0f};
  bin += "cat ";
  bin.append(reinterpret_cast<const char*>(v), 8);
  bin += "\ndog ";
  bin.append(reinterpret_cast<const char*>(v + 2), 8);
  auto b = embeddings_parse(reinterpret_cast<const uint8_t*>(bin.data()), bin.size(), "b");
  REQUIRE(b);
  CHECK(b.value().format == "word2vec-binary");
  CHECK(b.value().find("dog")[0] == -1.0f);
  std::string bad = "cat 0.5 1.0\ndog 1\n";
  auto e = embeddings_parse(reinterpret_cast<const uint8_t*>(bad.data()), bad.size(), "bad");
  REQUIRE(!e);
  CHECK(e.err().message.find("line 2") != std::string::npos);
  std::string huge = "999999999 2\ncat ";
  huge.append(reinterpret_cast<const char*>(v), 8);
  huge[huge.size() - 1] = 0;  // binary
  auto h = embeddings_parse(reinterpret_cast<const uint8_t*>(huge.data()), huge.size(), "huge");
  REQUIRE(!h);
  CHECK(h.err().code == errc::limit);
}

TEST_CASE("word2vec GoogleNews subset reproduces Caliskan et al.'s published effect sizes") {
  GB_DATA(emb_path, "embeddings/word2vec-googlenews-300d.weat-subset.txt");
  GB_DATA(seat_dir, "bias/seat");
  GB_DATA(weat_json, "bias/weat/WEAT.json");
  auto emb = embeddings_open(emb_path);
  REQUIRE(emb);
  const auto& table = emb.value();
  auto lookup = [&](const std::string& w) -> std::vector<float> {
    const float* v = table.find(w);
    return v ? std::vector<float>(v, v + table.dim) : std::vector<float>{};
  };
  const std::map<std::string, double> published = {
      {"weat1", 1.54}, {"weat2", 1.63}, {"weat6", 1.89}, {"weat7", 0.97}, {"weat8", 1.24}};
  for (const auto& [name, d] : published) {
    weat_sets t = weat_sets_parse_seat(gb::test::read_text(seat_dir + "/" + name + ".jsonl"), name);
    weat_result r = weat_run(t, lookup, {.seed = 1, .samples = 20000, .bootstrap = 0});
    INFO(name);
    REQUIRE(r.error.empty());
    CHECK(std::round(r.effect_size * 100) / 100 == doctest::Approx(d));
    CHECK(r.p_value < 0.05);  // all published p-values are below 1e-2
  }
  for (const auto& t : weat_standard_tests(gb::test::read_text(weat_json))) {
    if (t.name != "weat9") continue;
    weat_result r = weat_run(t, lookup, {.seed = 1, .samples = 20000, .bootstrap = 0});
    CHECK(std::round(r.effect_size * 100) / 100 == doctest::Approx(1.30));
  }
}

#include "probes/embedding_probe.h"
#include "probes/session.h"

TEST_CASE("WEAT on a model's input embeddings: a word is the mean of its token rows") {
  GB_DATA(model_path, "models/stories260K/stories260K.gguf");
  auto s = gb::probes::session_open(model_path);
  REQUIRE(s);
  REQUIRE(s.value().tok);
  auto lookup = gb::probes::input_embedding_lookup(s.value());
  // independent: read tok_embd.weight (f32 GGUF, [512, 64]) straight from the archive
  const gb::tensor_view* t = s.value().ar->tensor("token_embd.weight");
  REQUIRE(t);
  REQUIRE(t->type == gb::dtype::f32);
  const float* e = reinterpret_cast<const float*>(t->data);
  for (const char* w : {"flower", "happy", "the dog"}) {
    std::vector<int32_t> ids = s.value().tok->encode(w, false);
    std::vector<float> v = lookup(w);
    REQUIRE(v.size() == 64u);
    for (size_t k = 0; k < 64; ++k) {
      double acc = 0;
      for (int32_t id : ids) acc += static_cast<double>(e[static_cast<size_t>(id) * 64 + k]);
      CHECK(v[k] == doctest::Approx(acc / static_cast<double>(ids.size())).epsilon(1e-6));
    }
  }
  // SEAT encodings are unit vectors
  auto seat = gb::probes::sentence_encoding_lookup(s.value());
  std::vector<float> u = seat("This is a flower.");
  REQUIRE(u.size() == 64u);
  double n = 0;
  for (float x : u) n += static_cast<double>(x) * static_cast<double>(x);
  CHECK(n == doctest::Approx(1.0));
}

TEST_CASE("weat_run_all: tests in parallel give weat_run's results, in test order, for any thread count") {
  // six synthetic tests over a deterministic 8-d embedding of each word; exact and Monte Carlo p-values
  auto vec = [](const std::string& w) {
    std::vector<float> v(8);
    uint64_t h = 1469598103934665603ULL;
    for (char c : w) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    for (auto& x : v) x = static_cast<float>((h = h * 6364136223846793005ULL + 1) >> 40) / 16777216.0f - 0.5f;
    return v;
  };
  std::vector<weat_sets> tests;
  for (int t = 0; t < 6; ++t) {
    weat_sets s;
    s.name = "t" + std::to_string(t);
    const int n = t % 2 ? 12 : 5;  // C(24, 12) > exact_limit: Monte Carlo
    for (int i = 0; i < n; ++i) {
      s.targ1.words.push_back("x" + std::to_string(t) + "_" + std::to_string(i));
      s.targ2.words.push_back("y" + std::to_string(t) + "_" + std::to_string(i));
      s.attr1.words.push_back("a" + std::to_string(i));
      s.attr2.words.push_back("b" + std::to_string(i));
    }
    if (t == 4) s.targ2.words = {"absent"};  // a set with no vectors: an error, in its place
    tests.push_back(s);
  }
  auto lookup = [&](const std::string& w) { return w == "absent" ? std::vector<float>{} : vec(w); };
  const weat_options opt{.seed = 3, .samples = 3000, .exact_limit = 100000, .bootstrap = 200};
  for (int threads : {1, 3}) {
    INFO(threads);
    const auto all = weat_run_all(
        tests, [&](const weat_sets&, const std::string& w) { return lookup(w); }, opt, threads);
    REQUIRE(all.size() == tests.size());
    for (size_t i = 0; i < tests.size(); ++i) {
      const weat_result one = weat_run(tests[i], lookup, opt);
      CHECK(all[i].name == tests[i].name);
      CHECK(all[i].error == one.error);
      CHECK(all[i].effect_size == one.effect_size);  // bit for bit
      CHECK(all[i].p_value == one.p_value);
      CHECK(all[i].exact == one.exact);
      CHECK(all[i].effect_ci.lo == one.effect_ci.lo);
      CHECK(all[i].effect_ci.hi == one.effect_ci.hi);
    }
    CHECK(!all[4].error.empty());
    CHECK(all[0].exact);
    CHECK(!all[1].exact);
  }
}
