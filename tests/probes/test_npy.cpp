// probes/npy: the .npy files activation_writer writes through xtensor open in numpy (np.load) with their
// shapes and dtype, and hold the float32 values bit for bit (NaN payloads, -0, infinities, subnormals);
// the header is padded so the data starts at a multiple of 64 bytes.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "probes/npy.h"
#include "tests/support/data.h"

using namespace gb;

namespace {

bool numpy_present() {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0) return true;
  if (test::in_ci()) FAIL("CI: /usr/bin/python3 cannot import numpy (install python3-numpy)");
  MESSAGE("SKIP: /usr/bin/python3 cannot import numpy");
  return false;
}

std::string hex_of(const std::vector<float>& v) {
  std::string out;
  char b[3];
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  for (size_t i = 0; i < v.size() * sizeof(float); ++i) std::snprintf(b, sizeof b, "%02x", p[i]), out += b;
  return out;
}

struct case_t {
  std::string name;
  std::vector<int64_t> shape;
};

}  // namespace

TEST_CASE("npy export: numpy loads every file with its shape and the values bit for bit") {
  auto bad = probes::activation_writer::open("/proc/glassbox-no-such-dir/npy");  // a folder it cannot make
  REQUIRE(!bad);
  CHECK(bad.err().code == errc::io);
  const std::string dir = test::temp_dir("npy_numpy");
  auto w = probes::activation_writer::open(dir + "/npy");
  REQUIRE(w);
  // shapes whose header text lengths differ (the padding varies), a scalar, an empty tensor, 4-D
  const std::vector<case_t> cases = {
      {"scalar", {}},    {"blk.0.v", {3}},    {"m", {2, 3}},        {"blk.10.attn", {2, 3, 4}},
      {"empty", {0, 5}}, {"t", {1, 1, 1, 7}}, {"wide", {1, 12345}}, {"name/with space", {5}}};
  std::vector<std::vector<float>> values;
  for (size_t c = 0; c < cases.size(); ++c) {
    int64_t n = 1;
    for (int64_t d : cases[c].shape) n *= d;
    std::vector<float> v(static_cast<size_t>(n));
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(std::sin(0.37 * double(i + c))) * 1e3f;
    if (v.size() >= 5) {
      v[0] = -0.0f;
      v[1] = std::numeric_limits<float>::infinity();
      v[2] = std::numeric_limits<float>::denorm_min();
      uint32_t nan_bits = 0x7fc01234u;  // a NaN with a payload
      std::memcpy(&v[3], &nan_bits, 4);
      v[4] = -std::numeric_limits<float>::max();
    }
    w.value()->put(cases[c].name, {v.data(), cases[c].shape});
    values.push_back(std::move(v));
  }
  bool threw = false;  // a name written twice
  try {
    w.value()->put("m", {values[2].data(), cases[2].shape});
  } catch (const failure& f) {
    threw = f.err().code == errc::bad_value;
  }
  CHECK(threw);
  auto done = w.value()->finish();
  REQUIRE(done);
  const std::vector<std::string> files = w.value()->files();
  REQUIRE(files.size() == cases.size());
  CHECK(files.back().ends_with("/name_with_space.npy"));
  uint64_t total = 0;
  for (size_t c = 0; c < files.size(); ++c) {
    const std::vector<uint8_t> b = test::read_file(files[c]);
    total += b.size();
    REQUIRE(b.size() >= 10);
    CHECK(std::memcmp(b.data(), "\x93NUMPY\x01\x00", 8) == 0);
    const size_t hdr = 10 + (static_cast<size_t>(b[8]) | static_cast<size_t>(b[9]) << 8);
    CHECK(hdr % 64 == 0);
    CHECK(b.size() == hdr + values[c].size() * 4);
  }
  CHECK(done.value() == total);
  if (!numpy_present()) return;
  for (size_t c = 0; c < files.size(); ++c) {
    INFO(files[c]);
    std::string out;
    REQUIRE(
        test::run_command("/usr/bin/python3 -c \"import numpy as np, sys; a = np.load(sys.argv[1]); "
                          "print(a.dtype.str, list(a.shape), a.flags.c_contiguous, a.tobytes().hex())\" '" +
                              files[c] + "'",
                          &out) == 0);
    std::string shape = "[";
    for (size_t i = 0; i < cases[c].shape.size(); ++i)
      shape += (i ? ", " : "") + std::to_string(cases[c].shape[i]);
    shape += "]";
    CHECK(out == "<f4 " + shape + " True " + hex_of(values[c]) + "\n");
  }
}
