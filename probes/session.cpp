#include "probes/session.h"

namespace gb::probes {

result<session> session_open(const std::string& model_path, const std::string& tokenizer_path,
                             const engine::run_options& opt) {
  auto a = archive_open(model_path);
  if (!a) return a.err();
  session s;
  s.ar = std::make_shared<const archive>(std::move(a).value());
  auto m = model_build(s.ar);
  if (!m) return m.err();
  s.m = std::make_shared<const model>(std::move(m).value());
  std::shared_ptr<const vocab> v = s.ar->tokenizer;
  s.tokenizer_source = v ? v->source : "";
  if (!tokenizer_path.empty()) {
    auto t = archive_open(tokenizer_path);
    if (!t) return t.err();
    if (!t.value().tokenizer)
      return error{errc::bad_value, 0, "no tokenizer found in " + tokenizer_path, tokenizer_path};
    v = t.value().tokenizer;
    s.tokenizer_source = tokenizer_path;
  }
  if (v) {
    auto t = engine::tokenizer::create(*v);
    if (t)
      s.tok = std::move(t).value();
    else
      s.run_error = "tokenizer: " + t.err().message;
  }
  auto r = engine::runner::create(*s.m, opt);
  if (r)
    s.run = std::move(r).value();
  else
    s.run_error = r.err().message;
  return s;
}

std::optional<error> session_unusable(const session& s, const std::string& model_path) {
  if (!s.run) return error{errc::unsupported, 0, s.run_error, model_path};
  if (!s.tok)
    return error{errc::unsupported, 0, "no tokenizer in these files (give --tokenizer FILE)", model_path};
  return std::nullopt;
}

result<session> session_open_runnable(const std::string& model_path, const std::string& tokenizer_path,
                                      const engine::run_options& opt) {
  auto s = session_open(model_path, tokenizer_path, opt);
  if (!s) return s.err();
  if (auto e = session_unusable(s.value(), model_path)) return *e;
  return s;
}

result<engine::tokenizer> tokenizer_open(const std::string& source) {
  auto a = archive_open(source);
  if (!a) return a.err();
  if (!a.value().tokenizer)
    return error{errc::unsupported, 0, "no tokenizer in these files (try --tokenizer FILE)", source};
  auto t = engine::tokenizer::create(*a.value().tokenizer);
  if (!t) {
    error e = t.err();
    e.where = source;
    return e;
  }
  return t;
}

}  // namespace gb::probes
