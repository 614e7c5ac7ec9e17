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
// The grammar is CPython 3.12's `_pickle.c` (integer literals by Python's int() rules, raw-unicode-escape
// UNICODE, ...). There are no count limits a small file can exceed (MARK depth, stack, memo, stacked
// pickles): work is bounded by the bytes and by `limits::max_memory` of analysis state. When the
// interpretation stops (bytes CPython rejects, or the memory bound), the rest of the stream is swept opcode
// by opcode for every module/name reference (GLOBAL/INST operands, STACK_GLOBAL string pairs, `module.name`
// literals), and the result is `complete == false` with a `not_verified` reason: add_findings then reports a
// HIGH `pickle.not_verified` finding. A stream that was not understood to its end is never reported clean.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/error.h"

namespace gb::pickle {

// reconstructs: a class of torch.nn rebuilt by a full torch.save(module) (needs full unpickling, runs only
// torch code): medium.
enum class safety : uint8_t { allowed, innocuous, reconstructs, suspicious, dangerous };
const char* safety_name(safety s);  // "allowed", "innocuous", "reconstructs", "suspicious", "dangerous"
severity safety_severity(
    safety s);  // innocuous -> info, reconstructs -> medium, suspicious -> high, dangerous -> critical

enum class kind : uint8_t {
  none,
  boolean,
  integer,
  floating,
  string,
  bytes,
  list,
  tuple,
  dict,
  set,
  global,
  call,
  persid,
  unknown
};
const char* kind_name(kind k);

constexpr uint32_t nil = UINT32_MAX;  // "no value" index

struct value {
  kind k = kind::unknown;
  bool b = false;               // boolean
  bool big = false;             // integer wider than 64 bits: `s` holds its little-endian bytes (capped)
  bool readonly = false;        // READONLY_BUFFER applied
  int64_t i = 0;                // integer
  double f = 0;                 // floating
  uint64_t size = 0;            // string/bytes: full length (s keeps at most limits::max_copy bytes)
  uint64_t offset = 0;          // absolute offset of the opcode that made it
  std::string s;                // string (UTF-8) / bytes content; global: module
  std::string name;             // global: name; call: the opcode that made it ("REDUCE", "NEWOBJ" ...)
  uint32_t global = nil;        // global: index into result::globals
  uint32_t callable = nil;      // call: the callable value
  uint32_t args = nil;          // call: the argument tuple; persid: the persistent id
  uint32_t kwargs = nil;        // call (NEWOBJ_EX): keyword arguments
  uint32_t state = nil;         // call: the last BUILD state
  std::vector<uint32_t> items;  // list/tuple/set elements; dict (and SETITEMS on a call): k0, v0, k1, v1 ...
};

struct global_ref {
  std::string module, name;  // "unknown" when a STACK_GLOBAL operand could not be resolved
  std::string opcode;        // "GLOBAL", "STACK_GLOBAL", "INST", "EXT1" ...; "CALL" for a dynamic callable
  uint64_t offset = 0;       // absolute offset of the importing opcode
  bool resolved = true;      // module and name are strings the interpreter would import
  bool invoked = false;      // called by REDUCE/NEWOBJ/NEWOBJ_EX/INST/OBJ, or mutated by BUILD
  bool mutated = false;      // BUILD applied to the imported object itself (module/class attributes)
  bool stored = false;       // stored inside a BUILD state (a later BUILD/hook can call it: __setstate__)
  bool computed = false;     // STACK_GLOBAL operand computed at load time (result of a call)
  bool swept = false;        // found by the raw opcode sweep after the interpretation stopped
  std::string invoked_by;    // first invoking opcode
  uint64_t invoke_offset = 0;
  safety level = safety::suspicious;
  std::string reason;  // why (named list entry or rule)
  std::string qualified() const { return module + "." + name; }
};

// No count limits: every opcode consumes at least one byte, so work is linear in the bytes; memory is
// bounded by max_memory (values, stack, marks, memo). Past it: pickle.limit, then the raw sweep.
struct limits {
  uint64_t max_memory = 1ull << 30;  // bytes of analysis state
  uint64_t max_copy = 1 << 16;       // bytes of a string/bytes value kept in memory
  uint64_t max_sweep_refs = 10'000;  // references recorded by the sweep (the sweep itself reads every byte)
  uint64_t max_window =
      64ull << 20;  // read_stream: longest line or operand held (longer strings: read through)
};

struct read_options {
  bool stacked = false;    // after STOP, keep reading while the next byte is PROTO or a valid opcode
  uint64_t base = 0;       // absolute file offset of data[0] (for offsets in findings)
  uint64_t size_hint = 0;  // read_stream: the stream's expected size (sizes the memory budget); 0: unknown
  limits lim;
};

// A forward-only byte stream (an inflating zip member): writes up to n bytes to `out`, returns how many;
// 0 at the end.
using source = std::function<uint64_t(uint8_t* out, uint64_t n)>;

struct result {
  std::deque<value>
      values;  // arena (a deque: growing never copies it); values[0] is the `unknown` placeholder
  std::vector<uint32_t> roots;      // the value left by each STOP, in stream order
  std::vector<global_ref> globals;  // every import, in stream order
  std::vector<finding> findings;  // pickle.malformed, pickle.limit, pickle.trailing_bytes (where left empty)
  bool complete = true;           // every byte up to the last STOP was interpreted without error
  std::string not_verified;       // when !complete: the first reason (what stopped or confused the analysis)
  uint64_t swept_from = UINT64_MAX;  // relative offset where the raw sweep started (UINT64_MAX: no sweep)
  uint64_t end = 0;                  // relative offset just past the last STOP read
  int protocol = -1;                 // highest PROTO seen (-1: none, i.e. protocol 0/1)
  uint64_t ops = 0;                  // opcodes interpreted

  const value& at(uint32_t i) const { return values[i < values.size() ? i : 0]; }
  bool has(safety at_least) const;  // some global at or above this level
};

// Interprets the bytes. Never throws on input (only std::bad_alloc escapes).
result read(const uint8_t* data, uint64_t size, const read_options& opt = {});

// The same over a stream, in bounded memory: the stream is read once, front to back, through a window
// holding the current opcode's operands (at most limits::max_window; a string/bytes operand longer keeps its
// head and is read through). Results (offsets relative to the stream + base) equal read() of the same bytes,
// except that a line or non-string operand longer than the window ends the interpretation (pickle.limit,
// then the sweep).
result read_stream(const source& in, const read_options& opt = {});

// True when b is the first byte of a known opcode.
bool is_opcode(uint8_t b);

// Python's int(s, base) for base 0 or 10 (whitespace, sign, 0x/0o/0b prefixes for base 0, single
// underscores between digits, at most 4300 decimal digits). False when CPython raises. `big` is set (and
// the returned value 0) when the number does not fit in int64.
bool parse_py_int(std::string_view s, int base, int64_t* out, bool* big);

// The raw sweep on its own: records every module/name reference in data[from, size) into r.globals.
void sweep(const uint8_t* data, uint64_t from, uint64_t size, uint64_t base, const limits& lim, result& r);

// Classifies module.name. `reason` receives the named-list entry or the rule that decided.
safety classify(std::string_view module, std::string_view name, bool invoked, std::string* reason = nullptr);

// Appends one finding per distinct (global, level) that is not allowed, plus the reader's own findings,
// with `where` filled in, plus one HIGH pickle.not_verified when the stream was not understood to its end.
// Codes: pickle.global.dangerous / .suspicious / .reconstructs / .innocuous, pickle.not_verified.
void add_findings(const result& r, const std::string& where, std::vector<finding>& out);

// Short display of a value for messages: "'abc'", "42", "tuple(3)", "torch.FloatStorage".
std::string display(const result& r, uint32_t v);

}  // namespace gb::pickle
