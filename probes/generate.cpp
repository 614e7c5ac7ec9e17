// probes/generate.cpp: perplexity over context windows and greedy continuation (see probes/generate.h).
#include "probes/generate.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace gb::probes {

result<perplexity_result> perplexity(engine::runner& run, const std::vector<int32_t>& ids, int32_t bos) {
  const size_t win = static_cast<size_t>(run.context_length());
  const size_t body = bos >= 0 ? win - 1 : win;  // tokens of the text per window
  double nll = 0;
  size_t count = 0;
  for (size_t a = 0; a < ids.size(); a += body) {
    std::vector<int32_t> w;  // (<= win) one window: [bos] + a slice of the text
    if (bos >= 0) w.push_back(bos);
    w.insert(w.end(), ids.begin() + static_cast<std::ptrdiff_t>(a),
             ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), a + body)));
    if (w.size() < 2) break;
    auto lp = run.token_logprobs(w, 1);
    if (!lp) return lp.err();
    for (double v : lp.value()) nll -= v, ++count;
  }
  if (count == 0) return error{errc::bad_value, 0, "text too short to score", ""};
  perplexity_result r;
  r.tokens = count;
  r.mean_nll = nll / static_cast<double>(count);
  r.perplexity = std::exp(r.mean_nll);
  return r;
}

result<std::vector<int32_t>> greedy_continue(engine::runner& run, const std::vector<int32_t>& ids, int n,
                                             int32_t eos, int32_t bos) {
  run.reset();
  auto lg = run.forward_last(ids);  // (V) logits of the last position
  if (!lg) return lg.err();
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    const std::vector<float>& v = lg.value();
    const int32_t next = static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
    if (next == eos || next == bos) break;
    out.push_back(next);
    if (i + 1 == n || run.position() >= run.context_length()) break;
    lg = run.forward_last({next});
    if (!lg) return lg.err();
  }
  return out;
}

}  // namespace gb::probes
