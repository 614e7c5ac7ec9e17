// hash_verify: canonical digests of a model's tensors (the same weights give the same root in any format),
// written as a manifest, then verified against a second model: equal roots mean equal weights.
//
//   example_hash_verify stories260K.gguf stories260K/hf      # same weights in two containers
#include <cstdio>

#include "inspect/hash.h"
#include "inspect/tensor_values.h"

namespace {

gb::result<gb::hash_report> hash_path(const char* path) {
  gb::result<gb::integrity_input> in = gb::integrity_open(path);
  if (!in) return in.err();
  gb::hash_options o;
  o.stats = false;  // digests only
  return gb::capture(path, [&] { return gb::hash_model(in.value().items, in.value().ar->files, o); });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MODEL OTHER_MODEL\n", argv[0]);
    return 2;
  }
  gb::result<gb::hash_report> a = hash_path(argv[1]);
  gb::result<gb::hash_report> b = hash_path(argv[2]);
  if (!a || !b) {
    std::fprintf(stderr, "%s\n", (a ? b : a).err().to_string().c_str());
    return 3;
  }
  const std::string manifest = gb::manifest_json(a.value(), "example_hash_verify");
  std::printf("%s: root %s over %zu tensors\n", argv[1], a.value().root_hex.c_str(), a.value().counted);
  std::printf("%s: root %s over %zu tensors\n", argv[2], b.value().root_hex.c_str(), b.value().counted);
  const gb::verify_report v = gb::manifest_verify(manifest, b.value());
  std::printf("weights %s (%zu tensors checked)\n", v.root_equal ? "equal" : "differ", v.tensors_checked);
  for (const std::string& line : v.changed) std::printf("  %s\n", line.c_str());
  return v.root_equal ? 0 : 1;
}
