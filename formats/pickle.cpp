// The non-executing pickle interpreter and the global classification (allowlist + named lists).
#include "formats/pickle.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <iterator>
#include <map>
#include <unordered_map>

#include "formats/reader.h"

namespace gb::pickle {

const char* safety_name(safety s) {
  switch (s) {
    case safety::allowed:
      return "allowed";
    case safety::innocuous:
      return "innocuous";
    case safety::reconstructs:
      return "reconstructs";
    case safety::suspicious:
      return "suspicious";
    case safety::dangerous:
      return "dangerous";
  }
  return "dangerous";
}

severity safety_severity(safety s) {
  switch (s) {
    case safety::allowed:
      return severity::info;
    case safety::innocuous:
      return severity::info;
    case safety::reconstructs:
      return severity::medium;
    case safety::suspicious:
      return severity::high;
    case safety::dangerous:
      return severity::critical;
  }
  return severity::critical;
}

const char* kind_name(kind k) {
  switch (k) {
    case kind::none:
      return "none";
    case kind::boolean:
      return "bool";
    case kind::integer:
      return "int";
    case kind::floating:
      return "float";
    case kind::string:
      return "str";
    case kind::bytes:
      return "bytes";
    case kind::list:
      return "list";
    case kind::tuple:
      return "tuple";
    case kind::dict:
      return "dict";
    case kind::set:
      return "set";
    case kind::global:
      return "global";
    case kind::call:
      return "call";
    case kind::persid:
      return "persid";
    case kind::unknown:
      return "unknown";
  }
  return "unknown";
}

bool result::has(safety at_least) const {
  for (const auto& g : globals)
    if (g.level >= at_least) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------------
// Classification tables. Module entries match the module and its submodules; name entries match the
// name and its attributes ("Profile" matches "Profile.runctx").

namespace {

struct allow_entry {
  const char* module;
  const char* name;  // nullptr: any name ending in "Storage" (torch storages)
  safety level;
};

// What a state dict (and numpy payloads) need: PyTorch's weights_only unpickler
// (torch/_weights_only_unpickler.py) and numpy's own pickling. Everything else invoked is dangerous.
const allow_entry k_allow[] = {
    {"collections", "OrderedDict", safety::allowed},
    {"collections", "Counter", safety::allowed},
    {"torch._utils", "_rebuild_qtensor", safety::allowed},
    {"torch._utils", "_rebuild_sparse_tensor", safety::allowed},
    {"torch._utils", "_rebuild_meta_tensor_no_storage", safety::allowed},
    {"torch._utils", "_rebuild_nested_tensor", safety::allowed},
    {"torch._utils", "_rebuild_wrapper_subclass", safety::allowed},
    {"torch._utils", "_rebuild_device_tensor_from_numpy", safety::allowed},
    {"torch._utils", "_rebuild_device_tensor_from_cpu_tensor", safety::allowed},
    {"torch._tensor", "_rebuild_from_type_v2", safety::allowed},
    {"torch.nn.parameter", "Parameter", safety::allowed},
    {"torch.nn.parameter", "Buffer", safety::allowed},
    {"torch", "Tensor", safety::allowed},
    {"torch", "per_tensor_affine", safety::allowed},
    {"torch", "per_tensor_symmetric", safety::allowed},
    {"torch", "per_channel_affine", safety::allowed},
    {"torch", "per_channel_symmetric", safety::allowed},
    {"torch", "per_channel_affine_float_qparams", safety::allowed},
    {"builtins", "range", safety::allowed},
    {"__builtin__", "xrange", safety::allowed},
    {"datetime", "datetime", safety::allowed},
    {"datetime", "date", safety::allowed},
    {"datetime", "time", safety::allowed},
    {"datetime", "timedelta", safety::allowed},
    {"datetime", "timezone", safety::allowed},
    {"decimal", "Decimal", safety::allowed},
    {"numpy.core.numeric", "_frombuffer", safety::innocuous},
    {"numpy._core.numeric", "_frombuffer", safety::innocuous},
    {"torch._utils", "_rebuild_tensor", safety::allowed},
    {"torch._utils", "_rebuild_tensor_v2", safety::allowed},
    {"torch._utils", "_rebuild_tensor_v3", safety::allowed},
    {"torch._utils", "_rebuild_parameter", safety::allowed},
    {"torch._utils", "_rebuild_parameter_with_state", safety::allowed},
    {"torch", nullptr, safety::allowed},  // torch.FloatStorage, torch.HalfStorage ... (see below)
    {"torch.storage", "UntypedStorage", safety::allowed},
    {"torch.storage", "TypedStorage", safety::allowed},
    {"torch", "device", safety::allowed},
    {"torch", "Size", safety::allowed},
    {"torch", "strided", safety::allowed},
    {"torch.serialization", "_get_layout", safety::allowed},
    {"builtins", "set", safety::allowed},
    {"builtins", "frozenset", safety::allowed},
    {"builtins", "bytearray", safety::allowed},
    {"builtins", "complex", safety::allowed},
    {"builtins", "slice", safety::allowed},
    {"__builtin__", "set", safety::allowed},
    {"__builtin__", "frozenset", safety::allowed},
    {"__builtin__", "bytearray", safety::allowed},
    {"__builtin__", "complex", safety::allowed},
    {"_codecs", "encode", safety::innocuous},  // protocol 2 spelling of bytes: encode(str, 'latin1')
    {"numpy.core.multiarray", "_reconstruct", safety::innocuous},
    {"numpy._core.multiarray", "_reconstruct", safety::innocuous},
    {"numpy.core.multiarray", "scalar", safety::innocuous},
    {"numpy._core.multiarray", "scalar", safety::innocuous},
    {"numpy", "ndarray", safety::innocuous},
    {"numpy", "dtype", safety::innocuous},
};

// torch dtype globals pickled by newer versions (torch.float32 ...).
const char* const k_torch_dtypes[] = {
    "float32",     "float",  "float64",   "double",     "float16", "half",    "bfloat16",
    "uint8",       "int8",   "int16",     "short",      "int32",   "int",     "int64",
    "long",        "bool",   "complex64", "complex128", "cfloat",  "cdouble", "float8_e4m3fn",
    "float8_e5m2", "uint16", "uint32",    "uint64",     "qint8",   "quint8",  "qint32"};

struct named_entry {
  const char* module;
  const char* name;  // nullptr: every name in the module (and submodules)
  const char* why;
};

// Named lists: explanation, and "dangerous even when only imported".
const named_entry k_dangerous[] = {
    {"builtins", "eval", "evaluates Python code"},
    {"builtins", "exec", "executes Python code"},
    {"builtins", "execfile", "executes a Python file"},
    {"builtins", "compile", "compiles Python code"},
    {"builtins", "getattr", "attribute walk to arbitrary callables"},
    {"builtins", "setattr", "overwrites attributes"},
    {"builtins", "delattr", "deletes attributes"},
    {"builtins", "__import__", "imports arbitrary modules"},
    {"builtins", "apply", "calls an arbitrary callable"},
    {"builtins", "open", "opens files"},
    {"builtins", "input", "reads the console"},
    {"builtins", "breakpoint", "starts a debugger"},
    {"os", nullptr, "operating-system access (commands, files)"},
    {"posix", nullptr, "operating-system access (commands, files)"},
    {"nt", nullptr, "operating-system access (commands, files)"},
    {"subprocess", nullptr, "runs processes"},
    {"runpy", nullptr, "runs Python modules/code"},
    {"socket", nullptr, "network access"},
    {"ssl", nullptr, "network access"},
    {"pty", nullptr, "spawns a shell"},
    {"ctypes", nullptr, "loads native code"},
    {"_ctypes", nullptr, "loads native code"},
    {"types", "CodeType", "builds code objects"},
    {"types", "FunctionType", "builds functions"},
    {"pydoc", nullptr, "pydoc helpers resolve arbitrary callables (locate) and run pagers"},
    {"operator", "methodcaller", "calls arbitrary methods"},
    {"operator", "attrgetter", "attribute walk to arbitrary callables"},
    {"torch.utils.collect_env", nullptr, "runs shell commands"},
    {"torch.utils.bottleneck", nullptr, "runs code under a profiler"},
    {"torch.utils._config_module", nullptr, "loads and executes a config"},
    {"torch.storage", "_load_from_bytes", "nested torch.load"},
    {"torch.serialization", "load", "nested torch.load"},
    {"torch.hub", nullptr, "downloads and runs code"},
    {"profile", nullptr, "runs code under a profiler"},
    {"cProfile", nullptr, "runs code under a profiler"},
    {"trace", nullptr, "runs code under a tracer"},
    {"timeit", nullptr, "executes code strings"},
    {"idlelib", nullptr, "IDLE helpers evaluate code"},
    {"lib2to3", nullptr, "loads pickled grammars"},
    {"pickle", nullptr, "nested unpickling"},
    {"_pickle", nullptr, "nested unpickling"},
    {"dill", nullptr, "nested unpickling"},
    {"cloudpickle", nullptr, "rebuilds functions and code"},
    {"joblib", nullptr, "nested unpickling"},
    {"marshal", nullptr, "loads code objects"},
    {"shelve", nullptr, "nested unpickling"},
    {"code", nullptr, "interactive interpreter"},
    {"codeop", nullptr, "compiles code"},
    {"importlib", nullptr, "imports arbitrary modules"},
    {"imp", nullptr, "imports arbitrary modules"},
    {"pkgutil", nullptr, "imports arbitrary modules"},
    {"zipimport", nullptr, "imports code from archives"},
    {"shutil", nullptr, "file system changes"},
    {"io", "FileIO", "file access"},
    {"_io", "FileIO", "file access"},
    {"io", "open", "file access"},
    {"_io", "open", "file access"},
    {"logging", "FileHandler", "writes files"},
    {"logging.handlers", nullptr, "writes files / network"},
    {"tempfile", nullptr, "file system changes"},
    {"sys", nullptr, "interpreter state (exit, modules)"},
    {"signal", nullptr, "process control"},
    {"multiprocessing", nullptr, "spawns processes"},
    {"asyncio", nullptr, "subprocesses and network"},
    {"_osx_support", nullptr, "runs shell commands"},
    {"uuid", "_get_command_stdout", "runs shell commands"},
    {"platform", "_syscmd_ver", "runs shell commands"},
    {"numpy.testing._private.utils", "runstring", "executes code strings"},
    {"numpy.f2py", nullptr, "evaluates expressions"},
    {"numpy", "load", "nested unpickling"},
    {"ensurepip", nullptr, "runs pip"},
    {"pip", nullptr, "installs packages"},
    {"venv", nullptr, "creates environments and runs pip"},
    {"distutils", nullptr, "runs build commands"},
    {"setuptools", nullptr, "runs build commands"},
    {"webbrowser", nullptr, "opens URLs"},
    {"httplib", nullptr, "network access"},
    {"http", nullptr, "network access"},
    {"urllib", nullptr, "network access"},
    {"urllib2", nullptr, "network access"},
    {"urllib3", nullptr, "network access"},
    {"requests", nullptr, "network access"},
    {"aiohttp", nullptr, "network access"},
    {"httpx", nullptr, "network access"},
    {"ftplib", nullptr, "network access"},
    {"smtplib", nullptr, "network access"},
    {"telnetlib", nullptr, "network access"},
    {"xmlrpc", nullptr, "network access"},
    {"paramiko", nullptr, "network access"},
    {"bdb", nullptr, "debugger runs code"},
    {"pdb", nullptr, "debugger runs code"},
    {"doctest", nullptr, "runs code in docstrings"},
    {"gc", nullptr, "reaches arbitrary objects"},
    {"inspect", nullptr, "reaches arbitrary objects"},
    {"copyreg", "_reconstructor", "instantiates arbitrary classes"},
};

bool module_matches(std::string_view module, std::string_view prefix) {
  if (module == prefix) return true;
  return module.size() > prefix.size() && module.compare(0, prefix.size(), prefix) == 0 &&
         module[prefix.size()] == '.';
}

bool name_matches(std::string_view name, std::string_view want) {
  if (name == want) return true;
  return name.size() > want.size() && name.compare(0, want.size(), want) == 0 && name[want.size()] == '.';
}

// Protocol 0-2 pickles name Python 2 modules; CPython maps them (Lib/_compat_pickle.py, fix_imports).
std::string_view canonical_module(std::string_view m) {
  static const std::pair<std::string_view, std::string_view> k_compat[] = {
      {"__builtin__", "builtins"},
      {"__builtins__", "builtins"},
      {"copy_reg", "copyreg"},
      {"cPickle", "pickle"},
      {"commands", "subprocess"},
      {"urllib2", "urllib.request"},
      {"httplib", "http.client"},
      {"SocketServer", "socketserver"},
      {"xmlrpclib", "xmlrpc.client"},
      {"SimpleXMLRPCServer", "xmlrpc.server"},
      {"BaseHTTPServer", "http.server"},
      {"cookielib", "http.cookiejar"},
      {"StringIO", "io"},
      {"cStringIO", "io"},
      {"UserDict", "collections"}};
  for (const auto& [from, to] : k_compat)
    if (m == from) return to;
  return m;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

safety classify(std::string_view module_in, std::string_view name, bool invoked, std::string* reason) {
  std::string_view module = canonical_module(module_in);
  for (const auto& a : k_allow) {
    if (module_in != a.module && module != a.module) continue;
    if (a.name == nullptr) {
      if (ends_with(name, "Storage") && name.find('.') == std::string_view::npos) {
        if (reason) *reason = "allowlist: torch storage type";
        return a.level;
      }
      continue;
    }
    if (name == a.name) {
      if (reason) *reason = a.level == safety::allowed ? "allowlist" : "allowlist: numpy/bytes reconstructor";
      return a.level;
    }
  }
  if (module == "torch")
    for (const char* d : k_torch_dtypes)
      if (name == d) {
        if (reason) *reason = "allowlist: torch dtype";
        return safety::allowed;
      }
  // tensor classes (torch.FloatTensor, torch.cuda.HalfTensor) and numpy's dtype classes
  // (numpy.dtypes.Float32DType)
  if ((module == "torch" || module == "torch.cuda") && ends_with(name, "Tensor") &&
      name.find('.') == std::string_view::npos) {
    if (reason) *reason = "allowlist: torch tensor type";
    return safety::allowed;
  }
  if (module == "torch.cuda" && ends_with(name, "Storage") && name.find('.') == std::string_view::npos) {
    if (reason) *reason = "allowlist: torch storage type";
    return safety::allowed;
  }
  if (module == "numpy.dtypes" && ends_with(name, "DType") && name.find('.') == std::string_view::npos) {
    if (reason) *reason = "allowlist: numpy dtype class";
    return safety::innocuous;
  }
  for (const auto& n : k_dangerous) {
    if (!module_matches(module, n.module)) continue;
    if (n.name && !(module == n.module && name_matches(name, n.name))) continue;
    if (reason) *reason = n.why;
    return safety::dangerous;
  }
  // a full torch.save(module): torch.nn classes rebuilt (NEWOBJ + BUILD), functions kept as attributes
  // (activation=F.relu); a call of anything but a class (or an attribute path) stays outside the rule
  bool nn_class = !name.empty() && std::isupper(static_cast<unsigned char>(name[0])) != 0;
  if (module_matches(module, "torch.nn") && name.find('.') == std::string_view::npos &&
      (nn_class || !invoked)) {
    if (reason)
      *reason =
          "torch.nn class: the file is a full torch.save(module) and requires full unpickling "
          "(torch.load(weights_only=False)); only torch code runs";
    return safety::reconstructs;
  }
  if (invoked) {
    if (reason) *reason = "invoked callable outside the allowlist";
    return safety::dangerous;
  }
  if (reason) *reason = "imported global outside the allowlist";
  return safety::suspicious;
}

// ---------------------------------------------------------------------------------------------------
// The interpreter.

namespace {

enum op : uint8_t {
  MARK = '(',
  STOP = '.',
  POP = '0',
  POP_MARK = '1',
  DUP = '2',
  FLOAT = 'F',
  INT = 'I',
  BININT = 'J',
  BININT1 = 'K',
  LONG = 'L',
  BININT2 = 'M',
  NONE = 'N',
  PERSID = 'P',
  BINPERSID = 'Q',
  REDUCE = 'R',
  STRING = 'S',
  BINSTRING = 'T',
  SHORT_BINSTRING = 'U',
  UNICODE = 'V',
  BINUNICODE = 'X',
  APPEND = 'a',
  BUILD = 'b',
  GLOBAL = 'c',
  DICT = 'd',
  EMPTY_DICT = '}',
  APPENDS = 'e',
  GET = 'g',
  BINGET = 'h',
  INST = 'i',
  LONG_BINGET = 'j',
  LIST = 'l',
  EMPTY_LIST = ']',
  OBJ = 'o',
  PUT = 'p',
  BINPUT = 'q',
  LONG_BINPUT = 'r',
  SETITEM = 's',
  TUPLE = 't',
  EMPTY_TUPLE = ')',
  SETITEMS = 'u',
  BINFLOAT = 'G',
  PROTO = 0x80,
  NEWOBJ = 0x81,
  EXT1 = 0x82,
  EXT2 = 0x83,
  EXT4 = 0x84,
  TUPLE1 = 0x85,
  TUPLE2 = 0x86,
  TUPLE3 = 0x87,
  NEWTRUE = 0x88,
  NEWFALSE = 0x89,
  LONG1 = 0x8a,
  LONG4 = 0x8b,
  BINBYTES = 'B',
  SHORT_BINBYTES = 'C',
  SHORT_BINUNICODE = 0x8c,
  BINUNICODE8 = 0x8d,
  BINBYTES8 = 0x8e,
  EMPTY_SET = 0x8f,
  ADDITEMS = 0x90,
  FROZENSET = 0x91,
  NEWOBJ_EX = 0x92,
  STACK_GLOBAL = 0x93,
  MEMOIZE = 0x94,
  FRAME = 0x95,
  BYTEARRAY8 = 0x96,
  NEXT_BUFFER = 0x97,
  READONLY_BUFFER = 0x98
};

// C strtol(s, &end, 0) as load_int calls it: whitespace, sign, 0x (hex), leading 0 (octal), decimal; true
// when it consumed the whole operand (a NUL also ends it) without overflow.
bool c_strtol0(std::string_view s, int64_t* out) {
  if (auto z = s.find('\0'); z != std::string_view::npos) s = s.substr(0, z);
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r'))) ++i;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  int base = 10;
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  if (i + 2 < s.size() && s[i] == '0' && (s[i + 1] | 0x20) == 'x' && hex(s[i + 2])) {
    base = 16;
    i += 2;
  } else if (i < s.size() && s[i] == '0') {
    base = 8;
  }
  uint64_t v = 0;
  size_t digits = 0;
  for (; i < s.size(); ++i, ++digits) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : hex(c) ? (c | 0x20) - 'a' + 10 : 99;
    if (d >= base) break;
    if (v > (static_cast<uint64_t>(INT64_MAX) + 1 - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base))
      return false;
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  if (digits == 0 || i != s.size()) return false;
  if (!neg && v > static_cast<uint64_t>(INT64_MAX)) return false;
  *out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return true;
}

// The bytes the machine reads: a whole buffer, or a window sliding over a source (an inflating zip member).
// A streamed window holds what the current opcode needs (its operands, at most k_window_max bytes, or the
// look-ahead of the sweep); bytes before `keep` are dropped, bytes skipped over are read and discarded.
class input {
 public:
  input(const uint8_t* d, uint64_t n) : mem_(d), size_(n) {}
  explicit input(const source& s) : src_(&s) {}
  bool streaming() const { return src_ != nullptr; }
  // Bytes available at `at`, up to `want` (fewer only where the stream ends). Pointers into bytes before
  // `keep` (<= at) become invalid.
  uint64_t avail(uint64_t at, uint64_t want, uint64_t keep) {
    if (!src_) return at >= size_ ? 0 : std::min(want, size_ - at);
    if (base_ + buf_.size() < at + want && !eof_) {
      drop_to(std::min(keep, at));  // only when refilling: the bytes kept move once per refill
      while (base_ + buf_.size() < at + want && !eof_) {
        size_t old = buf_.size();
        uint64_t chunk = std::max<uint64_t>(at + want - (base_ + old), 1 << 18), filled = 0;
        buf_.resize(old + static_cast<size_t>(chunk));
        while (filled < chunk && !eof_) {
          uint64_t got = (*src_)(buf_.data() + old + filled, chunk - filled);
          filled += got;
          eof_ = got == 0;
        }
        buf_.resize(old + static_cast<size_t>(filled));
      }
    }
    uint64_t end = base_ + buf_.size();
    return at >= end ? 0 : std::min(want, end - at);
  }
  bool have(uint64_t at, uint64_t k, uint64_t keep) { return avail(at, k, keep) >= k; }
  bool at_end(uint64_t at) { return avail(at, 1, at) == 0; }
  const uint8_t* ptr(uint64_t at) const { return src_ ? buf_.data() + (at - base_) : mem_ + at; }
  // Bytes received so far (the stream's size once at_end() was true for its end).
  uint64_t received() const { return src_ ? base_ + buf_.size() : size_; }

 private:
  void drop_to(uint64_t to) {
    if (to <= base_) return;
    if (to - base_ <= buf_.size()) {
      buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(to - base_));
      base_ = to;
      return;
    }
    base_ += buf_.size();
    buf_.clear();
    std::vector<uint8_t> scratch(1 << 18);  // (chunk) skipped bytes: read, never kept
    while (base_ < to && !eof_) {
      uint64_t got = (*src_)(scratch.data(), std::min<uint64_t>(to - base_, scratch.size()));
      base_ += got;
      eof_ = got == 0;
    }
  }
  const uint8_t* mem_ = nullptr;
  uint64_t size_ = 0;
  const source* src_ = nullptr;
  std::vector<uint8_t> buf_;  // (received window) bytes [base_, base_ + size) of the stream
  uint64_t base_ = 0;
  bool eof_ = false;
};

// The raw sweep of in[from, end of stream) (defined with the sweep below).
void sweep_input(input& in, uint64_t from, uint64_t base, const limits& lim, result& r);

// Thrown inside the machine for bytes that end the stream (caught in read()).
struct stream_error {
  uint64_t offset;
  std::string message;
  bool limit;
};

class machine {
 public:
  // `n`: the stream's size (a streamed one: its expected size, 0 when unknown) for the memory budget.
  machine(input& in, uint64_t n, const read_options& o, result& r) : in_(in), o_(o), r_(r) {
    r_.values.emplace_back();  // values[0]: the shared unknown placeholder
    // None, True and False are singletons in CPython too: a stream of them costs no memory
    r_.values.emplace_back().k = kind::none;
    r_.values.emplace_back().k = kind::boolean;
    r_.values.emplace_back().k = kind::boolean;
    r_.values.back().b = true;
    // the state a value tree needs is a small multiple of the stream (HARDENING: heap within 64x the file)
    budget_ = n == 0 ? o.lim.max_memory : std::min<uint64_t>(o.lim.max_memory, 48 * n + (16ull << 20));
    hard_ = budget_ + budget_ / 2;
  }

  // Runs one pickle from pos_ to its STOP. Returns false when the stream ended in an error.
  bool run_one();
  uint64_t pos() const { return pos_; }
  uint64_t frame_end() const { return frame_end_; }

 private:
  input& in_;
  uint64_t frame_end_ = 0;  // a streamed FRAME longer than the window: where its bytes must reach
  std::string head_;        // the kept head of a streamed operand longer than the window
  const read_options& o_;
  result& r_;
  uint64_t pos_ = 0;
  uint64_t op_at_ = 0;  // relative offset of the current opcode
  std::vector<uint32_t> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, uint32_t> memo_;
  int semantic_errors_ = 0;
  uint64_t mem_ = 0;     // bytes of analysis state charged so far (values, stack, marks, memo)
  uint64_t budget_ = 0;  // max_memory, or less for a small stream
  // Past the budget the machine reads on "lean": values are no longer kept (the shared unknown stands for
  // them) except imports and short strings (interned: STACK_GLOBAL operands), a global put into a value
  // that is not kept counts as stored in a state, and memo keys of such values are kept as ranges. Only
  // past hard_ (stack, marks, memo, imports, strings) does the interpretation stop.
  bool lean_ = false;
  uint64_t hard_ = 0;
  std::unordered_map<std::string, uint32_t> interned_;  // lean: short string -> its value
  std::map<uint64_t, uint64_t> opaque_;                 // lean: memo keys [first, end) holding unkept values
  uint64_t opaque_n_ = 0;                               // keys in opaque_
  std::vector<uint32_t>
      small_ints_;  // value index of the ints -256..65535 (immutable: shared, as CPython does)
  static constexpr uint32_t k_none = 1, k_false = 2, k_true = 3;

  uint64_t abs(uint64_t rel) const { return o_.base + rel; }
  [[noreturn]] void stop(const std::string& msg, bool limit = false) const {
    throw stream_error{abs(op_at_), msg, limit};
  }
  // A problem Python would raise on, but after which we keep reading to report later imports too.
  void semantic(const std::string& msg) {
    r_.complete = false;
    if (r_.not_verified.empty()) r_.not_verified = msg + " at byte " + std::to_string(abs(op_at_));
    if (++semantic_errors_ <= 8)
      r_.findings.push_back({severity::medium, "pickle.malformed", "",
                             "pickle: " + msg + " (opcode at byte " + std::to_string(abs(op_at_)) +
                                 "); reading continues to report later imports",
                             abs(op_at_)});
  }

  const uint8_t* take(uint64_t k, const char* what) {
    if (in_.streaming() && k > o_.lim.max_window)
      stop(std::string(what) + " of " + std::to_string(k) + " bytes is longer than a streamed operand may be",
           true);
    uint64_t got = in_.avail(pos_, k, op_at_);
    if (got < k)
      stop(std::string("truncated: ") + what + " needs " + std::to_string(k) + " bytes, " +
           std::to_string(got) + " left");
    const uint8_t* p = in_.ptr(pos_);
    pos_ += k;
    return p;
  }
  // A string/bytes operand of n bytes: the bytes (a streamed operand longer than the window: its head, the
  // rest read chunk by chunk). `utf8_ok` (when given) says whether all n bytes are UTF-8 (surrogatepass).
  std::string_view take_operand(uint64_t n, const char* what, bool* utf8_ok) {
    if (!in_.streaming() || n <= o_.lim.max_window) {
      const uint8_t* p = take(n, what);
      std::string_view s(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
      if (utf8_ok) *utf8_ok = utf8_valid(s, true);
      return s;
    }
    uint64_t keep = std::max<uint64_t>(o_.lim.max_copy, 4096);
    head_.assign(reinterpret_cast<const char*>(take(keep, what)), static_cast<size_t>(keep));
    pos_ -= keep;
    std::string carry;  // an incomplete UTF-8 sequence at a chunk's end
    bool ok = true;
    for (uint64_t off = pos_, end = pos_ + n; off < end;) {
      uint64_t a = in_.avail(off, std::min<uint64_t>(end - off, 1 << 20), off);
      if (a == 0)
        stop(std::string("truncated: ") + what + " needs " + std::to_string(n) + " bytes, " +
             std::to_string(off - pos_) + " left");
      if (utf8_ok) {
        std::string piece = carry + std::string(reinterpret_cast<const char*>(in_.ptr(off)), a);
        size_t cut = piece.size();
        if (off + a < end) {  // hold back a lead byte whose sequence continues in the next chunk
          size_t j = cut;
          while (j > 0 && cut - j < 3 && (static_cast<uint8_t>(piece[j - 1]) & 0xC0) == 0x80) --j;
          if (j > 0 && static_cast<uint8_t>(piece[j - 1]) >= 0xC0) cut = j - 1;
        }
        ok = ok && utf8_valid(std::string_view(piece).substr(0, cut), true);
        carry = piece.substr(cut);
      }
      off += a;
    }
    if (utf8_ok) *utf8_ok = ok && carry.empty();
    pos_ += n;
    return head_;
  }
  template <class T>
  T le(const char* what) {
    T v;
    std::memcpy(&v, take(sizeof(T), what), sizeof(T));
    return v;
  }
  // The text operand up to '\n' (valid until the next read).
  std::string_view line(const char* what) {
    for (uint64_t want = in_.streaming() ? 4096 : UINT64_MAX;; want = std::min(want * 4, o_.lim.max_window)) {
      uint64_t cap = in_.avail(pos_, want, op_at_);
      const uint8_t* p = in_.ptr(pos_);
      const void* nl = cap ? std::memchr(p, '\n', static_cast<size_t>(cap)) : nullptr;
      if (nl) {
        uint64_t len = static_cast<uint64_t>(static_cast<const uint8_t*>(nl) - p);
        std::string_view s(reinterpret_cast<const char*>(p), static_cast<size_t>(len));
        pos_ += len + 1;
        if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
        return s;
      }
      if (cap < want) stop(std::string("truncated: no end of line for ") + what);
      if (want >= o_.lim.max_window)
        stop(std::string(what) + " line longer than a streamed operand may be", true);
    }
  }
  // Memory, not counts, bounds the analysis: past the budget the interpretation stops (then the sweep).
  void charge(uint64_t bytes) {
    mem_ += bytes;
    if (mem_ > budget_ && !lean_) {
      lean_ = true;
      r_.findings.push_back({severity::info, "pickle.lean", "",
                             "pickle: analysis state passed its memory budget of " + std::to_string(budget_) +
                                 " bytes at byte " + std::to_string(abs(op_at_)) +
                                 "; the rest is read keeping only imports, calls, short strings and the memo",
                             abs(op_at_)});
    }
    if (mem_ > hard_)
      stop("analysis state past its memory budget of " + std::to_string(hard_) + " bytes", true);
  }
  // Lean: the globals among values that are not kept count as stored in a state (a later BUILD may call
  // them).
  void unkept(const std::vector<uint32_t>& items) {
    for (uint32_t x : items)
      if (x && at(x).k == kind::global && at(x).global != nil) r_.globals[at(x).global].stored = true;
  }

  uint32_t make(kind k) {
    if (lean_ && k != kind::global) return 0;
    charge(sizeof(value));
    r_.values.emplace_back();
    value& v = r_.values.back();
    v.k = k;
    v.offset = abs(op_at_);
    return static_cast<uint32_t>(r_.values.size() - 1);
  }
  value& at(uint32_t i) { return r_.values[i]; }

  void push(uint32_t v) {
    if (stack_.size() == stack_.capacity()) charge(4 * (stack_.size() + 1));
    stack_.push_back(v);
  }
  uint32_t pop() {
    size_t floor = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() <= floor) {
      semantic("stack underflow");
      return 0;
    }
    uint32_t v = stack_.back();
    stack_.pop_back();
    return v;
  }
  uint32_t top() {
    size_t floor = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() <= floor) {
      semantic("stack underflow");
      return 0;
    }
    return stack_.back();
  }
  std::vector<uint32_t> pop_mark() {
    if (marks_.empty()) {
      semantic("no MARK on the stack");
      return {};
    }
    size_t m = marks_.back();
    marks_.pop_back();
    std::vector<uint32_t> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  bool opaque_has(uint64_t k) const {
    auto it = opaque_.upper_bound(k);
    return it != opaque_.begin() && k < std::prev(it)->second;
  }
  void opaque_add(uint64_t k) {
    if (opaque_has(k)) return;
    ++opaque_n_;
    uint64_t end = k + 1;
    if (auto right = opaque_.find(k + 1); right != opaque_.end()) {
      end = right->second;
      opaque_.erase(right);
    }
    if (auto it = opaque_.upper_bound(k); it != opaque_.begin() && std::prev(it)->second == k) {
      std::prev(it)->second = end;
      return;
    }
    charge(64);
    opaque_.emplace(k, end);
  }
  void opaque_remove(uint64_t k) {
    if (!opaque_has(k)) return;
    --opaque_n_;
    auto it = std::prev(opaque_.upper_bound(k));
    auto [first, end] = *it;
    opaque_.erase(it);
    if (first < k) opaque_.emplace(first, k);
    if (k + 1 < end) opaque_.emplace(k + 1, end);
  }
  uint64_t memo_size() const { return memo_.size() + opaque_n_; }  // len(memo), for MEMOIZE
  void memo_put(uint64_t key) {
    uint32_t v = top();
    if (lean_ && v == 0) {  // a value not kept: remember only that the key holds one
      memo_.erase(key);
      opaque_add(key);
      return;
    }
    opaque_remove(key);
    auto [it, fresh] = memo_.try_emplace(key, v);
    if (fresh) charge(64);
    it->second = v;
  }
  void memo_get(uint64_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end() && opaque_has(key)) {
      push(0);
      return;
    }
    if (it == memo_.end()) {
      semantic("memo key " + std::to_string(key) + " was never stored");
      uint32_t u = make(kind::unknown);
      if (u) at(u).s = "unknown";
      push(u);
      return;
    }
    push(it->second);
  }

  uint32_t make_string(kind k, std::string_view content, uint64_t full) {
    if (lean_) {  // short strings stay (interned): a STACK_GLOBAL may name a module with them
      if (k != kind::string || full > 256) return 0;
      std::string key(content);
      if (auto it = interned_.find(key); it != interned_.end()) return it->second;
      charge(sizeof(value) + 2 * key.size() + 64);
      r_.values.emplace_back();
      value& x = r_.values.back();
      x.k = k;
      x.offset = abs(op_at_);
      x.s = key;
      x.size = full;
      uint32_t v = static_cast<uint32_t>(r_.values.size() - 1);
      interned_.emplace(std::move(key), v);
      return v;
    }
    uint32_t v = make(k);
    size_t keep = static_cast<size_t>(std::min<uint64_t>(content.size(), o_.lim.max_copy));
    charge(keep);
    if (v) {
      at(v).s.assign(content.substr(0, keep));
      at(v).size = full;
    }
    return v;
  }
  uint32_t make_int(int64_t i) {
    constexpr int64_t lo = -256, hi = 65535;
    uint32_t* slot = nullptr;
    if (i >= lo && i <= hi) {
      if (small_ints_.empty()) small_ints_.assign(static_cast<size_t>(hi - lo + 1), 0);
      slot = &small_ints_[static_cast<size_t>(i - lo)];
      if (*slot) return *slot;
    }
    uint32_t v = make(kind::integer);
    if (v) at(v).i = i;
    if (slot) *slot = v;
    return v;
  }
  uint32_t make_big_text(std::string_view digits) {  // an int wider than 64 bits, kept as its text
    uint32_t v = make_string(kind::integer, digits, digits.size());
    if (v) at(v).big = true;
    return v;
  }
  uint32_t make_seq(kind k, std::vector<uint32_t> items) {
    if (lean_) {
      unkept(items);
      return 0;
    }
    charge(4 * items.size());
    uint32_t v = make(k);
    if (v) at(v).items = std::move(items);
    return v;
  }

  uint32_t add_global(std::string module, std::string name, const char* opcode, bool resolved) {
    global_ref g;
    g.module = std::move(module);
    g.name = std::move(name);
    g.opcode = opcode;
    g.offset = abs(op_at_);
    g.resolved = resolved;
    r_.globals.push_back(std::move(g));
    uint32_t v = make(kind::global);
    if (v) {
      at(v).global = static_cast<uint32_t>(r_.globals.size() - 1);
      at(v).s = r_.globals.back().module;
      at(v).name = r_.globals.back().name;
    }
    return v;
  }

  // The callable value `c` is invoked by `opcode`: mark the global it names (or record a dynamic call).
  void invoke(uint32_t c, const char* opcode) {
    const value& cv = at(c);
    if (cv.k == kind::global && cv.global != nil) {
      global_ref& g = r_.globals[cv.global];
      if (!g.invoked) {
        g.invoked = true;
        g.invoked_by = opcode;
        g.invoke_offset = abs(op_at_);
      }
      return;
    }
    // Calling something that is not an imported name: the result of another call, a string, unknown.
    global_ref g;
    g.module = "unknown";
    g.name = std::string("<") + kind_name(cv.k) + " value from byte " + std::to_string(cv.offset) + ">";
    g.opcode = "CALL";
    g.offset = abs(op_at_);
    g.resolved = false;
    g.invoked = true;
    g.invoked_by = opcode;
    g.invoke_offset = abs(op_at_);
    r_.globals.push_back(std::move(g));
  }

  uint32_t make_call(uint32_t callable, uint32_t args, const char* opcode) {
    invoke(callable, opcode);
    uint32_t v = make(kind::call);
    if (v) {
      at(v).callable = callable;
      at(v).args = args;
      at(v).name = opcode;
    }
    return v;
  }

  static bool valid_identifier_path(std::string_view s) {
    if (s.empty()) return false;
    for (unsigned char c : s)
      if (c < 0x20 || c == 0x7f) return false;
    return utf8_valid(s);
  }

  void op_global(const char* opcode) {
    std::string module(line("GLOBAL module"));  // a copy: the next read may move a streamed window
    std::string_view name = line("GLOBAL name");
    if (!valid_identifier_path(module) || !valid_identifier_path(name))
      stop(std::string(opcode) + " module/name is not valid UTF-8 text");
    uint32_t g = add_global(std::move(module), std::string(name), opcode, true);
    if (std::string(opcode) == "INST") {
      std::vector<uint32_t> args = pop_mark();
      uint32_t t = make_seq(kind::tuple, std::move(args));
      push(make_call(g, t, "INST"));
    } else {
      push(g);
    }
  }

  std::string operand_text(uint32_t v, bool* ok) {
    const value& x = at(v);
    if (x.k == kind::string) return x.s;
    *ok = false;
    if (x.k == kind::integer) return std::to_string(x.i);
    if (x.k == kind::unknown) return "unknown";
    return std::string("<") + kind_name(x.k) + ">";
  }

  // A value whose content is only known at load time: a call's result, a persistent id, a lost operand.
  static bool computed_kind(kind k) { return k == kind::call || k == kind::persid || k == kind::unknown; }

  void op_stack_global() {
    uint32_t name = pop();
    uint32_t module = pop();
    bool ok = true;
    std::string m = operand_text(module, &ok);
    std::string n = operand_text(name, &ok);
    bool computed = computed_kind(at(module).k) || computed_kind(at(name).k);
    // CPython raises "STACK_GLOBAL requires str" only for operands that are certainly not str
    if (!ok && !computed) semantic("STACK_GLOBAL operands are not both strings (" + m + ", " + n + ")");
    push(add_global(std::move(m), std::move(n), "STACK_GLOBAL", ok));
    if (computed) r_.globals.back().computed = true;
  }

  // BUILD state: a callable (an imported global) stored in an object's state can become its __setstate__
  // (or another hook) and be called by the next BUILD. Walks the state (dicts, tuples, call arguments),
  // iteratively and cycle-safe, marking every global in it as stored.
  void check_state(uint32_t state) {
    std::vector<uint32_t> todo{state};
    std::unordered_map<uint32_t, bool> seen;
    while (!todo.empty()) {
      uint32_t i = todo.back();
      todo.pop_back();
      if (i == 0 || !seen.try_emplace(i, true).second) continue;
      const value& v = at(i);
      if (v.k == kind::global) {
        if (v.global != nil) r_.globals[v.global].stored = true;
        continue;
      }
      for (uint32_t x : v.items) todo.push_back(x);
      if (v.k == kind::call) {
        if (v.args != nil) todo.push_back(v.args);
        if (v.kwargs != nil) todo.push_back(v.kwargs);
      }
    }
  }

  void op_ext(uint64_t code, const char* opcode) {
    // The copyreg extension registry maps codes to (module, name): an import we cannot resolve.
    push(add_global("copyreg._extension_registry", std::to_string(code), opcode, false));
  }

  // Python int(s, base) of a text operand; stops where CPython raises.
  int64_t parse_int_operand(std::string_view s, int base, const char* what, bool* big) {
    int64_t v = 0;
    if (!parse_py_int(s, base, &v, big)) stop(std::string("invalid integer literal in ") + what);
    return v;
  }

  std::string unescape_string(std::string_view s) {
    // Protocol 0 STRING: a quoted repr decoded as bytes escapes (PyBytes_DecodeEscape).
    if (s.size() < 2 || (s[0] != '\'' && s[0] != '"') || s.back() != s[0])
      stop("STRING operand is not quoted");
    s = s.substr(1, s.size() - 2);
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '\\') {
        out += s[i];
        continue;
      }
      if (i + 1 >= s.size()) stop("trailing \\ in STRING operand");
      const char c = s[++i];
      if (const char e = python_simple_escape(c)) {
        out += e;
        continue;
      }
      switch (c) {
        case 'x': {
          unsigned v = 0;
          if (i + 3 <= s.size() &&
              std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16).ptr == s.data() + i + 3) {
            out += static_cast<char>(v);
            i += 2;
          } else {
            stop("invalid \\x escape in STRING operand");
          }
          break;
        }
        default:
          if (c >= '0' && c <= '7') {
            unsigned v = 0;
            size_t k = 0;
            while (k < 3 && i + k < s.size() && s[i + k] >= '0' && s[i + k] <= '7')
              v = v * 8 + (s[i + k++] - '0');
            out += static_cast<char>(v & 0xff);
            i += k - 1;
          } else {
            out += '\\';
            out += c;
          }
      }
    }
    return out;
  }

  std::string raw_unicode_unescape(std::string_view s) {
    // Protocol 0 UNICODE: raw-unicode-escape (_PyUnicode_DecodeRawUnicodeEscape). A backslash and the
    // character after it are copied as they are unless that character is u/U: "\\\\u0041" is a
    // backslash, a backslash and "u0041" (an even run of backslashes is not an escape).
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '\\' || i + 1 >= s.size()) {
        utf8_append(out, static_cast<unsigned char>(s[i]));
        continue;
      }
      char c = s[++i];
      if (c != 'u' && c != 'U') {
        out += '\\';
        utf8_append(out, static_cast<unsigned char>(c));
        continue;
      }
      size_t w = c == 'u' ? 4 : 8;
      uint32_t cp = 0;
      if (i + 1 + w > s.size() ||
          std::from_chars(s.data() + i + 1, s.data() + i + 1 + w, cp, 16).ptr != s.data() + i + 1 + w ||
          cp > 0x10FFFF)
        stop("bad \\u escape in UNICODE operand");
      utf8_append(out, cp);
      i += w;
    }
    return out;
  }

  void push_long_bytes(const uint8_t* p, uint64_t len) {
    uint32_t v = make(kind::integer);
    if (!v) {
      push(v);
      return;
    }
    value& x = at(v);
    if (len == 0) {
      x.i = 0;
    } else if (len <= 8) {
      uint64_t u = 0;
      for (uint64_t k = 0; k < len; ++k) u |= static_cast<uint64_t>(p[k]) << (8 * k);
      if (len < 8 && (p[len - 1] & 0x80)) u |= ~0ull << (8 * len);  // sign-extend
      x.i = static_cast<int64_t>(u);
    } else {
      x.big = true;
      x.s.assign(reinterpret_cast<const char*>(p), static_cast<size_t>(std::min<uint64_t>(len, 4096)));
      x.size = len;
    }
    push(v);
  }

  void set_items(uint32_t target, const std::vector<uint32_t>& kv, const char* opcode) {
    value& t = at(target);
    if (t.k == kind::dict || t.k == kind::call || t.k == kind::unknown) {
      if (target && !lean_) {
        charge(4 * kv.size());
        t.items.insert(t.items.end(), kv.begin(), kv.end());
      } else {
        unkept(kv);  // lean: a kept container no longer grows
      }
      if (t.k == kind::call && t.callable != nil) invoke(t.callable, opcode);  // __setitem__ on an object
      return;
    }
    semantic(std::string(opcode) + " on a " + kind_name(t.k));
  }
  void append_items(uint32_t target, const std::vector<uint32_t>& xs, const char* opcode) {
    value& t = at(target);
    if (t.k == kind::list || t.k == kind::set || t.k == kind::call || t.k == kind::unknown) {
      if (target && !lean_) {
        charge(4 * xs.size());
        t.items.insert(t.items.end(), xs.begin(), xs.end());
      } else {
        unkept(xs);  // lean: a kept container no longer grows
      }
      if (t.k == kind::call && t.callable != nil) invoke(t.callable, opcode);  // .append/.extend on an object
      return;
    }
    semantic(std::string(opcode) + " on a " + kind_name(t.k));
  }

  void step(uint8_t code);
  bool step_stack(uint8_t code);
  bool step_number(uint8_t code);
  bool step_text(uint8_t code);
  bool step_object(uint8_t code);
  bool step_container(uint8_t code);
  bool step_memo(uint8_t code);
};

// One opcode of the stack and its marks; false when the opcode is not of this group.
bool machine::step_stack(uint8_t code) {
  switch (code) {
    case MARK:
      if (marks_.size() == marks_.capacity()) charge(8 * (marks_.size() + 1));
      marks_.push_back(stack_.size());
      break;
    case POP:
      if (!marks_.empty() && stack_.size() == marks_.back())
        marks_.pop_back();  // POP of a mark (as CPython)
      else
        pop();
      break;
    case POP_MARK:
      pop_mark();
      break;
    case DUP:
      push(top());
      break;
    default:
      return false;
  }
  return true;
}

// One opcode of numbers, None and booleans; false when the opcode is not of this group.
bool machine::step_number(uint8_t code) {
  switch (code) {
    case FLOAT: {
      std::string s(line("FLOAT"));
      char* end = nullptr;
      double f = std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size()) stop("FLOAT operand is not a number");
      uint32_t v = make(kind::floating);
      if (v) at(v).f = f;
      push(v);
      break;
    }
    case INT: {
      // load_int: strtol(s, &end, 0) (so "010" is 8), else int(s, 0); "00"/"01" (any 2 chars giving 0/1) ->
      // bool
      std::string_view s = line("INT");
      bool big = false;
      int64_t i = 0;
      if (c_strtol0(s, &i)) {
        if (s.size() == 2 && (i == 0 || i == 1)) {
          push(i ? k_true : k_false);
          break;
        }
      } else {
        i = parse_int_operand(s, 0, "INT", &big);
      }
      push(big ? make_big_text(s) : make_int(i));
      break;
    }
    case LONG: {
      std::string_view s = line("LONG");
      if (!s.empty() && s.back() == 'L') s.remove_suffix(1);  // protocol 0 LONG suffix
      bool big = false;
      int64_t i = parse_int_operand(s, 0, "LONG", &big);
      push(big ? make_big_text(s) : make_int(i));
      break;
    }
    case BININT:
      push(make_int(le<int32_t>("BININT")));
      break;
    case BININT1:
      push(make_int(le<uint8_t>("BININT1")));
      break;
    case BININT2:
      push(make_int(le<uint16_t>("BININT2")));
      break;
    case LONG1: {
      uint64_t len = le<uint8_t>("LONG1 length");
      push_long_bytes(take(len, "LONG1"), len);
      break;
    }
    case LONG4: {
      int32_t len = le<int32_t>("LONG4 length");
      if (len < 0) stop("LONG4 negative length");
      std::string_view b = take_operand(static_cast<uint64_t>(len), "LONG4", nullptr);
      if (b.size() < static_cast<uint64_t>(len)) {  // a streamed giant: its head is what the value keeps
        uint32_t v = make(kind::integer);
        if (v) at(v).big = true, at(v).s.assign(b.substr(0, 4096)), at(v).size = static_cast<uint64_t>(len);
        push(v);
        break;
      }
      push_long_bytes(reinterpret_cast<const uint8_t*>(b.data()), static_cast<uint64_t>(len));
      break;
    }
    case NONE:
      push(k_none);
      break;
    case NEWTRUE:
      push(k_true);
      break;
    case NEWFALSE:
      push(k_false);
      break;
    case BINFLOAT: {
      const uint8_t* p = take(8, "BINFLOAT");
      uint64_t u = 0;
      for (int k = 0; k < 8; ++k) u = (u << 8) | p[k];  // big-endian
      double f;
      std::memcpy(&f, &u, 8);
      uint32_t v = make(kind::floating);
      if (v) at(v).f = f;
      push(v);
      break;
    }
    default:
      return false;
  }
  return true;
}

// One opcode of strings, bytes and buffers; false when the opcode is not of this group.
bool machine::step_text(uint8_t code) {
  switch (code) {
    case STRING: {
      std::string s = unescape_string(line("STRING"));
      push(make_string(kind::string, s, s.size()));
      break;
    }
    case BINSTRING: {
      int32_t len = le<int32_t>("BINSTRING length");
      if (len < 0) stop("BINSTRING negative length");
      uint64_t n = static_cast<uint64_t>(len);
      push(make_string(kind::string, take_operand(n, "BINSTRING", nullptr), n));
      break;
    }
    case SHORT_BINSTRING: {
      uint64_t n = le<uint8_t>("SHORT_BINSTRING length");
      const uint8_t* p = take(n, "SHORT_BINSTRING");
      push(make_string(kind::string, {reinterpret_cast<const char*>(p), static_cast<size_t>(n)}, n));
      break;
    }
    case UNICODE: {
      std::string s = raw_unicode_unescape(line("UNICODE"));
      push(make_string(kind::string, s, s.size()));
      break;
    }
    case BINUNICODE:
    case SHORT_BINUNICODE:
    case BINUNICODE8: {
      uint64_t n = code == SHORT_BINUNICODE ? le<uint8_t>("SHORT_BINUNICODE length")
                   : code == BINUNICODE     ? le<uint32_t>("BINUNICODE length")
                                            : le<uint64_t>("BINUNICODE8 length");
      bool utf8 = true;
      std::string_view s = take_operand(n, "BINUNICODE", &utf8);
      // CPython decodes with surrogatepass (encoded surrogates are fine); an invalid sequence raises.
      if (!utf8) semantic("BINUNICODE operand is not valid UTF-8");
      push(make_string(kind::string, s, n));
      break;
    }
    case BINBYTES:
    case SHORT_BINBYTES:
    case BINBYTES8:
    case BYTEARRAY8: {
      uint64_t n = code == SHORT_BINBYTES ? le<uint8_t>("SHORT_BINBYTES length")
                   : code == BINBYTES     ? le<uint32_t>("BINBYTES length")
                                          : le<uint64_t>("BINBYTES8 length");
      push(make_string(kind::bytes, take_operand(n, "BINBYTES", nullptr), n));
      break;
    }
    case NEXT_BUFFER: {
      uint32_t v = make(kind::bytes);
      if (v) at(v).name = "out-of-band buffer";
      push(v);
      break;
    }
    case READONLY_BUFFER: {
      uint32_t t = top();
      if (t) at(t).readonly = true;
      break;
    }
    default:
      return false;
  }
  return true;
}

// One opcode of imports, calls and object state (what the scan is for); false when not of this group.
bool machine::step_object(uint8_t code) {
  switch (code) {
    case PERSID: {
      std::string_view s = line("PERSID");
      uint32_t pid = make_string(kind::string, s, s.size());
      uint32_t v = make(kind::persid);
      if (v) at(v).args = pid;
      push(v);
      break;
    }
    case BINPERSID: {
      uint32_t pid = pop();
      uint32_t v = make(kind::persid);
      if (v) at(v).args = pid;
      push(v);
      break;
    }
    case REDUCE: {
      uint32_t args = pop();
      uint32_t callable = pop();
      push(make_call(callable, args, "REDUCE"));
      break;
    }
    case NEWOBJ: {
      uint32_t args = pop();
      uint32_t cls = pop();
      push(make_call(cls, args, "NEWOBJ"));
      break;
    }
    case NEWOBJ_EX: {
      uint32_t kwargs = pop();
      uint32_t args = pop();
      uint32_t cls = pop();
      uint32_t v = make_call(cls, args, "NEWOBJ_EX");
      if (v) at(v).kwargs = kwargs;
      push(v);
      break;
    }
    case OBJ: {
      std::vector<uint32_t> items = pop_mark();
      if (items.empty()) {
        semantic("OBJ without a class");
        push(0);
        break;
      }
      uint32_t cls = items[0];
      items.erase(items.begin());
      uint32_t t = make_seq(kind::tuple, std::move(items));
      push(make_call(cls, t, "OBJ"));
      break;
    }
    case BUILD: {
      uint32_t state = pop();
      uint32_t obj = top();
      const value& o = at(obj);
      if (o.k == kind::global) {
        if (o.global != nil) r_.globals[o.global].mutated = true;
        invoke(obj, "BUILD");  // setting attributes on a module or class
      } else if (o.k == kind::call) {
        if (o.callable != nil) invoke(o.callable, "BUILD");  // __setstate__ of the object's class
        if (obj) at(obj).state = state;
      } else if (o.k != kind::unknown) {
        semantic(std::string("BUILD on a ") + kind_name(o.k));
      }
      check_state(state);
      break;
    }
    case GLOBAL:
      op_global("GLOBAL");
      break;
    case INST:
      op_global("INST");
      break;
    case STACK_GLOBAL:
      op_stack_global();
      break;
    case EXT1:
      op_ext(le<uint8_t>("EXT1"), "EXT1");
      break;
    case EXT2:
      op_ext(le<uint16_t>("EXT2"), "EXT2");
      break;
    case EXT4:
      op_ext(le<uint32_t>("EXT4"), "EXT4");
      break;
    default:
      return false;
  }
  return true;
}

// One opcode of dicts, lists, tuples and sets; false when the opcode is not of this group.
bool machine::step_container(uint8_t code) {
  switch (code) {
    case DICT: {
      std::vector<uint32_t> kv = pop_mark();
      if (kv.size() % 2) semantic("DICT with an odd number of items");
      push(make_seq(kind::dict, std::move(kv)));
      break;
    }
    case EMPTY_DICT:
      push(make(kind::dict));
      break;
    case LIST:
      push(make_seq(kind::list, pop_mark()));
      break;
    case EMPTY_LIST:
      push(make(kind::list));
      break;
    case TUPLE:
      push(make_seq(kind::tuple, pop_mark()));
      break;
    case EMPTY_TUPLE:
      push(make(kind::tuple));
      break;
    case TUPLE1: {
      uint32_t a = pop();
      push(make_seq(kind::tuple, {a}));
      break;
    }
    case TUPLE2: {
      uint32_t b = pop();
      uint32_t a = pop();
      push(make_seq(kind::tuple, {a, b}));
      break;
    }
    case TUPLE3: {
      uint32_t c = pop();
      uint32_t b = pop();
      uint32_t a = pop();
      push(make_seq(kind::tuple, {a, b, c}));
      break;
    }
    case EMPTY_SET:
      push(make(kind::set));
      break;
    case FROZENSET:
      push(make_seq(kind::set, pop_mark()));
      break;
    case APPEND: {
      uint32_t x = pop();
      append_items(top(), {x}, "APPEND");
      break;
    }
    case APPENDS: {
      std::vector<uint32_t> xs = pop_mark();
      append_items(top(), xs, "APPENDS");
      break;
    }
    case ADDITEMS: {
      std::vector<uint32_t> xs = pop_mark();
      append_items(top(), xs, "ADDITEMS");
      break;
    }
    case SETITEM: {
      uint32_t v = pop();
      uint32_t k = pop();
      set_items(top(), {k, v}, "SETITEM");
      break;
    }
    case SETITEMS: {
      std::vector<uint32_t> kv = pop_mark();
      if (kv.size() % 2) semantic("SETITEMS with an odd number of items");
      set_items(top(), kv, "SETITEMS");
      break;
    }
    default:
      return false;
  }
  return true;
}

// One opcode of the memo, the protocol and frames; false when the opcode is not of this group.
bool machine::step_memo(uint8_t code) {
  switch (code) {
    case GET: {
      bool big = false;
      int64_t k = parse_int_operand(line("GET"), 10, "GET", &big);
      if (big || k < 0) stop("GET key out of range");
      memo_get(static_cast<uint64_t>(k));
      break;
    }
    case BINGET:
      memo_get(le<uint8_t>("BINGET"));
      break;
    case LONG_BINGET:
      memo_get(le<uint32_t>("LONG_BINGET"));
      break;
    case PUT: {
      bool big = false;
      int64_t k = parse_int_operand(line("PUT"), 10, "PUT", &big);
      if (big || k < 0) stop("PUT key out of range");
      memo_put(static_cast<uint64_t>(k));
      break;
    }
    case BINPUT:
      memo_put(le<uint8_t>("BINPUT"));
      break;
    case LONG_BINPUT:
      memo_put(le<uint32_t>("LONG_BINPUT"));
      break;
    case MEMOIZE:
      memo_put(memo_size());
      break;
    case PROTO: {
      uint8_t p = le<uint8_t>("PROTO");
      if (p > 5) stop("unsupported pickle protocol " + std::to_string(p));
      r_.protocol = std::max<int>(r_.protocol, p);
      break;
    }
    case FRAME: {
      uint64_t len = le<uint64_t>("FRAME length");
      if (in_.streaming() && len > o_.lim.max_window)
        frame_end_ = std::max(frame_end_, pos_ + len);  // checked once the stream has ended
      else if (in_.avail(pos_, len, op_at_) < len)
        stop("FRAME of " + std::to_string(len) + " bytes runs past the end");
      break;  // frames are a read-ahead hint; opcodes continue inline
    }
    default:
      return false;
  }
  return true;
}

// One opcode, by group; an opcode no group knows stops the stream.
void machine::step(uint8_t code) {
  if (step_stack(code) || step_number(code) || step_text(code) || step_object(code) || step_container(code) ||
      step_memo(code))
    return;
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", code);
  stop(std::string("unknown opcode ") + hex);
}

bool machine::run_one() {
  stack_.clear();
  marks_.clear();
  memo_.clear();
  opaque_.clear();
  opaque_n_ = 0;
  try {
    for (;;) {
      op_at_ = pos_;
      if (in_.at_end(pos_)) stop("truncated: stream ends before STOP");
      ++r_.ops;
      uint8_t code = *in_.ptr(pos_++);
      if (code == STOP) {
        uint32_t v = stack_.empty() ? 0 : stack_.back();
        if (stack_.empty()) semantic("STOP with an empty stack");
        r_.roots.push_back(v);
        r_.end = pos_;
        return true;
      }
      step(code);
    }
  } catch (const stream_error& e) {
    r_.complete = false;
    if (r_.not_verified.empty()) r_.not_verified = e.message + " at byte " + std::to_string(e.offset);
    bool rest = !in_.at_end(op_at_);
    r_.findings.push_back(
        {severity::medium, e.limit ? "pickle.limit" : "pickle.malformed", "",
         "pickle: " + e.message + " at byte " + std::to_string(e.offset) +
             (rest ? "; the rest of the stream was swept for imports, not interpreted" : ""),
         e.offset});
    if (rest) sweep_input(in_, op_at_, o_.base, o_.lim, r_);
    return false;
  }
}

}  // namespace

bool is_opcode(uint8_t b) {
  static const char k_ascii[] = "(.012FIJKLMNPQRSTUVXabcd}eghijl]opqrstu)GBC";
  if (b >= 0x80 && b <= 0x98) return true;
  return b != 0 && std::strchr(k_ascii, b) != nullptr;
}

bool parse_py_int(std::string_view s, int base, int64_t* out, bool* big) {
  *out = 0;
  *big = false;
  if (auto z = s.find('\0'); z != std::string_view::npos) s = s.substr(0, z);  // CPython reads a C string
  auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  size_t i = 0, n = s.size();
  while (i < n && space(s[i])) ++i;
  bool neg = false;
  if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  int b = base == 0 ? 10 : base;
  bool prefixed = false, zeros_only = false;
  if (base == 0 && i + 1 < n && s[i] == '0') {
    char x = static_cast<char>(s[i + 1] | 0x20);
    b = x == 'x' ? 16 : x == 'o' ? 8 : x == 'b' ? 2 : 10;
    prefixed = b != 10;
  }
  if (prefixed) {
    i += 2;
    if (i < n && s[i] == '_') ++i;  // "0x_ff"
  } else if (base == 0) {
    zeros_only = i < n && s[i] == '0';  // "010" is an error in Python 3; "0_0" is zero
  }
  uint64_t v = 0;
  bool overflow = false, last_underscore = false;
  size_t digits = 0;
  for (; i < n; ++i) {
    char c = s[i];
    if (c == '_') {
      if (digits == 0 || last_underscore) return false;
      last_underscore = true;
      continue;
    }
    int d = c >= '0' && c <= '9'                          ? c - '0'
            : std::isalpha(static_cast<unsigned char>(c)) ? (c | 0x20) - 'a' + 10
                                                          : 99;
    if (d >= b) break;
    if (zeros_only && d != 0) return false;
    last_underscore = false;
    ++digits;
    if (!overflow && v > (UINT64_MAX - static_cast<uint64_t>(d)) / static_cast<uint64_t>(b)) overflow = true;
    if (!overflow) v = v * static_cast<uint64_t>(b) + static_cast<uint64_t>(d);
  }
  if (digits == 0 || last_underscore) return false;
  while (i < n && space(s[i])) ++i;
  if (i != n) return false;
  if (b == 10 && digits > 4300) return false;  // sys.int_info.default_max_str_digits
  const uint64_t limit = neg ? static_cast<uint64_t>(INT64_MAX) + 1 : static_cast<uint64_t>(INT64_MAX);
  if (overflow || v > limit) {
    *big = true;
    return true;
  }
  *out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return true;
}

namespace {

bool ident_char(uint8_t c) {
  return std::isalnum(c) || c == '_' || c == '.';
}

// A module or name as it appears in the sweep: identifier characters and dots, 1..256 bytes.
bool sweep_name(std::string_view s) {
  if (s.empty() || s.size() > 256 || s.front() == '.' || s.back() == '.') return false;
  for (char c : s)
    if (!ident_char(static_cast<uint8_t>(c))) return false;
  return true;
}

// The text line at p (up to '\n', optional '\r' dropped) when it is a sweep name.
bool sweep_line(const uint8_t* d, uint64_t p, uint64_t n, std::string_view* out, uint64_t* next) {
  uint64_t e = p;
  while (e < n && e - p <= 257 && d[e] != '\n') ++e;
  if (e >= n || d[e] != '\n') return false;
  std::string_view s(reinterpret_cast<const char*>(d + p), static_cast<size_t>(e - p));
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  if (!sweep_name(s)) return false;
  *out = s;
  *next = e + 1;
  return true;
}

// A length-prefixed or line string literal at i (opcode d[i]) whose content is a sweep name; *end is the
// offset just past it.
bool sweep_literal(const uint8_t* d, uint64_t i, uint64_t n, std::string_view* out, uint64_t* end) {
  uint8_t c = d[i];
  uint64_t len = 0, at = i + 1, width = 0;
  if (c == 0x8c || c == 'U')
    width = 1;
  else if (c == 'X' || c == 'T')
    width = 4;
  else if (c == 0x8d)
    width = 8;
  if (width) {
    if (n - at < width) return false;
    for (uint64_t k = 0; k < width; ++k) len |= static_cast<uint64_t>(d[at + k]) << (8 * k);
    at += width;
    if (len > 256 || n - at < len) return false;
    *out = std::string_view(reinterpret_cast<const char*>(d + at), static_cast<size_t>(len));
    *end = at + len;
    return sweep_name(*out);
  }
  if (c == 'V' || c == 'S') {
    uint64_t e = at;
    while (e < n && e - at <= 260 && d[e] != '\n') ++e;
    if (e >= n || d[e] != '\n') return false;
    std::string_view s(reinterpret_cast<const char*>(d + at), static_cast<size_t>(e - at));
    if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
    if (c == 'S' && s.size() >= 2 && (s[0] == '\'' || s[0] == '"') && s.back() == s[0])
      s = s.substr(1, s.size() - 2);
    *out = s;
    *end = e + 1;
    return sweep_name(s);
  }
  return false;
}

// Classifies every import now that invocation is known.
void classify_globals(result& r) {
  for (auto& g : r.globals) {
    if (!g.resolved) {
      if (g.opcode == "CALL") {
        g.level = safety::dangerous;
        g.reason = "calls an object that is not an imported name (result of another call)";
      } else if (g.computed) {
        g.level = safety::dangerous;
        g.reason =
            "STACK_GLOBAL name computed at load time (the result of a call): cannot be verified statically";
      } else if (g.module == "unknown" || g.name == "unknown" || g.invoked) {
        g.level = safety::dangerous;
        g.reason = "import the scanner cannot resolve (operand lost from the memo or stack)";
      } else {
        g.level = safety::suspicious;
        g.reason = "STACK_GLOBAL with non-string operands (Python raises; never imported)";
      }
      continue;
    }
    g.level = classify(g.module, g.name, g.invoked, &g.reason);
    if (g.mutated) {
      g.level = safety::dangerous;
      g.reason = "BUILD overwrites attributes of the imported object (module or class patching)";
    }
    // a callable kept in an object's state: BUILD can make it __setstate__ (or another hook) and the
    // next BUILD calls it. Allowlisted and torch.nn objects are what a state dict / module holds.
    if (g.stored && g.level > safety::reconstructs) {
      g.level = safety::dangerous;
      g.reason =
          "stored in an object's state by BUILD: a callable there can become __setstate__ (or another hook) "
          "that the next BUILD calls";
    }
    if (g.swept) g.reason += " (found by the raw sweep after the analysis stopped)";
  }
}

// What the sweep carries from one window to the next: the two latest string literals (STACK_GLOBAL's
// operands) and how many references it recorded.
struct sweep_state {
  std::string last, before_last;
  uint64_t recorded = 0;
};

// Sweeps references starting at d[from, until) (operands may run to d[n)); `base` is d[0]'s absolute
// offset. Returns where the next window starts (past the operands of a reference that crossed `until`).
uint64_t sweep_part(const uint8_t* d, uint64_t from, uint64_t until, uint64_t n, uint64_t base,
                    const limits& lim, sweep_state& st, result& r) {
  auto record = [&](std::string_view module, std::string_view name, const char* how, uint64_t at) {
    if (st.recorded >= lim.max_sweep_refs) return;
    for (const auto& g : r.globals)  // one entry per reference (the sweep may overlap the interpreted part)
      if (g.swept && g.module == module && g.name == name) return;
    ++st.recorded;
    global_ref g;
    g.module = std::string(module);
    g.name = std::string(name);
    g.opcode = how;
    g.offset = base + at;
    g.swept = true;
    r.globals.push_back(std::move(g));
  };
  uint64_t i = from;
  for (; i < until; ++i) {
    uint8_t c = d[i];
    std::string_view a, b, lit;
    uint64_t p1 = 0, p2 = 0, lit_end = 0;
    if ((c == 'c' || c == 'i') && sweep_line(d, i + 1, n, &a, &p1) && sweep_line(d, p1, n, &b, &p2)) {
      record(a, b, c == 'c' ? "GLOBAL (sweep)" : "INST (sweep)", i);
      i = p2 - 1;  // past the operands (a 'c' inside "numpy.core" is not an opcode)
      continue;
    }
    if (c == 0x93 && !st.last.empty() && !st.before_last.empty()) {
      record(st.before_last, st.last, "STACK_GLOBAL (sweep)", i);
      continue;
    }
    if (!sweep_literal(d, i, n, &lit, &lit_end)) continue;
    st.before_last = std::move(st.last);
    st.last = std::string(lit);
    // "module.name" spelled in one literal (for getattr chains, copyreg, pydoc.locate ...): every split
    for (size_t dot = lit.find('.'); dot != std::string_view::npos; dot = lit.find('.', dot + 1)) {
      std::string why;
      if (classify(lit.substr(0, dot), lit.substr(dot + 1), false, &why) == safety::dangerous)
        record(lit.substr(0, dot), lit.substr(dot + 1), "string literal (sweep)", i);
    }
    i = lit_end - 1;
  }
  return i;
}

void sweep_input(input& in, uint64_t from, uint64_t base, const limits& lim, result& r) {
  if (r.swept_from == UINT64_MAX || from < r.swept_from) r.swept_from = from;
  // windows of 1 MiB plus a look-ahead longer than any reference (a GLOBAL's two lines: 2 x 258 bytes)
  constexpr uint64_t k_chunk = 1 << 20, k_look = 1024;
  sweep_state st;
  for (uint64_t i = from;;) {
    uint64_t a = in.avail(i, k_chunk + k_look, i);
    if (a == 0) return;
    bool last = a < k_chunk + k_look;
    i += sweep_part(in.ptr(i), 0, last ? a : k_chunk, a, base + i, lim, st, r);
    if (last) return;
  }
}

// One pickle stream (stacked pickles, the trailing sweep, the classification) read from `in`.
result read_input(input& in, uint64_t size, const read_options& opt) {
  result r;
  machine m(in, size, opt, r);
  for (uint64_t count = 0;; ++count) {
    if (!m.run_one()) {
      if (count > 0)
        r.findings.push_back({severity::medium, "pickle.trailing_bytes", "",
                              std::to_string(in.received() - r.end) +
                                  " bytes after the pickle STOP at byte " +
                                  std::to_string(opt.base + r.end - 1) + " do not form a valid pickle",
                              opt.base + r.end});
      break;
    }
    if (!opt.stacked || in.at_end(m.pos())) break;
    uint8_t next = *in.ptr(m.pos());
    if (!is_opcode(next)) break;
    if (in.have(m.pos(), 4, m.pos()) && std::memcmp(in.ptr(m.pos()), "PK\x03\x04", 4) == 0)
      break;  // appended zip
  }
  // bytes after the last pickle are not interpreted: sweep them for imports all the same
  if (opt.stacked && r.complete && !in.at_end(r.end)) {
    bool zip = in.have(r.end, 4, r.end) && std::memcmp(in.ptr(r.end), "PK\x03\x04", 4) == 0;
    sweep_input(in, r.end, opt.base, opt.lim, r);
    uint64_t extra = in.received() - r.end;
    r.findings.push_back(
        {zip ? severity::high : severity::medium, "pickle.trailing_bytes", "",
         std::to_string(extra) + " bytes after the last pickle STOP" +
             (zip ? " (a zip archive hidden behind the pickle)" : " (polyglot or appended data)"),
         opt.base + r.end});
  }
  // a streamed FRAME longer than the window: CPython reads it whole and fails if the stream is shorter
  if (m.frame_end() > 0 && in.avail(m.frame_end() - 1, 1, m.frame_end() - 1) == 0) {
    r.complete = false;
    if (r.not_verified.empty()) r.not_verified = "a FRAME runs past the end of the stream";
  }
  classify_globals(r);
  return r;
}

}  // namespace

void sweep(const uint8_t* d, uint64_t from, uint64_t n, uint64_t base, const limits& lim, result& r) {
  input in(d, n);
  sweep_input(in, from, base, lim, r);
}

result read(const uint8_t* data, uint64_t size, const read_options& opt) {
  input in(data, size);
  return read_input(in, size, opt);
}

result read_stream(const source& src, const read_options& opt) {
  input in(src);
  return read_input(in, opt.size_hint, opt);
}

void add_findings(const result& r, const std::string& where, std::vector<finding>& out) {
  std::vector<std::pair<std::string, safety>> seen;
  for (const auto& g : r.globals) {
    if (g.level == safety::allowed) continue;
    std::string q = g.qualified();
    bool dup = false;
    for (const auto& s : seen) dup = dup || (s.first == q && s.second == g.level);
    if (dup) continue;
    seen.emplace_back(q, g.level);
    if (seen.size() > 1000) break;  // cap the report, not the scan
    std::string msg = std::string(safety_name(g.level)) + " global " + q + " (" + g.opcode;
    if (g.invoked)
      msg += ", invoked by " + g.invoked_by + " at byte " + std::to_string(g.invoke_offset);
    else
      msg += ", imported only";
    msg += "): " + g.reason;
    out.push_back({safety_severity(g.level), std::string("pickle.global.") + safety_name(g.level), where, msg,
                   g.offset});
  }
  for (finding f : r.findings) {
    if (f.where.empty()) f.where = where;
    out.push_back(std::move(f));
  }
  if (!r.complete)
    out.push_back({severity::high, "pickle.not_verified", where,
                   "not verified: " +
                       (r.not_verified.empty() ? std::string("the stream was not analysed to its end")
                                               : r.not_verified) +
                       (r.swept_from != UINT64_MAX ? "; the rest was swept for imports only" : ""),
                   UINT64_MAX});
}

std::string display(const result& r, uint32_t i) {
  const value& v = r.at(i);
  switch (v.k) {
    case kind::none:
      return "None";
    case kind::boolean:
      return v.b ? "True" : "False";
    case kind::integer:
      return v.big ? "<big int>" : std::to_string(v.i);
    case kind::floating:
      return std::to_string(v.f);
    case kind::string:
      return "'" + v.s.substr(0, 80) + "'";
    case kind::bytes:
      return "bytes(" + std::to_string(v.size) + ")";
    case kind::global:
      return v.s + "." + v.name;
    case kind::call:
      return "call(" + v.name + ")";
    default:
      return std::string(kind_name(v.k)) + "(" + std::to_string(v.items.size()) + ")";
  }
}

}  // namespace gb::pickle
