// formats/error.h: what cannot be parsed (error) and what parsed but is suspicious (finding).
//
// Loaders throw gb::failure (carrying an error) deep inside parsing; the public entry points catch it
// and hand back a result<T>. Input never reaches an assert: every byte-driven check ends in fail().
//
//   gb::result<gb::archive> r = gb::archive_open("model.gguf");
//   if (!r) { std::fprintf(stderr, "%s\n", r.err().to_string().c_str()); return 3; }
//   const gb::archive& a = r.value();
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace gb {

// Every error code, named once. Each has at least one test that builds the bad bytes in memory.
enum class errc : uint8_t {
  io,             // the OS refused (open, stat, mmap)
  not_found,      // path does not exist
  is_directory,   // a directory where a file was needed (or an unrecognised folder)
  empty_file,     // zero bytes
  bad_magic,      // no known format's magic bytes
  truncated,      // a read ran past the end of the bytes
  out_of_bounds,  // an offset or range lies outside the file or buffer
  overflow,       // checked arithmetic on file numbers overflowed
  limit,          // a count, length, size or depth exceeds a cap
  bad_value,      // a field holds an impossible value (bad dtype, n_dims, alignment ...)
  bad_json,       // JSON that does not parse or has the wrong shape
  bad_utf8,       // text that is not valid UTF-8
  duplicate,      // the same name twice
  overlap,        // two byte ranges overlap
  hole,           // a gap in a buffer that must be contiguous
  unsupported,    // valid but not handled (format version, architecture, tensor type)
  bad_pickle,     // malformed pickle stream
  bad_zip,        // malformed zip container
  bad_protobuf,   // protobuf that does not parse
  path_escape,    // a path from the file points outside the model's folder
  mismatch,       // two parts of one model disagree (shard map vs shards, shape vs size)
};
const char* errc_name(errc c);

struct error {
  errc code = errc::io;
  uint64_t offset = 0;  // byte offset in `where` (0 when not applicable)
  std::string
      message;  // says what failed: "GGUF: tensor 'blk.0.attn_q.weight' offset 96 past end of file (size 64)"
  std::string where;              // file path (filled by the entry point)
  std::string to_string() const;  // "where: message [code at byte offset N]"
};

class failure : public std::exception {
 public:
  explicit failure(error e) : err_(std::move(e)) {}
  const char* what() const noexcept override { return err_.message.c_str(); }
  const error& err() const noexcept { return err_; }
  error& err() noexcept { return err_; }

 private:
  error err_;
};

[[noreturn]] void fail(errc code, uint64_t offset, std::string message);

enum class severity : uint8_t { info, low, medium, high, critical };
// Scan vocabulary: innocuous = info, suspicious = high, dangerous = critical.
const char* severity_name(severity s);
std::optional<severity> severity_parse(const std::string& s);  // accepts both vocabularies

struct finding {
  severity level = severity::info;
  std::string code;     // dotted, stable: "gguf.unknown_key", "pickle.global.dangerous", "tensor.nan"
  std::string where;    // file, tensor or key the finding is about
  std::string message;  // one sentence for a human
  uint64_t offset = UINT64_MAX;  // byte offset when known
};

// result<T>: a value or an error.
template <class T>
class result {
 public:
  result(T v) : v_(std::move(v)) {}      // NOLINT(google-explicit-constructor)
  result(error e) : v_(std::move(e)) {}  // NOLINT(google-explicit-constructor)
  explicit operator bool() const { return v_.index() == 0; }
  bool ok() const { return v_.index() == 0; }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const error& err() const { return std::get<1>(v_); }

 private:
  std::variant<T, error> v_;
};

// Runs f(), turning a gb::failure into an error with `where` filled in.
template <class F>
auto capture(const std::string& where, F&& f) -> result<decltype(f())> {
  try {
    return f();
  } catch (failure& e) {
    if (e.err().where.empty()) e.err().where = where;
    return e.err();
  } catch (const std::bad_alloc&) {
    return error{errc::limit, 0, "out of memory while reading", where};
  } catch (const std::exception& e) {
    // a third-party parser's own exception (e.g. a JSON number out of range): still an input error
    return error{errc::bad_value, 0, std::string("cannot read: ") + e.what(), where};
  }
}

}  // namespace gb
