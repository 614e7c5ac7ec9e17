// JSON -> meta_value through nlohmann's SAX interface: one pass, no DOM copy, duplicate keys and depth
// checked while parsing.
#include "formats/json_meta.h"

#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "formats/reader.h"

namespace gb {
namespace {

using json = nlohmann::json;

// Approximate byte position of the n-th occurrence of "key" (for error offsets only).
uint64_t find_key(std::string_view text, const std::string& key, int occurrence) {
  std::string quoted = "\"" + key + "\"";
  size_t pos = 0;
  for (int i = 0; i < occurrence; ++i) {
    size_t p = text.find(quoted, pos);
    if (p == std::string_view::npos) return 0;
    if (i + 1 == occurrence) return p;
    pos = p + 1;
  }
  return 0;
}

class builder : public nlohmann::json_sax<json> {
 public:
  builder(std::string_view text, uint64_t base, const char* format, int max_depth)
      : text_(text), base_(base), format_(format), max_depth_(max_depth) {}

  meta_value root;

  bool null() override { return put(meta_value{}); }
  bool boolean(bool v) override {
    meta_value m;
    m.k = meta_value::kind::boolean;
    m.b = v;
    return put(std::move(m));
  }
  bool number_integer(number_integer_t v) override {
    meta_value m;
    m.k = meta_value::kind::integer;
    m.i = v;
    return put(std::move(m));
  }
  bool number_unsigned(number_unsigned_t v) override {
    meta_value m;
    m.k = meta_value::kind::uinteger;
    m.u = v;
    return put(std::move(m));
  }
  bool number_float(number_float_t v, const string_t&) override {
    meta_value m;
    m.k = meta_value::kind::floating;
    m.f = v;
    return put(std::move(m));
  }
  bool string(string_t& v) override {
    meta_value m;
    m.k = meta_value::kind::string;
    m.s = std::move(v);
    return put(std::move(m));
  }
  bool binary(binary_t&) override { return put(meta_value{}); }
  bool start_object(std::size_t) override {
    meta_value m;
    m.k = meta_value::kind::object;
    return open(std::move(m));
  }
  bool key(string_t& k) override {
    frame& f = stack_.back();
    if (!f.keys.insert(k).second) {
      int n = ++dup_count_[k];
      fail(errc::duplicate, base_ + find_key(text_, k, n + 1),
           std::string(format_) + ": duplicate JSON key '" + k + "'");
    }
    f.pending_key = std::move(k);
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override {
    meta_value m;
    m.k = meta_value::kind::array;
    return open(std::move(m));
  }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
    uint64_t pos = position > 0 ? position - 1 : 0;
    std::string what = ex.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..." -> keep the tail
    auto colon = what.find(": ");
    if (colon != std::string::npos) what = what.substr(colon + 2);
    fail(errc::bad_json, base_ + pos, std::string(format_) + ": invalid JSON: " + what);
  }

 private:
  struct frame {
    meta_value value;
    std::unordered_set<std::string> keys;
    std::string pending_key;
  };

  bool put(meta_value v) {
    if (stack_.empty()) {
      root = std::move(v);
      return true;
    }
    frame& f = stack_.back();
    if (f.value.k == meta_value::kind::object)
      f.value.obj.emplace_back(std::move(f.pending_key), std::move(v));
    else
      f.value.arr.push_back(std::move(v));
    return true;
  }
  bool open(meta_value v) {
    if (static_cast<int>(stack_.size()) >= max_depth_)
      fail(errc::limit, base_,
           std::string(format_) + ": JSON nesting deeper than " + std::to_string(max_depth_));
    stack_.push_back(frame{std::move(v), {}, {}});
    return true;
  }
  bool close() {
    meta_value v = std::move(stack_.back().value);
    stack_.pop_back();
    return put(std::move(v));
  }

  std::string_view text_;
  uint64_t base_;
  const char* format_;
  int max_depth_;
  std::vector<frame> stack_;
  std::unordered_map<std::string, int> dup_count_;
};

}  // namespace

std::optional<uint64_t> json_depth_exceeded(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;  // the escaped character cannot end the string
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;  // unbalanced text is the parser's error to report
    }
  }
  return std::nullopt;
}

void json_check_depth(std::string_view text, uint64_t base_offset, const char* format, int max_depth) {
  if (auto at = json_depth_exceeded(text, max_depth))
    fail(errc::limit, base_offset + *at,
         std::string(format) + ": JSON nesting deeper than " + std::to_string(max_depth) + " levels");
}

meta_value meta_from_json_text(std::string_view text, uint64_t base_offset, const char* format,
                               int max_depth) {
  if (!utf8_valid(text)) {
    // find the first bad byte for the offset
    size_t lo = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      if (static_cast<unsigned char>(text[i]) < 0x80) continue;
      size_t j = i + 1;
      while (j < text.size() && (static_cast<unsigned char>(text[j]) & 0xC0) == 0x80) ++j;
      if (!utf8_valid(text.substr(i, j - i))) {
        lo = i;
        break;
      }
      i = j - 1;
    }
    fail(errc::bad_utf8, base_offset + lo, std::string(format) + ": JSON text is not valid UTF-8");
  }
  json_check_depth(text, base_offset, format,
                   max_depth);  // exact offset; the builder's own cap stays as a backstop
  builder b(text, base_offset, format, max_depth);
  json::sax_parse(text.begin(), text.end(), &b, nlohmann::detail::input_format_t::json, true, false);
  return std::move(b.root);
}

}  // namespace gb
