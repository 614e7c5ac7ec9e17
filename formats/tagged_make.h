// formats/tagged_make.h: one constructor for the tagged values of formats/ (meta_value, torch_node): a
// value of kind k with one field set, instead of a four-line body per kind.
//
//   inline meta_value meta_int(int64_t v) { return tagged_make(meta_value::kind::integer, &meta_value::i, v);
//   }
#pragma once

#include <type_traits>
#include <utility>

namespace gb {

// N{} with n.k = k and n.*field = v (N: a struct with a `kind k` member).
template <class N, class T>
inline N tagged_make(typename N::kind k, T N::*field, std::type_identity_t<T> v) {
  N n;
  n.k = k;
  n.*field = std::move(v);
  return n;
}

}  // namespace gb
