// viz/svg_chart.h: a small SVG chart writer used by every report (bar charts with error bars, line
// charts across layers, heatmaps with labelled axes, histograms).
//
// Inputs are plain data; the writer only draws (it never computes a metric, except binning raw values
// into a histogram when asked via histogram_from_values). Output is one self-contained SVG document: no
// scripts, no external resources, generic font families only, every text escaped for XML, and numbers
// printed with fixed formatting, so the same input gives byte-identical output.
//
//   gb::viz::bar_chart c;
//   c.title = "Stereotype preference by category";
//   c.y_label = "preference (%)";
//   c.bars = {{"gender", 61.2, 57.0, 65.1}, {"race", 55.3, 51.0, 59.4}};
//   c.reference = 50.0;                        // dashed line at the unbiased value
//   std::string svg = gb::viz::svg_bar_chart(c);
//
//   gb::viz::heatmap h;                        // attention pattern: rows = queries, cols = keys
//   h.x_labels = h.y_labels = {"<s>", "Once", "upon", "a", "time"};
//   h.values = {...};                          // (rows, cols) row-major, rows = y_labels.size()
//   std::string svg2 = gb::viz::svg_heatmap(h);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "inspect/summary.h"
#include "viz/text.h"  // xml_escape, fmt_num, fmt_or_na

namespace gb::viz {

struct chart_frame {
  std::string title, x_label, y_label;
  int width = 720, height = 420;  // SVG user units (px); heatmaps grow with their label count
};

// Bar chart: one bar per category, optional error bar [lo, hi] (e.g. a bootstrap interval).
struct bar {
  std::string label;
  double value = 0;
  std::optional<double> lo, hi;  // error bar ends (absolute values, not deltas)
  std::string color;             // "" = palette colour by index; else an SVG colour such as "#d62728"
};
struct bar_chart : chart_frame {
  std::vector<bar> bars;
  std::optional<double> reference;  // dashed horizontal reference line (e.g. 50% = unbiased)
  bool show_values = true;          // value printed above each bar
};

// Line chart: several series over a shared x axis (layers), with a legend.
struct line_series {
  std::string name;
  std::vector<double> x, y;  // same length; non-finite y values break the line
};
struct line_chart : chart_frame {
  std::vector<line_series> series;
  bool log_y = false;   // log10 y axis (non-positive values are skipped)
  bool markers = true;  // a dot on every point
};

// Heatmap with labelled axes and a colour scale legend. values: (rows, cols) row-major.
struct heatmap : chart_frame {
  std::vector<std::string> x_labels;  // cols
  std::vector<std::string> y_labels;  // rows
  std::vector<double> values;         // rows * cols; non-finite cells drawn hatched grey
  std::optional<double> vmin, vmax;   // colour scale range (default: data range)
  bool diverging = false;             // blue-white-red around 0 instead of viridis
  bool annotate = false;              // print the value in each cell (small matrices)
};

// Histogram from bins: edges.size() == counts.size() + 1.
struct histogram : chart_frame {
  std::vector<double> edges;
  std::vector<double> counts;
  bool log_y = false;
  std::optional<double> marker;  // vertical marker line (e.g. an outlier threshold)
};

std::string svg_bar_chart(const bar_chart& c);
std::string svg_line_chart(const line_chart& c);
std::string svg_heatmap(const heatmap& h);
std::string svg_histogram(const histogram& h);

// Bins raw values into `bins` equal-width bins over [min, max] of the finite values (non-finite skipped).
histogram histogram_from_values(const std::vector<double>& values, int bins);

}  // namespace gb::viz
