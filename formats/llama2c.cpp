// STUB: replaced by the real loader.
#include "formats/loaders.h"

namespace gb::loaders {
void load_llama2c(archive&, const mapped_file_ptr&, const open_options&) { fail(errc::unsupported, 0, "llama2c loader not built yet"); }
void load_llama2c_tokenizer(archive&, const mapped_file_ptr&, const open_options&) { fail(errc::unsupported, 0, "llama2c loader not built yet"); }
bool llama2c_plausible(const uint8_t*, uint64_t) { return false; }
bool llama2c_tokenizer_plausible(const uint8_t*, uint64_t) { return false; }
}  // namespace gb::loaders
