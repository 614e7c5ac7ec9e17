#include "probes/lm_scorer.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>

namespace gb::probes {

// One runner with the sequence it scored last (its first prev.size() - 1 positions are in the KV cache).
struct engine_scorer::worker {
  engine::runner* run = nullptr;
  std::unique_ptr<engine::runner> own;
  std::vector<int32_t> prev;
  std::vector<double> prev_lp;  // prev.size() - 1 entries: log p(prev[i] | prev[<i]) at i - 1; NaN: not computed
  size_t forwarded = 0, reused = 0;

  void forget() {
    prev.clear();
    prev_lp.clear();
  }
  std::vector<double> score(const std::vector<int32_t>& tokens, size_t first, bool reuse);
};

namespace {

// log-softmax of one logits row at `token`, in double (as runner::token_logprobs computes it)
double row_logprob(const float* row, int64_t V, int32_t token) {
  double mx = static_cast<double>(row[0]);
  for (int64_t j = 1; j < V; ++j) mx = std::max(mx, static_cast<double>(row[j]));
  double sum = 0;
  for (int64_t j = 0; j < V; ++j) sum += std::exp(static_cast<double>(row[j]) - mx);
  return static_cast<double>(row[token]) - mx - std::log(sum);
}

}  // namespace

std::vector<double> engine_scorer::worker::score(const std::vector<int32_t>& tokens, size_t first, bool reuse) {
  first = std::max<size_t>(first, 1);
  const size_t n = tokens.size();
  if (n < 2 || first >= n) return {};
  // Tokens [1, keep] have the log-probabilities they had in the previous sequence; positions [0, keep) of
  // the KV cache are kept and the pass runs positions [keep, n - 1).
  size_t keep = 0;
  if (reuse && !prev.empty() && run->position() == static_cast<int64_t>(prev.size()) - 1) {
    size_t l = 0;
    while (l < n && l < prev.size() && tokens[l] == prev[l]) ++l;
    keep = l == 0 ? 0 : std::min(l - 1, n - 2);  // at least one position runs
    for (size_t i = first; i <= keep; ++i)
      if (std::isnan(prev_lp[i - 1])) {
        keep = i - 1;
        break;
      }
  }
  std::vector<double> lp(n - 1, std::nan(""));  // lp[i - 1] = log p(tokens[i] | tokens[<i])
  for (size_t i = 1; i <= keep; ++i) lp[i - 1] = prev_lp[i - 1];
  if (keep == 0) run->reset();
  else run->truncate(static_cast<int64_t>(keep));
  reused += keep;
  forget();
  const int64_t V = run->vocab_size();
  constexpr size_t chunk = 256;  // bounds the (T, V) logits and the attention scores of one call
  for (size_t s = keep; s + 1 < n; s += chunk) {
    const size_t e = std::min(n - 1, s + chunk);  // positions [s, e) predict tokens [s + 1, e + 1)
    std::vector<int32_t> part(tokens.begin() + static_cast<std::ptrdiff_t>(s), tokens.begin() + static_cast<std::ptrdiff_t>(e));
    auto lg = run->forward(part);
    if (!lg) {
      run->reset();
      throw failure(lg.err());
    }
    forwarded += part.size();
    for (size_t i = s; i < e; ++i)
      if (i + 1 >= first) lp[i] = row_logprob(lg.value().data() + static_cast<int64_t>(i - s) * V, V, tokens[i + 1]);
  }
  if (reuse) {
    prev = tokens;
    prev_lp = lp;
  }
  return std::vector<double>(lp.begin() + static_cast<std::ptrdiff_t>(first - 1), lp.end());
}

engine_scorer::engine_scorer(session& s, int workers) : s_(s), n_workers_(std::max(workers, 1)) {
  if (!s_.run) fail(errc::unsupported, 0, "the model cannot be run: " + s_.run_error);
  if (!s_.tok) fail(errc::unsupported, 0, "the model has no usable tokenizer" + (s_.run_error.empty() ? std::string() : ": " + s_.run_error));
  main_ = std::make_unique<worker>();
  main_->run = s_.run.get();
}

engine_scorer::~engine_scorer() = default;

std::vector<int32_t> engine_scorer::encode(const std::string& text) { return s_.tok->encode(text, false); }
int32_t engine_scorer::bos() const { return s_.tok->bos_id(); }
int32_t engine_scorer::eos() const { return s_.tok->eos_id(); }
int64_t engine_scorer::context_length() const { return s_.run->context_length(); }

void engine_scorer::set_prefix_reuse(bool on) {
  reuse_ = on;
  main_->forget();
  for (auto& w : pool_) w->forget();
}

size_t engine_scorer::tokens_forwarded() const {
  size_t n = main_->forwarded;
  for (const auto& w : pool_) n += w->forwarded;
  return n;
}

size_t engine_scorer::tokens_reused() const {
  size_t n = main_->reused;
  for (const auto& w : pool_) n += w->reused;
  return n;
}

std::vector<double> engine_scorer::logprobs(const std::vector<int32_t>& tokens, size_t first) {
  ++calls_;
  return main_->score(tokens, first, reuse_);
}

std::vector<std::vector<double>> engine_scorer::logprobs_many(const std::vector<lp_request>& reqs,
                                                              const std::function<void()>& tick) {
  std::vector<std::vector<double>> out(reqs.size());
  if (reqs.empty()) return out;
  calls_ += reqs.size();
  // sorted by tokens: neighbours share the longest prefixes (a CrowS-Pairs pair, sentences opening alike)
  std::vector<size_t> order(reqs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return reqs[a].tokens < reqs[b].tokens; });
  // blocks of 8..64 requests, about 16 per batch so that workers stay balanced (sized by the batch alone)
  const size_t block = std::clamp<size_t>(reqs.size() / 16, 8, 64);
  const size_t n_blocks = (order.size() + block - 1) / block;
  // always single-threaded runners (the forward pass's rounding may depend on its thread count)
  const size_t n_threads = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(n_workers_), n_blocks));
  std::vector<worker*> ws;
  engine::run_options ro;
  ro.threads = 1;
  while (pool_.size() < n_threads) {
    auto r = engine::runner::create(*s_.m, ro);
    if (!r) throw failure(r.err());
    auto w = std::make_unique<worker>();
    w->own = std::move(r).value();
    w->run = w->own.get();
    pool_.push_back(std::move(w));
  }
  for (size_t i = 0; i < n_threads; ++i) ws.push_back(pool_[i].get());
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::exception_ptr error;
  auto work = [&](worker& w) {
    for (size_t b; (b = next.fetch_add(1)) < n_blocks;) {
      w.forget();  // each block from an empty cache: results independent of the worker count
      const size_t end = std::min(order.size(), (b + 1) * block);
      for (size_t k = b * block; k < end; ++k) {
        const lp_request& q = reqs[order[k]];
        try {
          out[order[k]] = w.score(q.tokens, q.first, reuse_);
        } catch (...) {
          std::lock_guard<std::mutex> lock(mu);
          if (!error) error = std::current_exception();
          next = n_blocks;  // stop the others
          return;
        }
        if (tick) {
          std::lock_guard<std::mutex> lock(mu);
          tick();
        }
      }
    }
  };
  if (ws.size() == 1) {
    work(*ws[0]);
  } else {
    std::vector<std::thread> threads;
    for (size_t i = 1; i < ws.size(); ++i) threads.emplace_back(work, std::ref(*ws[i]));
    work(*ws[0]);
    for (auto& t : threads) t.join();
  }
  if (error) std::rethrow_exception(error);
  return out;
}

std::vector<double> engine_scorer::next_logprobs(const std::vector<int32_t>& context) {
  ++calls_;
  main_->forget();
  s_.run->reset();
  auto r = s_.run->forward_last(context);
  s_.run->reset();
  if (!r) throw failure(r.err());
  const std::vector<float>& z = r.value();
  double mx = -INFINITY;
  for (float v : z) mx = std::max(mx, static_cast<double>(v));
  double sum = 0;
  for (float v : z) sum += std::exp(static_cast<double>(v) - mx);
  const double lse = mx + std::log(sum);
  std::vector<double> out(z.size());
  for (size_t i = 0; i < z.size(); ++i) out[i] = static_cast<double>(z[i]) - lse;
  return out;
}

}  // namespace gb::probes
