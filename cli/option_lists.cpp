// cli/option_lists.cpp: list and choice option values, option rows (see cli/option_lists.h).
#include "cli/option_lists.h"

#include "cli/options.h"

namespace gb::cli {

std::optional<viz::table_format> table_format_option(const std::string& text) {
  const auto format = viz::table_format_parse(text);
  if (!text.empty() && !format)
    throw exit_now{usage_error("", std::string("--format must be ") + viz::k_table_formats)};
  return format;
}

std::vector<std::string> split_list(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& s : values) {
    std::string cur;
    for (char c : s + ",") {
      if (c == ',' || c == ' ') {
        if (!cur.empty()) out.push_back(cur);
        cur.clear();
      } else {
        cur.push_back(c);
      }
    }
  }
  return out;
}

std::vector<std::string> parse_choices(const std::string& option, const std::vector<std::string>& values,
                                       const std::vector<std::string>& valid) {
  std::vector<std::string> out = split_list(values);
  for (const std::string& v : out) check_choice(option, v, valid);
  return out;
}

void engine_numerics_apply(const std::string& gelu, const std::string& numerics, engine::run_options& o) {
  check_choice("gelu", gelu, {"exact", "ggml"});
  check_choice("numerics", numerics, {"exact", "llama.cpp"});
  if (gelu == "ggml") o.gelu = engine::gelu_mode::ggml_f16_table;
  if (numerics == "llama.cpp") o.numerics = engine::numerics_mode::llamacpp;
}

void engine_numerics_options(boost::program_options::options_description& desc, std::string& gelu,
                             std::string& numerics) {
  namespace po = boost::program_options;
  desc.add_options()("gelu", po::value(&gelu)->default_value("exact"),
                     "exact | ggml (reproduce llama.cpp's arithmetic: f16-table GELU)")(
      "numerics", po::value(&numerics)->default_value("exact"),
      "exact | llama.cpp (block-quantized weights: 8-bit activations and integer dots, as llama.cpp's CPU "
      "backend)");
}

void options_add(boost::program_options::options_description& desc, std::initializer_list<option_row> rows) {
  auto add = desc.add_options();
  for (const option_row& r : rows)
    if (r.value)
      add(r.name, r.value, r.help);
    else
      add(r.name, r.help);
}

}  // namespace gb::cli
