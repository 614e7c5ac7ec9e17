// write_report: gather results from inspect/ (summary, canonical hashes with statistics) into the audit
// report's plain data and render report.json, report.html and MODEL_CARD.md, as `glassbox audit` does
// (which adds the scan, spectra, probes and bias suites). viz/ only renders: every number is computed first.
//
//   example_write_report stories260K.gguf out-dir/
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "inspect/tensor_values.h"
#include "viz/report.h"

namespace {

bool write(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  return static_cast<bool>(f);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MODEL OUT_DIR\n", argv[0]);
    return 2;
  }
  gb::result<gb::integrity_input> in = gb::integrity_open(argv[1]);
  if (!in || !in.value().m) {
    std::fprintf(stderr, "%s\n",
                 in ? "no model could be built from the files" : in.err().to_string().c_str());
    return 3;
  }
  gb::viz::audit_data d;
  d.tool_version = GB_VERSION;
  d.model_path = argv[1];
  d.summary = gb::summary_build(*in.value().m);
  d.hp = in.value().m->hp;
  d.hashes = gb::hash_model(in.value().items, in.value().ar->files, {});
  d.have_hashes = true;
  d.missing.push_back({"bias suites", "not run by this example (glassbox audit --data-root runs them)"});
  d.compliance = gb::viz::compliance_map(d);
  d.verdicts = gb::viz::audit_verdicts(d);
  const std::string dir = argv[2];
  std::filesystem::create_directories(dir);
  if (!write(dir + "/report.json", gb::viz::report_json(d)) ||
      !write(dir + "/report.html", gb::viz::report_html(d)) ||
      !write(dir + "/MODEL_CARD.md", gb::viz::model_card_md(d))) {
    std::fprintf(stderr, "cannot write into %s\n", dir.c_str());
    return 3;
  }
  for (const gb::viz::verdict& v : d.verdicts)
    std::printf("%-10s %-12s %s\n", v.area.c_str(), v.level.c_str(), v.text.c_str());
  std::printf("wrote %s/report.json, report.html, MODEL_CARD.md\n", dir.c_str());
  return 0;
}
