// viz/hub_results.h: bias results handed to the Hugging Face Hub: `.eval_results/<suite>.yaml` files (the
// Hub's eval-results format: a YAML list of {dataset: {id, task_id, revision}, value, date, source, notes})
// and the `model-index` block of the model card's YAML front matter. Only suites with a public Hub dataset
// are written (the built-in templates have none); the headline metric of the overall group is the value,
// its interval, N and the dataset digest go in the notes.
//
//   for (const gb::viz::hub_eval_file& f : gb::viz::hub_eval_results(d, "2026-12-06", datasets))
//     write(dir + "/.eval_results/" + f.name, f.yaml);
//   std::string fm = gb::viz::hub_model_index_yaml(d);   // "model-index:\n- name: ...", or "" without
//   results
#pragma once

#include <string>
#include <vector>

#include "viz/attestation.h"
#include "viz/report.h"

namespace gb::viz {

// The Hub dataset id of a bias suite ("" when there is none).
std::string hub_dataset_id(const std::string& suite);

struct hub_eval_file {
  std::string name;  // "<suite>.yaml"
  std::string yaml;
};
std::vector<hub_eval_file> hub_eval_results(const audit_data& d, const std::string& date,
                                            const std::vector<attestation_dataset>& datasets);
std::string hub_model_index_yaml(const audit_data& d);

}  // namespace gb::viz
