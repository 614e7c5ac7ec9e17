// viz/text_table.h: one table renderer for results users paste elsewhere (`--format table|md|csv` on bench,
// bias, stats, diff): an aligned plain-text table for a terminal, a GitHub-flavoured Markdown table, or
// RFC 4180 CSV. Cells are text; numeric columns are right-aligned (table) or marked so (Markdown).
//
//   gb::viz::text_table t{{"group", "n", "value"}, {}, {false, true, true}};
//   t.rows.push_back({"gender", "262", "0.58"});
//   auto f = gb::viz::table_format_parse("md");          // std::nullopt for an unknown name
//   std::string s = gb::viz::table_render(t, *f);
//   gb::viz::text_quote("\nOnce");                        // "'\\nOnce'": a token piece, quoted and escaped
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gb::viz {

struct text_table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // short rows are padded with empty cells
  std::vector<bool> numeric;                   // per column: right-aligned (missing = false)
};

enum class table_format { table, md, csv };
inline constexpr const char* k_table_formats = "table, md or csv";
std::optional<table_format> table_format_parse(std::string_view name);
std::string table_render(const text_table& t, table_format f);

// s in single quotes with \\ \' \n \r \t and \xNN (other control bytes and invalid UTF-8) escaped.
std::string text_quote(std::string_view s);

}  // namespace gb::viz
