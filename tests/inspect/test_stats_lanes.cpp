// The statistics pass with value digests on SHA-256 lanes (stats_options::digest_lanes, sha256_lanes.h)
// equals its OpenSSL twin (one tensor per thread) figure for figure and digest for digest, on models with
// more tensors than lanes, quantised and plain, direct and permuted (HF q/k, Gemma's +1) layouts, 1 and 2
// threads; and each value digest equals OpenSSL's SHA-256 over the tensor's canonical rows read here.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "inspect/sha256.h"
#include "inspect/sha256_lanes.h"
#include "inspect/stats.h"
#include "inspect/stats_files.h"
#include "inspect/synth.h"
#include "tests/support/data.h"

namespace {

std::string stl_write(const std::string& dir, const std::string& arch, gb::dtype t, gb::synth_format f) {
  gb::synth_spec s;
  s.arch = arch;
  s.n_layer = 3;
  s.n_embd = 64;
  s.n_head = 4;
  s.n_vocab = 300;
  s.type = t;
  s.format = f;
  s.path = dir + "/" + arch + "-" + gb::dtype_name(t) + (f == gb::synth_format::hf ? "-hf" : ".gguf");
  gb::result<gb::synth_report> w = gb::synth_write(s);
  REQUIRE_MESSAGE(w.ok(), (w.ok() ? "" : w.err().to_string()));
  return s.path;
}

// SHA-256 (OpenSSL) of the item's canonical rows in the stored dtype.
std::string stl_oracle(const gb::tensor_item& it) {
  gb::tensor_reader rd(it);
  gb::sha256 h;
  for (int64_t r = 0; r < rd.rows(); ++r) h.update(rd.row_raw(r), rd.row_bytes());
  return gb::digest_hex(h.final());
}

void stl_same(const gb::tensor_stats& a, const gb::tensor_stats& b) {
  CAPTURE(a.name);
  CHECK(a.values_hex == b.values_hex);
  CHECK(a.count == b.count);
  CHECK(a.nan_count == b.nan_count);
  CHECK(a.zero_count == b.zero_count);
  CHECK(std::memcmp(&a.mean, &b.mean, sizeof a.mean) == 0);
  CHECK(std::memcmp(&a.std, &b.std, sizeof a.std) == 0);
  CHECK(std::memcmp(&a.kurtosis, &b.kurtosis, sizeof a.kurtosis) == 0);
  CHECK(a.min == b.min);
  CHECK(a.max == b.max);
  CHECK(a.l2 == b.l2);
  CHECK(a.outlier_row_index == b.outlier_row_index);
  CHECK(a.outlier_col_index == b.outlier_col_index);
}

}  // namespace

TEST_CASE("stats on SHA-256 lanes equal the OpenSSL twin, and every digest equals OpenSSL's") {
  if (gb::sha256_lanes_isa_best() == gb::sha256_isa::ref)
    MESSAGE("note: this CPU gets no SHA-256 lanes (both runs take the OpenSSL path)");
  const std::string dir = gb::test::temp_dir("stats_lanes");
  const std::vector<std::string> paths = {
      stl_write(dir, "llama", gb::dtype::q4_0, gb::synth_format::gguf),
      stl_write(dir, "llama", gb::dtype::f32, gb::synth_format::hf),    // q/k rows permuted back
      stl_write(dir, "gemma", gb::dtype::bf16, gb::synth_format::hf),   // norm gains + 1
      stl_write(dir, "gptneox", gb::dtype::f16, gb::synth_format::hf),  // fused qkv
      stl_write(dir, "falcon", gb::dtype::q8_0, gb::synth_format::gguf)};
  for (const std::string& path : paths) {
    CAPTURE(path);
    gb::result<gb::integrity_input> in = gb::integrity_open(path);
    REQUIRE_MESSAGE(in.ok(), (in.ok() ? "" : in.err().to_string()));
    const std::vector<gb::tensor_item>& items = in.value().items;
    REQUIRE(items.size() > 16);  // more tensors than lanes: lanes take the next tensor
    for (int threads : {1, 2}) {
      gb::stats_options o;
      o.threads = threads;
      o.digest_lanes = false;
      const gb::stats_report ref = gb::stats_compute(items, o);
      o.digest_lanes = true;
      std::vector<std::string> called(items.size());
      const gb::stats_report got = gb::stats_compute(items, o, {}, [&](size_t i, const uint8_t* d) {
        gb::digest dd;
        std::memcpy(dd.data(), d, 32);
        called[i] = gb::digest_hex(dd);
      });
      REQUIRE(got.tensors.size() == ref.tensors.size());
      for (size_t i = 0; i < items.size(); ++i) {
        stl_same(got.tensors[i], ref.tensors[i]);
        CHECK(called[i] == got.tensors[i].values_hex);
        if (threads == 1) CHECK(got.tensors[i].values_hex == stl_oracle(items[i]));
      }
      CHECK(got.findings.size() == ref.findings.size());
    }
  }
}

TEST_CASE("file digests hashed beside the tensors (in the lanes or a stream apart) equal OpenSSL's") {
  const std::string dir = gb::test::temp_dir("stats_lanes_files");
  const std::string gguf = stl_write(dir, "llama", gb::dtype::q8_0, gb::synth_format::gguf);
  gb::result<gb::integrity_input> in = gb::integrity_open(gguf);
  REQUIRE_MESSAGE(in.ok(), (in.ok() ? "" : in.err().to_string()));
  const gb::integrity_input& v = in.value();
  // 1 thread: the file is a message in the lanes; 2 threads: fewer files than threads, the file is its own
  // stream on one thread beside the tensors' lanes on the other.
  for (int threads : {1, 2})
    for (bool lanes : {true, false}) {
      CAPTURE(threads);
      std::vector<std::string> got(v.ar->files.size());
      std::vector<gb::stats_file> fs;
      for (size_t i = 0; i < v.ar->files.size(); ++i)
        fs.push_back(
            {v.ar->files[i].map.get(), [&got, i](const gb::digest& d) { got[i] = gb::digest_hex(d); }});
      gb::stats_options o;
      o.threads = threads;
      o.digest_lanes = lanes;
      (void)gb::stats_compute_files(v.items, o, fs);
      for (size_t i = 0; i < got.size(); ++i)
        CHECK(got[i] == gb::digest_hex(gb::file_sha256(v.ar->files[i].path)));
    }
}

TEST_CASE("rows read by pread give the mapping's figures and digests, on lanes and on the OpenSSL twin") {
  // The pass reads a tensor's rows from its file by pread while the file's path names the mapped file; once
  // the path is gone (renamed here) it reads them through the mapping: both must give the same bits.
  const std::string dir = gb::test::temp_dir("stats_pread");
  const std::vector<std::string> paths = {
      stl_write(dir, "llama", gb::dtype::q4_k, gb::synth_format::gguf),
      stl_write(dir, "llama", gb::dtype::q4_0, gb::synth_format::gguf),
      stl_write(dir, "llama", gb::dtype::f32, gb::synth_format::hf),  // q/k rows permuted back: mapping only
      stl_write(dir, "gemma", gb::dtype::bf16, gb::synth_format::hf),
      stl_write(dir, "falcon", gb::dtype::q8_0, gb::synth_format::gguf)};
  for (const std::string& path : paths) {
    CAPTURE(path);
    gb::result<gb::integrity_input> in = gb::integrity_open(path);
    REQUIRE_MESSAGE(in.ok(), (in.ok() ? "" : in.err().to_string()));
    const gb::integrity_input& v = in.value();
    for (bool lanes : {true, false})
      for (int threads : {1, 2}) {
        CAPTURE(lanes);
        CAPTURE(threads);
        gb::stats_options o;
        o.threads = threads;
        o.digest_lanes = lanes;
        std::string file_read;  // the file's own digest, read by pread in the lanes (1 thread) or apart
        std::vector<gb::stats_file> fs = {
            {v.ar->files[0].map.get(), [&](const gb::digest& d) { file_read = gb::digest_hex(d); }}};
        const gb::stats_report read = gb::stats_compute_files(v.items, o, fs);
        REQUIRE(std::rename(path.c_str(), (path + ".moved").c_str()) == 0);
        std::string file_mapped;
        fs[0].done = [&](const gb::digest& d) { file_mapped = gb::digest_hex(d); };
        const gb::stats_report mapped = gb::stats_compute_files(v.items, o, fs);
        REQUIRE(std::rename((path + ".moved").c_str(), path.c_str()) == 0);
        REQUIRE(read.tensors.size() == mapped.tensors.size());
        for (size_t i = 0; i < read.tensors.size(); ++i) stl_same(read.tensors[i], mapped.tensors[i]);
        CHECK(file_read == file_mapped);
        CHECK(read.findings.size() == mapped.findings.size());
      }
  }
}
