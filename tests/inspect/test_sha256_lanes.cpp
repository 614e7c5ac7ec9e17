// Multi-buffer SHA-256 (inspect/sha256_lanes.h) against OpenSSL as the oracle: every kernel this CPU has
// (portable, SHA-NI, AVX2 x 8, AVX-512 x 16), the lane kernels against their portable twin state for state,
// and the lane scheduler on messages of every length 0..300 and several MB, cut into random pieces, with
// fewer, as many and more messages than lanes (idle lanes, lanes that take the next message, the tail).
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "inspect/sha256.h"
#include "inspect/sha256_lanes.h"

namespace {

std::vector<uint8_t> sl_bytes(size_t n, std::mt19937& rng) {
  std::vector<uint8_t> v(n);
  for (uint8_t& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// A message handed out in random pieces of 1..max_piece bytes.
struct sl_source : gb::sha256_source {
  const std::vector<uint8_t>* msg = nullptr;
  size_t off = 0, max_piece = 1;
  std::mt19937* rng = nullptr;
  bool next(const uint8_t*& p, size_t& n) override {
    if (off == msg->size()) return false;
    n = std::min(msg->size() - off, 1 + (*rng)() % max_piece);
    p = msg->data() + off;
    off += n;
    return true;
  }
};

// Hashes msgs with isa's lanes; every digest must equal OpenSSL's.
void sl_check_run(gb::sha256_isa isa, const std::vector<std::vector<uint8_t>>& msgs, size_t max_piece,
                  std::mt19937& rng) {
  std::vector<sl_source> src(msgs.size());
  for (size_t i = 0; i < msgs.size(); ++i)
    src[i].msg = &msgs[i], src[i].max_piece = max_piece, src[i].rng = &rng;
  std::vector<gb::digest> got(msgs.size());
  std::vector<int> calls(msgs.size(), 0);
  size_t next = 0;
  gb::sha256_lanes_run(
      isa, [&]() -> gb::sha256_source* { return next < src.size() ? &src[next++] : nullptr; },
      [&](gb::sha256_source* s, const gb::digest& d) {
        const size_t i = static_cast<size_t>(static_cast<sl_source*>(s) - src.data());
        got[i] = d;
        ++calls[i];
      });
  for (size_t i = 0; i < msgs.size(); ++i) {
    INFO("message " << i << " of " << msgs.size() << ", " << msgs[i].size()
                    << " bytes, pieces <= " << max_piece);
    CHECK(calls[i] == 1);
    CHECK(gb::digest_hex(got[i]) == gb::digest_hex(gb::sha256_of(msgs[i].data(), msgs[i].size())));
  }
}

const gb::sha256_isa sl_isas[] = {gb::sha256_isa::ref, gb::sha256_isa::shani, gb::sha256_isa::avx2,
                                  gb::sha256_isa::avx512};

}  // namespace

TEST_CASE("sha256_stream equals OpenSSL for every length 0..300 and in pieces") {
  std::mt19937 rng(7);
  const std::vector<uint8_t> all = sl_bytes(300 + (3u << 20), rng);
  for (size_t n = 0; n <= 300; ++n) {
    gb::sha256_stream s;
    s.update(all.data(), n);
    REQUIRE(gb::digest_hex(s.final()) == gb::digest_hex(gb::sha256_of(all.data(), n)));
  }
  gb::sha256_stream s;  // 3 MiB in odd pieces
  for (size_t off = 0; off < all.size();) {
    const size_t n = std::min(all.size() - off, size_t{1} + rng() % 100000);
    s.update(all.data() + off, n);
    off += n;
  }
  CHECK(gb::digest_hex(s.final()) == gb::digest_hex(gb::sha256_of(all.data(), all.size())));
}

TEST_CASE("the dispatched single-stream kernel equals its portable twin") {
  std::mt19937 rng(11);
  const std::vector<uint8_t> blocks = sl_bytes(64 * 9, rng);
  for (size_t nb = 1; nb <= 9; ++nb) {
    uint32_t a[8], b[8];
    for (int j = 0; j < 8; ++j) a[j] = b[j] = static_cast<uint32_t>(rng());
    gb::sha256_blocks_ref(a, blocks.data(), nb);
    gb::sha256_blocks(b, blocks.data(), nb);
    CHECK(std::vector<uint32_t>(a, a + 8) == std::vector<uint32_t>(b, b + 8));
  }
}

TEST_CASE("lane kernels equal their portable twin, lane for lane") {
  std::mt19937 rng(13);
  for (gb::sha256_isa isa : {gb::sha256_isa::avx2, gb::sha256_isa::avx512}) {
    if (!gb::sha256_isa_available(isa)) {
      MESSAGE("SKIP: this CPU has no " << (isa == gb::sha256_isa::avx2 ? "AVX2" : "AVX-512"));
      continue;
    }
    const int lanes = gb::sha256_isa_lanes(isa);
    for (size_t nb : {size_t{1}, size_t{2}, size_t{5}}) {
      std::vector<std::vector<uint8_t>> msg(16);
      const uint8_t* p[16];
      for (int i = 0; i < 16; ++i)
        msg[static_cast<size_t>(i)] = sl_bytes(64 * nb, rng), p[i] = msg[static_cast<size_t>(i)].data();
      uint32_t a[8 * 16], b[8 * 16];
      for (int k = 0; k < 8 * 16; ++k) a[k] = b[k] = static_cast<uint32_t>(rng());
      gb::sha256_lanes_blocks(isa, a, p, nb);
      gb::sha256_lanes_blocks_ref(b, p, nb, lanes);
      for (int j = 0; j < 8; ++j)
        for (int i = 0; i < lanes; ++i) CHECK(a[16 * j + i] == b[16 * j + i]);
    }
  }
}

TEST_CASE("lanes hash every length 0..300 as OpenSSL does, whole and in random pieces") {
  std::mt19937 rng(17);
  std::vector<std::vector<uint8_t>> msgs;
  for (size_t n = 0; n <= 300; ++n) msgs.push_back(sl_bytes(n, rng));
  for (gb::sha256_isa isa : sl_isas) {
    if (!gb::sha256_isa_available(isa)) continue;
    INFO("isa " << static_cast<int>(isa));
    sl_check_run(isa, msgs, 1000, rng);  // each message whole (one piece)
    sl_check_run(isa, msgs, 70, rng);    // blocks gathered across pieces
  }
}

TEST_CASE("lanes: fewer, as many and more messages than lanes; MB messages beside short ones") {
  std::mt19937 rng(19);
  for (gb::sha256_isa isa : sl_isas) {
    if (!gb::sha256_isa_available(isa)) continue;
    INFO("isa " << static_cast<int>(isa));
    for (size_t count : {size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{16}, size_t{17}, size_t{40}}) {
      std::vector<std::vector<uint8_t>> msgs;
      for (size_t i = 0; i < count; ++i) msgs.push_back(sl_bytes(rng() % 5000, rng));
      sl_check_run(isa, msgs, 1 + rng() % 3000, rng);
    }
    // Long messages (the tail finishes them as single streams when SHA-NI is there) among short ones.
    std::vector<std::vector<uint8_t>> msgs;
    msgs.push_back(sl_bytes((3u << 20) + 17, rng));
    for (int i = 0; i < 20; ++i) msgs.push_back(sl_bytes(rng() % 300000, rng));
    msgs.push_back(sl_bytes((2u << 20) + 63, rng));
    sl_check_run(isa, msgs, 1u << 16, rng);
  }
}
