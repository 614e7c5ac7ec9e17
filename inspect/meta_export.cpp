// Export to Meta's original release layout (see meta_export.h).
#include "inspect/meta_export.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>

#include "formats/meta_layout.h"
#include "formats/torch_writer.h"
#include "inspect/tensor_values.h"

namespace gb {
namespace {

namespace fs = std::filesystem;

// canonical role -> Meta's name (llama/model.py)
struct meta_name {
  role_kind role;
  const char* name;  // "{N}" = layer
};
constexpr meta_name k_names[] = {
    {role_kind::attn_q, "layers.{N}.attention.wq.weight"},
    {role_kind::attn_k, "layers.{N}.attention.wk.weight"},
    {role_kind::attn_v, "layers.{N}.attention.wv.weight"},
    {role_kind::attn_o, "layers.{N}.attention.wo.weight"},
    {role_kind::mlp_gate, "layers.{N}.feed_forward.w1.weight"},
    {role_kind::mlp_down, "layers.{N}.feed_forward.w2.weight"},
    {role_kind::mlp_up, "layers.{N}.feed_forward.w3.weight"},
    {role_kind::attn_norm, "layers.{N}.attention_norm.weight"},
    {role_kind::ffn_norm, "layers.{N}.ffn_norm.weight"},
};

std::string layer_name(const char* pattern, int layer) {
  std::string s = pattern;
  auto p = s.find("{N}");
  if (p != std::string::npos) s.replace(p, 3, std::to_string(layer));
  return s;
}

// One tensor to write: its Meta name and the item holding its canonical values.
struct planned {
  std::string name;
  const tensor_item* item;
};

std::vector<planned> plan(const model& m, const std::vector<tensor_item>& items) {
  std::map<std::string, const tensor_item*> by;
  for (const tensor_item& it : items) {
    if (!it.excluded.empty() || !it.mapped) continue;
    if (it.role == role_kind::rope_freqs || it.role == role_kind::buffer) continue;
    by[it.name] = &it;
  }
  std::vector<planned> out;
  auto take = [&](const std::string& canonical, const std::string& meta) {
    auto f = by.find(canonical);
    if (f == by.end()) fail(errc::unsupported, 0, "export to Meta's layout: the model has no " + canonical);
    out.push_back({meta, f->second});
    by.erase(f);
  };
  take("tok_embd.weight", "tok_embeddings.weight");
  take("output_norm.weight", "norm.weight");
  if (by.count("output.weight"))
    take("output.weight", "output.weight");
  else
    out.push_back({"output.weight", out.front().item});  // tied: Meta always stores output
  for (int l = 0; l < m.hp.n_layer; ++l)
    for (const meta_name& n : k_names) take(canonical_name(n.role, l), layer_name(n.name, l));
  if (!by.empty())
    fail(errc::unsupported, 0,
         "export to Meta's layout: " + by.begin()->first + " has no name in Meta's LLaMA layout");
  return out;
}

// Shard `s` of `n` of one tensor in the stored dtype, canonical layout.
tensor_data slice(const planned& p, int s, int n) {
  tensor_reader rd(*p.item);
  const dtype t = rd.type();
  if (t != dtype::f32 && t != dtype::f16 && t != dtype::bf16)
    fail(errc::unsupported, 0,
         "export to Meta's layout: " + p.item->name + " is " + dtype_name(t) + " (f32, f16, bf16 only)");
  const int dim = meta_split_dim(p.name);
  const int64_t rows = rd.rows(), cols = rd.cols();
  const int64_t along = dim == 0 ? rows : cols;
  if (dim >= 0 && along % n != 0)
    fail(errc::bad_value, 0,
         "export to Meta's layout: " + p.item->name + " has " + std::to_string(along) +
             (dim == 0 ? " rows" : " columns") + ", not a multiple of " + std::to_string(n) + " shards");
  const int64_t r0 = dim == 0 ? along / n * s : 0, r1 = dim == 0 ? along / n * (s + 1) : rows;
  const int64_t c0 = dim == 1 ? along / n * s : 0, c1 = dim == 1 ? along / n * (s + 1) : cols;
  const uint64_t es = dtype_info(t).type_size;
  tensor_data out;
  out.name = p.name;
  out.type = t;
  out.shape = p.item->shape.size() == 1 ? std::vector<int64_t>{cols} : std::vector<int64_t>{r1 - r0, c1 - c0};
  out.bytes.resize(static_cast<size_t>(static_cast<uint64_t>((r1 - r0) * (c1 - c0)) * es));
  uint8_t* dst = out.bytes.data();
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = rd.row_raw(r);
    const uint64_t nb = static_cast<uint64_t>(c1 - c0) * es;
    std::memcpy(dst, row + static_cast<uint64_t>(c0) * es, nb);
    dst += nb;
  }
  return out;
}

std::string params_json(const model& m, bool vocab_from_tokenizer) {
  const hparams& hp = m.hp;
  auto [mult, ffn_mult] = meta_ffn_params(hp.n_embd, hp.n_ff);
  char buf[64];
  std::string j = "{\"dim\": " + std::to_string(hp.n_embd) + ", \"multiple_of\": " + std::to_string(mult);
  if (ffn_mult > 0) {
    std::snprintf(buf, sizeof buf, "%.17g", ffn_mult);
    j += std::string(", \"ffn_dim_multiplier\": ") + buf;
  }
  j += ", \"n_heads\": " + std::to_string(hp.n_head) + ", \"n_layers\": " + std::to_string(hp.n_layer);
  if (hp.n_head_kv != hp.n_head) j += ", \"n_kv_heads\": " + std::to_string(hp.n_head_kv);
  std::snprintf(buf, sizeof buf, "%.9g", hp.norm_eps);
  j += std::string(", \"norm_eps\": ") + buf;
  std::snprintf(buf, sizeof buf, "%.9g", hp.rope_theta);
  j += std::string(", \"rope_theta\": ") + buf;
  j += ", \"vocab_size\": " + (vocab_from_tokenizer ? std::string("-1") : std::to_string(hp.n_vocab)) + "}\n";
  return j;
}

void copy_tokenizers(const model& m, const fs::path& dir, meta_export_report& rep) {
  for (const source_file& f : m.source->files) {
    const std::string base = fs::path(f.path).filename().string();
    if (f.role != "tokenizer" || (base != "tokenizer.model" && base != "tokenizer.json") || !f.map) continue;
    const fs::path to = dir / base;
    std::FILE* o = std::fopen(to.string().c_str(), "wb");
    bool ok = o && std::fwrite(f.map->data(), 1, f.map->size(), o) == f.map->size();
    if (o) ok = std::fclose(o) == 0 && ok;
    if (!ok) fail(errc::io, 0, "cannot write " + to.string());
    rep.files.push_back(to.string());
  }
}

}  // namespace

std::pair<int64_t, double> meta_ffn_params(int64_t n_embd, int64_t n_ff) {
  const int64_t hidden = 2 * 4 * n_embd / 3;
  for (int64_t mult : {256, 128, 64, 32, 16, 8, 4, 2, 1})
    if (n_ff % mult == 0 && hidden <= n_ff && (hidden + mult - 1) / mult * mult == n_ff) return {mult, 0.0};
  if (hidden > 0 && n_ff >= hidden) return {n_ff, 0.0};
  // Narrower than 8/3 dim: a multiplier that int() maps onto n_ff exactly, then multiple_of 1.
  return {1, (static_cast<double>(n_ff) + 0.5) / static_cast<double>(hidden)};
}

result<meta_export_report> meta_export(const model& m, const meta_export_options& opt) {
  return capture(opt.dir, [&]() -> meta_export_report {
    if (m.family != arch_family::llama)
      fail(errc::unsupported, 0,
           std::string("export to Meta's layout: the model is ") + arch_family_name(m.family) +
               "; Meta's original layout is LLaMA's");
    if (opt.shards < 1 || opt.shards > 1024)
      fail(errc::bad_value, 0, "export to Meta's layout: shards must be 1..1024");
    const std::vector<tensor_item> items = tensor_items(m);
    const std::vector<planned> p = plan(m, items);
    std::error_code ec;
    fs::create_directories(opt.dir, ec);
    if (ec) fail(errc::io, 0, "cannot create " + opt.dir + ": " + ec.message());
    meta_export_report rep;
    const fs::path dir(opt.dir);
    {
      const std::string pj = params_json(m, opt.vocab_from_tokenizer);
      const fs::path to = dir / "params.json";
      std::FILE* o = std::fopen(to.string().c_str(), "wb");
      bool ok = o && std::fwrite(pj.data(), 1, pj.size(), o) == pj.size();
      if (o) ok = std::fclose(o) == 0 && ok;
      if (!ok) fail(errc::io, 0, "cannot write " + to.string());
      rep.files.push_back(to.string());
    }
    for (int s = 0; s < opt.shards; ++s) {
      std::vector<tensor_data> ts;
      ts.reserve(p.size());
      for (const planned& x : p) {
        ts.push_back(slice(x, s, opt.shards));
        rep.bytes += ts.back().bytes.size();
      }
      char name[32];
      std::snprintf(name, sizeof name, "consolidated.%02d.pth", s);
      const fs::path to = dir / name;
      pytorch_write(to.string(), torch_state_dict(ts), ts);
      rep.files.push_back(to.string());
    }
    copy_tokenizers(m, dir, rep);
    return rep;
  });
}

}  // namespace gb
