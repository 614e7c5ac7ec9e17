// viz/report_merge.cpp: `glassbox merge` as text, JSON and files (viz/report_merge.h).
#include "viz/report_merge.h"

#include <sys/stat.h>

#include <fstream>

#include "viz/report_bias.h"
#include "viz/text.h"

namespace gb::viz {

std::string merge_json(const probes::merged& m) {
  return bias_json(m.results, true, 2, true) + "\n";
}

std::string merge_text(const probes::merged& m, size_t parts) {
  return strf("merged %zu parts of %s (model digest %s)\n\n", parts, m.header.model.c_str(),
              m.header.model_digest.substr(0, 16).c_str()) +
         bias_text(m.results);
}

void merge_write(const std::string& out, const probes::merged& m, const std::string& doc) {
  const std::string tail = ".json";
  std::string file = out;
  if (out.size() < tail.size() || out.compare(out.size() - tail.size(), tail.size(), tail) != 0) {
    ::mkdir(out.c_str(), 0755);
    file = out + "/bias.json";
    for (const auto& r : m.results)
      if (r.error.empty()) std::ofstream(out + "/bias-" + r.suite + ".svg") << bias_chart_svg(r);
  }
  std::ofstream f(file, std::ios::binary | std::ios::trunc);
  f << doc;
  f.close();
  if (!f) throw failure(error{errc::io, 0, "cannot write the merged result", file});
}

}  // namespace gb::viz
