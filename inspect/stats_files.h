// inspect/stats_files.h: the statistics pass with whole-file SHA-256 digests hashed in it (hash.h's file
// digests): each mapped file is one more message for the SHA-256 lanes (sha256_lanes.h), so the files of a
// sharded folder are hashed in lock step beside the tensors; with fewer files than threads (one GGUF on 2
// cores), or without lanes, each file is a side job on OpenSSL (SHA-NI where the CPU has it): one stream on
// its own thread from the start, as stats_compute's side_jobs, while the other threads take the tensors.
//
//   std::vector<gb::stats_file> fs = {{&*files[0].map, [&](const gb::digest& d) { keep(0, d); }}};
//   gb::stats_report s = gb::stats_compute_files(items, opt, fs, {}, on_values_digest);
#pragma once

#include <functional>
#include <vector>

#include "formats/mapped_file.h"
#include "inspect/sha256.h"
#include "inspect/stats.h"

namespace gb {

struct stats_file {
  const mapped_file* file = nullptr;        // hashed whole, its pages dropped behind (mapped_sha256's bound)
  std::function<void(const digest&)> done;  // its SHA-256
};

// stats_compute with `files` hashed in the same queue, ahead of the side jobs and tensors.
stats_report stats_compute_files(const std::vector<tensor_item>& items, const stats_options& opt,
                                 const std::vector<stats_file>& files,
                                 const std::vector<std::function<void()>>& side_jobs = {},
                                 const std::function<void(size_t, const uint8_t*)>& on_values_digest = {});

}  // namespace gb
