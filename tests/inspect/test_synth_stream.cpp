// `glassbox synth` streams tensor by tensor: its peak RSS does not grow with the model (the largest tensor
// bounds it), and the streamed files read back with the values the spec defines.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "inspect/stats.h"
#include "tests/support/data.h"

namespace {

// Writes a llama of `layers` layers (same dims) and returns synth's peak RSS in KiB.
long synth_rss(const std::string& path, int layers) {
  long rss = 0;
  std::string out;
  REQUIRE(
      gb::test::run_glassbox_maxrss({"synth", "--arch", "llama", "--layers", std::to_string(layers), "--dim",
                                     "384", "--heads", "6", "--ff", "1024", "--vocab", "1024", "-o", path},
                                    &out, &rss) == 0);
  return rss;
}

}  // namespace

TEST_CASE("synth's peak RSS is independent of the model's size") {
  const std::string dir = gb::test::temp_dir("synth_stream");
  const long small = synth_rss(dir + "/l1.gguf", 1);
  const long large = synth_rss(dir + "/l16.gguf", 16);
  const auto small_bytes = std::filesystem::file_size(dir + "/l1.gguf");
  const auto large_bytes = std::filesystem::file_size(dir + "/l16.gguf");
  MESSAGE("synth peak RSS: " << small / 1024 << " MiB for " << small_bytes / 1048576 << " MB, "
                             << large / 1024 << " MiB for " << large_bytes / 1048576 << " MB");
  REQUIRE(large_bytes > 10 * small_bytes / 2);  // the larger model is several times the smaller
  // Holding the model would add its ~95 MB of floats and bytes; streaming adds nothing per layer. (Not in
  // sanitized builds: ASan's quarantine keeps freed tensors resident, ~256 MB, so RSS measures it instead.)
#ifndef GB_SANITIZED
  CHECK(large - small < 16 * 1024);
  CHECK(large < small + static_cast<long>(large_bytes - small_bytes) / 1024 / 4);
#endif

  // The streamed file holds the values the spec defines: every matrix ~ N(0, 0.02), norms 1 + N(0, 0.02).
  gb::result<gb::integrity_input> in = gb::integrity_open(dir + "/l16.gguf");
  REQUIRE(in);
  const gb::stats_report r = gb::stats_compute(in.value().items, {});
  REQUIRE(r.tensors.size() == 3 + 16 * 9);
  for (const gb::tensor_stats& t : r.tensors) {
    CAPTURE(t.name);
    const bool norm = t.shape.size() == 1;
    CHECK(std::fabs(t.mean - (norm ? 1.0 : 0.0)) < 0.005);
    CHECK(t.std == doctest::Approx(0.02).epsilon(0.1));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("synth --sparse: a 70B-shaped header on no disk, inspected without 32-bit overflow") {
  const std::string dir = gb::test::temp_dir("synth_sparse");
  const std::string path = dir + "/70b.gguf";
  std::string out;
  long rss = 0;
  REQUIRE(
      gb::test::run_glassbox_maxrss(
          {"synth", "--arch", "llama", "--layers", "80",    "--dim",   "8192", "--heads",  "64", "--kv-heads",
           "8",     "--ff",   "28672", "--vocab",  "32000", "--dtype", "f16",  "--sparse", "-o", path},
          &out, &rss) == 0);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  // 68.98B parameters in f16 (norms f32): 138 GB apparent, a few MB of blocks.
  CHECK(static_cast<uint64_t>(st.st_size) > 137'000'000'000ull);
  CHECK(static_cast<uint64_t>(st.st_blocks) * 512 < 64ull << 20);
  out.clear();
  REQUIRE(gb::test::run_glassbox_maxrss({"inspect", "--json", path}, &out, &rss) == 0);
  MESSAGE("inspect of a 70B-shaped header: peak RSS " << rss / 1024 << " MiB");
  CHECK(rss / 1024 < 256);
  // 68,976,648,192 parameters; the all-zero output equals the all-zero embedding: a stored copy, counted
  // once.
  const nlohmann::json j = nlohmann::json::parse(out);
  CHECK(j["parameter_count"].get<uint64_t>() == 68'976'648'192ull - 32000ull * 8192ull);
  std::filesystem::remove_all(dir);
}
