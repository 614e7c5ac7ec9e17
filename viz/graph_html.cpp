// viz/graph_html.cpp: the interactive, offline graph page (see graph_html.h).
#include "viz/graph_html.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "viz/json_util.h"
#include "viz/svg_chart.h"

namespace gb::viz {

using nlohmann::json;

namespace {

// The data the script reads: graph nodes and clusters, every tensor's dtype, shape and statistics, findings.
json graph_page_data(const graph& g, const std::vector<tensor_stats>& tensors, bool have_stats,
                     const std::vector<finding>& findings) {
  json nodes = json::array();
  for (const auto& n : g.nodes) {
    json m = json::array();
    for (const auto& x : n.marks) m.push_back(x);
    nodes.push_back({{"id", n.id},
                     {"label", n.label},
                     {"details", n.details},
                     {"kind", n.kind},
                     {"cluster", n.cluster},
                     {"tensors", n.tensors},
                     {"stored", n.stored},
                     {"fold", n.fold},
                     {"params", n.params},
                     {"marks", m},
                     {"status", diff_status_name(n.status)}});
  }
  json clusters = json::array();
  for (const auto& c : g.clusters) clusters.push_back({{"id", c.id}, {"label", c.label}, {"fold", c.fold}});
  json ts = json::object(),
       alias = json::object();  // alias: stored name -> canonical name (ONNX ops name initializers)
  for (const auto& t : tensors) {
    if (!t.stored_name.empty() && t.stored_name != t.name) alias[t.stored_name] = t.name;
    json e = {{"s", t.stored_name}, {"d", t.dtype_name}, {"sh", t.shape}, {"l", t.layer}};
    if (have_stats && t.readable)
      e["st"] = {num(t.mean), num(t.std),  num(t.abs_max),       num(t.min),     num(t.max),
                 t.nan_count, t.inf_count, num(t.zero_fraction), num(t.kurtosis)};
    ts[t.name] = e;
  }
  json fs = json::array();
  auto add = [&](const finding& f) {
    fs.push_back(
        {{"sev", severity_name(f.level)}, {"code", f.code}, {"where", f.where}, {"message", f.message}});
  };
  for (const auto& f : g.findings) add(f);
  for (const auto& f : findings) add(f);
  return {{"title", g.title},    {"source", g.source}, {"notes", g.notes},
          {"stats", have_stats}, {"nodes", nodes},     {"clusters", clusters},
          {"tensors", ts},       {"alias", alias},     {"findings", fs}};
}

const char* kGraphCss = R"(*{box-sizing:border-box}html,body{margin:0;height:100%}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1f24;display:flex;flex-direction:column}
header{display:flex;flex-wrap:wrap;gap:6px 12px;align-items:center;padding:8px 12px;border-bottom:1px solid #d0d7de;background:#f6f8fa}
header h1{font-size:16px;margin:0;overflow-wrap:anywhere}header .src{color:#57606a;font-size:12px;overflow-wrap:anywhere}
header input{font:inherit;padding:4px 8px;width:min(320px,100%);border:1px solid #8c959f;border-radius:6px}
header button{font:inherit;padding:3px 10px;border:1px solid #8c959f;border-radius:6px;background:#fff;cursor:pointer}
#wrap{flex:1;display:flex;min-height:0}#view{flex:1;min-width:0;position:relative;background:#fff;touch-action:none}
#view svg{width:100%;height:100%;display:block;cursor:grab}#view svg:active{cursor:grabbing}
#panel{width:400px;max-width:45%;overflow:auto;border-left:1px solid #d0d7de;padding:10px 12px;font-size:13px}
#panel h2{font-size:16px;margin:4px 0}#panel h3{font-size:14px;margin:12px 0 4px}.muted{color:#57606a}
#panel table{border-collapse:collapse;width:100%;font-size:11px}#panel th,#panel td{border:1px solid #d0d7de;padding:2px 5px;text-align:left}
#panel code{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}.hitlist a{display:block;cursor:pointer;color:#0969da}
.sev-critical,.sev-high{color:#a40e26;font-weight:600}.sev-medium{color:#7d4e00}
g.node{cursor:pointer}g.node.sel :is(path,polygon,ellipse){stroke:#d1242f!important;stroke-width:5px!important}
g.node.hit :is(path,polygon,ellipse){stroke:#e36209;stroke-width:3px}g.cluster{cursor:pointer}
@media (max-width:700px){#wrap{flex-direction:column}#panel{width:auto;max-width:none;height:40%;border-left:0;border-top:1px solid #d0d7de}})";

// Pan, zoom, search, selection, lazy unfolding. Plain ES5-style code, no dependencies.
const char* kGraphJs = R"JS((function(){
var t0=performance.now(),D=JSON.parse(document.getElementById('gb-data').textContent),B=document.body;
var svg=document.querySelector('#view svg'),panel=document.getElementById('panel'),q=document.getElementById('q');
var nodes=new Map(),els=new Map(),cels=new Map(),tf=new Map(),sel=null,hits=[];
D.nodes.forEach(function(n){nodes.set(n.id,n);});
svg.querySelectorAll('g.node').forEach(function(g){var t=g.querySelector('title');if(t)els.set(t.textContent,g);});
svg.querySelectorAll('g.cluster').forEach(function(g){var t=g.querySelector('title');if(t)cels.set(t.textContent.replace(/^cluster_/,''),g);});
D.findings.forEach(function(f){if(!tf.has(f.where))tf.set(f.where,[]);tf.get(f.where).push(f);});
var vb=svg.viewBox.baseVal,full={x:vb.x,y:vb.y,w:vb.width,h:vb.height},box={x:full.x,y:full.y,w:full.w,h:full.h};
svg.removeAttribute('width');svg.removeAttribute('height');
function apply(){svg.setAttribute('viewBox',box.x+' '+box.y+' '+box.w+' '+box.h);}
function zoom(f,cx,cy){box.x=cx-(cx-box.x)*f;box.y=cy-(cy-box.y)*f;box.w*=f;box.h*=f;apply();}
function pt(x,y){var p=svg.createSVGPoint();p.x=x;p.y=y;return p.matrixTransform(svg.getScreenCTM().inverse());}
function mid(){return {x:box.x+box.w/2,y:box.y+box.h/2};}
function fit(){box={x:full.x,y:full.y,w:full.w,h:full.h};apply();}
svg.addEventListener('wheel',function(e){e.preventDefault();var p=pt(e.clientX,e.clientY);zoom(e.deltaY>0?1.25:0.8,p.x,p.y);},{passive:false});
var drag=null;
svg.addEventListener('pointerdown',function(e){drag={x:e.clientX,y:e.clientY,bx:box.x,by:box.y,moved:false};svg.setPointerCapture(e.pointerId);});
svg.addEventListener('pointermove',function(e){if(!drag)return;var r=svg.getBoundingClientRect(),s=Math.max(box.w/r.width,box.h/r.height);
var dx=e.clientX-drag.x,dy=e.clientY-drag.y;if(Math.abs(dx)+Math.abs(dy)>4)drag.moved=true;box.x=drag.bx-dx*s;box.y=drag.by-dy*s;apply();});
svg.addEventListener('pointerup',function(e){var d=drag;drag=null;if(d&&!d.moved)clickAt(e.clientX,e.clientY);});
document.getElementById('zin').onclick=function(){var c=mid();zoom(0.8,c.x,c.y);};
document.getElementById('zout').onclick=function(){var c=mid();zoom(1.25,c.x,c.y);};
document.getElementById('fit').onclick=fit;
function esc(s){return String(s).replace(/[&<>"]/g,function(c){return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c];});}
function fmt(v){return v===null||v===undefined?'n/a':Math.abs(v)>=1e4||(v!==0&&Math.abs(v)<1e-3)?v.toExponential(3):String(+v.toPrecision(4));}
function clickAt(x,y){var el=document.elementFromPoint(x,y);if(!el)return;var g=el.closest('g.node');
if(g){var t=g.querySelector('title');if(t)select(t.textContent,'');return;}var c=el.closest('g.cluster');
if(c){var ct=c.querySelector('title');if(ct)showCluster(ct.textContent.replace(/^cluster_/,''));}}
function layerOf(n,i){var t=D.tensors[n.tensors[i]]||D.tensors[D.alias[n.tensors[i]]];if(t&&t.l>=0)return t.l;var per=Math.max(1,Math.floor(n.tensors.length/Math.max(1,n.fold)));return Math.floor(i/per);}
function row(name){var t=D.tensors[name]||D.tensors[D.alias[name]],c='<tr><td><code>'+esc(name)+'</code>'+(t&&t.s&&t.s!==name?'<br><span class=muted>'+esc(t.s)+'</span>':'')+'</td>';
if(!t)return c+'<td colspan=6 class=muted>no tensor data</td></tr>';var st=t.st;
c+='<td>'+esc(t.sh.join('\u00d7'))+'</td><td>'+esc(t.d)+'</td>';
c+=st?'<td>'+fmt(st[0])+'</td><td>'+fmt(st[1])+'</td><td>'+fmt(st[2])+'</td><td>'+st[5]+'/'+st[6]+'</td>':'<td colspan=4 class=muted>'+(D.stats?'unreadable':'not computed')+'</td>';
var f=tf.get(name)||(t.s&&tf.get(t.s))||(D.alias[name]&&tf.get(D.alias[name]));if(f)f.forEach(function(x){c+='</tr><tr><td colspan=7><span class="sev-'+esc(x.sev)+'">'+esc(x.sev+' '+x.code)+'</span>: '+esc(x.message)+'</td>';});
return c+'</tr>';}
var HEAD='<tr><th>tensor</th><th>shape</th><th>dtype</th><th>mean</th><th>std</th><th>abs max</th><th>NaN/Inf</th></tr>';
function table(names){return '<table>'+HEAD+names.map(row).join('')+'</table>';}
function byLayer(list){var m=new Map();list.forEach(function(p){var k=p.l;if(!m.has(k))m.set(k,[]);m.get(k).push(p.t);});
return Array.from(m.keys()).sort(function(a,b){return a-b;}).map(function(k){return {l:k,t:m.get(k)};});}
function unfold(groups){var h='<h3>Unfolded: '+groups.length+' layers</h3>';groups.forEach(function(g,i){h+='<details data-i="'+i+'"><summary>layer '+g.l+': '+g.t.length+' tensors</summary></details>';});return h;}
function wire(groups){panel.querySelectorAll('details[data-i]').forEach(function(d){d.addEventListener('toggle',function(){
if(d.open&&!d.dataset.filled){d.dataset.filled='1';d.insertAdjacentHTML('beforeend',table(groups[+d.dataset.i].t));}});});}
function findingsOf(n){var out=[];n.marks.forEach(function(m){out.push(esc(m));});return out;}
function select(id,tensor){var n=nodes.get(id);if(!n)return;if(sel&&els.get(sel))els.get(sel).classList.remove('sel');sel=id;
var g=els.get(id);if(g)g.classList.add('sel');B.dataset.selected=id;B.dataset.selectedTensor=tensor||'';
var h='<h2>'+esc(n.label)+'</h2><div class=muted>'+esc(n.kind)+' &middot; <code>'+esc(n.id)+'</code>'+(n.fold>1?' &middot; folded: '+n.fold+' copies':'')+'</div>';
if(n.details.length)h+='<p>'+n.details.map(esc).join('<br>')+'</p>';if(n.params)h+='<p>'+n.params.toLocaleString('en')+' parameters per copy</p>';
var f=findingsOf(n);if(f.length)h+='<h3>Findings</h3><p>'+f.join('<br>')+'</p>';var groups=null;
if(n.tensors.length){if(n.fold>1){groups=byLayer(n.tensors.map(function(t,i){return {t:t,l:layerOf(n,i)};}));
if(tensor){var gi=groups.findIndex(function(x){return x.t.indexOf(tensor)>=0;});if(gi>=0)h+='<h3>Match</h3>'+table([tensor]);}h+=unfold(groups);}
else h+='<h3>Tensors</h3>'+table(n.tensors);}
panel.innerHTML=h+hitList();if(groups)wire(groups);wireHits();if(g)center(g);}
function showCluster(cid){var c=D.clusters.find(function(x){return x.id===cid;});if(!c)return;B.dataset.selected='cluster:'+cid;
var list=[];D.nodes.forEach(function(n){if(n.cluster===cid)n.tensors.forEach(function(t,i){list.push({t:t,l:layerOf(n,i)});});});
var groups=byLayer(list);var h='<h2>'+esc(c.label)+'</h2><div class=muted>'+(c.fold>1?'folded block: '+c.fold+' identical copies drawn as one':'block')+'</div>'+unfold(groups);
panel.innerHTML=h;wire(groups);}
function center(g){var r=g.getBoundingClientRect(),c=pt(r.left+r.width/2,r.top+r.height/2),v=svg.getBoundingClientRect();
var w=Math.min(full.w,Math.max(box.w,1)),hh=w*(v.height/Math.max(1,v.width));if(box.w>full.w*0.5&&full.w>1500){w=Math.max(600,full.w/4);hh=w*(v.height/Math.max(1,v.width));}
box={x:c.x-w/2,y:c.y-hh/2,w:w,h:hh};apply();}
function hitList(){if(!hits.length)return '';var h='<h3>'+hits.length+' matches</h3><div class=hitlist>';
hits.slice(0,200).forEach(function(x,i){h+='<a data-h="'+i+'">'+esc(x.t||x.id)+'</a>';});return h+'</div>';}
function wireHits(){panel.querySelectorAll('.hitlist a').forEach(function(a){a.onclick=function(){var x=hits[+a.dataset.h];select(x.id,x.t);};});}
function search(s){els.forEach(function(g){g.classList.remove('hit');});hits=[];s=s.trim();B.dataset.search=s;var k=s.toLowerCase(),k2=k.replace(/_/g,'.');
if(k){D.nodes.forEach(function(n){var found=false;n.tensors.forEach(function(t,i){var st=n.stored[i]||'';
if(t.toLowerCase().indexOf(k)>=0||t.toLowerCase().indexOf(k2)>=0||st.toLowerCase().indexOf(k)>=0){hits.push({id:n.id,t:t});found=true;}});
if(!found&&(n.id.toLowerCase().indexOf(k)>=0||n.label.toLowerCase().indexOf(k)>=0)){hits.push({id:n.id,t:''});found=true;}
if(found&&els.get(n.id))els.get(n.id).classList.add('hit');});}
B.dataset.hits=hits.length;if(hits.length)select(hits[0].id,hits[0].t);else panel.innerHTML='<p>'+(k?'No tensor or node matches <code>'+esc(s)+'</code>.':'')+'</p>';}
q.addEventListener('keydown',function(e){if(e.key==='Enter')search(q.value);});
document.getElementById('go').onclick=function(){search(q.value);};
document.addEventListener('keydown',function(e){if(e.key==='/'&&document.activeElement!==q){e.preventDefault();q.focus();}});
function fromHash(){var m=/^#search=(.*)$/.exec(location.hash);if(m){q.value=decodeURIComponent(m[1]);search(q.value);}
var n=/^#node=(.*)$/.exec(location.hash);if(n){var id=decodeURIComponent(n[1]);if(id.indexOf('cluster:')===0)showCluster(id.slice(8));else select(id,'');}}
window.addEventListener('hashchange',fromHash);fromHash();
B.dataset.nodes=D.nodes.length;B.dataset.loadMs=Math.round(performance.now()-t0);B.dataset.ready='1';})();)JS";

std::string strip_to_svg(const std::string& svg) {
  size_t p = svg.find("<svg");
  return p == std::string::npos ? svg : svg.substr(p);
}

}  // namespace

std::string graph_html(const graph& g, const std::string& svg, const std::vector<tensor_stats>& tensors,
                       bool have_stats, const std::vector<finding>& findings) {
  std::string data = json_text(graph_page_data(g, tensors, have_stats, findings));
  // inside <script>, "</" could close the element: JSON allows "\/" for "/"
  for (size_t p = 0; (p = data.find("</", p)) != std::string::npos; p += 3) data.replace(p, 2, "<\\/");
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width, initial-scale=1\"><title>" +
      xml_escape(g.title) + "</title><style>" + kGraphCss + "</style></head><body>\n";
  h += "<header><div><h1>" + xml_escape(g.title) + "</h1><div class=\"src\">" + xml_escape(g.source) +
       "</div></div>";
  h += "<input id=\"q\" type=\"search\" placeholder=\"search a tensor (e.g. blk.3.attn_q), Enter\" "
       "aria-label=\"search\">"
       "<button id=\"go\">find</button><button id=\"zin\" title=\"zoom in\">+</button><button id=\"zout\" "
       "title=\"zoom out\">&minus;</button>"
       "<button id=\"fit\">fit</button></header>\n";
  h += "<div id=\"wrap\"><div id=\"view\">" + strip_to_svg(svg) +
       "</div><aside id=\"panel\"><p class=\"muted\">Drag to pan, wheel to "
       "zoom, click a node for its tensors (shape, dtype, statistics, findings) or a folded block to unfold "
       "it; "
       "<kbd>/</kbd> searches.</p>";
  for (const auto& n : g.notes) h += "<p class=\"muted\">" + xml_escape(n) + "</p>";
  h += "</aside></div>\n<script type=\"application/json\" id=\"gb-data\">" + data + "</script>\n<script>" +
       kGraphJs + "</script>\n</body></html>\n";
  return h;
}

}  // namespace gb::viz
