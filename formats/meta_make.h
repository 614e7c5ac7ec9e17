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
#include "formats/tagged_make.h"

namespace gb {

inline meta_value meta_int(int64_t v) {
  return tagged_make(meta_value::kind::integer, &meta_value::i, v);
}
inline meta_value meta_uint(uint64_t v) {
  return tagged_make(meta_value::kind::uinteger, &meta_value::u, v);
}
inline meta_value meta_double(double v) {
  return tagged_make(meta_value::kind::floating, &meta_value::f, v);
}
inline meta_value meta_bool(bool v) {
  return tagged_make(meta_value::kind::boolean, &meta_value::b, v);
}
inline meta_value meta_str(std::string v) {
  return tagged_make(meta_value::kind::string, &meta_value::s, std::move(v));
}

}  // namespace gb
