#include "probes/engine/kernels_blocks.h"

// ggml's dequantisation rounds its multiply and its subtract separately (formats/quant_cols_simd.h).
// Pushed and popped: in a unity batch the sources after this one keep their own options.
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
// GCC 12 reports false "used uninitialized" warnings for the intrinsics' undefined pass-through operand.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>

#include "formats/quant_cols.h"
#include "formats/quant_cols_simd.h"

namespace gb::engine {

// 16 x the groups rows_fused_t interleaves: 4 for 32-element blocks and q4_k, 2 for q5_k and q6_k
// (rows_tiled_t takes 2 for every k-quant, whose tiles are 16 KiB a group: a run reads half a q4_k panel).
int64_t rows_blocks_panel(dtype t) {
  return dtype_info(t).block_size <= 32 || t == dtype::q4_k ? 64 : 32;
}

#if defined(GB_QSIMD_AVX512)
namespace {

// A decoder (quant_cols_simd.h's interface) over block_columns16: the block goes to a tile in L1 and each
// column is loaded back. For the types without a register-level decoder, and as the fused ones' twin.
template <int Bs>
struct tile_dec {
  static constexpr int parts = 1, step = Bs;
  block_columns_fn cols = nullptr;
  packed_columns_fn packed = nullptr;
  alignas(64) float tile[Bs * 16];  // (Bs, 16): column c at 16 c
  // rows_dec copies its prototype per run of rows: the tile is scratch, a copy takes the functions only
  // (a copy of the tile was 2-16 KB a run)
  tile_dec() = default;
  tile_dec(const tile_dec& o) : cols(o.cols), packed(o.packed) {}
  tile_dec& operator=(const tile_dec& o) {
    cols = o.cols, packed = o.packed;
    return *this;
  }
  void load(const qsimd::rows_at& s, int /*part*/) {
    const uint8_t* rows[16];
    for (int i = 0; i < 16; ++i) rows[i] = s.rows[i] + s.off;
    cols(rows, 0, tile, 16);
  }
  void load(const qsimd::packed_at& s, int /*part*/) { packed(s.p, tile, 16); }
  [[gnu::always_inline]] __m512 col(int c) const { return _mm512_load_ps(tile + 16 * c); }
};

// The byte streams a few-token kernel reads for rows [r0, r0 + n) of plain rows: each row its own stream
// of one block per column, all advancing together (one byte count).
template <int R>
struct row_streams {
  const uint8_t* rows[R];
  int nrows = 0;
  int64_t done = 0;  // bytes prefetched so far, per stream
  row_streams(const weight_view& w, int64_t r0, int64_t n) {
    for (int64_t i = 0; i < n && i < R; ++i) rows[nrows++] = w.row(r0 + i);
  }
  // Lines up to `end` bytes of each stream, into the cache level `hint`.
  template <auto hint>
  [[gnu::always_inline]] void fetch(int64_t end) {
    for (; done < end; done += 64)
      for (int i = 0; i < nrows; ++i) _mm_prefetch(reinterpret_cast<const char*>(rows[i] + done), hint);
  }
};

// The packed panels of a view (repack.h) are one sequential stream for a thread that multiplies
// consecutive panels: each run's reads follow the last one's. Its prefetches run ahead of the reads into
// L1, and where they reached is kept per thread across runs and calls: a run that starts within reach of
// it goes on from there, any other restarts at its own first byte. One distance, into L1 only: 8 KiB (7
// block columns of a q4_0 panel) where it was 1 KiB into L1 and 8 KiB into L2 (the reads are a DRAM
// stream, 1 KiB was too short to cover its latency; the L2 loop gained nothing on top). 134M tg128, 1
// thread, CPU of the whole process against 1 + 8 KiB, load 5-7.5: q4_0 0.85x, q8_0 0.87x, q4_k 0.97x,
// q5_k 0.98x, q6_k 0.96x; 4 KiB was slower, 12-24 KiB no faster, adding an L2 loop at 32 KiB slower.
// q4_k's one-token rate (bench_kernel_rate, best of the reps, main's binary, load 1.4-1.8) falls as soon
// as its panels leave L2, not only from DRAM: 47-50 G weights/s in L2 (0.3 MB), 35-41 in L3 (1.8-19
// MB), 33-35 from DRAM (75 MB), where q4_0 keeps 53-55, 48-54, 45-48 (2 tokens: q4_k 36, 28-32, 27; q4_0
// 39, 37-39, 33-34): the stream's latency shows, its bandwidth is not what binds. What was tried on
// q4_k's 4 interleaved groups (the stream leads group 3's part 0 by ~2.8 KiB, group 0's by ~10 KiB),
// against this stream, from DRAM / in L2: each group's own part p of block column b + 1 (36 lines a part,
// as now) 0.96x / 0.87x (pairs over 6 stack pads, load 1.7-1.9); its leads of 2-8 parts (1.1-4.6 KiB a
// group) 0.98-1.03x, into L2 (T1) 0.80-0.84x, near into L1 + far into L2 0.92x, a line in 2 (the
// adjacent-line prefetcher) 0.93x (one binary, run-time choice, reps alternating); block b + 1's headers
// again 1.02x / 0.96x; no prefetch 0.53x / 1.03x (the stream is what feeds DRAM reads, the hardware
// alone is not). A part-interleaved panel (the 4 headers, then part 0 of the 4 groups, ...: one linear
// stream in read order, the same bits) 1.03x from DRAM, in L3 and in L2 alike: the layout does not bind.
// Two streams a thread (the gate and up stage alternates a panel of each, so this one restarts 64 times a
// layer at 134M) running on past a matrix's end into the next one's (the repack lays them out in the order
// a token multiplies them): 134M q4_k tg128, 1 thread, 5 alternating rounds at load 2.5, 0.92x of one
// stream (noise +-10%): the restarts are not what is slow. Not kept.
struct packed_stream {
  static constexpr int64_t ahead = 8192;  // bytes past the slice being read
  const uint8_t* at = nullptr;            // the first byte not yet prefetched
};
inline thread_local packed_stream packed_reach;

// Prefetch points per block part, spread between its columns: each part's start (the k-quants' 2-4 parts
// a block: a q4_k block column of a panel is 144 lines, no longer one burst), and for q4_0 also every 8
// columns (its 18 lines a block in 4 pieces between the FMAs). Against one burst per block, 134M tg128,
// 1 thread, CPU, load 3-7: q4_0 0.89-0.94x, q4_k 0.88-0.96x, q5_k 0.93x, q6_k 0.91-0.95x; q8_0 at 4 pieces
// was no faster (1.02-1.04x, inside this noise: the same binary against itself read 1.03x).
// q4_k at 8 pieces a part (every 8 columns, q4_0's cadence): one binary choosing at run time, reps
// alternating (load 1.7-2.9), 1.06-1.13x the rate in L2, L3 and DRAM, 134M tg128 1.04-1.05x tokens/s at 1
// and 2 threads (ab.sh CPU 0.91x at 1, 1.05x at 2), the 7B-shaped Q4_K tg16 1.085x (4 pairs); built
// alone, pairs against main's binary 0.95x / 0.98x / 1.00x (L2, L3, DRAM), tg128 0.99x, 7B 0.99x: inside
// what the code's placement moves (the same kernel 0.95-1.09x main's in two builds), not kept. q5_k at 8
// a part 1.0x from DRAM, 0.96x in L2; q6_k at 4 a part 1.03x, 0.99-1.06x (2 groups, one binary, reps
// alternating).
template <class D>
inline constexpr int prefetch_slices = 1;
template <>
inline constexpr int prefetch_slices<qsimd::q4_0_dec> = 4;

// 16 G rows (n <= 16 G from r0, r0 a multiple of 16) for RT tokens: per block part, each group's decoder
// loads its 16 rows' bytes, then column by column the G groups' FMA chains run interleaved (one chain is a
// 4-cycle FMA per column; one token has no other independent work).
// Packed: the rows are in packed panels of w (repack.h: 16 G rows per panel, one packed group-block per
// 16 rows and block column, the panel's G side by side), read with plain loads as one stream. Else every
// row is plain, its own stream, its blocks gathered and transposed; the next 16 G rows' lines are
// prefetched into L2 (each row of a wide matrix is its own 4 KiB page, which the hardware prefetcher does
// not cross), these rows' next lines into L1.
// Not inlined: each instantiation is its own function, whose code does not move with the others' (q8_0's
// loop measured 1.04-1.05x CPU when q4_0's left rows_fused_t and its own stayed inlined there).
template <int RT, int G, bool Packed, class D>
[[gnu::noinline]] void rows_dec(const float* x, int64_t N, const weight_view& w, int64_t r0, int64_t n,
                                float* y, int64_t M, const D& proto) {
  constexpr int64_t R = 16 * G;
  const dtype_traits& tr = dtype_info(w.type);
  const int64_t bs = tr.block_size, bb = tr.type_size;
  // Packed: group g's block 0, block b at b * step bytes on; else row i's (block b at b bb). Groups and
  // rows past n repeat the last: their lanes are not stored.
  const uint8_t* src[Packed ? G : R];
  const int64_t step = Packed ? w.interleave * bb : bb;
  if constexpr (Packed) {
    for (int g = 0; g < G; ++g) src[g] = w.group_block(r0 + std::min<int64_t>(16 * g, n - 1), 0);
  } else {
    for (int64_t i = 0; i < R; ++i) src[i] = w.row(r0 + std::min(i, n - 1));
  }
  // the prefetches: packed, one stream from src[0] up to the packed rows' end; plain, per row
  const uint8_t* packed_end = nullptr;
  packed_stream ps = packed_reach;
  if constexpr (Packed) {
    packed_end = w.row(w.rows / w.interleave * w.interleave);
    if (!(ps.at >= src[0] && ps.at <= src[0] + packed_stream::ahead)) ps.at = src[0];
  }
  const int64_t pn = Packed ? 0 : std::clamp<int64_t>(w.rows - r0 - R, 0, R);  // rows prefetched
  row_streams<R> cur(w, r0, Packed ? 0 : n), next(w, r0 + R, pn);
  D dec[G];  // a register decoder's state is all set by load(); tile_dec takes its functions from proto
  if constexpr (requires { proto.cols; })
    for (int g = 0; g < G; ++g) dec[g] = proto;
  __m512 acc[RT][G];
  for (int i = 0; i < RT; ++i)
    for (int g = 0; g < G; ++g) acc[i][g] = _mm512_setzero_ps();
  const int64_t row_end = N / bs * bb;
  for (int64_t b = 0, k = 0; k < N; ++b, k += bs) {
    if constexpr (!Packed) {
      next.template fetch<_MM_HINT_T1>((b + 1) * bb);                          // the next rows' block b (L2)
      cur.template fetch<_MM_HINT_T0>(std::min(row_end, (b + 1) * bb + 256));  // these, 256 bytes a row on
    }
    for (int p = 0; p < D::parts; ++p) {
      // slice j of the part (prefetch_slices<D> a part): before it is read, the stream is prefetched to
      // ahead bytes past its end
      constexpr int slices = prefetch_slices<D>, slice = D::step / slices;
      const auto fetch = [&](int j) {
        const int64_t s = int64_t{p} * slices + j + 1;  // slices of the block read after slice j
        const uint8_t* upto =
            std::min(packed_end, src[0] + b * step + s * step / (D::parts * slices) + packed_stream::ahead);
        for (; ps.at < upto; ps.at += 64) _mm_prefetch(reinterpret_cast<const char*>(ps.at), _MM_HINT_T0);
      };
      if constexpr (Packed) fetch(0);
      for (int g = 0; g < G; ++g) {
        if constexpr (Packed)
          dec[g].load(qsimd::packed_at{src[g] + b * step}, p);
        else
          dec[g].load(qsimd::rows_at{src + 16 * g, b * bb}, p);
      }
      const float* xk = x + k + p * D::step;
#pragma GCC unroll 128
      for (int c = 0; c < D::step; ++c) {
        if constexpr (Packed && slices > 1)
          if (c > 0 && c % slice == 0) fetch(c / slice);
        for (int g = 0; g < G; ++g) {
          const __m512 v = dec[g].col(c);
          for (int i = 0; i < RT; ++i)
            acc[i][g] = _mm512_fmadd_ps(_mm512_set1_ps(xk[i * N + c]), v, acc[i][g]);
        }
      }
    }
  }
  if constexpr (Packed) packed_reach = ps;
  for (int g = 0; g < G; ++g) {
    const int64_t ng = std::clamp<int64_t>(n - 16 * g, 0, 16);
    const __mmask16 out = static_cast<__mmask16>((1u << ng) - 1);
    for (int i = 0; i < RT; ++i) _mm512_mask_storeu_ps(y + i * M + r0 + 16 * g, out, acc[i][g]);
  }
}

// Rows [r0, r0 + n) in runs of 16 G rows: the rows in packed panels through the packed driver (decoder
// packed_proto), the plain rows after them (a matrix's tail) through the stored one (proto).
template <int RT, int G, class D, class DP>
void rows_runs(const float* x, int64_t N, const weight_view& w, int64_t r0, int64_t n, float* y, int64_t M,
               const D& proto, const DP& packed_proto) {
  const int64_t packed_end =
      w.interleave == 0 ? r0 : std::clamp<int64_t>(w.rows / w.interleave * w.interleave, r0, r0 + n);
  for (int64_t r = r0; r < packed_end; r += 16 * G)
    rows_dec<RT, G, true, DP>(x, N, w, r, std::min<int64_t>(16 * G, packed_end - r), y, M, packed_proto);
  for (int64_t r = packed_end; r < r0 + n; r += 16 * G)
    rows_dec<RT, G, false, D>(x, N, w, r, std::min<int64_t>(16 * G, r0 + n - r), y, M, proto);
}

template <int RT>
void rows_tiled_t(const float* x, int64_t N, const weight_view& w, int64_t r0, int64_t n, float* y,
                  int64_t M) {
  tile_dec<32> t32;
  tile_dec<256> t256;
  t32.cols = t256.cols = block_columns16(w.type);
  t32.packed = t256.packed = block_columns16_packed(w.type);
  // 2 groups (a 32 KiB tile) for the 256-element k-quants, 4 (a whole panel) for 32-element blocks
  if (dtype_info(w.type).block_size <= 32)
    rows_runs<RT, 4>(x, N, w, r0, n, y, M, t32, t32);
  else
    rows_runs<RT, 2>(x, N, w, r0, n, y, M, t256, t256);
}

template <int RT>
void rows_fused_t(const float* x, int64_t N, const weight_view& w, int64_t r0, int64_t n, float* y,
                  int64_t M) {
  // 4 groups (a whole panel) for 32-element blocks (q8_0 tg 15 -> 21 tok/s, 1 thread, load 22) and for
  // q4_k, whose packed decoder reads its quants in place (fewer live registers: 4 groups against 2, 134M
  // tg128, 5 alternating runs, load 5.2-5.5: CPU 0.89x of the whole process, wall 0.85x); 2 for q5_k
  // (4: 0.71-0.78x, its qh vectors stay in registers) and q6_k (its packed decoder reads ql and qh in place,
  // CPU 0.78x of 2 groups holding them; 4 groups were 1.39x, 1.23x with its scales made per 16 columns).
  // Retried after the 8 KiB L1 prefetch, 4 groups (64-row panels) with the g and i loops unrolled by
  // pragma (load 2.8-4.6): q6_k tg128 1 thread CPU 1.35x, in L2 0.90x the rate; q5_k in L2 1.22x the
  // rate (29 -> 36 G weights/s) but from memory 0.94x (noise ~10%) and tg128 CPU 0.94-1.04x at 1 thread,
  // 1.02-1.07x at 2: the 134M file streams from memory at ~14-25 G weights/s either way, kept at 2.
  // q6_k at 3 groups (48-row panels): in L2 the same rate (29.0 vs 29.1), tg128 CPU 1.64x.
  // q4_k's part as a loop of 4-column runs (a 16x smaller body, same order) ran in L2 at 0.7x the rate.
  // Tried before byte_at's table (quant_cols_simd.h), bench_kernel_rate q4_k in L2 paired with main's
  // binary over 16 stack pads under setarch -R (the rate moves with where the stack lands), load 3-5: the
  // in-place loads kept from GCC's CSE by an empty asm on the pointer per use (its stack copies gone)
  // 1.007x; the part loop unrolled 0.72x (7 alternating runs); a column's byte brought down by a load 1-3
  // bytes on instead of a shift (144 shifts a part for 240) 0.94x (split lines), and 1.01x with the same
  // instructions aligned (wrong bits): the shifts do not bind; the 8 sub-blocks' dl and ml at part 0 0.94x.
  // q5_k at 4 groups again, with the table: in L2 1.23x, tg128 1 thread 0.92x the tokens/s.
  // q6_k's float from its bits (tried, not kept): one vpshufb puts 0x80 | q << 1 in byte 2 of a
  // zero lane, the float 2^-126 (1 + q/64), and fmsub(d sc 2^132, f, d sc 96) is d sc (q - 32) with nothing
  // rounded, 3 instructions a column for 4. Exact only behind three guards (+0 for ggml's -0 at q = 32,
  // seen by a chain once |x| < 2^-102; NaN for an infinite d; overflow from |d| >= 2^-11): tg128 CPU
  // 0.97-0.99x at 1 thread, 1.0x at 2 (load 1.4-2.1), not worth the code. At 4 groups 1.15-1.2x the rate
  // in L2 but 0.8x from memory, tg128 1.19x CPU.
  // Retried with 8 prefetch pieces a part (prefetch_slices), 4 groups against 2 from DRAM (5 alternating
  // runs, load 4.6): q5_k 1.06x (0.86x without them), q6_k 0.71x either way; q5_k's tg128 1 thread 1.075x
  // the CPU: kept at 2.
  // q6_k at 4 groups once more, its 8 scales a part made where used (3 vectors a group held, no spills;
  // same bits), measured in one process against 2 groups (bench_kernel_rate built with both, each on its
  // own repack, reps alternating: the host's noise and the code's placement fall on both), best of the reps,
  // G weights/s, K = 768: in L2 33.5-35.3 vs 29.3-30.9 (1.14x), in L3 25.5-26.4 vs 28.1-29.1 (0.9x), from
  // DRAM 16.8-20.3 vs 22.5-25.1 (0.8x); with the stream one block column further ahead (21.6 KiB) from DRAM
  // 20.0-20.4 vs 25.0 (0.8x): the 4 groups' loss from memory is not the prefetch's lead. The same one-process
  // test gave q4_k's stream prefetched non-temporally (NTA) 1.00x of T0 everywhere, 16 KiB ahead
  // 0.95-0.99x, 8 prefetch pieces a part 0.95x in L2, 0.99x in L3, 0.96-0.97x from DRAM, and its FMAs
  // taking x as a broadcast memory operand ({1to16}: 4.0 instructions a group-column where the separate
  // vbroadcastss makes 4.25) 0.96-1.07x: neither the prefetch nor the front end is what q4_k's 4 groups
  // lose from memory. The same kernel source reads 0.9-1.15x across builds (code placement): compare
  // kernels in one binary. q6_k at 3 groups (48-row panels, scales made where used): L2 1.12-1.14x, L3
  // 0.96-1.01x, DRAM 0.89-1.04x; q4_k's stream 3 KiB ahead: DRAM 0.87-0.92x. From DRAM (K = 768, one
  // thread) the kernels stream q8_0 32 GB/s (the machine's one-thread read rate), q4_0 22-25, q4_k 16-18,
  // q5_k 17, q6_k 19: the k-quants read ~18 GB/s whatever their group count and L2 rate, as if their
  // compute and their memory waits added up where q8_0's overlap. Their quants are read in place by the
  // columns (memory operands) in parts; q4_0 and q8_0 load a block into registers at its start. Neither
  // is it: q4_0 read in place by its columns streams as fast as from registers (1.00-1.03x in L2, L3 and
  // DRAM), q4_k's part loaded once at the part's start as well changed nothing (0.94-1.02x), q4_k at 2
  // groups with its quants in registers keeps 0.9 of its L2 rate from DRAM but its L2 rate is 0.6x, and
  // skipping q4_k's per-part scale setup (wrong bits, timing only) gained 1-4%. Quiet host, one process:
  // q4_k 51-53 G weights/s in L2, 39-40 from DRAM (22 GB/s); q4_0 56-58 and 48-54 (27-30 GB/s).
  // What bounds a column on this host's cores (AMD EPYC, Zen 5; loops of independent register-only
  // instructions, Dec 8): FMA, fmsub and mul issue 2 a cycle, as do vaddps, vpsrld, vcvtdq2ps, vpshufb and
  // vpermps, vpternlogd and vpandd 4; fma + vpsrld, fma + vaddps and fma + vcvtdq2ps run side by side (4 a
  // cycle), fma + vpermps and fma + vpshufb partly share; the mix shift + vpermps + fmsub + fma is 4 a cycle.
  // An FMA's latency is 4 cycles: 8 independent chains fill the 2 FMA pipes. So q4_k's and q4_0's column
  // (shift, vpermps, fmsub or mul, FMA) takes one cycle a group, 16 weights a cycle (~56 G/s at the
  // ~3.5 GHz these loops show), and its 4 groups' chains are a critical path of exactly that length: no
  // slack to catch up after a late line. Every decode of a 4-bit column needs an FMA-pipe op besides its
  // chain's (the scale is per row, a shared table cannot carry it): a 4-op column is the floor. 8 groups
  // (128-row q4_k panels, the decoder as is) spill: 0.56-0.68x in L2, 0.57-0.64x from DRAM. The 8
  // prefetch pieces a part again, one process: 1.06-1.15x from DRAM while the host's bandwidth was low
  // (base 26-29 G weights/s), 0.94-1.02x when it was high (base 36-41): not kept.
  switch (w.type) {
    case dtype::q8_0:
      rows_runs<RT, 4>(x, N, w, r0, n, y, M, qsimd::q8_0_dec{}, qsimd::q8_0_dec{});
      return;
    case dtype::q4_0:
      rows_runs<RT, 4>(x, N, w, r0, n, y, M, qsimd::q4_0_dec{}, qsimd::q4_0_dec{});
      return;
    case dtype::q4_k:
      rows_runs<RT, 4>(x, N, w, r0, n, y, M, qsimd::k4_dec<false>{}, qsimd::k4_dec<false, true>{});
      return;
    case dtype::q5_k:
      rows_runs<RT, 2>(x, N, w, r0, n, y, M, qsimd::k4_dec<true>{}, qsimd::k4_dec<true, true>{});
      return;
    case dtype::q6_k:
      rows_runs<RT, 2>(x, N, w, r0, n, y, M, qsimd::q6_k_dec{}, qsimd::q6_k_dec_t<true>{});
      return;
    default:
      rows_tiled_t<RT>(x, N, w, r0, n, y, M);
      return;
  }
}

using blocks_rows_fn = void (*)(const float*, int64_t, const weight_view&, int64_t, int64_t, float*, int64_t);

void by_tokens(const float* x, int64_t T, int64_t N, const weight_view& w, int64_t r0, int64_t n, float* y,
               int64_t M, bool fused) {
  // register decoding for 1 and 2 tokens (generation, short continuations); 3..5 through the tile, whose
  // decode is shared by more tokens (and 5 x 5 more instantiations of the unrolled decoders to compile)
  static constexpr blocks_rows_fn fused_fns[] = {rows_fused_t<1>, rows_fused_t<2>, rows_tiled_t<3>,
                                                 rows_tiled_t<4>, rows_tiled_t<5>};
  static constexpr blocks_rows_fn tiled_fns[] = {rows_tiled_t<1>, rows_tiled_t<2>, rows_tiled_t<3>,
                                                 rows_tiled_t<4>, rows_tiled_t<5>};
  if (T >= 1 && T <= 5) (fused ? fused_fns : tiled_fns)[T - 1](x, N, w, r0, n, y, M);
}

}  // namespace

bool rows_blocks_supported(dtype t) {
  return block_columns16_simd(t);
}

void rows_blocks(const float* x, int64_t T, int64_t N, const weight_view& w, int64_t r0, int64_t n, float* y,
                 int64_t M) {
  by_tokens(x, T, N, w, r0, n, y, M, true);
}

void rows_blocks_tiled(const float* x, int64_t T, int64_t N, const weight_view& w, int64_t r0, int64_t n,
                       float* y, int64_t M) {
  by_tokens(x, T, N, w, r0, n, y, M, false);
}

#else

bool rows_blocks_supported(dtype) {
  return false;
}
void rows_blocks(const float*, int64_t, int64_t, const weight_view&, int64_t, int64_t, float*, int64_t) {}
void rows_blocks_tiled(const float*, int64_t, int64_t, const weight_view&, int64_t, int64_t, float*,
                       int64_t) {}

#endif

}  // namespace gb::engine

#pragma GCC pop_options
