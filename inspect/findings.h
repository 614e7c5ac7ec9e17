// inspect/findings.h: the findings of a model as `glassbox inspect` reports them: the loaders' and the
// architecture's, then the security scan's for what the loaders do not cover (files holding pickles are
// scanned in full, in parallel; the chat template is audited as text), each (code, message) once.
//
//   std::vector<gb::finding> fs = gb::inspect_findings(*archive, model, summary.chat_template, threads);
//   if (fail_on && gb::findings_max(fs) >= *fail_on) return 1;
#pragma once

#include <string>
#include <vector>

#include "formats/archive.h"
#include "inspect/model.h"

namespace gb {

std::vector<finding> inspect_findings(const archive& a, const model& m, const std::string& chat_template,
                                      int threads);
// Highest severity present (info when empty).
severity findings_max(const std::vector<finding>& fs);

}  // namespace gb
