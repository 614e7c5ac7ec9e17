// formats/pickle.h: a pickle virtual machine that never executes anything.
//
// It interprets every opcode of protocols 0-5 and builds a small value tree (an arena of `value`s
// referenced by index, so hostile nesting never recurses and cycles made through the memo are harmless).
// Imports (GLOBAL, STACK_GLOBAL, INST, OBJ's class, EXT*) are recorded as `global_ref`s; anything that
// would invoke a callable (REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ, BUILD) marks the callable "invoked" and
// produces a `call` value instead of calling. Each global is then classified by the allowlist:
// allowed (what a state dict needs) / innocuous (numpy reconstructors) / suspicious / dangerous. A callable
// outside the allowlist that the pickle invokes is dangerous even if no list names it; named lists only
// escalate imported-but-not-invoked globals and add an explanation.
//
//   gb::pickle::read_options o;
//   o.stacked = true;                                  // keep reading pickles after STOP while bytes remain
//   gb::pickle::result r = gb::pickle::read(data, size, o);
//   for (const auto& g : r.globals) std::printf("%s.%s %s\n", g.module.c_str(), g.name.c_str(),
//                                               gb::pickle::safety_name(g.level));
//   std::vector<gb::finding> f; gb::pickle::add_findings(r, "model.pkl", f);
//   const gb::pickle::value& root = r.at(r.roots[0]);
//
// Malformed bytes never throw: they end the stream with a `pickle.malformed` finding and a partial result
// (`complete == false`); a broken pickle is never reported clean.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/error.h"

namespace gb::pickle {

enum class safety : uint8_t { allowed, innocuous, suspicious, dangerous };
const char* safety_name(safety s);          // "allowed", "innocuous", "suspicious", "dangerous"
severity safety_severity(safety s);         // innocuous -> info, suspicious -> high, dangerous -> critical

enum class kind : uint8_t {
  none, boolean, integer, floating, string, bytes, list, tuple, dict, set, global, call, persid, unknown
};
const char* kind_name(kind k);

constexpr uint32_t nil = UINT32_MAX;  // "no value" index

struct value {
  kind k = kind::unknown;
  bool b = false;           // boolean
  bool big = false;         // integer wider than 64 bits: `s` holds its little-endian bytes (capped)
  bool readonly = false;    // READONLY_BUFFER applied
  int64_t i = 0;            // integer
  double f = 0;             // floating
  uint64_t size = 0;        // string/bytes: full length (s keeps at most limits::max_copy bytes)
  uint64_t offset = 0;      // absolute offset of the opcode that made it
  std::string s;            // string (UTF-8) / bytes content; global: module
  std::string name;         // global: name; call: the opcode that made it ("REDUCE", "NEWOBJ" ...)
  uint32_t global = nil;    // global: index into result::globals
  uint32_t callable = nil;  // call: the callable value
  uint32_t args = nil;      // call: the argument tuple; persid: the persistent id
  uint32_t kwargs = nil;    // call (NEWOBJ_EX): keyword arguments
  uint32_t state = nil;     // call: the last BUILD state
  std::vector<uint32_t> items;  // list/tuple/set elements; dict (and SETITEMS on a call): k0, v0, k1, v1 ...
};

struct global_ref {
  std::string module, name;  // "unknown" when a STACK_GLOBAL operand could not be resolved
  std::string opcode;        // "GLOBAL", "STACK_GLOBAL", "INST", "EXT1" ...; "CALL" for a dynamic callable
  uint64_t offset = 0;       // absolute offset of the importing opcode
  bool resolved = true;      // module and name are strings the interpreter would import
  bool invoked = false;      // called by REDUCE/NEWOBJ/NEWOBJ_EX/INST/OBJ, or mutated by BUILD
  bool mutated = false;      // BUILD applied to the imported object itself (module/class attributes)
  std::string invoked_by;    // first invoking opcode
  uint64_t invoke_offset = 0;
  safety level = safety::suspicious;
  std::string reason;        // why (named list entry or rule)
  std::string qualified() const { return module + "." + name; }
};

struct limits {
  uint64_t max_stack = 1'000'000;     // values on the stack
  uint64_t max_marks = 10'000;        // MARK nesting depth
  uint64_t max_memo = 1'000'000;      // memo entries
  uint64_t max_values = 4'000'000;    // values built (beyond: placeholders, finding pickle.limit)
  uint64_t max_string = 1ull << 31;   // declared string/bytes length
  uint64_t max_copy = 1 << 16;        // bytes of a string/bytes value kept in memory
  uint64_t max_ops = 200'000'000;     // opcodes interpreted
  uint64_t max_pickles = 10'000;      // stacked pickles in one stream
};

struct read_options {
  bool stacked = false;  // after STOP, keep reading while the next byte is PROTO or a valid opcode
  uint64_t base = 0;     // absolute file offset of data[0] (for offsets in findings)
  limits lim;
};

struct result {
  std::vector<value> values;        // arena; values[0] is the shared `unknown` placeholder
  std::vector<uint32_t> roots;      // the value left by each STOP, in stream order
  std::vector<global_ref> globals;  // every import, in stream order
  std::vector<finding> findings;    // pickle.malformed, pickle.limit, pickle.trailing_bytes (where left empty)
  bool complete = true;             // every byte up to the last STOP was interpreted without error
  uint64_t end = 0;                 // relative offset just past the last STOP read
  int protocol = -1;                // highest PROTO seen (-1: none, i.e. protocol 0/1)
  uint64_t ops = 0;                 // opcodes interpreted

  const value& at(uint32_t i) const { return values[i < values.size() ? i : 0]; }
  bool has(safety at_least) const;  // some global at or above this level
};

// Interprets the bytes. Never throws on input (only std::bad_alloc escapes).
result read(const uint8_t* data, uint64_t size, const read_options& opt = {});

// True when b is the first byte of a known opcode.
bool is_opcode(uint8_t b);

// Classifies module.name. `reason` receives the named-list entry or the rule that decided.
safety classify(std::string_view module, std::string_view name, bool invoked, std::string* reason = nullptr);

// Appends one finding per distinct (global, level) that is not allowed, plus the reader's own findings,
// with `where` filled in. Codes: pickle.global.dangerous / .suspicious / .innocuous.
void add_findings(const result& r, const std::string& where, std::vector<finding>& out);

// Short display of a value for messages: "'abc'", "42", "tuple(3)", "torch.FloatStorage".
std::string display(const result& r, uint32_t v);

}  // namespace gb::pickle
