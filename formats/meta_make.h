// formats/meta_make.h: one-line constructors for meta_value, so loaders fill metadata without repeating
// the kind/field bookkeeping; writers.h re-exports them for code that builds files. The one definition of
// meta_str and meta_bool (writers.cpp had a second body: an ODR violation, which one a caller got depended on
// inlining); a writer infers their GGUF tags from the kind.
//
//   a.metadata.emplace_back("llama.block_count", gb::meta_int(5));
//   a.metadata.emplace_back("general.architecture", gb::meta_str("llama"));
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "formats/archive.h"

namespace gb {

inline meta_value meta_int(int64_t v) {
  meta_value m;
  m.k = meta_value::kind::integer;
  m.i = v;
  return m;
}
inline meta_value meta_uint(uint64_t v) {
  meta_value m;
  m.k = meta_value::kind::uinteger;
  m.u = v;
  return m;
}
inline meta_value meta_double(double v) {
  meta_value m;
  m.k = meta_value::kind::floating;
  m.f = v;
  return m;
}
inline meta_value meta_bool(bool v) {
  meta_value m;
  m.k = meta_value::kind::boolean;
  m.b = v;
  return m;
}
inline meta_value meta_str(std::string v) {
  meta_value m;
  m.k = meta_value::kind::string;
  m.s = std::move(v);
  return m;
}

}  // namespace gb
