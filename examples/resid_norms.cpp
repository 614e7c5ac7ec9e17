// resid_norms: run one forward pass with a hook that records the L2 norm of the residual stream leaving each
// block (blk.N.resid.post, shape (T, D)) at the last token: the smallest probe there is.
//
//   example_resid_norms stories260K.gguf "Once upon a time"
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "probes/session.h"

namespace {

// Wants only blk.N.resid.post: the pass materialises nothing else.
class resid_norm_hook : public gb::engine::hook {
 public:
  std::map<int, double> norm;  // block -> |resid.post| at the last token

  bool wants(std::string_view name) override {
    return name.starts_with("blk.") && name.ends_with(".resid.post");
  }
  bool observe(std::string_view name, gb::engine::activation_view a) override {  // a: (T, D)
    const int block = std::stoi(std::string(name.substr(4)));
    const float* last = a.row(a.rows() - 1);  // (D) the last token's row
    const int64_t D = a.cols();
    double s = 0;
    for (int64_t i = 0; i < D; ++i) s += static_cast<double>(last[i]) * static_cast<double>(last[i]);
    norm[block] = std::sqrt(s);
    return true;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MODEL TEXT\n", argv[0]);
    return 2;
  }
  gb::result<gb::probes::session> s = gb::probes::session_open_runnable(argv[1]);  // can it run text?
  if (!s) {
    std::fprintf(stderr, "%s\n", s.err().to_string().c_str());
    return 3;
  }
  const std::vector<int32_t> ids = s.value().tok->encode(argv[2], true);
  resid_norm_hook h;
  gb::result<std::vector<float>> logits = s.value().run->forward(ids, &h);
  if (!logits) {
    std::fprintf(stderr, "%s\n", logits.err().to_string().c_str());
    return 3;
  }
  for (const auto& [block, n] : h.norm) std::printf("blk.%d.resid.post |x| = %.4f\n", block, n);
  return h.norm.size() == static_cast<size_t>(s.value().m->hp.n_layer) ? 0 : 1;
}
