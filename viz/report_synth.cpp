// viz/report_synth.cpp: `glassbox synth` as text or JSON (viz/report_synth.h).
#include "viz/report_synth.h"

#include <nlohmann/json.hpp>

#include "viz/json_util.h"
#include "viz/text.h"

namespace gb::viz {

std::string synth_text(const std::string& path, const synth_report& r) {
  std::string out =
      strf("wrote %s: %s, %llu tensors, %llu parameters, %llu bytes\n", path.c_str(), r.architecture.c_str(),
           static_cast<unsigned long long>(r.tensor_count),
           static_cast<unsigned long long>(r.parameter_count), static_cast<unsigned long long>(r.bytes));
  if (r.bias_token_id >= 0) out += strf("bias token id %d\n", r.bias_token_id);
  return out;
}

std::string synth_json(const synth_report& r) {
  const nlohmann::ordered_json j{{"files", r.files},
                                 {"architecture", r.architecture},
                                 {"parameter_count", r.parameter_count},
                                 {"tensor_count", r.tensor_count},
                                 {"bytes", r.bytes},
                                 {"bias_token_id", r.bias_token_id}};
  return json_text(j);
}

}  // namespace gb::viz
