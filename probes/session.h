// probes/session.h: one model opened for running: archive -> model -> tokenizer -> runner.
// Used by the commands that run the model (bias, trace, patch, audit) so they all open models alike.
//
//   auto s = gb::probes::session_open("stories260K.bin", "tok512.bin");   // tokenizer path optional
//   if (!s) return report(s.err());
//   auto ids = s.value().tok->encode("Once upon a time", true);
//   auto logits = s.value().run->forward(ids);
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "formats/archive.h"
#include "inspect/model.h"
#include "probes/engine/engine.h"
#include "probes/engine/tokenizer.h"

namespace gb::probes {

struct session {
  std::shared_ptr<const archive> ar;
  std::shared_ptr<const model> m;
  std::optional<engine::tokenizer> tok;  // empty when the files carry none and none was given
  std::string tokenizer_source;          // where the tokenizer came from
  std::unique_ptr<engine::runner> run;   // null when the engine cannot run the model
  std::string run_error;                 // why `run` is null
};

// Opens the model (and the tokenizer file when given; else the model's own tokenizer). Fails only when
// the model cannot be read; an engine or tokenizer that cannot be built is reported in the session.
result<session> session_open(const std::string& model_path, const std::string& tokenizer_path = "",
                             const engine::run_options& opt = {});

// For commands that need both the engine and a tokenizer: the error to report when either is missing
// (unsupported, naming model_path), or nothing when the session can run text.
std::optional<error> session_unusable(const session& s, const std::string& model_path);
// session_open, then session_unusable: a session that can run text, or the error to report.
result<session> session_open_runnable(const std::string& model_path, const std::string& tokenizer_path = "",
                                      const engine::run_options& opt = {});

// The tokenizer alone, from a model's files or a tokenizer file (tok512.bin, tokenizer.model, ...):
// unsupported when the files carry none, the tokenizer's own error otherwise; both name `source`.
result<engine::tokenizer> tokenizer_open(const std::string& source);

}  // namespace gb::probes
