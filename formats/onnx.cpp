// STUB: replaced by the real loader.
#include "formats/loaders.h"

namespace gb::loaders {
void load_onnx(archive&, const mapped_file_ptr&, const open_options&) { fail(errc::unsupported, 0, "onnx loader not built yet"); }
}  // namespace gb::loaders
