// Peak memory of a model-parallel split (Meta's consolidated.00-07.pth). Split tensors are views over the
// mapped shards (formats/meta_folder.cpp), never gathered into one buffer, so `inspect`, `hash` and `run`
// of an 8-way split hold no copy of the model: each child's peak RSS (wait4's ru_maxrss) stays within the
// shards' size + 64 MiB, and within half the model's size of the same command on the unsplit release (a
// merged copy would add the whole of it). Greedy generation (one token at a time: the engine's per-slice
// matmul) gives the same tokens split and unsplit.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/data.h"

namespace fs = std::filesystem;

namespace {

constexpr int64_t k_mib = 1 << 20;

// Runs the CLI with args (stdout kept in `out`); returns the child's peak RSS in bytes, -1 when it did not
// exit with 0.
int64_t peak_rss(const std::vector<std::string>& args, std::string& out) {
  long kib = 0;
  out.clear();
  if (gb::test::run_glassbox_maxrss(args, &out, &kib) != 0) return -1;
  return static_cast<int64_t>(kib) * 1024;  // Linux reports KiB
}

int64_t folder_bytes(const std::string& dir) {
  int64_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) n += static_cast<int64_t>(e.file_size());
  return n;
}

}  // namespace

TEST_CASE("8-way model-parallel split: peak RSS within the shards' size + 64 MiB, no copy of the model") {
  const std::string dir = gb::test::temp_dir("shard_memory");
#ifdef GB_SANITIZED
  // The sanitizers' shadow memory and quarantine make RSS meaningless: a small model checks the path only.
  const std::string shape = "--layers 1 --dim 64 --heads 4 --ff 176 --vocab 512";
#else
  // ~59 MB of f32 weights: 2 x 8192 x 512 embeddings + 2 layers of 4 x 512^2 + 3 x 512 x 1408
  const std::string shape = "--layers 2 --dim 512 --heads 8 --ff 1408 --vocab 8192";
#endif
  std::string out;
  REQUIRE(gb::test::run_glassbox("synth --arch llama " + shape + " --ctx 256 --format hf -o " + dir + "/hf",
                                 &out) == 0);
  REQUIRE(gb::test::run_glassbox("export-meta " + dir + "/hf -o " + dir + "/meta1", &out) == 0);
  REQUIRE(gb::test::run_glassbox("export-meta " + dir + "/hf -o " + dir + "/meta8 --shards 8", &out) == 0);
  REQUIRE(fs::exists(dir + "/meta8/consolidated.07.pth"));
  const int64_t files = folder_bytes(dir + "/meta8");

  struct command {
    std::string name;
    std::vector<std::string> args;
  };
  const std::vector<command> commands = {
      {"inspect", {"inspect"}},
      {"hash", {"hash", "--threads", "1"}},
      {"run", {"run", "--ids", "1,403,407,30", "--tokens", "6", "--threads", "1"}},
  };
  for (const command& c : commands) {
    CAPTURE(c.name);
    std::vector<std::string> split = c.args, whole = c.args;
    split.insert(split.begin() + 1, dir + "/meta8");
    whole.insert(whole.begin() + 1, dir + "/meta1");
    std::string split_out, whole_out;  // stdout of each
    const int64_t rss_split = peak_rss(split, split_out);
    const int64_t rss_whole = peak_rss(whole, whole_out);
    REQUIRE(rss_split > 0);
    REQUIRE(rss_whole > 0);
    MESSAGE(c.name << ": 8-way split peak RSS " << rss_split / k_mib << " MiB, unsplit " << rss_whole / k_mib
                   << " MiB, shards " << files / k_mib << " MiB");
    if (c.name == "run") CHECK(split_out == whole_out);  // same tokens
#ifndef GB_SANITIZED
    CHECK(rss_split <= files + 64 * k_mib);
    // A merged copy would add the model's size over the unsplit run; half of it is the bound. (The unsplit
    // hash reads its tensors by pread, 16 MiB; the split slices go through the mappings, each tensor's
    // pages dropped behind its reader: 38 MiB.)
    CHECK(rss_split <= rss_whole + files / 2);
#endif
  }
}
