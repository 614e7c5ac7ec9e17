// STUB: replaced by the architecture table.
#include "inspect/model.h"
namespace gb {
const char* arch_family_name(arch_family) { return "unknown"; }
const char* role_name(role_kind) { return "other"; }
const char* role_group(role_kind) { return "other"; }
result<model> model_build(std::shared_ptr<const archive> ar) {
  return capture(ar ? ar->path : std::string(), []() -> model { fail(errc::unsupported, 0, "model_build not built yet"); });
}
}  // namespace gb
