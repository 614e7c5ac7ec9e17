// probes/engine/log_softmax.h: the log-softmax terms of a logits row in double, as every scorer takes them
// (runner::token_logprobs, the bias suites' scorer): the row's max and log(sum_j exp(row[j] - max)), the sum
// in index order. log p(token) = row[token] - max - log_sum.
//
//   double mx, log_sum;
//   gb::engine::row_log_sum(logits + r * V, V, mx, log_sum);
//
// row_log_sum gives the bits of row_log_sum_ref (std::max from row[0], std::exp per element): its max runs
// on 16 float lanes and its exp is glibc's own algorithm (2.28 and later, the FMA build it picks on any
// AVX-512 machine) on 8 double lanes, so every term equals std::exp's; a process checks that once against
// std::exp on a spread of inputs and takes the scalar loop if this libm differs. Lanes outside glibc's main
// range (|x| < 2^-54, the row's max itself, or |x| >= 512, NaN, infinities) go to std::exp.
#pragma once

#include <cstdint>

namespace gb::engine {

void row_log_sum(const float* row, int64_t V, double& mx, double& log_sum);
void row_log_sum_ref(const float* row, int64_t V, double& mx, double& log_sum);
// Whether row_log_sum runs its lanes (false: no AVX-512, or the check against this libm's std::exp failed).
bool row_log_sum_vectorised();

}  // namespace gb::engine
