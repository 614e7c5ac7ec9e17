// viz/report_merge.cpp: `glassbox merge` as text, JSON and files (viz/report_merge.h).
#include "viz/report_merge.h"

#include <sys/stat.h>

#include "formats/file_text.h"
#include "viz/report_bias.h"
#include "viz/text.h"

namespace gb::viz {

std::string merge_json(const probes::merged& m) {
  return bias_json(m.results, true, 2, true) + "\n";
}

std::string merge_text(const probes::merged& m, size_t parts) {
  uint64_t seed = 0;  // the run's seed, as a suite that ran recorded it
  for (const auto& r : m.results)
    if (r.error.empty()) {
      seed = r.seed;
      break;
    }
  return strf("merged %zu parts of %s (model digest %s)\n\n", parts, m.header.model.c_str(),
              m.header.model_digest.substr(0, 16).c_str()) +
         bias_text(m.results) + bias_quick_pass_text(m.results, seed);
}

void merge_write(const std::string& out, const probes::merged& m, const std::string& doc) {
  const std::string tail = ".json";
  if (out.size() >= tail.size() && out.compare(out.size() - tail.size(), tail.size(), tail) == 0)
    return file_write_text(out, doc);
  ::mkdir(out.c_str(), 0755);
  bias_folder_write(out, m.results);  // bias.json (doc) and the charts, as `bias -o` writes them
}

}  // namespace gb::viz
