// Hooks: two-phase protocol (wants once per point per call), documented shapes, internal consistency of
// the captured tensors, early stop, and no effect on the logits.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "formats/archive.h"
#include "inspect/model.h"
#include "probes/engine/engine.h"
#include "probes/engine/kernels.h"
#include "tests/support/data.h"
#include "tests/support/engine_fixture.h"

using namespace gb;

namespace {

struct recorder : engine::hook {
  std::map<std::string, int> asked;
  std::map<std::string, std::vector<int64_t>> shapes;
  std::map<std::string, std::vector<float>> data;
  std::string stop_at;
  bool want_all = true;
  bool wants(std::string_view name) override {
    ++asked[std::string(name)];
    return want_all;
  }
  bool observe(std::string_view name, engine::activation_view a) override {
    shapes[std::string(name)].assign(a.shape.begin(), a.shape.end());
    data[std::string(name)].assign(a.data, a.data + a.size());
    return name != stop_at;
  }
};

}  // namespace

TEST_CASE("hooks: every hook point is asked once per forward, shapes as documented, logits unchanged") {
  GB_DATA(path, "models/stories260K/stories260K.gguf");
  auto L = test::model_load(path);
  const auto made = test::runner_make(L->m);
  engine::runner& run = *made;
  const std::vector<int32_t> ids = {1, 403, 407, 261, 378};
  auto plain = run.forward(ids);
  REQUIRE(plain.ok());
  run.reset();
  recorder rec;
  auto hooked = run.forward(ids, &rec);
  REQUIRE(hooked.ok());
  CHECK(hooked.value() == plain.value());

  const std::vector<std::string> names = engine::hook_names(L->m);
  CHECK(names.size() == 1 + 13 * 5 + 2);  // embed, 13 per layer x 5 layers, final.norm, logits
  CHECK(rec.asked.size() == names.size());
  for (const std::string& n : names) {
    CAPTURE(n);
    CHECK(rec.asked[n] == 1);
    CHECK(rec.shapes.count(n) == 1);
  }
  const int64_t T = 5, D = 64, H = 8, Hk = 4, E = 8, F = 172, V = 512;
  CHECK(rec.shapes["embed"] == std::vector<int64_t>{T, D});
  CHECK(rec.shapes["blk.2.attn.q"] == std::vector<int64_t>{T, H * E});
  CHECK(rec.shapes["blk.2.attn.k"] == std::vector<int64_t>{T, Hk * E});
  CHECK(rec.shapes["blk.2.attn.scores"] == std::vector<int64_t>{H, T, T});
  CHECK(rec.shapes["blk.2.attn.z"] == std::vector<int64_t>{T, H * E});
  CHECK(rec.shapes["blk.2.mlp.pre"] == std::vector<int64_t>{T, F});
  CHECK(rec.shapes["logits"] == std::vector<int64_t>{T, V});
  CHECK(rec.data["logits"] == plain.value());

  // The residual stream chains: post of block l is pre of block l + 1; pre + attn.out = mid; mid + mlp.out =
  // post.
  for (int l = 0; l + 1 < 5; ++l)
    CHECK(rec.data["blk." + std::to_string(l) + ".resid.post"] ==
          rec.data["blk." + std::to_string(l + 1) + ".resid.pre"]);
  CHECK(rec.data["embed"] == rec.data["blk.0.resid.pre"]);
  const auto& pre = rec.data["blk.1.resid.pre"];
  const auto& ao = rec.data["blk.1.attn.out"];
  const auto& mid = rec.data["blk.1.resid.mid"];
  const auto& mo = rec.data["blk.1.mlp.out"];
  const auto& post = rec.data["blk.1.resid.post"];
  for (size_t i = 0; i < pre.size(); ++i) {
    CHECK(mid[i] == pre[i] + ao[i]);
    CHECK(post[i] == mid[i] + mo[i]);
  }

  // Probabilities: rows sum to 1, causal (zero past the diagonal), equal softmax of the scores.
  const auto& pr = rec.data["blk.3.attn.probs"];
  const auto& sc = rec.data["blk.3.attn.scores"];
  for (int64_t h = 0; h < H; ++h)
    for (int64_t t = 0; t < T; ++t) {
      const float* p = pr.data() + (h * T + t) * T;
      const float* s = sc.data() + (h * T + t) * T;
      double sum = 0, z = 0, mx = -1e300;
      for (int64_t j = 0; j <= t; ++j) mx = std::max(mx, static_cast<double>(s[j]));
      for (int64_t j = 0; j <= t; ++j) z += std::exp(static_cast<double>(s[j]) - mx);
      for (int64_t j = 0; j < T; ++j) {
        sum += static_cast<double>(p[j]);
        if (j > t) {
          CHECK(p[j] == 0.0f);
          CHECK(s[j] == -std::numeric_limits<float>::infinity());
        } else {
          CHECK(static_cast<double>(p[j]) ==
                doctest::Approx(std::exp(static_cast<double>(s[j]) - mx) / z).epsilon(1e-5));
        }
      }
      CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
    }
  CHECK(rec.data["blk.0.attn.probs"][0] == 1.0f);  // the first token sees only itself
}

TEST_CASE("hooks: with the KV cache, scores span every cached key (H, T, P)") {
  GB_DATA(path, "models/stories260K/stories260K.gguf");
  auto L = test::model_load(path);
  auto r = engine::runner::create(L->m);
  REQUIRE(r.ok());
  REQUIRE(r.value()->forward({1, 403, 407}).ok());
  recorder rec;
  REQUIRE(r.value()->forward({261, 378}, &rec).ok());
  CHECK(rec.shapes["blk.0.attn.probs"] == std::vector<int64_t>{8, 2, 5});
  const auto& p = rec.data["blk.0.attn.probs"];
  CHECK(p[4] == 0.0f);  // head 0, query 0 (position 3) cannot see position 4
  CHECK(p[5 + 4] > 0.0f);
}

TEST_CASE("hooks: a hook that wants nothing observes nothing; observe() returning false stops the run") {
  GB_DATA(path, "models/stories260K/stories260K.gguf");
  auto L = test::model_load(path);
  auto r = engine::runner::create(L->m);
  REQUIRE(r.ok());
  recorder none;
  none.want_all = false;
  REQUIRE(r.value()->forward({1, 403}, &none).ok());
  CHECK(none.shapes.empty());
  CHECK(none.asked.size() == engine::hook_names(L->m).size());

  r.value()->reset();
  recorder stop;
  stop.stop_at = "blk.1.attn.q";
  auto res = r.value()->forward({1, 403}, &stop);
  REQUIRE(!res.ok());
  CHECK(res.err().code == errc::limit);
  CHECK(res.err().message.find("stopped by hook") != std::string::npos);
  CHECK(stop.shapes.count("blk.1.attn.q") == 1);
  CHECK(stop.shapes.count("blk.1.attn.k") == 0);  // nothing is handed over after the stop
  CHECK(stop.shapes.count("blk.1.attn.probs") == 0);
  CHECK(stop.shapes.count("logits") == 0);
}

TEST_CASE(
    "hooks: attn.scores/probs of a 150-token prompt after a 20-token prefix (several 64-row attention "
    "chunks)") {
  GB_DATA(path, "models/stories260K/stories260K.gguf");
  auto L = test::model_load(path);
  auto r = engine::runner::create(L->m);
  REQUIRE(r.ok());
  std::vector<int32_t> prefix, ids;
  for (int32_t i = 0; i < 20; ++i) prefix.push_back((i * 13 + 7) % 512);
  for (int32_t i = 0; i < 150; ++i) ids.push_back((i * 37 + 11) % 512);
  REQUIRE(r.value()->forward(prefix).ok());
  recorder rec;
  REQUIRE(r.value()->forward(ids, &rec).ok());
  const std::vector<int64_t>& sh = rec.shapes.at("blk.1.attn.probs");
  REQUIRE(sh.size() == 3);
  const int64_t H = sh[0], T = sh[1], P = sh[2];
  CHECK(T == 150);
  CHECK(P == 170);
  const std::vector<float>& s = rec.data.at("blk.1.attn.scores");
  const std::vector<float>& p = rec.data.at("blk.1.attn.probs");
  double worst = 0;
  for (int64_t h = 0; h < H; ++h)
    for (int64_t t = 0; t < T; ++t) {
      const int64_t last = 20 + t;
      std::vector<float> row(s.begin() + (h * T + t) * P, s.begin() + (h * T + t + 1) * P);
      for (int64_t j = last + 1; j < P; ++j) {
        CHECK(std::isinf(row[static_cast<size_t>(j)]));
        CHECK(p[static_cast<size_t>((h * T + t) * P + j)] == 0.0f);
      }
      engine::softmax_ref(row.data(), last + 1);
      for (int64_t j = 0; j <= last; ++j)
        worst = std::max(worst, std::fabs(static_cast<double>(row[static_cast<size_t>(j)]) -
                                          static_cast<double>(p[static_cast<size_t>((h * T + t) * P + j)])));
    }
  MESSAGE("max |probs - softmax_ref(scores)| = " << worst);
  CHECK(worst < 1e-6);
}
