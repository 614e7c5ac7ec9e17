// probes/shard.h: bias suites split over processes (a cluster's ranks) and merged back exactly.
//
// A run with shard I of N scores a deterministic part of every suite's items: the items, in dataset order,
// are cut into N contiguous runs of about equal token count (item i goes to the shard holding the midpoint
// of its tokens in the cumulative count), so the same item always lands in the same shard for a given N and
// neighbours (which share prefixes) stay together. Each run writes a partial file: the per-item records and
// skips with their item positions, and what must agree for a merge (model identity, dataset digests,
// options, tool version, seeds). shard_merge checks that the parts agree and that shards 0..N-1 each appear
// once, puts records and skips back in item order and recomputes every total from the records
// (suite_merge), so the merged result equals a single-process run's (the engine's scores depend only on
// the sequence scored, not on its batch).
//
//   gb::probes::shard_spec sp = gb::probes::shard_parse("auto", 0, gb::probes::process_env);  // or "3/8"
//   o.shard_index = sp.index; o.shard_count = sp.count;            // bias_options, then run the suites
//   gb::probes::part_write(path, header, results);                // header: part_header below
//   gb::probes::merged m = gb::probes::shard_merge({part_read(a), part_read(b)});  // m.results
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "probes/bias.h"
#include "probes/session.h"

namespace gb::probes {

struct shard_spec {
  size_t index = 0, count = 1;
  std::string source;  // "--shard 2/8", "Slurm array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT)" ...
};

using env_lookup = std::function<const char*(const char*)>;
const char* process_env(const char* name);  // std::getenv

// "I/N" (0 <= I < N) or "auto": the rank and size from the launcher's environment, in this order:
// Slurm array ((SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP, SLURM_ARRAY_TASK_COUNT:
// --array=0-7, 1-8 or 0-14:2, not a list of ids), Open MPI (OMPI_COMM_WORLD_RANK/SIZE), MPICH/PMI
// (PMI_RANK/PMI_SIZE), Slurm tasks (SLURM_PROCID/SLURM_NTASKS), Kubernetes Indexed Job (JOB_COMPLETION_INDEX
// with `shards` = N, which Kubernetes does not publish).
// Throws gb::failure(bad_value) naming what is wrong and what to do.
shard_spec shard_parse(const std::string& arg, size_t shards, const env_lookup& env);

// Shard of each item: contiguous runs of about total/N weight (see above). Pure; weights of 0 count as 1.
std::vector<uint32_t> shard_assign(const std::vector<uint64_t>& weights, size_t n_shards);

// What every part of one sharded run must share, and which part this is.
struct part_header {
  std::string tool_version;
  std::string model;                            // model path as given (informational)
  std::string model_digest;                     // SHA-256 over the model files' SHA-256s, in order
  std::map<std::string, std::string> datasets;  // suite -> SHA-256 of the file or folder ("" for built-in)
  std::map<std::string, std::string> options;   // everything that changes a number (suites, limit, seed ...)
  size_t shard_index = 0, shard_count = 1;
};

// SHA-256 of a file, or of a folder: over its regular files' relative names and SHA-256s, sorted.
std::string path_digest(const std::string& path);
// A suite's dataset as a part records it: "built-in" (templates), path_digest(path), or "" when absent.
std::string dataset_digest(const std::string& suite, const std::string& path);
// Identity of a model's files: SHA-256 over "name size sha256" lines of each file, in archive order.
std::string files_digest(const std::vector<std::string>& paths);

// The header of this run's part: tool version, model files digest (with the tokenizer file), the shard.
part_header part_header_of(const session& s, const std::string& model_path, const std::string& tokenizer_path,
                           const shard_spec& shard, std::map<std::string, std::string> datasets,
                           std::map<std::string, std::string> options);

// Partial result file (JSON, "format": "glassbox-bias-part/1"): header + suites with indexed records.
// Every double is written so that it reads back to the same bits (non-finite as "nan"/"inf"/"-inf").
void part_write(const std::string& path, const part_header& h, const std::vector<suite_result>& results);
struct part {
  std::string path;
  part_header header;
  std::vector<suite_result> results;
};
part part_read(const std::string& path);
// The part files merge reads: each argument that is a folder stands for its bias.part-*.json files (in
// name order; none is an error), any other as given.
std::vector<std::string> part_paths(const std::vector<std::string>& args);
// Writes DIR/bias.part-IIII-of-NNNN.json (creating DIR) and returns its path.
std::string part_save(
    const std::string& dir, const part_header& h,
    const std::vector<suite_result>& results);  // throws gb::failure (what, where, what to do) on a bad file

// Checks the parts (same tool version, model, datasets, options, shard count; every shard exactly once,
// naming the missing and duplicated ones) and merges them suite by suite in item order.
struct merged {
  part_header header;  // the parts' common header, shard 0 of 1
  std::vector<suite_result> results;
};
merged shard_merge(const std::vector<part>& parts);
// Throws gb::failure(mismatch) naming both paths and the first difference when b's header (tool version,
// model, datasets, options, shard count) or suites differ from a's.
void part_check_same(const part& a, const part& b);

}  // namespace gb::probes
