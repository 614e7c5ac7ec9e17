// STUB: replaced by the real loader.
#include "formats/loaders.h"

namespace gb::loaders {
void load_pytorch_zip(archive&, const mapped_file_ptr&, const open_options&) { fail(errc::unsupported, 0, "pytorch loader not built yet"); }
void load_pytorch_legacy(archive&, const mapped_file_ptr&, const open_options&) { fail(errc::unsupported, 0, "pytorch loader not built yet"); }
void load_pickle(archive&, const mapped_file_ptr&, const open_options&) { fail(errc::unsupported, 0, "pytorch loader not built yet"); }
void load_numpy(archive&, const mapped_file_ptr&, const open_options&) { fail(errc::unsupported, 0, "pytorch loader not built yet"); }
}  // namespace gb::loaders
