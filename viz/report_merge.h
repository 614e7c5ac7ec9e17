// viz/report_merge.h: `glassbox merge` rendered and written: the merged result of a sharded bias run as the
// bias.json one process would have written (byte for byte), written to a .json file or to a folder with
// one SVG chart per suite (as `glassbox bias -o`), and the text summary.
//
//   gb::probes::merged m = gb::probes::shard_merge(parts);
//   const std::string doc = gb::viz::merge_json(m);
//   gb::viz::merge_write("out", m, doc);                 // out/bias.json + out/bias-<suite>.svg
//   std::fputs(gb::viz::merge_text(m, parts.size()).c_str(), stdout);
#pragma once

#include <cstddef>
#include <string>

#include "probes/shard.h"

namespace gb::viz {

// The merged bias.json (with records, indented, ending in a newline).
std::string merge_json(const probes::merged& m);
// "merged N parts of MODEL (model digest HEX16)", a blank line, then the bias tables.
std::string merge_text(const probes::merged& m, size_t parts);
// OUT ending in .json: that file; else the folder OUT (created) with bias.json and a chart per suite that
// ran. Throws gb::failure (io, naming the file) when bias.json cannot be written.
void merge_write(const std::string& out, const probes::merged& m, const std::string& doc);

}  // namespace gb::viz
