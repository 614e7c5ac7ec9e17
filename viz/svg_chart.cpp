// viz/svg_chart.cpp: the SVG chart writer (see svg_chart.h).
//
// Layout: every chart is a frame (title on top, axis labels outside the plot area) around a plot
// rectangle [px0, px1] x [py0, py1] in SVG pixels (y grows downwards). Data maps linearly (or log10) into it.
#include "viz/svg_chart.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace gb::viz {
namespace {

// Okabe-Ito / Tableau-like palette: distinguishable for colour-blind readers and in grey print.
constexpr std::array<const char*, 10> palette = {"#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7",
                                                 "#56b4e9", "#f0e442", "#000000", "#999999", "#8c564b"};

std::string px(double v) {  // coordinates: fixed 2 decimals, "-0.00" normalised
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 2);
  std::string s(buf, r.ptr);
  if (s == "-0.00") s = "0.00";
  return s;
}

bool finite(double v) {
  return std::isfinite(v);
}

// Nice tick positions covering [lo, hi] (about `target` ticks, steps of 1, 2, 5 x 10^k).
std::vector<double> nice_ticks(double lo, double hi, int target = 6) {
  std::vector<double> t;
  if (!finite(lo) || !finite(hi)) return t;
  if (hi <= lo) hi = lo + 1;
  double raw = (hi - lo) / target;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double norm = raw / mag;
  double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  double start = std::ceil(lo / step - 1e-9) * step;
  for (int i = 0; i < 100; ++i) {
    double v = start + i * step;
    if (v > hi + step * 1e-9) break;
    if (std::fabs(v) < step * 1e-9) v = 0;
    t.push_back(v);
  }
  return t;
}

// Expands [lo, hi] outwards to nice tick boundaries.
void nice_range(double& lo, double& hi) {
  if (!finite(lo) || !finite(hi)) {
    lo = 0;
    hi = 1;
  }
  if (hi <= lo) {
    double c = lo;
    lo = c - (c == 0 ? 1 : std::fabs(c) * 0.5);
    hi = c + (c == 0 ? 1 : std::fabs(c) * 0.5);
  }
  auto t = nice_ticks(lo, hi);
  if (t.size() >= 2) {
    double step = t[1] - t[0];
    lo = std::min(lo, t.front() - (t.front() > lo + 1e-12 ? step : 0));
    hi = std::max(hi, t.back() + (t.back() < hi - 1e-12 ? step : 0));
  }
}

struct frame {
  std::string out;
  double w, h, px0, px1, py0, py1;
};

void open_svg(frame& f, const chart_frame& c, double w, double h) {
  f.w = w;
  f.h = h;
  f.out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  f.out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + px(w) + "\" height=\"" + px(h) +
           "\" viewBox=\"0 0 " + px(w) + " " + px(h) +
           "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n";
  f.out += "<title>" + xml_escape(c.title) + "</title>\n";
  f.out += "<rect x=\"0\" y=\"0\" width=\"" + px(w) + "\" height=\"" + px(h) + "\" fill=\"#ffffff\"/>\n";
  if (!c.title.empty())
    f.out += "<text x=\"" + px(w / 2) +
             "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">" +
             xml_escape(c.title) + "</text>\n";
}

void close_svg(frame& f) {
  f.out += "</svg>\n";
}

void text(frame& f, double x, double y, std::string_view s, const char* anchor,
          const std::string& extra = "") {
  f.out += "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" text-anchor=\"" + anchor + "\"" + extra + ">" +
           xml_escape(s) + "</text>\n";
}

void line(frame& f, double x1, double y1, double x2, double y2, const char* stroke, double width = 1,
          const char* dash = nullptr) {
  f.out += "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" + px(y2) +
           "\" stroke=\"" + stroke + "\" stroke-width=\"" + px(width) + "\"";
  if (dash) f.out += std::string(" stroke-dasharray=\"") + dash + "\"";
  f.out += "/>\n";
}

void rect(frame& f, double x, double y, double w, double h, const std::string& fill,
          const char* stroke = nullptr) {
  f.out += "<rect x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" + px(std::max(0.0, w)) + "\" height=\"" +
           px(std::max(0.0, h)) + "\" fill=\"" + fill + "\"";
  if (stroke) f.out += std::string(" stroke=\"") + stroke + "\" stroke-width=\"0.5\"";
  f.out += "/>\n";
}

void axis_labels(frame& f, const chart_frame& c) {
  if (!c.x_label.empty()) text(f, (f.px0 + f.px1) / 2, f.h - 10, c.x_label, "middle");
  if (!c.y_label.empty()) {
    double cx = 16, cy = (f.py0 + f.py1) / 2;
    text(f, cx, cy, c.y_label, "middle", " transform=\"rotate(-90 " + px(cx) + " " + px(cy) + ")\"");
  }
}

// Linear or log10 value -> pixel mapping on one axis.
struct scale {
  double lo, hi, p0, p1;
  bool log = false;
  double operator()(double v) const {
    double a = log ? std::log10(v) : v, l = log ? std::log10(lo) : lo, h = log ? std::log10(hi) : hi;
    if (h == l) return (p0 + p1) / 2;
    return p0 + (a - l) / (h - l) * (p1 - p0);
  }
};

void y_axis(frame& f, const scale& ys, bool grid) {
  std::vector<double> ticks;
  if (ys.log) {
    for (double e = std::floor(std::log10(ys.lo)); e <= std::ceil(std::log10(ys.hi)); ++e)
      ticks.push_back(std::pow(10.0, e));
  } else {
    ticks = nice_ticks(ys.lo, ys.hi);
  }
  for (double t : ticks) {
    if (t < ys.lo * (1 - 1e-9) - 1e-12 || t > ys.hi * (1 + 1e-9) + 1e-12) continue;
    double y = ys(t);
    if (grid) line(f, f.px0, y, f.px1, y, "#e5e5e5");
    line(f, f.px0 - 4, y, f.px0, y, "#333333");
    text(f, f.px0 - 7, y + 4, fmt_num(t), "end");
  }
  line(f, f.px0, f.py0, f.px0, f.py1, "#333333");
}

void x_axis_numeric(frame& f, const scale& xs) {
  for (double t : nice_ticks(xs.lo, xs.hi)) {
    if (t < xs.lo - 1e-12 || t > xs.hi + 1e-12) continue;
    double x = xs(t);
    line(f, x, f.py1, x, f.py1 + 4, "#333333");
    text(f, x, f.py1 + 17, fmt_num(t), "middle");
  }
  line(f, f.px0, f.py1, f.px1, f.py1, "#333333");
}

// Approximate text width for layout (no font metrics in a self-contained writer): 0.6 em per glyph.
double text_width(std::string_view s, double font = 12) {
  size_t glyphs = 0;
  for (unsigned char ch : s)
    if ((ch & 0xC0) != 0x80) ++glyphs;
  return static_cast<double>(glyphs) * font * 0.6;
}

std::string rgb(double r, double g, double b) {
  char buf[8];
  auto c = [](double v) { return static_cast<int>(std::lround(std::clamp(v, 0.0, 1.0) * 255)); };
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c(r), c(g), c(b));
  return buf;
}

// Viridis, sampled at 9 points and interpolated linearly (t in [0, 1]).
std::string viridis(double t) {
  static const double k[9][3] = {{0.267, 0.005, 0.329}, {0.278, 0.175, 0.483}, {0.230, 0.322, 0.546},
                                 {0.173, 0.449, 0.558}, {0.128, 0.567, 0.551}, {0.153, 0.683, 0.502},
                                 {0.369, 0.789, 0.383}, {0.678, 0.864, 0.190}, {0.993, 0.906, 0.144}};
  t = std::clamp(t, 0.0, 1.0) * 8;
  int i = std::min(7, static_cast<int>(t));
  double u = t - i;
  return rgb(k[i][0] + (k[i + 1][0] - k[i][0]) * u, k[i][1] + (k[i + 1][1] - k[i][1]) * u,
             k[i][2] + (k[i + 1][2] - k[i][2]) * u);
}

// Blue (t=0) - white (0.5) - red (1).
std::string diverging_colour(double t) {
  t = std::clamp(t, 0.0, 1.0);
  if (t < 0.5) {
    double u = t / 0.5;
    return rgb(0.13 + 0.87 * u, 0.40 + 0.60 * u, 0.67 + 0.33 * u);
  }
  double u = (t - 0.5) / 0.5;
  return rgb(1.0 - 0.30 * u, 1.0 - 0.85 * u, 1.0 - 0.85 * u);
}

void empty_note(frame& f) {
  text(f, (f.px0 + f.px1) / 2, (f.py0 + f.py1) / 2, "(no data)", "middle", " fill=\"#777777\"");
}

}  // namespace

std::string svg_bar_chart(const bar_chart& c) {
  frame f;
  size_t n = c.bars.size();
  double longest = 0;
  for (const auto& b : c.bars) longest = std::max(longest, text_width(b.label));
  double width = std::max<double>(c.width, 90.0 + static_cast<double>(n) * 28.0);
  double slot_guess = (width - 90) / std::max<size_t>(n, 1);
  bool rotate = longest > slot_guess * 0.95;
  double bottom = 45 + (rotate ? std::min(longest * 0.75, 160.0) : 16);
  open_svg(f, c, width, c.height + (rotate ? bottom - 61 : 0));
  // values print above the bars and their whiskers: room for them under the title
  f.px0 = 70;
  f.px1 = width - 20;
  f.py0 = c.show_values ? 56 : 40;
  f.py1 = f.h - bottom;

  double lo = 0, hi = 0;
  bool any = false;
  auto take = [&](double v) {
    if (finite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      any = true;
    }
  };
  for (const auto& b : c.bars) {
    take(b.value);
    if (b.lo) take(*b.lo);
    if (b.hi) take(*b.hi);
  }
  if (c.reference) take(*c.reference);
  if (!any) hi = 1;
  nice_range(lo, hi);
  scale ys{lo, hi, f.py1, f.py0};
  y_axis(f, ys, true);
  axis_labels(f, c);
  if (n == 0) empty_note(f);

  double slot = (f.px1 - f.px0) / std::max<size_t>(n, 1);
  double bw = slot * 0.7;
  double y0 = ys(std::clamp(0.0, lo, hi));
  for (size_t i = 0; i < n; ++i) {
    const bar& b = c.bars[i];
    double cx = f.px0 + slot * (static_cast<double>(i) + 0.5);
    std::string fill = b.color.empty() ? palette[i % palette.size()] : xml_escape(b.color);
    f.out += "<g>";
    if (finite(b.value)) {
      double yv = ys(b.value);
      f.out += "<title>" + xml_escape(b.label) + ": " + fmt_num(b.value) + "</title>";
      rect(f, cx - bw / 2, std::min(yv, y0), bw, std::fabs(y0 - yv), fill);
    } else {
      text(f, cx, y0 - 4, "n/a", "middle", " fill=\"#777777\"");
    }
    if (b.lo && b.hi && finite(*b.lo) && finite(*b.hi)) {
      double ya = ys(*b.lo), yb = ys(*b.hi);
      line(f, cx, ya, cx, yb, "#222222", 1.2);
      line(f, cx - bw / 5, ya, cx + bw / 5, ya, "#222222", 1.2);
      line(f, cx - bw / 5, yb, cx + bw / 5, yb, "#222222", 1.2);
    }
    if (c.show_values && finite(b.value)) {
      double top = ys(b.value);
      if (b.hi && finite(*b.hi)) top = std::min(top, ys(*b.hi));
      if (b.value < 0) top = std::min(y0, ys(b.hi && finite(*b.hi) ? *b.hi : b.value));
      text(f, cx, top - 4, fmt_num(b.value, 3), "middle", " font-size=\"10\"");
    }
    if (rotate)
      text(f, cx, f.py1 + 12, b.label, "end",
           " transform=\"rotate(-40 " + px(cx) + " " + px(f.py1 + 12) + ")\"");
    else
      text(f, cx, f.py1 + 16, b.label, "middle");
    f.out += "</g>\n";
  }
  line(f, f.px0, y0, f.px1, y0, "#333333");
  if (c.reference && finite(*c.reference)) {
    double yr = ys(*c.reference);
    line(f, f.px0, yr, f.px1, yr, "#cc0000", 1.2, "6 4");
    text(f, f.px1 - 2, yr - 4, "reference " + fmt_num(*c.reference), "end",
         " font-size=\"10\" fill=\"#cc0000\"");
  }
  close_svg(f);
  return f.out;
}

std::string svg_line_chart(const line_chart& c) {
  frame f;
  double legend_w = 0;
  for (const auto& s : c.series) legend_w = std::max(legend_w, text_width(s.name) + 34);
  legend_w = std::min(legend_w, 240.0);
  open_svg(f, c, c.width + legend_w, c.height);
  f.px0 = 70;
  f.px1 = c.width - 20;
  f.py0 = 40;
  f.py1 = f.h - 45;

  double xlo = std::numeric_limits<double>::infinity(), xhi = -xlo, ylo = xlo, yhi = -xlo;
  for (const auto& s : c.series)
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!finite(s.x[i]) || !finite(s.y[i]) || (c.log_y && s.y[i] <= 0)) continue;
      xlo = std::min(xlo, s.x[i]);
      xhi = std::max(xhi, s.x[i]);
      ylo = std::min(ylo, s.y[i]);
      yhi = std::max(yhi, s.y[i]);
    }
  bool any = finite(xlo);
  if (!any) {
    xlo = 0;
    xhi = 1;
    ylo = c.log_y ? 1 : 0;
    yhi = c.log_y ? 10 : 1;
  }
  if (xhi == xlo) {
    xlo -= 0.5;
    xhi += 0.5;
  }
  scale ys{ylo, yhi, f.py1, f.py0, c.log_y};
  if (c.log_y) {
    ys.lo = std::pow(10.0, std::floor(std::log10(ylo)));
    ys.hi = std::pow(10.0, std::ceil(std::log10(yhi)));
    if (ys.hi <= ys.lo) ys.hi = ys.lo * 10;
  } else {
    nice_range(ys.lo, ys.hi);
  }
  scale xs{xlo, xhi, f.px0, f.px1};
  y_axis(f, ys, true);
  x_axis_numeric(f, xs);
  axis_labels(f, c);
  if (!any) empty_note(f);

  for (size_t si = 0; si < c.series.size(); ++si) {
    const auto& s = c.series[si];
    const char* col = palette[si % palette.size()];
    f.out += "<g><title>" + xml_escape(s.name) + "</title>\n";
    std::string pts;
    auto flush = [&] {
      if (!pts.empty())
        f.out += "<polyline fill=\"none\" stroke=\"" + std::string(col) +
                 "\" stroke-width=\"1.8\" points=\"" + pts + "\"/>\n";
      pts.clear();
    };
    size_t n = std::min(s.x.size(), s.y.size());
    for (size_t i = 0; i < n; ++i) {
      if (!finite(s.x[i]) || !finite(s.y[i]) || (c.log_y && s.y[i] <= 0)) {
        flush();
        continue;
      }
      if (!pts.empty()) pts += ' ';
      pts += px(xs(s.x[i])) + "," + px(ys(s.y[i]));
    }
    flush();
    if (c.markers)
      for (size_t i = 0; i < n; ++i)
        if (finite(s.x[i]) && finite(s.y[i]) && !(c.log_y && s.y[i] <= 0))
          f.out += "<circle cx=\"" + px(xs(s.x[i])) + "\" cy=\"" + px(ys(s.y[i])) + "\" r=\"2.5\" fill=\"" +
                   col + "\"/>\n";
    f.out += "</g>\n";
    double ly = f.py0 + 8 + static_cast<double>(si) * 18;
    line(f, f.px1 + 14, ly, f.px1 + 34, ly, col, 2.5);
    text(f, f.px1 + 40, ly + 4, s.name, "start");
  }
  close_svg(f);
  return f.out;
}

std::string svg_heatmap(const heatmap& h) {
  frame f;
  size_t rows = h.y_labels.size(), cols = h.x_labels.size();
  if (rows * cols != h.values.size()) {  // shape mismatch: draw what the values allow, as one row
    rows = h.values.empty() ? 0 : 1;
    cols = h.values.size();
  }
  double ylab = 0, xlab = 0;
  for (const auto& s : h.y_labels) ylab = std::max(ylab, text_width(s, 11));
  for (const auto& s : h.x_labels) xlab = std::max(xlab, text_width(s, 11));
  ylab = std::min(ylab, 160.0);
  xlab = std::min(xlab, 160.0);
  double cell = std::clamp(560.0 / static_cast<double>(std::max<size_t>({rows, cols, 1})), 4.0, 44.0);
  bool labels = cell >= 9;  // below that, every k-th label
  size_t every = labels ? 1 : static_cast<size_t>(std::ceil(9.0 / cell));
  double left = 40 + ylab + 10, top = 44;
  double pw = cell * static_cast<double>(cols), ph = cell * static_cast<double>(rows);
  double width = std::max(left + pw + 110, text_width(h.title, 15) + 40);
  double height = top + ph + xlab * 0.75 + 50;
  open_svg(f, h, width, std::max(height, 160.0));
  f.px0 = left;
  f.px1 = left + pw;
  f.py0 = top;
  f.py1 = top + ph;

  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : h.values)
    if (finite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  if (!finite(lo)) {
    lo = 0;
    hi = 1;
  }
  if (h.diverging) {
    double m = std::max(std::fabs(lo), std::fabs(hi));
    lo = -m;
    hi = m;
  }
  if (h.vmin) lo = *h.vmin;
  if (h.vmax) hi = *h.vmax;
  if (hi <= lo) hi = lo + 1;
  auto colour = [&](double v) {
    double t = (v - lo) / (hi - lo);
    return h.diverging ? diverging_colour(t) : viridis(t);
  };

  f.out +=
      "<defs><pattern id=\"nan\" width=\"4\" height=\"4\" patternUnits=\"userSpaceOnUse\">"
      "<rect width=\"4\" height=\"4\" fill=\"#dddddd\"/><line x1=\"0\" y1=\"4\" x2=\"4\" y2=\"0\" "
      "stroke=\"#888888\" stroke-width=\"0.7\"/>"
      "</pattern></defs>\n";
  for (size_t r = 0; r < rows; ++r)
    for (size_t k = 0; k < cols; ++k) {
      double v = h.values[r * cols + k];
      double x = f.px0 + cell * static_cast<double>(k), y = f.py0 + cell * static_cast<double>(r);
      f.out += "<rect x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" + px(cell) + "\" height=\"" +
               px(cell) + "\" fill=\"" + (finite(v) ? colour(v) : std::string("url(#nan)")) + "\">";
      if (r < h.y_labels.size() && k < h.x_labels.size())
        f.out += "<title>" + xml_escape(h.y_labels[r]) + " / " + xml_escape(h.x_labels[k]) + ": " +
                 fmt_num(v) + "</title>";
      f.out += "</rect>\n";
      if (h.annotate && cell >= 24 && finite(v)) {
        double t = (v - lo) / (hi - lo);
        bool dark = h.diverging ? (t < 0.2 || t > 0.8) : t < 0.6;
        text(f, x + cell / 2, y + cell / 2 + 3.5, fmt_num(v, 2), "middle",
             std::string(" font-size=\"9\" fill=\"") + (dark ? "#ffffff" : "#000000") + "\"");
      }
    }
  rect(f, f.px0, f.py0, pw, ph, "none", "#333333");
  if (rows == h.y_labels.size())
    for (size_t r = 0; r < rows; r += every)
      text(f, f.px0 - 5, f.py0 + cell * (static_cast<double>(r) + 0.5) + 4, h.y_labels[r], "end",
           " font-size=\"11\"");
  if (cols == h.x_labels.size())
    for (size_t k = 0; k < cols; k += every) {
      double x = f.px0 + cell * (static_cast<double>(k) + 0.5), y = f.py1 + 10;
      text(f, x, y, h.x_labels[k], "end",
           " font-size=\"11\" transform=\"rotate(-60 " + px(x) + " " + px(y) + ")\"");
    }
  if (!h.x_label.empty()) text(f, (f.px0 + f.px1) / 2, f.h - 10, h.x_label, "middle");
  if (!h.y_label.empty()) {
    double cx = 16, cy = (f.py0 + f.py1) / 2;
    text(f, cx, cy, h.y_label, "middle", " transform=\"rotate(-90 " + px(cx) + " " + px(cy) + ")\"");
  }
  if (rows == 0) empty_note(f);

  // Colour scale legend: 40 stacked steps (prints without gradient support), ticks on the right.
  double lx = f.px1 + 24, lh = std::max(ph, 120.0), ly0 = f.py0, steps = 40;
  for (int i = 0; i < static_cast<int>(steps); ++i) {
    double t1 = 1 - i / steps;
    rect(f, lx, ly0 + lh * i / steps, 14, lh / steps + 0.3, h.diverging ? diverging_colour(t1) : viridis(t1));
  }
  rect(f, lx, ly0, 14, lh, "none", "#333333");
  scale ls{lo, hi, ly0 + lh, ly0};
  for (double t : nice_ticks(lo, hi, 5)) {
    if (t < lo - 1e-12 || t > hi + 1e-12) continue;
    line(f, lx + 14, ls(t), lx + 18, ls(t), "#333333");
    text(f, lx + 21, ls(t) + 4, fmt_num(t), "start", " font-size=\"10\"");
  }
  close_svg(f);
  return f.out;
}

std::string svg_histogram(const histogram& h) {
  frame f;
  open_svg(f, h, h.width, h.height);
  f.px0 = 70;
  f.px1 = h.width - 20;
  f.py0 = 40;
  f.py1 = h.height - 45;
  size_t n = h.edges.size() >= 2 ? std::min(h.counts.size(), h.edges.size() - 1) : 0;
  double xlo = n ? h.edges[0] : 0, xhi = n ? h.edges[n] : 1, cmax = 0,
         cmin_pos = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < n; ++i)
    if (finite(h.counts[i])) {
      cmax = std::max(cmax, h.counts[i]);
      if (h.counts[i] > 0) cmin_pos = std::min(cmin_pos, h.counts[i]);
    }
  if (!finite(xlo) || !finite(xhi) || xhi <= xlo) {
    xlo = 0;
    xhi = 1;
  }
  if (h.marker && finite(*h.marker)) {
    xlo = std::min(xlo, *h.marker);
    xhi = std::max(xhi, *h.marker);
  }
  scale xs{xlo, xhi, f.px0, f.px1};
  scale ys{0, cmax > 0 ? cmax : 1, f.py1, f.py0, h.log_y};
  if (h.log_y) {
    ys.lo = finite(cmin_pos) ? std::pow(10.0, std::floor(std::log10(cmin_pos))) : 1;
    ys.hi = std::pow(10.0, std::ceil(std::log10(std::max(cmax, ys.lo * 10))));
  } else {
    nice_range(ys.lo, ys.hi);
    ys.lo = 0;
  }
  y_axis(f, ys, true);
  x_axis_numeric(f, xs);
  axis_labels(f, h);
  if (n == 0) empty_note(f);
  for (size_t i = 0; i < n; ++i) {
    double c = h.counts[i];
    if (!finite(c) || c <= 0 || !finite(h.edges[i]) || !finite(h.edges[i + 1])) continue;
    double x0 = xs(h.edges[i]), x1 = xs(h.edges[i + 1]), y = ys(c), yb = ys(ys.lo);
    f.out += "<rect x=\"" + px(x0) + "\" y=\"" + px(y) + "\" width=\"" + px(std::max(0.0, x1 - x0)) +
             "\" height=\"" + px(std::max(0.0, yb - y)) + "\" fill=\"" + palette[0] +
             "\" stroke=\"#ffffff\" stroke-width=\"0.5\"><title>[" + fmt_num(h.edges[i]) + ", " +
             fmt_num(h.edges[i + 1]) + "): " + fmt_num(c) + "</title></rect>\n";
  }
  if (h.marker && finite(*h.marker)) {
    double x = xs(*h.marker);
    line(f, x, f.py0, x, f.py1, "#cc0000", 1.2, "6 4");
    text(f, x + 3, f.py0 + 10, fmt_num(*h.marker), "start", " font-size=\"10\" fill=\"#cc0000\"");
  }
  close_svg(f);
  return f.out;
}

histogram histogram_from_values(const std::vector<double>& values, int bins) {
  histogram h;
  bins = std::clamp(bins, 1, 10000);
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : values)
    if (finite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  if (!finite(lo)) return h;
  if (hi <= lo) {
    lo -= 0.5;
    hi += 0.5;
  }
  double w = (hi - lo) / bins;
  for (int i = 0; i <= bins; ++i) h.edges.push_back(i == bins ? hi : lo + w * i);
  h.counts.assign(static_cast<size_t>(bins), 0.0);
  for (double v : values) {
    if (!finite(v)) continue;
    int b = std::min(bins - 1, static_cast<int>((v - lo) / w));
    h.counts[static_cast<size_t>(std::max(0, b))] += 1;
  }
  return h;
}

}  // namespace gb::viz
