// viz/text.h: the small text helpers of the renderers: printf into a std::string, text from a file made safe
// for a terminal (control bytes, ANSI escapes among them, become '?'), XML/SVG text (xml_escape), and the
// number texts of inspect's summary (format_bytes, format_count, format_thousands, fmt_num, fmt_or_na:
// defined in inspect/summary.h, which the model summary needs, and named here so that viz/ and cli/ find
// every text helper in this one header).
//
//   out += gb::viz::strf("%-18s %s\n", key, gb::viz::safe_text(value).c_str());
//   gb::viz::format_thousands(1234567);  // "1,234,567"
//   for (const gb::finding& f : findings) out += gb::viz::finding_line(f);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "formats/error.h"
#include "inspect/summary.h"

namespace gb::viz {

[[gnu::format(printf, 1, 2)]] std::string strf(const char* fmt, ...);
std::string safe_text(const std::string& t);
// & < > " ' escaped; invalid UTF-8 and control bytes -> U+FFFD (XML 1.0 text and attributes).
std::string xml_escape(std::string_view s);
using gb::fmt_num;           // "0.25", "1.2e+06", "-3"
using gb::fmt_or_na;         // fmt_num, or "n/a" when not finite
using gb::format_bytes;      // "1.23 MB", "512 B"
using gb::format_count;      // "260.1K", "6.74B"
using gb::format_thousands;  // "1,234,567"
// The current time, UTC, ISO 8601: "2026-12-06T10:00:00Z" (report folders, manifests).
std::string utc_now();
// "  [high] tensor.nan blk.0.attn_q.weight: message\n": one finding in a terminal list.
std::string finding_line(const finding& f);

}  // namespace gb::viz
