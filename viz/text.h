// viz/text.h: the small text helpers of the terminal renderers: printf into a std::string, thousands
// separators, and text from a file made safe for a terminal (control bytes, ANSI escapes among them,
// become '?'). XML/SVG text: xml_escape and fmt_num in viz/svg_chart.h; sizes and counts: format_bytes and
// format_count in inspect/summary.h.
//
//   out += gb::viz::strf("%-18s %s\n", key, gb::viz::safe_text(value).c_str());
//   gb::viz::thousands(1234567);  // "1,234,567"
//   for (const gb::finding& f : findings) out += gb::viz::finding_line(f);
#pragma once

#include <cstdint>
#include <string>

#include "formats/error.h"

namespace gb::viz {

[[gnu::format(printf, 1, 2)]] std::string strf(const char* fmt, ...);
std::string thousands(uint64_t n);
std::string safe_text(const std::string& t);
// The current time, UTC, ISO 8601: "2026-12-06T10:00:00Z" (report folders, manifests).
std::string utc_now();
// "  [high] tensor.nan blk.0.attn_q.weight: message\n": one finding in a terminal list.
std::string finding_line(const finding& f);

}  // namespace gb::viz
