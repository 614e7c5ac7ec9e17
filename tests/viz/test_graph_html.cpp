// tests/viz/test_graph_html.cpp: `graph -o model.html`: one offline page (nothing fetched), byte-identical
// for the same input, with every tensor's statistics; in headless Chromium the page loads, a #search= hash
// finds a tensor inside a folded 80-layer block, a finding shows on its node, and a 3000-node op graph loads
// and searches.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "inspect/stats.h"
#include "inspect/synth.h"
#include "inspect/tensor_values.h"
#include "tests/support/browser.h"
#include "tests/support/data.h"
#include "viz/graph.h"
#include "viz/graph_html.h"

using namespace gb;

namespace {

// The 80-layer page (tiny dimensions: 80 blocks matter, not their width), with a NaN planted in blk.7.
std::string page_80(const std::string& dir, nlohmann::json* data = nullptr) {
  synth_spec s;
  s.n_layer = 80, s.n_embd = 16, s.n_head = 2, s.n_head_kv = 1, s.n_vocab = 64, s.n_ctx = 32;
  s.path = dir + "/m80.gguf";
  s.plants = {{"nan", "blk.7.ffn_up.weight", ""}};
  REQUIRE(synth_write(s));
  auto in = integrity_open(s.path);
  REQUIRE(in);
  REQUIRE(in.value().m);
  viz::graph g = viz::graph_from_model(*in.value().m, {});
  auto svg = viz::graph_render(g, "svg");
  REQUIRE(svg);
  stats_options so;
  so.values_digest = false;
  stats_report st = stats_compute(in.value().items, so);
  std::string html = viz::graph_html(g, svg.value(), st.tensors, true, st.findings);
  if (data) {
    size_t a = html.find("<script type=\"application/json\" id=\"gb-data\">");
    REQUIRE(a != std::string::npos);
    a = html.find('>', a) + 1;
    *data = nlohmann::json::parse(html.substr(a, html.find("</script>", a) - a));
  }
  return html;
}

// Reads <body data-*> attributes of the frame `id` recorded by the wrapper page.
nlohmann::json frames_state(const std::string& dir, const std::string& frames, std::string* dom) {
  REQUIRE(test::chromium_dump_dom(dir + "/" + frames, 1300, 900, dir, dom) == 0);
  size_t a = dom->find("<pre id=\"gb-state\">");
  REQUIRE_MESSAGE(a != std::string::npos, dom->substr(0, 300));
  a += std::string("<pre id=\"gb-state\">").size();
  return nlohmann::json::parse(dom->substr(a, dom->find("</pre>", a) - a));
}

// A wrapper page loading each URL in a frame and recording every frame's body data-* and panel text.
std::string frames_page(const std::vector<std::string>& urls) {
  std::string h = "<!DOCTYPE html><html><body>";
  for (size_t i = 0; i < urls.size(); ++i)
    h += "<iframe id=\"f" + std::to_string(i) + "\" src=\"" + urls[i] +
         "\" style=\"width:1200px;height:800px\"></iframe>";
  // each frame: its body data-* and panel text; then its first <details> (a folded layer) is opened and the
  // panel read again after the toggle event built the rows
  h += "<script>addEventListener('load',function(){var "
       "out=[];document.querySelectorAll('iframe').forEach(function(f){try{"
       "var "
       "d=f.contentDocument;out.push({data:Object.assign({},d.body.dataset),panel:d.getElementById('panel')."
       "textContent});"
       "var det=d.querySelector('#panel details');if(det)det.open=true;"
       "}catch(x){out.push({error:String(x)});}});"
       "setTimeout(function(){document.querySelectorAll('iframe').forEach(function(f,i){try{"
       "out[i].panel_after_open=f.contentDocument.getElementById('panel').textContent;}catch(x){}});"
       "var "
       "p=document.createElement('pre');p.id='gb-state';p.textContent=JSON.stringify(out);document.body."
       "appendChild(p);},50);"
       "});</script></body></html>";
  return h;
}

}  // namespace

TEST_CASE(
    "graph.html is one offline file with every tensor's statistics, byte-identical for the same input") {
  const std::string dir = test::temp_dir("graph_html_offline");
  nlohmann::json data;
  std::string a = page_80(dir, &data);
  CHECK(a == page_80(dir));
  for (const char* ext : {"src=", "href=\"http", "url(", "@import", "<link", "fetch(", "XMLHttpRequest"}) {
    INFO(ext);
    CHECK(a.find(ext) == std::string::npos);
  }
  CHECK(a.find("<svg") != std::string::npos);
  CHECK(data["nodes"].size() < 40u);  // folded: one block drawn for 80
  CHECK(data["tensors"].size() == 80u * 9u + 3u);
  const auto& q3 = data["tensors"]["blk.3.attn.q.weight"];
  CHECK(q3["s"] == "blk.3.attn_q.weight");
  CHECK(q3["sh"] == nlohmann::json::array({16, 16}));
  CHECK(q3["st"].size() == 9u);
  CHECK(data["tensors"]["blk.7.mlp.up.weight"]["s"] == "blk.7.ffn_up.weight");
  CHECK(data["tensors"]["blk.7.mlp.up.weight"]["st"][5].get<int>() >= 1);  // the planted NaN, counted
  bool nan_finding = false;
  for (const auto& f : data["findings"])
    nan_finding = nan_finding || (f["code"] == "tensor.nan" && f["where"] == "blk.7.mlp.up.weight");
  CHECK(nan_finding);
  // "</" inside the data cannot close the script element
  viz::graph g;
  g.title = "</script><script>alert(1)</script>";
  g.nodes.push_back({"n</script>", "x", {}, "generic", "", {}, {}, 1, 0, {}, {}, viz::diff_status::same});
  std::string h = viz::graph_html(g, "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>", {}, false, {});
  CHECK(h.find("</script><script>alert") == std::string::npos);
  CHECK(h.find("n<\\/script>") != std::string::npos);
}

TEST_CASE(
    "graph.html in headless Chromium: #search finds a tensor inside a folded 80-layer block; findings show") {
  GB_CHROMIUM();
  const std::string dir = test::temp_dir("graph_html_browser");
  test::write_file(dir + "/m80.html", page_80(dir));
  test::write_file(dir + "/frames.html",
                   frames_page({"m80.html#search=blk.3.attn_q", "m80.html#search=blk.7.ffn_up",
                                "m80.html#search=no.such.tensor", "m80.html#node=cluster:blk.0"}));
  std::string dom;
  auto st = frames_state(dir, "frames.html", &dom);
  REQUIRE(st.size() == 4u);
  for (const auto& f : st) {
    REQUIRE_MESSAGE(!f.contains("error"), f.dump());
    CHECK(f["data"]["ready"] == "1");
    MESSAGE("80-layer page: script ready in " << f["data"].value("loadMs", "?") << " ms");
  }
  // blk.3's q is drawn by the folded block's node blk.0.attn.q
  CHECK(st[0]["data"]["hits"] == "1");
  CHECK(st[0]["data"]["selected"] == "blk.0.attn.q");
  CHECK(st[0]["data"]["selectedTensor"] == "blk.3.attn.q.weight");
  CHECK(st[0]["panel"].get<std::string>().find("Unfolded: 80 layers") != std::string::npos);
  CHECK(st[0]["panel"].get<std::string>().find("blk.3.attn_q.weight") !=
        std::string::npos);  // the stored name too
  // the planted NaN: its finding is in the panel of the node that draws it
  CHECK(st[1]["data"]["selectedTensor"] == "blk.7.mlp.up.weight");
  CHECK(st[1]["panel"].get<std::string>().find("tensor.nan") != std::string::npos);
  CHECK(st[2]["data"]["hits"] == "0");
  CHECK(st[2]["panel"].get<std::string>().find("No tensor or node matches") != std::string::npos);
  // the folded block unfolds into its 80 layers; opening layer 0 builds its rows (9 tensors, with statistics)
  CHECK(st[3]["data"]["selected"] == "cluster:blk.0");
  const std::string before = st[3]["panel"], after = st[3].value("panel_after_open", "");
  CHECK(before.find("Unfolded: 80 layers") != std::string::npos);
  CHECK(before.find("layer 79: 9 tensors") != std::string::npos);
  CHECK(before.find("blk.0.mlp.up.weight") == std::string::npos);
  CHECK(after.find("blk.0.mlp.up.weight") != std::string::npos);
  CHECK(after.find("blk.1.mlp.up.weight") == std::string::npos);  // only the opened layer
}

TEST_CASE("graph.html scales: an op graph of 3000 nodes loads and a search selects the matching op") {
  GB_CHROMIUM();
  const std::string dir = test::temp_dir("graph_html_large");
  // A 3000-op graph and an SVG with Graphviz's node structure (<g class="node"><title>id</title>): the page's
  // script is what is under test here, not the layout.
  viz::graph g;
  g.title = "3000 ops";
  std::string svg =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 2000 30000\"><g class=\"graph\">";
  std::vector<tensor_stats> ts;
  for (int i = 0; i < 3000; ++i) {
    const std::string id = "op:/layers." + std::to_string(i / 30) + "/MatMul_" + std::to_string(i);
    const std::string w = "onnx::MatMul_" + std::to_string(10000 + i);
    g.nodes.push_back({id,
                       "MatMul",
                       {"[64, 64] f32"},
                       "op_compute",
                       "",
                       {w},
                       {w},
                       1,
                       4096,
                       {},
                       {},
                       viz::diff_status::same});
    tensor_stats t;
    t.name = t.stored_name = w, t.dtype_name = "f32", t.shape = {64, 64}, t.mean = i * 1e-3;
    ts.push_back(t);
    svg += "<g class=\"node\"><title>" + id + "</title><ellipse cx=\"" + std::to_string(100 + (i % 20) * 90) +
           "\" cy=\"" + std::to_string(20 + (i / 20) * 200) +
           "\" rx=\"40\" ry=\"15\" fill=\"#eee\" stroke=\"#333\"/></g>";
  }
  svg += "</g></svg>";
  test::write_file(dir + "/big.html", viz::graph_html(g, svg, ts, true, {}));
  test::write_file(dir + "/frames.html", frames_page({"big.html#search=MatMul_12345"}));
  std::string dom;
  auto st = frames_state(dir, "frames.html", &dom);
  REQUIRE(st.size() == 1u);
  REQUIRE_MESSAGE(!st[0].contains("error"), st[0].dump());
  MESSAGE("3000-node page: script ready in " << st[0]["data"].value("loadMs", "?") << " ms");
  CHECK(st[0]["data"]["nodes"] == "3000");
  CHECK(st[0]["data"]["hits"] == "1");
  CHECK(st[0]["data"]["selected"] == "op:/layers.78/MatMul_2345");
}
