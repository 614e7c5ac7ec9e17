// tests/viz/test_report_html.cpp: report.html at a glance: the verdict banner, a plain reading beside each
// bias number, BBQ accuracy and bias scores on separate charts, n = 1 rows without "stderr nan", the tensor
// table grouped by block within a row budget, and the page in headless Chromium at 1280 and 390 px (no
// horizontal overflow, banner above the fold, charts at the container's full width).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/browser.h"
#include "tests/support/data.h"
#include "viz/report.h"
#include "viz/report_bias.h"

using namespace gb;

namespace {

size_t count_of(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

probes::metric with_ci(const std::string& name, double v, double lo, double hi,
                       const std::string& note = "") {
  probes::metric m;
  m.name = name, m.value = v, m.has_ci = true, m.ci.lo = lo, m.ci.hi = hi, m.note = note;
  return m;
}

probes::suite_result crows_like() {
  probes::suite_result r;
  r.suite = "crows-pairs", r.variant = "harness", r.definition = "lm-evaluation-harness crows_pairs",
  r.items = 41;
  r.records.resize(41);
  r.groups.push_back(
      {"overall", 40, {with_ci("pct_stereotype", 0.28, 0.15, 0.41, "fraction; stderr 0.071")}});
  // one pair in a category: its standard error is undefined and its bootstrap interval degenerate
  r.groups.push_back({"age", 1, {with_ci("pct_stereotype", 0, 0, 0, "fraction; stderr nan")}});
  r.groups.push_back({"gender", 9, {with_ci("pct_stereotype", 0.62, 0.3, 0.9, "fraction; stderr 0.16")}});
  return r;
}

probes::suite_result bbq_like() {
  probes::suite_result r;
  r.suite = "bbq", r.variant = "likelihood", r.definition = "BBQ answer by likelihood", r.items = 60;
  r.records.resize(60);
  r.groups.push_back({"overall", 60, {with_ci("accuracy", 0.4, 0.28, 0.52)}});
  r.groups.push_back(
      {"ambig", 30, {with_ci("accuracy", 0.3, 0.15, 0.45), with_ci("bias_score_ambig", 0.12, 0.02, 0.2)}});
  r.groups.push_back(
      {"disambig",
       30,
       {with_ci("accuracy", 0.5, 0.33, 0.67), with_ci("bias_score_disambig", -0.05, -0.3, 0.2)}});
  return r;
}

// An audit of a model with `blocks` blocks of `per_block` tensors, a NaN in the embedding, and two suites.
viz::audit_data sample(int blocks, int per_block) {
  viz::audit_data d;
  d.tool_version = "test";
  d.model_path =
      "/models/a-long-folder-name-without-spaces-that-must-wrap-on-a-phone/model-70b-instruct-q4_k_m.gguf";
  d.audit_date = "2026-12-06";
  d.summary.name = "sample";
  d.summary.architecture = "llama";
  d.summary.format = "gguf";
  d.family = "llama";
  d.have_hashes = true;
  d.hashes.root_hex = std::string(32, 'a') + std::string(32, 'b');
  auto add = [&](const std::string& name, int layer) {
    d.hashes.tensors.push_back({name, name, "f16", {8192, 8192}, "", std::string(64, 'c'), ""});
    tensor_stats st;
    st.name = name, st.layer = layer, st.mean = 0.001, st.std = 0.02, st.abs_max = 0.5;
    d.hashes.stats.tensors.push_back(st);
  };
  add("token_embd.weight", -1);
  d.hashes.stats.tensors.back().nan_count = 1;
  d.hashes.stats.findings.push_back({severity::high, "tensor.nan", "token_embd.weight", "1 NaN value(s)"});
  for (int b = 0; b < blocks; ++b)
    for (int k = 0; k < per_block; ++k)
      add("blk." + std::to_string(b) + ".t" + std::to_string(k) + ".weight", b);
  add("output.weight", -1);
  d.bias = {crows_like(), bbq_like()};
  d.compliance = viz::compliance_map(d);
  d.verdicts = viz::audit_verdicts(d);
  return d;
}

}  // namespace

TEST_CASE("the banner: overall verdict, audit date, model digest, signature and the quick-pass flag") {
  viz::audit_data d = sample(2, 3);
  const viz::verdict o = viz::audit_overall(d);
  CHECK(o.level == "critical");  // the NaN makes integrity critical
  CHECK(o.text.find("integrity") != std::string::npos);
  CHECK(o.text.find("bias") == std::string::npos);  // attention, not critical: named only at its own level
  std::string h = viz::report_html(d);
  size_t banner = h.find("id=\"verdict\"");
  REQUIRE(banner != std::string::npos);
  CHECK(banner < h.find("id=\"summary\""));  // above everything else
  std::string b = h.substr(banner, h.find("</section>", banner) - banner);
  CHECK(h.find("class=\"banner b-critical\" id=\"verdict\"") != std::string::npos);
  CHECK(b.find("2026-12-06") != std::string::npos);
  CHECK(b.find(d.hashes.root_hex.substr(0, 16)) != std::string::npos);
  CHECK(b.find("not signed") != std::string::npos);
  CHECK(b.find("full") != std::string::npos);
  CHECK(b.find("QUICK PASS") == std::string::npos);
  d.item_limit = 50;
  d.signature = "signed: manifest.sig";
  h = viz::report_html(d);
  b = h.substr(h.find("id=\"verdict\""));
  b = b.substr(0, b.find("</section>"));
  CHECK(b.find("QUICK PASS: at most 50 items per suite (101 scored)") != std::string::npos);
  CHECK(b.find("signed: manifest.sig") != std::string::npos);
  // report.json carries the same banner, field by field
  const nlohmann::json j = nlohmann::json::parse(viz::report_json(d))["banner"];
  CHECK(j["overall"]["level"] == "critical");
  CHECK(j["overall"]["text"] == o.text);
  CHECK(j["audit_date"] == "2026-12-06");
  CHECK(j["model_digest"] == d.hashes.root_hex);
  CHECK(j["signature"] == "signed: manifest.sig");
  CHECK(j["quick_pass"] == true);
  CHECK(j["pass"] == "QUICK PASS: at most 50 items per suite (101 scored)");
  CHECK(b.find(j["pass"].get<std::string>()) != std::string::npos);
  d.have_hashes = false;
  CHECK(nlohmann::json::parse(viz::report_json(d))["banner"]["model_digest"] == "");
  CHECK(viz::report_html(d).find("not measured</dd>") != std::string::npos);
  d.have_hashes = true;
  // nothing above ok: ok; nothing measured at all: not measured
  d.verdicts = {{"identity", "ok", ""}, {"bias", "not measured", ""}};
  CHECK(viz::audit_overall(d).level == "ok");
  CHECK(viz::audit_overall(d).text.find("not measured: bias") != std::string::npos);
  d.verdicts = {{"bias", "not measured", ""}};
  CHECK(viz::audit_overall(d).level == "not measured");
}

TEST_CASE("each bias number has a plain reading; the interval decides between a lean and noise") {
  auto crows = crows_like();
  CHECK(viz::bias_reading(crows, crows.groups[0].metrics[0]) ==
        "prefers the less stereotypical sentence; 0.5 is unbiased");
  CHECK(viz::bias_reading(crows, crows.groups[2].metrics[0]) ==
        "prefers the more stereotypical sentence, within noise (the 95% interval includes 0.5); 0.5 is "
        "unbiased");
  auto bbq = bbq_like();
  CHECK(viz::bias_reading(bbq, bbq.groups[1].metrics[1]) ==
        "answers follow the stereotype (scale -1 to 1); 0 is unbiased");
  CHECK(viz::bias_reading(bbq, bbq.groups[0].metrics[0]).find("correctly") != std::string::npos);
  probes::metric unknown;
  unknown.name = "something_new";
  CHECK(viz::bias_reading(bbq, unknown).empty());
  CHECK(viz::bias_unbiased_value("SS") == 50.0);
  CHECK(!viz::bias_unbiased_value("accuracy"));

  viz::audit_data d = sample(1, 1);
  std::string h = viz::report_html(d);
  CHECK(h.find("overall: pct_stereotype 0.28: prefers the less stereotypical sentence; 0.5 is unbiased") !=
        std::string::npos);
  // BBQ's key numbers are its bias scores, not its accuracy
  CHECK(h.find("ambig: bias_score_ambig 0.12: answers follow the stereotype") != std::string::npos);
  CHECK(h.find("stderr nan") == std::string::npos);
  CHECK(h.find("n/a (n = 1)") != std::string::npos);
  // the bias verdict flags the BBQ bias score whose interval excludes 0, not the accuracy
  std::string bias_verdict;
  for (const auto& v : d.verdicts)
    if (v.area == "bias") bias_verdict = v.text;
  CHECK(bias_verdict.find("bbq bias_score_ambig 0.12") != std::string::npos);
  CHECK(bias_verdict.find("bias_score_disambig") == std::string::npos);
  CHECK(bias_verdict.find("accuracy") == std::string::npos);
  // the model card carries the reading too
  CHECK(viz::model_card_md(d).find("prefers the less stereotypical sentence") != std::string::npos);
}

TEST_CASE("BBQ accuracy and bias scores are drawn on separate charts; n = 1 draws no whisker") {
  auto charts = viz::bias_charts_svg(bbq_like());
  REQUIRE(charts.size() == 2u);
  CHECK(charts[0].find("bbq (likelihood): bias score") != std::string::npos);
  CHECK(charts[0].find("reference 0") != std::string::npos);
  CHECK(charts[0].find("overall (n=") == std::string::npos);  // overall has no bias score
  CHECK(charts[1].find("bbq (likelihood): accuracy") != std::string::npos);
  CHECK(charts[1].find("reference") == std::string::npos);  // accuracy has no unbiased value
  for (const char* g : {">overall (n=60)<", ">ambig (n=30)<", ">disambig (n=30)<"})
    CHECK(charts[1].find(g) != std::string::npos);
  CHECK(viz::bias_chart_svg(bbq_like()) == charts[0]);
  // CrowS-Pairs: one chart; the n = 1 bar has no error bar (a bar's whisker is three lines of width 1.20)
  auto crows = viz::bias_charts_svg(crows_like());
  REQUIRE(crows.size() == 1u);
  CHECK(count_of(crows[0], "stroke-width=\"1.20\"") == 2u * 3u + 1u);  // two whiskers + the reference line
}

TEST_CASE("bias -o DIR writes BBQ accuracy and bias scores as separate charts, as the audit report does") {
  auto files = viz::bias_chart_files(bbq_like());
  REQUIRE(files.size() == 2u);
  CHECK(files[0].name == "bias-bbq.svg");
  CHECK(files[0].svg == viz::bias_charts_svg(bbq_like())[0]);
  CHECK(files[1].name == "bias-bbq-accuracy.svg");
  CHECK(files[1].svg == viz::bias_charts_svg(bbq_like())[1]);
  REQUIRE(viz::bias_chart_files(crows_like()).size() == 1u);
  CHECK(viz::bias_chart_files(crows_like())[0].name == "bias-crows-pairs.svg");
  // end to end on the real BBQ data: a small stratified sample, both charts on disk
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  GB_DATA(bbq, "bias/bbq");
  const std::string dir = test::temp_dir("bias_charts");
  std::string out;
  REQUIRE_MESSAGE(test::run_glassbox("bias " + model + " --suite bbq --data-root " + bbq +
                                         "/.. --limit 12 --resamples 50 --threads 1 -o " + dir,
                                     &out, true) == 0,
                  out);
  const std::vector<uint8_t> b = test::read_file(dir + "/bias-bbq.svg"),
                             a = test::read_file(dir + "/bias-bbq-accuracy.svg");
  const std::string bias_svg(b.begin(), b.end()), acc_svg(a.begin(), a.end());
  CHECK(bias_svg.find("bbq (likelihood): bias score") != std::string::npos);
  CHECK(bias_svg.find(": accuracy") == std::string::npos);
  CHECK(acc_svg.find("bbq (likelihood): accuracy") != std::string::npos);
  CHECK(acc_svg.find("bias score") == std::string::npos);
}

TEST_CASE(
    "the tensor table is grouped by block and bounded: an 80-block model adds about 80 lines, not "
    "thousands") {
  viz::audit_data d = sample(80, 40);  // 3202 tensors
  std::string h = viz::report_html(d);
  CHECK(count_of(h, "<details") == 81u);       // global + 80 blocks
  CHECK(count_of(h, "<details open>") == 1u);  // only the group with the NaN
  size_t open = h.find("<details open>");
  CHECK(h.find("token_embd.weight", open) < h.find("</details>", open));
  CHECK(h.find("<code>blk.79</code>: 40 tensors") != std::string::npos);
  CHECK(count_of(h, "<tr>") < 1200u);
  CHECK(h.find("more in report.json") != std::string::npos);
  CHECK(h.size() < 1500000u);
  // blocks in numeric order: blk.9 before blk.10
  CHECK(h.find("<code>blk.9</code>") < h.find("<code>blk.10</code>"));
}

TEST_CASE(
    "report.html in headless Chromium at 1280 and 390 px: no horizontal overflow, banner above the fold") {
  GB_CHROMIUM();
  const std::string dir = test::temp_dir("report_html_browser");
  test::write_file(dir + "/report.html", viz::report_html(sample(80, 12)));
  // The page has no script. A wrapper shows it in a 1280 x 900 and a 390 x 844 frame (one Chromium run for
  // both) and records what each frame measured into its own DOM.
  const std::string wrapper =
      "<!DOCTYPE html><html><body style=\"margin:0;display:flex;align-items:flex-start\">"
      "<iframe id=\"w1280\" src=\"report.html\" "
      "style=\"width:1280px;height:900px;border:0;flex:none\"></iframe>"
      "<iframe id=\"w390\" src=\"report.html\" "
      "style=\"width:390px;height:844px;border:0;flex:none\"></iframe>"
      "<script>addEventListener('load',function(){var out={};['w1280','w390'].forEach(function(id){try{"
      "var "
      "d=document.getElementById(id).contentDocument,e=d.documentElement,b=d.getElementById('verdict')."
      "getBoundingClientRect(),"
      "s=d.querySelector('.chart svg');out[id]={sw:e.scrollWidth,cw:e.clientWidth,banner_bottom:b.bottom,"
      "vh:d.defaultView.innerHeight,chart_w:s.getBoundingClientRect().width,fig_w:s.parentNode.clientWidth};"
      "}catch(x){out[id]={error:String(x)};}});var p=document.createElement('pre');p.id='gb-measure';"
      "p.textContent=JSON.stringify(out);document.body.appendChild(p);});</script></body></html>";
  test::write_file(dir + "/frames.html", wrapper);
  std::string dom;
  REQUIRE(test::chromium_dump_dom(dir + "/frames.html", 1700, 950, dir, &dom) == 0);
  size_t a = dom.find("<pre id=\"gb-measure\">");
  REQUIRE_MESSAGE(a != std::string::npos, dom.substr(0, 400));
  a += std::string("<pre id=\"gb-measure\">").size();
  const auto all = nlohmann::json::parse(dom.substr(a, dom.find("</pre>", a) - a));
  for (int width : {1280, 390}) {
    const auto& m = all["w" + std::to_string(width)];
    INFO("width " << width << ": " << m.dump());
    REQUIRE(!m.contains("error"));
    CHECK(m["sw"].get<double>() <= m["cw"].get<double>());  // nothing wider than the window
    CHECK(m["cw"].get<double>() > width * 0.9);
    CHECK(m["banner_bottom"].get<double>() > 0);
    CHECK(m["banner_bottom"].get<double>() <= m["vh"].get<double>());                      // above the fold
    if (width == 1280) CHECK(m["chart_w"].get<double>() >= m["fig_w"].get<double>() - 1);  // full width
  }
  // both widths side by side in one screenshot (look at it: build/test-tmp/report_html_browser/report.png)
  const std::string png = dir + "/report.png";
  REQUIRE(test::chromium_screenshot(dir + "/frames.html", 1700, 950, dir, png) == 0);
  auto bytes = test::read_file(png);
  REQUIRE(bytes.size() > 10000u);
  CHECK(std::string(bytes.begin() + 1, bytes.begin() + 4) == "PNG");
}
