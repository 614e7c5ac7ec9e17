// tests/viz/test_svg_chart.cpp: the SVG chart writer and the XML well-formedness checker.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "viz/svg_chart.h"
#include "viz/xml_check.h"

using namespace gb::viz;

namespace {
bool has_text(const xml_report& r, const std::string& t) {
  return std::find(r.texts.begin(), r.texts.end(), t) != r.texts.end();
}
size_t count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}
bool self_contained(const std::string& svg) {
  return svg.find("<script") == std::string::npos && svg.find("href") == std::string::npos &&
         svg.find("@import") == std::string::npos &&
         svg.find("http://www.w3.org/2000/svg") != std::string::npos;
}
}  // namespace

TEST_CASE("xml_check accepts well-formed documents and rejects broken ones") {
  auto ok = xml_check(
      "<?xml version=\"1.0\"?>\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x.dtd\">\n"
      "<!-- c --><svg a=\"1\" b='2'><g><text>A &amp; B &#60; &#x263A;</text></g><![CDATA[<raw>]]></svg>\n");
  CHECK_MESSAGE(ok.ok, ok.error);
  CHECK(ok.root == "svg");
  CHECK(ok.elements == 3);
  CHECK(has_text(ok, "A & B < \xE2\x98\xBA"));

  const char* bad[] = {
      "<a><b></a></b>",          // crossed tags
      "<a>x & y</a>",            // bare ampersand
      "<a b=1></a>",             // unquoted attribute
      "<a></a><b></b>",          // two roots
      "<a b=\"1\" b=\"2\"/>",    // duplicate attribute
      "<a>\x01</a>",             // control byte
      "<a>&nbsp;</a>",           // undefined entity
      "<a>\xC3</a>",             // truncated UTF-8
      "<a b=\"<\"/>",            // '<' in attribute
      "<a>",                     // unclosed
      "text<a/>",                // text outside root
      "<a><!-- x -- y --></a>",  // '--' in comment
      "<a>&#0;</a>",             // reference to NUL
      "",                        // empty
  };
  for (const char* b : bad) {
    auto r = xml_check(b);
    CHECK_MESSAGE(!r.ok, "accepted: " << b);
    CHECK(!r.error.empty());
  }
}

TEST_CASE("fmt_num and xml_escape") {
  CHECK(fmt_num(0.25) == "0.25");
  CHECK(fmt_num(-3) == "-3");
  CHECK(fmt_num(1234567.0) == "1.235e+06");
  CHECK(fmt_num(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(xml_escape("<a & 'b'>\"") == "&lt;a &amp; &apos;b&apos;&gt;&quot;");
  CHECK(xml_escape("ok\xFFz") == "ok\xEF\xBF\xBDz");    // invalid byte replaced
  CHECK(xml_escape("\xE2\x98\xBA") == "\xE2\x98\xBA");  // valid UTF-8 kept
  CHECK(xml_escape(std::string("a\0b", 3)) ==
        "a\xEF\xBF\xBD"
        "b");
}

TEST_CASE("bar chart with error bars and hostile labels") {
  bar_chart c;
  c.title = "Bias <by> category & \"sex\"";
  c.x_label = "category";
  c.y_label = "preference (%)";
  c.bars = {{"gender", 61.2, 57.0, 65.1, ""},
            {"race\xFF", 55.3, 51.0, 59.4, ""},
            {"age", 48.0, {}, {}, "#123456"},
            {"nan", std::numeric_limits<double>::quiet_NaN(), {}, {}, ""}};
  c.reference = 50.0;
  std::string svg = svg_bar_chart(c);
  auto r = xml_check(svg);
  REQUIRE_MESSAGE(r.ok, r.error << " at " << r.offset);
  CHECK(r.root == "svg");
  CHECK(self_contained(svg));
  CHECK(has_text(r, "Bias <by> category & \"sex\""));
  CHECK(has_text(r, "gender"));
  CHECK(has_text(r, "race\xEF\xBF\xBD"));
  CHECK(has_text(r, "preference (%)"));
  CHECK(has_text(r, "reference 50"));
  CHECK(has_text(r, "n/a"));
  CHECK(svg.find("#123456") != std::string::npos);
  // Two bars with intervals -> 3 lines each (whisker + 2 caps) drawn with the error-bar stroke.
  CHECK(count(svg, "stroke=\"#222222\"") == 6);
  CHECK(svg == svg_bar_chart(c));  // deterministic
}

TEST_CASE("line chart: series, legend, gaps, log axis") {
  line_chart c;
  c.title = "Residual norm across layers";
  c.x_label = "layer";
  c.y_label = "norm";
  c.series = {{"mean", {0, 1, 2, 3, 4}, {1, 2, 4, 8, 16}},
              {"max", {0, 1, 2, 3, 4}, {3, std::numeric_limits<double>::infinity(), 9, 20, 40}}};
  std::string svg = svg_line_chart(c);
  auto r = xml_check(svg);
  REQUIRE_MESSAGE(r.ok, r.error);
  CHECK(has_text(r, "mean"));
  CHECK(has_text(r, "max"));
  CHECK(has_text(r, "layer"));
  CHECK(count(svg, "<polyline") == 3);  // the infinite point splits "max" into two runs
  CHECK(count(svg, "<circle") == 9);
  c.log_y = true;
  std::string lg = svg_line_chart(c);
  auto r2 = xml_check(lg);
  REQUIRE(r2.ok);
  CHECK(has_text(r2, "10"));
  CHECK(has_text(r2, "100"));
  CHECK(lg != svg);
  line_chart empty;
  auto r3 = xml_check(svg_line_chart(empty));
  CHECK(r3.ok);
  CHECK(has_text(r3, "(no data)"));
}

TEST_CASE("heatmap: token labels on both axes and a colour scale") {
  heatmap h;
  h.title = "blk.0 head 3 attention";
  h.x_labels = {"<s>", "Once", "upon", "a", "time"};
  h.y_labels = h.x_labels;
  for (int q = 0; q < 5; ++q)
    for (int k = 0; k < 5; ++k)
      h.values.push_back(k <= q ? 1.0 / (q + 1) : std::numeric_limits<double>::quiet_NaN());
  h.annotate = true;
  std::string svg = svg_heatmap(h);
  auto r = xml_check(svg);
  REQUIRE_MESSAGE(r.ok, r.error);
  for (const auto& t : h.x_labels) CHECK(std::count(r.texts.begin(), r.texts.end(), t) == 2);  // both axes
  CHECK(count(svg, "url(#nan)") == 10);  // masked upper triangle
  CHECK(has_text(r, "1"));               // legend tick / annotation
  CHECK(self_contained(svg));
  h.diverging = true;
  CHECK(xml_check(svg_heatmap(h)).ok);
  // Mismatched shape still renders.
  h.values.pop_back();
  CHECK(xml_check(svg_heatmap(h)).ok);
}

TEST_CASE("histogram from values") {
  std::vector<double> v;
  for (int i = 0; i < 1000; ++i) v.push_back(std::sin(i * 0.37) * 3);
  v.push_back(std::numeric_limits<double>::quiet_NaN());
  histogram h = histogram_from_values(v, 20);
  REQUIRE(h.edges.size() == 21);
  REQUIRE(h.counts.size() == 20);
  double total = 0;
  for (double c : h.counts) total += c;
  CHECK(total == 1000);
  CHECK(std::is_sorted(h.edges.begin(), h.edges.end()));
  h.title = "weights of blk.0.attn.q";
  h.marker = 2.5;
  h.log_y = true;
  std::string svg = svg_histogram(h);
  auto r = xml_check(svg);
  REQUIRE_MESSAGE(r.ok, r.error);
  CHECK(count(svg, "<rect") >= 21);
  CHECK(has_text(r, "2.5"));
  CHECK(histogram_from_values({}, 10).edges.empty());
}
