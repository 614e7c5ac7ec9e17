// viz/model_documentation.cpp: the Model Documentation Form as Markdown.
#include "viz/model_documentation.h"

#include <cmath>
#include <cstdio>

namespace gb::viz {
namespace {

std::string provider(const std::string& hint = "") {
  return "**PROVIDER STATEMENT** (not recoverable from the files)" + (hint.empty() ? "" : "; " + hint);
}

std::string files(const std::string& v) {
  return v + " *(from the files)*";
}

// "7.3 × 10^10" style: at least two significant figures, as the form asks.
std::string sci(uint64_t n) {
  if (n == 0) return "0";
  const int e = static_cast<int>(std::floor(std::log10(static_cast<double>(n))));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f × 10^%d", static_cast<double>(n) / std::pow(10.0, e), e);
  return buf;
}

std::string row(const std::string& field, const std::string& name, const std::string& value) {
  std::string v;  // a '|' or newline from the files must not break the table
  for (char c : value) v += c == '|' ? std::string("\\|") : c == '\n' ? std::string(" ") : std::string(1, c);
  return "| " + field + " | " + name + " | " + v + " |\n";
}

std::string custom_code(const audit_data& d) {
  std::string s;
  for (const scan_file& f : d.scan.files)
    for (const finding& x : f.findings)
      if (x.code == "config.remote_code") s += (s.empty() ? "" : "; ") + x.message;
  return s;
}

std::string dtype_mix(const model_summary& s) {
  std::string m;
  for (const dtype_share& x : s.dtypes)
    m += (m.empty() ? "" : ", ") + std::string(dtype_name(x.type)) + " " + std::to_string(x.tensors) +
         " tensors";
  return m.empty() ? "unknown" : m;
}

}  // namespace

std::string model_documentation_md(const audit_data& d) {
  const model_summary& s = d.summary;
  std::string base;
  for (const std::string& b : s.base_models) base += (base.empty() ? "" : ", ") + b;
  std::string authenticity = d.files_identity.root_hex.empty()
                                 ? "not computed: " + d.files_identity.error
                                 : "OpenSSF Model Signing v1.0 subject digest (SHA-256 over the " +
                                       std::to_string(d.files_identity.files) +
                                       " files' SHA-256, sorted by path): `" + d.files_identity.root_hex +
                                       "`";
  if (d.have_hashes)
    authenticity += "; weights (glassbox canonical per-tensor root): `" + d.hashes.root_hex + "`";
  std::string m = "# Model Documentation Form (EU GPAI Code of Practice, Transparency chapter)\n\n";
  m += "Pre-filled by glassbox " + d.tool_version + " from `" + d.model_path +
       "`. Fields marked *(from the files)* were computed from the model files; fields marked **PROVIDER "
       "STATEMENT** can only be completed by the provider.\n\n";
  m += "| field | name | value |\n|---|---|---|\n";
  m += "| **1** | **General information** | |\n";
  m += row("1.1", "Legal name for the model provider",
           provider(s.author.empty() && s.organization.empty()
                        ? ""
                        : "the files name '" + (s.author.empty() ? s.organization : s.author) + "'"));
  m += row("1.2", "Model name", s.name.empty() ? provider("the files state no name") : files(s.name));
  m += row("1.3", "Model authenticity", files(authenticity));
  m += row("1.4", "Release date", provider());
  m += row("1.5", "Union market release date", provider());
  m += row("1.6", "Model dependencies",
           base.empty() ? provider("the files state no base model")
                        : files("base model(s): " + base) + "; provider to confirm");
  m += "| **2** | **Model properties** | |\n";
  m +=
      row("2.1", "Model architecture",
          files("transformer language model (architecture '" + s.architecture +
                "' as the files name it, glassbox family " + d.family + "), " + std::to_string(d.hp.n_layer) +
                " layers, width " + std::to_string(d.hp.n_embd) + ", " + std::to_string(d.hp.n_head) +
                " attention heads (" + std::to_string(d.hp.n_head_kv) + " key/value)"));
  m += row("2.2", "Design specifications",
           provider("facts from the files: format " + s.format + " " + s.format_version + ", dtypes " +
                    dtype_mix(s)));
  m += row("2.3", "Input modalities",
           files("text (token ids from a " + std::to_string(s.vocab_size) + "-entry vocabulary)"));
  m += row("2.5", "Maximum input size",
           s.context_length > 0 ? files(std::to_string(s.context_length) + " tokens (context length)")
                                : provider("the files state no context length"));
  m += row("2.6", "Output modalities", files("text (next-token distribution over the same vocabulary)"));
  m += row("2 (size)", "Total number of parameters",
           files(sci(s.parameter_count) + " (" + std::to_string(s.parameter_count) + ")"));
  m += row("2 (size)", "Numerical format / quantisation",
           files(dtype_mix(s) + "; " + format_bytes(s.tensor_bytes) + " of tensors"));
  const std::string cc = custom_code(d);
  m += row("2 (deps)", "Software dependencies (custom code)",
           cc.empty() ? files("none: no auto_map / custom code in the configuration") : files(cc));
  m += "| **3** | **Methods of distribution and licences** | |\n";
  m += row("3.1", "Distribution channels", provider());
  m += row("3.2", "Licence",
           s.license.empty() ? provider("the files state no licence")
                             : files(s.license) + "; provider to confirm");
  m += "| **4** | **Use** | |\n";
  m += row("4.1", "Acceptable use policy", provider());
  m += row("4.2", "Intended or restricted uses", provider());
  m += row("4 (integration)", "Type and nature of AI systems, technical means for integration", provider());
  m += "| **5+** | **Training process, training data, computational resources, energy** | |\n";
  m += row("5+", "Training process and design choices", provider());
  m += row("5+", "Training, testing and validation data (type, provenance, curation)", provider());
  m += row("5+", "Computational resources and energy consumption", provider());
  m += "\nBias evaluation results (glassbox, with intervals) are in `report.json`, `MODEL_CARD.md` and "
       "`.eval_results/`.\n";
  return m;
}

}  // namespace gb::viz
