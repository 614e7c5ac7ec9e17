// Delta releases: detection and reconstruction (see delta.h).
#include "inspect/delta.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "formats/quant.h"
#include "formats/writers.h"
#include "inspect/hash.h"

namespace gb {
namespace {

namespace fs = std::filesystem;

std::string fixed(double v, int prec) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

// Checks that base item b and delta item d store one tensor alike; the head (name, dtype, shape) of
// base + delta in the delta's stored layout and dtype.
tensor_data sum_head(const tensor_item& b, const tensor_item& d) {
  const tensor_view& vb = *b.view;
  const tensor_view& vd = *d.view;
  const std::string who = "apply-delta: tensor '" + d.name + "'";
  if (vb.shape != vd.shape || b.transposed != d.transposed || b.hf_heads != d.hf_heads ||
      b.qkv_heads != d.qkv_heads || b.plus_one != d.plus_one)
    fail(errc::mismatch, 0,
         who + " is stored as " + shape_string(vd.shape) + " in the delta and " + shape_string(vb.shape) +
             " (or in another layout) in the base; convert the base to the delta's format first");
  if (vd.type != dtype::f32 && vd.type != dtype::f16 && vd.type != dtype::bf16)
    fail(errc::unsupported, 0, who + " is " + dtype_name(vd.type) + " (f32, f16, bf16 only)");
  return {vd.name, vd.type, vd.shape, {}};
}

// base + delta of one tensor into `out`, row by row (the sum in f32, rounded to the delta's dtype); the
// inputs' pages are released behind the rows read, so memory holds one tensor's output at a time.
void sum_bytes(const tensor_item& b, const tensor_item& d, std::vector<uint8_t>& out) {
  // Both sides store the tensor alike (sum_head), so the sum runs over stored rows: the items are read
  // without undoing their layout.
  tensor_item sb = b, sd = d;
  for (tensor_item* x : {&sb, &sd}) {
    x->hf_heads = x->qkv_heads = 0;
    x->transposed = x->plus_one = false;
    x->shape = x->view->shape;
  }
  tensor_reader rb(sb), rd(sd);
  std::vector<float> xb(static_cast<size_t>(rb.cols())), xd(static_cast<size_t>(rd.cols()));  // (C)
  out.reserve(static_cast<size_t>(rd.rows()) * rd.row_bytes());
  std::vector<float> s(xd.size());  // (C)
  const int64_t chunk =
      static_cast<int64_t>(std::max<uint64_t>(1, (4u << 20) / std::max<uint64_t>(rd.row_bytes(), 1)));
  for (int64_t r0 = 0; r0 < rd.rows(); r0 += chunk) {  // ~4 MiB of rows, then their pages go
    const int64_t r1 = std::min(rd.rows(), r0 + chunk);
    for (int64_t r = r0; r < r1; ++r) {
      const float* pb = rb.row_f32(r, xb.data());
      const float* pd = rd.row_f32(r, xd.data());
      for (size_t c = 0; c < s.size(); ++c) s[c] = pb[c] + pd[c];
      std::vector<uint8_t> enc = quantize_row(sd.view->type, s.data(), rd.cols());
      out.insert(out.end(), enc.begin(), enc.end());
    }
    rb.release(r0, r1);
    rd.release(r0, r1);
  }
}

void copy_file(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) fail(errc::io, 0, "cannot copy " + from + " to " + to + ": " + ec.message());
}

}  // namespace

std::optional<std::string> delta_detect(const diff_report& d) {
  double el = 0, el_small = 0, norm_el = 0, norm_small = 0, sa = 0, sb = 0;
  for (const tensor_diff& t : d.tensors) {
    if (t.shape_a != t.shape_b || t.status == tensor_delta::added || t.status == tensor_delta::removed ||
        t.status == tensor_delta::reshaped || t.status == tensor_delta::undecodable || t.count == 0)
      continue;
    const double n = static_cast<double>(t.count);
    const bool small = t.sum_a2 > 0 && std::sqrt(t.sum_b2 / t.sum_a2) < 0.5;
    el += n;
    el_small += small ? n : 0;
    sa += t.sum_a2;
    sb += t.sum_b2;
    if (t.shape_a.size() == 1 && t.name.find("norm") != std::string::npos) {
      norm_el += n;
      norm_small += small ? n : 0;
    }
  }
  if (el == 0 || el_small < 0.9 * el || sa <= 0 || (norm_el > 0 && norm_small < 0.9 * norm_el))
    return std::nullopt;
  return "B is a delta against A (weights published as fine-tuned - base): same tensors and shapes, B's "
         "values centred "
         "near 0, rms " +
         fixed(std::sqrt(sb / sa), 4) + " x A's; " + fixed(100 * el_small / el, 1) +
         "% of the elements in tensors under half the base's scale" +
         (norm_el > 0 ? std::string(", norm gains included (a model's sit near 1)") : std::string()) +
         ". Reconstruct with: glassbox apply-delta A B -o OUT";
}

result<delta_apply_report> delta_apply(const integrity_input& base, const integrity_input& delta,
                                       const std::string& out) {
  return capture(out, [&]() -> delta_apply_report {
    std::map<std::string, const tensor_item*> by;
    for (const tensor_item& it : base.items) by[it.name] = &it;
    // Every pair checked before a byte is written; then the sums streamed tensor by tensor.
    std::vector<std::pair<const tensor_item*, const tensor_item*>> pairs;  // (base, delta)
    std::vector<tensor_data> heads;
    for (const tensor_item& d : delta.items) {
      if (!d.excluded.empty()) continue;
      auto it = by.find(d.name);
      if (it == by.end())
        fail(errc::mismatch, 0, "apply-delta: tensor '" + d.name + "' of the delta is not in the base");
      heads.push_back(sum_head(*it->second, d));
      pairs.emplace_back(it->second, &d);
    }
    delta_apply_report rep;
    rep.tensors = heads.size();
    const bool one_file = out.size() > 12 && out.compare(out.size() - 12, 12, ".safetensors") == 0;
    std::string weights = out;
    if (!one_file) {
      std::error_code ec;
      fs::create_directories(out, ec);
      if (ec) fail(errc::io, 0, "cannot create " + out + ": " + ec.message());
      weights = out + "/model.safetensors";
      for (const source_file& f : delta.ar->files)
        if (f.role == "config" || f.role == "tokenizer") {
          const std::string to = out + "/" + fs::path(f.path).filename().string();
          copy_file(f.path, to);
          rep.files.push_back(to);
        }
    }
    // Written beside the target and renamed when complete: a failure leaves no partial model behind.
    const std::string partial = weights + ".partial";
    try {
      safetensors_write_streamed(partial, heads, {{"format", "pt"}}, [&](size_t i, std::vector<uint8_t>& b) {
        sum_bytes(*pairs[i].first, *pairs[i].second, b);
      });
    } catch (...) {
      std::error_code ec;
      fs::remove(partial, ec);
      throw;
    }
    std::error_code ec;
    fs::rename(partial, weights, ec);
    if (ec) fail(errc::io, 0, "cannot rename " + partial + " to " + weights + ": " + ec.message());
    rep.files.insert(rep.files.begin(), weights);
    result<integrity_input> made = integrity_open(one_file ? weights : out);
    if (!made) throw failure(made.err());
    hash_options o;
    o.files = false;
    o.stats = false;
    rep.root_hex = hash_model(made.value().items, made.value().ar->files, o).root_hex;
    return rep;
  });
}

}  // namespace gb
