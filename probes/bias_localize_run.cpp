// probes/bias_localize_run.cpp: one bias-localize run (probes/bias_localize_run.h).
#include "probes/bias_localize_run.h"

#include "probes/lm_scorer.h"

namespace gb::probes {

namespace {

// Attribution, then the ablation and patching asked for, on pairs already read.
result<localize_run_result> localize_run_pairs(session& s, const dla_weights& w,
                                               const std::vector<localize_pair>& pairs,
                                               const localize_run_options& o) {
  localize_run_result out;
  auto lr = localize_pairs(*s.run, w, pairs, o.o);
  if (!lr) return lr.err();
  out.r = std::move(lr.value());
  if (o.ablate.k > 0) {
    ablate_options ao = o.ablate;
    ao.seed = o.o.seed;
    ao.resamples = o.o.resamples;
    auto a = ablate_confirm(*s.run, out.r, ao);
    if (!a) return a.err();
    out.ab = std::move(a.value());
  }
  if (o.patch) {
    auto pr = patch_pairs(*s.run, pairs, out.r.L, out.r.H);
    if (!pr) return pr.err();
    out.patch = std::move(pr.value());
  }
  return out;
}

}  // namespace

result<localize_run_result> localize_run(session& s, const dla_weights& w, const localize_run_options& o) {
  localize_heap_policy();
  try {
    engine_scorer sc(s);
    size_t skipped = 0;
    const auto pairs = localize_pairs_read(sc, o.suite, o.path, o.limit, &skipped);
    auto r = localize_run_pairs(s, w, pairs, o);
    if (r) r.value().skipped = skipped;
    return r;
  } catch (failure& f) {
    error e = f.err();
    if (e.where.empty()) e.where = o.path;
    return e;
  }
}

}  // namespace gb::probes
