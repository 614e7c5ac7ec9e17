// probes/npy.h: streaming export of activations (float32) under their canonical hook names, as one
// .npy file per tensor in a folder, or as one safetensors file. Tensors are written as they arrive, so a
// trace never holds more than one tensor in memory: the safetensors writer appends data to a temporary
// file beside the target and prepends the header in finish() (safetensors needs the header first).
//
//   auto w = gb::probes::activation_writer::open("trace.safetensors");   // or a folder -> .npy files
//   if (!w) return w.err();
//   w.value()->put("blk.0.resid.post", {data, shape});                   // shape {T, D}: row-major f32
//   auto done = w.value()->finish();                                      // result<void-like bool>
//
// The .npy files are xtensor's (xt::dump_npy, inside npy.cpp): format 1.0, '<f4', C order, the data at a
// multiple of 64 bytes; numpy opens them (np.load) and safetensors.numpy/torch open the safetensors file
// (dtype F32, little endian).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "formats/error.h"
#include "probes/engine/activation_view.h"

namespace gb::probes {

class activation_writer {
 public:
  virtual ~activation_writer() = default;
  // A path ending in ".safetensors" -> one safetensors file; anything else -> a folder (created) of
  // NAME.npy files. Fails with errc::io when the target cannot be created.
  static result<std::unique_ptr<activation_writer>> open(const std::string& path);
  // Writes one tensor (throws gb::failure errc::io on write errors; errc::bad_value on a repeated name).
  virtual void put(std::string_view name, const engine::activation_view& a) = 0;
  // Completes the output (safetensors: header + data; npy: nothing left). Returns bytes written.
  virtual result<uint64_t> finish() = 0;
  virtual std::vector<std::string> files() const = 0;  // files written so far
};

}  // namespace gb::probes
