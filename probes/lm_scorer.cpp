#include "probes/lm_scorer.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>

#include "probes/engine/huge_buffer.h"
#include "probes/engine/log_softmax.h"

namespace gb::probes {

// One runner with the sequence it scored last (its first prev.size() - 1 positions are in the KV cache).
struct engine_scorer::worker {
  engine::runner* run = nullptr;
  std::unique_ptr<engine::runner> own;
  std::vector<int32_t> prev;
  std::vector<double>
      prev_lp;  // prev.size() - 1 entries: log p(prev[i] | prev[<i]) at i - 1; NaN: not computed
  size_t forwarded = 0, reused = 0, packed = 0;  // packed: of forwarded, in packed passes
  bool count_only = false;                       // engine_scorer::set_count_only
  // (logits_chunk, V) a chunk of the rows read by a packed pass, kept across passes and batches: not zeroed
  // (each chunk writes the rows it reads), on huge pages. A 64 MiB buffer per 512-row pass (what
  // forward_packed allocates) cost 157 ms of CPU in first-touch page faults on 4 KiB pages on this VM, 11 ms
  // on 2 MiB pages (the faults were ~20% of a CrowS-Pairs run's CPU); when the host has reclaimed the
  // memory, 2 MiB pages cost up to ~1.9 s a GiB too: chunks bound it to 16 MiB.
  engine::huge_buffer logits;

  void forget() {
    prev.clear();
    prev_lp.clear();
  }
  std::vector<double> score(const std::vector<int32_t>& tokens, size_t first, bool reuse);
};

namespace {

// log-softmax of one logits row at `token`
double row_logprob(const float* row, int64_t V, int32_t token) {
  double mx = 0, log_sum = 0;
  engine::row_log_sum(row, V, mx, log_sum);
  return static_cast<double>(row[token]) - mx - log_sum;
}

}  // namespace

std::vector<double> engine_scorer::worker::score(const std::vector<int32_t>& tokens, size_t first,
                                                 bool reuse) {
  first = std::max<size_t>(first, 1);
  const size_t n = tokens.size();
  if (n < 2 || first >= n) return {};
  // Tokens [1, keep] have the log-probabilities they had in the previous sequence; positions [0, keep) of
  // the KV cache are kept and the pass runs positions [keep, n - 1).
  size_t keep = 0;
  if (reuse && !prev.empty() && (count_only || run->position() == static_cast<int64_t>(prev.size()) - 1)) {
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
  if (!count_only && keep == 0)
    run->reset();
  else if (!count_only)
    run->truncate(static_cast<int64_t>(keep));
  reused += keep;
  forget();
  const int64_t V = run->vocab_size();
  constexpr size_t chunk = 256;  // bounds the (T, V) logits and the attention scores of one call
  for (size_t s = keep; s + 1 < n; s += chunk) {
    const size_t e = std::min(n - 1, s + chunk);  // positions [s, e) predict tokens [s + 1, e + 1)
    if (count_only) {
      forwarded += e - s;
      for (size_t i = s; i < e; ++i)
        if (i + 1 >= first) lp[i] = 0;
      continue;
    }
    std::vector<int32_t> part(tokens.begin() + static_cast<std::ptrdiff_t>(s),
                              tokens.begin() + static_cast<std::ptrdiff_t>(e));
    auto lg = run->forward(part);
    if (!lg) {
      run->reset();
      throw failure(lg.err());
    }
    forwarded += part.size();
    for (size_t i = s; i < e; ++i)
      if (i + 1 >= first)
        lp[i] = row_logprob(lg.value().data() + static_cast<int64_t>(i - s) * V, V, tokens[i + 1]);
  }
  if (reuse) {
    prev = tokens;
    prev_lp = lp;
  }
  return std::vector<double>(lp.begin() + static_cast<std::ptrdiff_t>(first - 1), lp.end());
}

engine_scorer::engine_scorer(session& s, int workers) : s_(s), n_workers_(std::max(workers, 1)) {
  if (!s_.run) fail(errc::unsupported, 0, "the model cannot be run: " + s_.run_error);
  if (!s_.tok)
    fail(errc::unsupported, 0,
         "the model has no usable tokenizer" + (s_.run_error.empty() ? std::string() : ": " + s_.run_error));
  main_ = std::make_unique<worker>();
  main_->run = s_.run.get();
}

engine_scorer::~engine_scorer() = default;

std::vector<int32_t> engine_scorer::encode(const std::string& text) {
  return s_.tok->encode(text, false);
}
const void* engine_scorer::encoder_id() const {
  return &*s_.tok;
}
int32_t engine_scorer::bos() const {
  return s_.tok->bos_id();
}
int32_t engine_scorer::eos() const {
  return s_.tok->eos_id();
}
int64_t engine_scorer::context_length() const {
  return s_.run->context_length();
}

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

size_t engine_scorer::tokens_packed() const {
  size_t n = main_->packed;
  for (const auto& w : pool_) n += w->packed;
  return n;
}

void engine_scorer::set_count_only(bool on) {
  count_only_ = on;
  main_->count_only = on;
  main_->forget();
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

void engine_scorer::set_batching(size_t pack_rows, int runners) {
  pack_rows_ = std::max<size_t>(pack_rows, 1);
  runners_ = std::max(runners, 0);
}

namespace {

// One packed pass: consecutive sorted requests merged into a prefix trie of their input tokens (each
// sequence but its last token, which is only a target).
struct pass {
  size_t begin = 0, end = 0;               // positions in the sorted order
  std::vector<int32_t> tokens, parent;     // (T) the trie, rows in insertion (topological) order
  std::vector<std::vector<int32_t>> rows;  // per request: the row of each input token
  // The rows some request reads, increasing (only they go through the output projection: a BBQ context's
  // rows do not), and where each row's logits land among them (-1: not read).
  std::vector<int32_t> read, slot;  // (n), (T)
};

// Input rows a request needs: all its tokens but the last (0 when there is nothing to score).
size_t pass_input_rows(const lp_request& q) {
  return q.tokens.size() < 2 || std::max<size_t>(q.first, 1) >= q.tokens.size() ? size_t{0}
                                                                                : q.tokens.size() - 1;
}

// Passes of consecutive requests (in `order`) up to pack_rows trie rows (composed by the batch alone, so
// results do not depend on threads or runners). A request longer than that gets a pass of its own with no
// trie: it runs alone through the KV-cache path. reuse: share prefixes (else every request adds its rows).
std::vector<pass> passes_pack(const std::vector<lp_request>& reqs, const std::vector<size_t>& order,
                              size_t pack_rows, bool reuse) {
  std::vector<pass> passes;
  for (size_t k = 0; k < order.size();) {
    pass p;
    p.begin = k;
    if (pass_input_rows(reqs[order[k]]) > pack_rows) {
      p.end = ++k;
      passes.push_back(std::move(p));
      continue;
    }
    std::map<std::pair<int32_t, int32_t>, int32_t> child;  // (parent row, token) -> row
    for (; k < order.size(); ++k) {
      const std::vector<int32_t>& t = reqs[order[k]].tokens;
      const size_t n = pass_input_rows(reqs[order[k]]);
      if (n > pack_rows) break;
      // rows this request adds: the part of its inputs not already in the trie
      size_t shared = 0;
      for (int32_t at = -1; reuse && shared < n; ++shared) {
        auto it = child.find({at, t[shared]});
        if (it == child.end()) break;
        at = it->second;
      }
      if (!p.tokens.empty() && p.tokens.size() + (n - shared) > pack_rows) break;
      std::vector<int32_t> rows;
      int32_t at = -1;
      for (size_t i = 0; i < n; ++i) {
        const int32_t row = static_cast<int32_t>(p.tokens.size());
        auto [it, added] = reuse ? child.try_emplace({at, t[i]}, row) : std::make_pair(child.end(), true);
        if (added) {
          p.tokens.push_back(t[i]);
          p.parent.push_back(at);
        }
        at = added ? row : it->second;
        rows.push_back(at);
      }
      p.rows.push_back(std::move(rows));
    }
    p.end = k;
    p.slot.assign(p.tokens.size(), -1);
    for (size_t j = p.begin; j < p.end; ++j) {
      const std::vector<int32_t>& rows = p.rows[j - p.begin];
      for (size_t i = std::max<size_t>(reqs[order[j]].first, 1); i <= rows.size(); ++i)
        p.slot[static_cast<size_t>(rows[i - 1])] = 0;
    }
    for (size_t r = 0; r < p.slot.size(); ++r)
      if (p.slot[r] == 0)
        p.slot[r] = static_cast<int32_t>(p.read.size()), p.read.push_back(static_cast<int32_t>(r));
    passes.push_back(std::move(p));
  }
  return passes;
}

// Read rows whose logits a worker holds at once: its buffer is (logits_chunk, V), 16 MiB at V = 32000, not
// (rows read, V), up to 64 MiB per runner (two runners at 2 threads). Each chunk repacks the output
// projection's weights (kernels.cpp), so smaller chunks cost more than the first touch they save. 134M f32,
// --limit 100, 2 threads, bench/ab.sh against one chunk of every read row, load 2.3-3.7: holisticbias
// chunk 64 CPU 1.01x wall 1.07x, 128 CPU 0.97-1.00x wall 0.92-0.96x, 256 1.00x; crows-pairs 128 CPU 0.98x;
// peak RSS 536 -> 488 MB (holisticbias), 627 -> 534 MB (crows-pairs). Same bits at any chunk (7 and 128:
// every suite's --json equal).
constexpr size_t logits_chunk = 128;

// One packed pass on worker w: forward_packed over its trie, then each request's log-probabilities into
// out (log-softmax in double, as runner::token_logprobs, of the rows some request reads).
void pass_score(engine_scorer::worker& w, const pass& p, const std::vector<lp_request>& reqs,
                const std::vector<size_t>& order, std::vector<std::vector<double>>& out, int lse_threads) {
  if (w.count_only) {  // the positions only, as below
    for (size_t k = p.begin; k < p.end; ++k) {
      const lp_request& q = reqs[order[k]];
      const size_t n = p.rows[k - p.begin].size(), first = std::max<size_t>(q.first, 1);
      out[order[k]].assign(n >= first ? n - first + 1 : 0, 0.0);
      w.reused += n;
    }
    w.forwarded += p.tokens.size(), w.packed += p.tokens.size();
    w.reused -= p.tokens.size();
    return;
  }
  // The (request, position) pairs in the order they are written out: each reads logit `token` of read row r.
  struct pick {
    size_t r;
    int32_t token;
    float logit;
  };
  std::vector<pick> picks;  // (pairs)
  for (size_t k = p.begin; k < p.end; ++k) {
    const lp_request& q = reqs[order[k]];
    const std::vector<int32_t>& rows = p.rows[k - p.begin];
    for (size_t i = std::max<size_t>(q.first, 1); i <= rows.size(); ++i)
      picks.push_back({static_cast<size_t>(p.slot[static_cast<size_t>(rows[i - 1])]), q.tokens[i], 0.0f});
  }
  const int64_t V = w.run->vocab_size(), n = static_cast<int64_t>(p.read.size());
  const float* logits = w.logits.data_as<float>();                                  // (chunk, V)
  std::vector<double> mx(static_cast<size_t>(n)), log_sum(static_cast<size_t>(n));  // (n) each
  // read rows [first, first + m) are in logits' first m rows: their log-sums and picked logits
  auto chunk_done = [&](size_t first, size_t m) {
    const int64_t f = static_cast<int64_t>(first);
#pragma omp parallel for num_threads(lse_threads) schedule(dynamic, 4)
    for (int64_t r = f; r < f + static_cast<int64_t>(m); ++r)
      engine::row_log_sum(logits + (r - f) * V, V, mx[static_cast<size_t>(r)],
                          log_sum[static_cast<size_t>(r)]);
    for (pick& x : picks)
      if (x.r >= first && x.r < first + m) x.logit = logits[static_cast<int64_t>(x.r - first) * V + x.token];
  };
  auto lg = w.run->forward_packed_rows(p.tokens, p.parent, p.read, w.logits.data_as<float>(), logits_chunk,
                                       chunk_done);
  if (!lg) throw failure(lg.err());
  size_t at = 0;
  for (size_t k = p.begin; k < p.end; ++k) {
    const lp_request& q = reqs[order[k]];
    const std::vector<int32_t>& rows = p.rows[k - p.begin];
    std::vector<double>& o = out[order[k]];
    for (size_t i = std::max<size_t>(q.first, 1); i <= rows.size(); ++i, ++at)
      o.push_back(static_cast<double>(picks[at].logit) - mx[picks[at].r] - log_sum[picks[at].r]);
    w.reused += rows.size();
  }
  w.forwarded += p.tokens.size(), w.packed += p.tokens.size();
  w.reused -= p.tokens.size();
}

}  // namespace

size_t engine_scorer::pool_ready(size_t passes) {
  // Runners: `workers` single-threaded ones when there are passes enough to keep them all busy (no OpenMP
  // barriers per matmul: on a loaded machine a spinning team loses its time slices, measured 50 s vs 30 s
  // at load 9 for 100 CrowS-Pairs pairs), else one runner with every thread. Results are the same either way.
  const int threads = std::max(n_workers_, 1);
  const int auto_runners = passes >= 2 * static_cast<size_t>(threads) ? threads : 1;
  const int n_runners = std::clamp<int>(runners_ > 0 ? runners_ : auto_runners, 1, threads);
  const size_t n_run = std::min<size_t>(static_cast<size_t>(n_runners), passes);
  engine::run_options ro;
  ro.threads = std::max(1, threads / n_runners);
  if (pool_threads_ != ro.threads) {  // other threads per runner: new runners (their counts move to main_)
    for (auto& w : pool_)
      main_->forwarded += w->forwarded, main_->reused += w->reused, main_->packed += w->packed;
    pool_.clear();
  }
  pool_threads_ = ro.threads;
  while (pool_.size() < n_run) {
    auto r = engine::runner::create(*s_.m, ro);
    if (!r) throw failure(r.err());
    auto w = std::make_unique<worker>();
    w->own = std::move(r).value();
    w->run = w->own.get();
    pool_.push_back(std::move(w));
  }
  return n_run;
}

std::vector<std::vector<double>> engine_scorer::logprobs_many(const std::vector<lp_request>& reqs,
                                                              const std::function<void()>& tick) {
  std::vector<std::vector<double>> out(reqs.size());
  if (reqs.empty()) return out;
  calls_ += reqs.size();
  // sorted by tokens: neighbours share the longest prefixes (a CrowS-Pairs pair, sentences opening alike)
  std::vector<size_t> order(reqs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return reqs[a].tokens < reqs[b].tokens; });
  const std::vector<pass> passes = passes_pack(reqs, order, pack_rows_, reuse_);
  const size_t n_run = count_only_ ? 0 : pool_ready(passes.size());  // count only: main_ counts
  const int lse_threads = std::max(1, pool_threads_);
  // Each runner's logits buffer (rows read, V), sized for the batch's largest pass before any runs.
  size_t read_max = 0;
  for (const pass& p : passes) read_max = std::max(read_max, p.read.size());
  const size_t logits_size = std::min(read_max, logits_chunk) * static_cast<size_t>(s_.run->vocab_size());
  for (size_t i = 0; i < n_run; ++i) pool_[i]->logits.reserve_as<float>(logits_size);
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::exception_ptr error;
  auto work = [&](worker& w) {
    for (size_t b; (b = next.fetch_add(1)) < passes.size();) {
      const pass& p = passes[b];
      try {
        if (p.tokens.empty()) {  // a long request (or nothing to score): the KV-cache path, alone
          for (size_t k = p.begin; k < p.end; ++k) {
            const lp_request& q = reqs[order[k]];
            w.forget();
            out[order[k]] = w.score(q.tokens, q.first, false);
          }
        } else {
          pass_score(w, p, reqs, order, out, lse_threads);
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
        next = passes.size();  // stop the others
        return;
      }
      if (tick) {
        std::lock_guard<std::mutex> lock(mu);
        for (size_t k = p.begin; k < p.end; ++k) tick();
      }
    }
  };
  if (n_run == 0) {  // count only: a worker of its own (main_ keeps its last sequence, as in a real run)
    worker w;
    w.run = main_->run, w.count_only = true;
    work(w);
    main_->forwarded += w.forwarded, main_->reused += w.reused, main_->packed += w.packed;
  } else if (n_run == 1) {
    work(*pool_[0]);
  } else {
    std::vector<std::thread> ts;
    for (size_t i = 1; i < n_run; ++i) ts.emplace_back(work, std::ref(*pool_[i]));
    work(*pool_[0]);
    for (auto& t : ts) t.join();
  }
  if (error) std::rethrow_exception(error);
  return out;
}

std::vector<double> engine_scorer::next_logprobs(const std::vector<int32_t>& context) {
  ++calls_;
  main_->forget();
  if (count_only_) return std::vector<double>(static_cast<size_t>(s_.run->vocab_size()), 0.0);
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
