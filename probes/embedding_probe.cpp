#include "probes/embedding_probe.h"

#include <cmath>
#include <memory>

#include "inspect/tensor_values.h"

namespace gb::probes {

vector_lookup input_embedding_lookup(session& s) {
  if (!s.tok) fail(errc::unsupported, 0, "input embeddings need a tokenizer");
  auto items = std::make_shared<std::vector<tensor_item>>(tensor_items(*s.m));
  const tensor_item* emb = nullptr;
  for (const auto& it : *items)
    if (it.role == role_kind::tok_embd && it.mapped && it.name.find(".weight") != std::string::npos)
      emb = &it;
  if (!emb) fail(errc::unsupported, 0, "the model has no token embedding (tok_embd)");
  auto reader = std::make_shared<tensor_reader>(*emb);
  session* sp = &s;
  return [sp, items, reader](const std::string& word) -> std::vector<float> {
    std::vector<int32_t> ids = sp->tok->encode(word, false);
    if (ids.empty()) return {};
    const int64_t d = reader->cols();
    std::vector<float> out(static_cast<size_t>(d), 0.0f), row(static_cast<size_t>(d));
    std::vector<double> acc(static_cast<size_t>(d), 0.0);
    for (int32_t id : ids) {
      if (id < 0 || id >= reader->rows()) return {};
      const float* x = reader->row_f32(id, row.data());
      for (int64_t k = 0; k < d; ++k) acc[static_cast<size_t>(k)] += static_cast<double>(x[k]);
    }
    for (int64_t k = 0; k < d; ++k)
      out[static_cast<size_t>(k)] =
          static_cast<float>(acc[static_cast<size_t>(k)] / static_cast<double>(ids.size()));
    return out;
  };
}

namespace {
class capture_final : public engine::hook {
 public:
  std::vector<float> data;
  std::vector<int64_t> shape;
  bool wants(std::string_view name) override { return name == "final.norm"; }
  bool observe(std::string_view, engine::activation_view a) override {
    shape.assign(a.shape.begin(), a.shape.end());
    data.assign(a.data, a.data + a.size());
    return true;
  }
};
}  // namespace

vector_lookup sentence_encoding_lookup(session& s) {
  if (!s.tok) fail(errc::unsupported, 0, "sentence encodings need a tokenizer");
  if (!s.run) fail(errc::unsupported, 0, "sentence encodings need a runnable model: " + s.run_error);
  session* sp = &s;
  return [sp](const std::string& text) -> std::vector<float> {
    const bool bos = sp->tok->default_add_bos() && sp->tok->bos_id() >= 0;
    std::vector<int32_t> ids = sp->tok->encode(text, bos);
    const size_t skip = bos && !ids.empty() && ids[0] == sp->tok->bos_id() ? 1 : 0;
    if (ids.size() <= skip || static_cast<int64_t>(ids.size()) > sp->run->context_length()) return {};
    capture_final h;
    sp->run->reset();
    auto r = sp->run->forward(ids, &h);
    sp->run->reset();
    if (!r || h.shape.size() != 2) return {};
    const int64_t t = h.shape[0], d = h.shape[1];
    std::vector<double> acc(static_cast<size_t>(d), 0.0);
    for (int64_t i = static_cast<int64_t>(skip); i < t; ++i)
      for (int64_t k = 0; k < d; ++k)
        acc[static_cast<size_t>(k)] += static_cast<double>(h.data[static_cast<size_t>(i * d + k)]);
    double norm = 0;
    for (double v : acc) norm += v * v;
    norm = std::sqrt(norm);
    std::vector<float> out(static_cast<size_t>(d));
    for (int64_t k = 0; k < d; ++k)
      out[static_cast<size_t>(k)] = static_cast<float>(norm > 0 ? acc[static_cast<size_t>(k)] / norm : 0.0);
    return out;
  };
}

}  // namespace gb::probes
