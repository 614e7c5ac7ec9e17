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
  return strf("merged %zu parts of %s (model digest %s)\n\n", parts, m.header.model.c_str(),
              m.header.model_digest.substr(0, 16).c_str()) +
         bias_text(m.results) + bias_quick_pass_text(m.results);
}

void merge_write(const std::string& out, const probes::merged& m, const std::string& doc) {
  if (out.ends_with(".json")) return file_write_text(out, doc);
  ::mkdir(out.c_str(), 0755);
  bias_folder_write(out, m.results);  // bias.json (doc) and the charts, as `bias -o` writes them
}

}  // namespace gb::viz
