// viz/xml_check.h: a strict XML 1.0 well-formedness checker (no DTD processing, no external entities),
// used by tests and by `glassbox graph` to check every SVG it writes before writing it.
//
//   gb::viz::xml_report r = gb::viz::xml_check(svg);
//   if (!r.ok) std::fprintf(stderr, "bad SVG at byte %zu: %s\n", r.offset, r.error.c_str());
//   r.root;    // "svg"
//   r.texts;   // character data of every element, entities decoded ("Attention (x 5)" ...)
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gb::viz {

struct xml_report {
  bool ok = false;
  std::string error;               // first problem found
  size_t offset = 0;               // byte offset of the problem
  std::string root;                // root element name
  size_t elements = 0;             // element count
  std::vector<std::string> texts;  // non-blank character data runs, entities decoded
};

// Checks: one root element; tags nest and match; names are well-formed; attributes quoted, unique per
// element; entity references are the five predefined ones or numeric character references to allowed
// code points; no '<' or bare '&' in text or attribute values; comments, PIs, CDATA and one DOCTYPE
// (before the root, internal subset skipped by bracket matching) allowed; valid UTF-8; no control bytes.
xml_report xml_check(std::string_view doc);

}  // namespace gb::viz
