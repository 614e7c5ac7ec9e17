// viz/graph_onnx.cpp: the op graph of an ONNX archive, with repeated layers folded (graph_from_onnx in
// viz/graph.h, where the folding rule is described).
#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>

#include "inspect/graph_fold.h"
#include "inspect/summary.h"
#include "viz/graph.h"

namespace gb::viz {
namespace {

// ai.onnx operators (opsets 1-21, including deprecated ones still found in old models).
constexpr const char* onnx_ops[] = {"Abs",
                                    "Acos",
                                    "Acosh",
                                    "Add",
                                    "Affine",
                                    "AffineGrid",
                                    "And",
                                    "ArgMax",
                                    "ArgMin",
                                    "Asin",
                                    "Asinh",
                                    "Atan",
                                    "Atanh",
                                    "Attention",
                                    "AveragePool",
                                    "BatchNormalization",
                                    "Bernoulli",
                                    "BitShift",
                                    "BitwiseAnd",
                                    "BitwiseNot",
                                    "BitwiseOr",
                                    "BitwiseXor",
                                    "BlackmanWindow",
                                    "Cast",
                                    "CastLike",
                                    "Ceil",
                                    "Celu",
                                    "CenterCropPad",
                                    "Clip",
                                    "Col2Im",
                                    "Compress",
                                    "Concat",
                                    "ConcatFromSequence",
                                    "Constant",
                                    "ConstantFill",
                                    "ConstantOfShape",
                                    "Conv",
                                    "ConvInteger",
                                    "ConvTranspose",
                                    "Cos",
                                    "Cosh",
                                    "Crop",
                                    "CumSum",
                                    "DFT",
                                    "DeformConv",
                                    "DepthToSpace",
                                    "DequantizeLinear",
                                    "Det",
                                    "Div",
                                    "Dropout",
                                    "DynamicQuantizeLinear",
                                    "DynamicSlice",
                                    "Einsum",
                                    "Elu",
                                    "Equal",
                                    "Erf",
                                    "Exp",
                                    "Expand",
                                    "EyeLike",
                                    "Flatten",
                                    "Floor",
                                    "GRU",
                                    "Gather",
                                    "GatherElements",
                                    "GatherND",
                                    "Gelu",
                                    "Gemm",
                                    "GivenTensorFill",
                                    "GlobalAveragePool",
                                    "GlobalLpPool",
                                    "GlobalMaxPool",
                                    "Greater",
                                    "GreaterOrEqual",
                                    "GridSample",
                                    "GroupNormalization",
                                    "HammingWindow",
                                    "HannWindow",
                                    "HardSigmoid",
                                    "HardSwish",
                                    "Hardmax",
                                    "Identity",
                                    "If",
                                    "ImageDecoder",
                                    "ImageScaler",
                                    "InstanceNormalization",
                                    "IsInf",
                                    "IsNaN",
                                    "LRN",
                                    "LSTM",
                                    "LayerNormalization",
                                    "LeakyRelu",
                                    "Less",
                                    "LessOrEqual",
                                    "Log",
                                    "LogSoftmax",
                                    "Loop",
                                    "LpNormalization",
                                    "LpPool",
                                    "MatMul",
                                    "MatMulInteger",
                                    "Max",
                                    "MaxPool",
                                    "MaxRoiPool",
                                    "MaxUnpool",
                                    "Mean",
                                    "MeanVarianceNormalization",
                                    "MelWeightMatrix",
                                    "Min",
                                    "Mish",
                                    "Mod",
                                    "Mul",
                                    "Multinomial",
                                    "Neg",
                                    "NegativeLogLikelihoodLoss",
                                    "NonMaxSuppression",
                                    "NonZero",
                                    "Not",
                                    "OneHot",
                                    "Optional",
                                    "OptionalGetElement",
                                    "OptionalHasElement",
                                    "Or",
                                    "PRelu",
                                    "Pad",
                                    "ParametricSoftplus",
                                    "Pow",
                                    "QLinearConv",
                                    "QLinearMatMul",
                                    "QuantizeLinear",
                                    "RMSNormalization",
                                    "RNN",
                                    "RandomNormal",
                                    "RandomNormalLike",
                                    "RandomUniform",
                                    "RandomUniformLike",
                                    "Range",
                                    "Reciprocal",
                                    "ReduceL1",
                                    "ReduceL2",
                                    "ReduceLogSum",
                                    "ReduceLogSumExp",
                                    "ReduceMax",
                                    "ReduceMean",
                                    "ReduceMin",
                                    "ReduceProd",
                                    "ReduceSum",
                                    "ReduceSumSquare",
                                    "RegexFullMatch",
                                    "Relu",
                                    "Reshape",
                                    "Resize",
                                    "ReverseSequence",
                                    "RoiAlign",
                                    "RotaryEmbedding",
                                    "Round",
                                    "STFT",
                                    "Scale",
                                    "ScaledTanh",
                                    "Scan",
                                    "Scatter",
                                    "ScatterElements",
                                    "ScatterND",
                                    "Selu",
                                    "SequenceAt",
                                    "SequenceConstruct",
                                    "SequenceEmpty",
                                    "SequenceErase",
                                    "SequenceInsert",
                                    "SequenceLength",
                                    "SequenceMap",
                                    "Shape",
                                    "Shrink",
                                    "Sigmoid",
                                    "Sign",
                                    "Sin",
                                    "Sinh",
                                    "Size",
                                    "Slice",
                                    "Softmax",
                                    "SoftmaxCrossEntropyLoss",
                                    "Softplus",
                                    "Softsign",
                                    "SpaceToDepth",
                                    "Split",
                                    "SplitToSequence",
                                    "Sqrt",
                                    "Squeeze",
                                    "StringConcat",
                                    "StringNormalizer",
                                    "StringSplit",
                                    "Sub",
                                    "Sum",
                                    "Swish",
                                    "Tan",
                                    "Tanh",
                                    "TensorScatter",
                                    "TfIdfVectorizer",
                                    "ThresholdedRelu",
                                    "Tile",
                                    "TopK",
                                    "Transpose",
                                    "Trilu",
                                    "Unique",
                                    "Unsqueeze",
                                    "Upsample",
                                    "Where",
                                    "Xor"};
constexpr const char* onnx_ml_ops[] = {"ArrayFeatureExtractor",
                                       "Binarizer",
                                       "CastMap",
                                       "CategoryMapper",
                                       "DictVectorizer",
                                       "FeatureVectorizer",
                                       "Imputer",
                                       "LabelEncoder",
                                       "LinearClassifier",
                                       "LinearRegressor",
                                       "Normalizer",
                                       "OneHotEncoder",
                                       "SVMClassifier",
                                       "SVMRegressor",
                                       "Scaler",
                                       "TreeEnsemble",
                                       "TreeEnsembleClassifier",
                                       "TreeEnsembleRegressor",
                                       "ZipMap"};
constexpr const char* onnx_training_ops[] = {"Adagrad", "Adam", "Gradient", "Momentum"};

struct category {
  const char* kind;
  std::set<std::string> ops;
};
const std::vector<category>& categories() {
  static const std::vector<category> c = {
      {"op_compute",
       {"MatMul", "Gemm", "Conv", "ConvTranspose", "ConvInteger", "MatMulInteger", "QLinearMatMul",
        "QLinearConv", "Einsum", "Attention", "DeformConv", "LSTM", "GRU", "RNN", "RotaryEmbedding"}},
      {"op_act", {"Relu",      "Sigmoid",   "Tanh",     "Softmax", "LogSoftmax", "Gelu",
                  "Erf",       "LeakyRelu", "Elu",      "Selu",    "Celu",       "HardSigmoid",
                  "HardSwish", "Softplus",  "Softsign", "Mish",    "PRelu",      "ThresholdedRelu",
                  "Hardmax",   "Swish"}},
      {"op_norm",
       {"LayerNormalization", "BatchNormalization", "InstanceNormalization", "LpNormalization",
        "GroupNormalization", "RMSNormalization", "MeanVarianceNormalization", "LRN"}},
      {"op_shape",
       {"Reshape",         "Transpose",      "Unsqueeze",    "Squeeze",  "Concat",   "Slice",
        "Gather",          "GatherElements", "GatherND",     "Shape",    "Size",     "Expand",
        "Flatten",         "Split",          "Cast",         "CastLike", "Identity", "ConstantOfShape",
        "Constant",        "Range",          "Tile",         "Pad",      "Scatter",  "ScatterND",
        "ScatterElements", "DepthToSpace",   "SpaceToDepth", "Trilu",    "OneHot",   "NonZero",
        "Compress",        "Resize",         "Upsample",     "EyeLike"}},
      {"op_control", {"If", "Loop", "Scan", "SequenceMap"}},
  };
  return c;
}

std::string op_kind(const std::string& op) {
  for (const auto& c : categories())
    if (c.ops.count(op)) return c.kind;
  return "op_math";
}

bool known_op(const std::string& domain, const std::string& op) {
  auto in = [&](const auto& list) {
    return std::find(std::begin(list), std::end(list), op) != std::end(list);
  };
  if (domain.empty() || domain == "ai.onnx") return in(onnx_ops);
  if (domain == "ai.onnx.ml") return in(onnx_ml_ops);
  if (domain == "ai.onnx.preview.training") return in(onnx_training_ops);
  return false;
}

// Layer key of a node name: (prefix including the separator, layer number), or number -1.
struct layer_key {
  std::string prefix;
  long number = -1;
  size_t pos = 0, len = 0;  // where the number sits in the name
};
layer_key find_layer(const std::string& name) {
  layer_key k;
  size_t start = 0;
  std::string prev_segment;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    std::string seg = name.substr(start, end - start);
    // "<word>[._]<digits>" or, after a word segment, "<digits>".
    size_t d = seg.size();
    while (d > 0 && std::isdigit(static_cast<unsigned char>(seg[d - 1]))) --d;
    bool digits = d < seg.size() && seg.size() - d <= 6;
    bool word_sep = digits && d >= 2 && (seg[d - 1] == '.' || seg[d - 1] == '_') &&
                    std::isalpha(static_cast<unsigned char>(seg[0]));
    bool bare = digits && d == 0 && !prev_segment.empty() &&
                std::isalpha(static_cast<unsigned char>(prev_segment[0]));
    if ((word_sep || bare) && end < name.size()) {  // never the last segment: "Add_3" is an op counter
      k.prefix = name.substr(0, start + d);
      k.number = std::stol(seg.substr(d));
      k.pos = start + d;
      k.len = seg.size() - d;
      return k;
    }
    prev_segment = seg;
    if (end == name.size()) break;
    start = end + 1;
  }
  return k;
}

std::string mask(const std::string& s, const layer_key& k) {
  if (k.number < 0) return s;
  std::string needle = k.prefix + std::to_string(k.number);
  std::string o = s;
  for (size_t p = o.find(needle); p != std::string::npos; p = o.find(needle, p + 1))
    o.replace(p + k.prefix.size(), needle.size() - k.prefix.size(), "#");
  return o;
}

std::string short_name(const std::string& s, size_t max = 40) {
  if (s.size() <= max) return s;
  size_t slash = s.rfind('/');
  std::string tail = slash != std::string::npos && s.size() - slash <= max ? s.substr(slash)
                                                                           : s.substr(s.size() - (max - 3));
  return "..." + tail;
}

// The drawing of one ONNX graph, made in named steps (graph_from_onnx runs them in order): the title, the
// node index, the folding of repeated layers, then inputs, ops with the edges into them, outputs, findings.
struct onnx_drawing {
  const archive& a;
  const graph_options& opt;
  const op_graph& og;
  const size_t n;  // ops
  graph g;
  std::unordered_map<std::string, const tensor_view*> inits;  // initializer name -> tensor
  std::unordered_map<std::string, std::string> shapes;        // value -> shape text
  std::vector<std::string> ids;                               // (n) unique node ids
  std::unordered_map<std::string, size_t> producer;           // value -> node index
  std::vector<layer_key> keys;                                // (n) the layer each node's name places it in
  std::vector<size_t> rep;                                    // (n) representative node of each node
  std::vector<std::string> cluster;                           // (n) cluster id, empty outside clusters
  std::vector<long> copy_of;     // (n) which copy of a repeated layer/block a node belongs to
  std::vector<char> shape_only;  // (n) folded structural drawing: shape arithmetic left out
  std::vector<bool> hidden;      // (n) not drawn (Constant ops, hidden shape arithmetic)
  size_t hidden_count = 0, shape_hidden = 0;
  std::map<std::string, int> fold_of;  // cluster id -> copies it stands for
  std::set<std::string> graph_inputs;
  std::set<std::string> unknown_ops, custom_ops, dangling;
  std::set<std::tuple<std::string, std::string, std::string>> edge_seen;
  std::map<size_t, std::vector<std::string>> folded_tensors;  // representative -> initializers of its copies
  std::unordered_map<std::string, size_t> node_at;            // node id -> index in g.nodes
  std::set<size_t> shape_noted;  // nodes already marked as fed by hidden shape arithmetic

  onnx_drawing(const archive& arch, const graph_options& o)
      : a(arch), opt(o), og(arch.graph), n(arch.graph.nodes.size()) {}

  void title() {
    g.title = "ONNX " + (og.name.empty() ? std::string("graph") : og.name) + ", " +
              std::to_string(og.nodes.size()) + " ops";
    if (opt.counted) g.title += ", " + parameter_count_text(summary_build(*opt.counted));
    g.source = a.path + " (" + file_format_name(a.format) +
               (a.format_version.empty() ? "" : " " + a.format_version) + ")";
    std::string v = "ir " + std::to_string(og.ir_version);
    for (const auto& [dom, ver] : og.opsets)
      v += " | " + (dom.empty() ? std::string("ai.onnx") : dom) + " " + std::to_string(ver);
    if (!og.producer.empty()) v += " | " + og.producer + " " + og.producer_version;
    g.notes.push_back(v);
    if (og.subgraph_count)
      g.notes.push_back(std::to_string(og.subgraph_count) + " subgraph bodies (If/Loop/Scan) inlined");
  }

  // Initializers, value shapes, node ids (name, else first output, else index; made unique), producers,
  // layer keys; every node its own representative.
  void index() {
    for (const auto& t : a.tensors) inits.emplace(t.name, &t);
    shapes.insert(og.value_shapes.begin(), og.value_shapes.end());
    graph_inputs.insert(og.inputs.begin(), og.inputs.end());
    ids.resize(n);
    std::set<std::string> used;
    for (size_t i = 0; i < n; ++i) {
      const auto& nd = og.nodes[i];
      std::string base = !nd.name.empty()                                ? nd.name
                         : !nd.outputs.empty() && !nd.outputs[0].empty() ? nd.outputs[0]
                                                                         : "node" + std::to_string(i);
      std::string id = "op:" + base;
      for (int k = 2; used.count(id); ++k) id = "op:" + base + "#" + std::to_string(k);
      used.insert(id);
      ids[i] = id;
    }
    for (size_t i = 0; i < n; ++i)
      for (const auto& o : og.nodes[i].outputs)
        if (!o.empty()) producer.emplace(o, i);
    keys.resize(n);
    rep.resize(n);
    copy_of.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const auto& nd = og.nodes[i];
      keys[i] = find_layer(!nd.name.empty() ? nd.name : nd.outputs.empty() ? std::string() : nd.outputs[0]);
      rep[i] = i;
      copy_of[i] = keys[i].number;
    }
    cluster.resize(n);
    shape_only.assign(n, 0);
  }

  // No layer names (flat torch export): repeated blocks from the graph structure (inspect/graph_fold.h).
  void fold_structural() {
    structural_folding sf = opt.expand ? structural_folding{} : fold_onnx_structure(a);
    for (size_t r = 0; r < sf.runs.size(); ++r) {
      const fold_run& fr = sf.runs[r];
      std::string base = sf.runs.size() > 1 ? "R" + std::to_string(r + 1) + " " : std::string();
      std::string last = std::to_string(fr.copies - 1);
      // Expanded, the copies are drawn without clusters: dot lays out 700 ops in 5 clusters ~1.6x slower.
      if (!opt.expand)
        g.clusters.push_back(
            {"block:" + std::to_string(r),
             base + "blocks 0-" + last + "  (x " + std::to_string(fr.copies) + ", structurally identical)",
             fr.copies});
    }
    for (size_t i = 0; i < n && !opt.expand; ++i) {
      if (sf.run[i] < 0) continue;
      copy_of[i] = sf.copy[i];
      cluster[i] = "block:" + std::to_string(sf.run[i]);
      rep[i] = sf.rep[i];
    }
    if (sf.runs.empty()) return;
    shape_only = sf.shape_only;
    std::string t;
    for (const auto& fr : sf.runs)
      t += (t.empty() ? "" : ", ") + std::to_string(fr.copies) + " x " + std::to_string(fr.ops_per_copy) +
           " ops";
    g.notes.push_back("repeated blocks found from the graph structure (no layer names): " + t);
  }

  // What makes two copies of a layer the same: op, masked name, inputs (initializer shapes and dtypes,
  // masked in-layer values, "ext" for the rest) and attributes of each node, in graph order.
  std::string layer_signature(const std::vector<size_t>& idx) const {
    std::string s;
    for (size_t i : idx) {
      const auto& nd = og.nodes[i];
      s += nd.domain + ":" + nd.op_type + "|" + mask(nd.name, keys[i]) + "|";
      for (const auto& in : nd.inputs) {
        auto it = inits.find(in);
        auto pr = producer.find(in);
        bool same_layer = pr != producer.end() && keys[pr->second].prefix == keys[i].prefix &&
                          keys[pr->second].number == keys[i].number;
        if (it != inits.end())
          s += "init" + shape_string(it->second->shape) + dtype_name(it->second->type) + ",";
        else if (same_layer)
          s += mask(in, keys[i]) + ",";
        else
          s += "ext,";  // from outside the layer (previous layer, embedding, graph input)
      }
      for (const auto& at : nd.attributes) s += at.first + "=" + at.second + ";";
      s += "\n";
    }
    return s;
  }

  // Named layers: runs of consecutive numbers with equal signatures become one cluster, each copy's nodes
  // mapped by position to the first copy's.
  void fold_named() {
    // prefix -> layer number -> node indices (in graph order)
    std::map<std::string, std::map<long, std::vector<size_t>>> layers;
    for (size_t i = 0; i < n; ++i)
      if (keys[i].number >= 0) layers[keys[i].prefix][keys[i].number].push_back(i);
    for (auto& [prefix, by_num] : layers) {
      std::map<long, std::string> sig;
      for (auto& [num, idx] : by_num) sig[num] = layer_signature(idx);
      auto it = by_num.begin();
      while (it != by_num.end()) {
        auto run_end = std::next(it);
        long last = it->first;
        while (run_end != by_num.end() && run_end->first == last + 1 &&
               sig[run_end->first] == sig[it->first]) {
          last = run_end->first;
          ++run_end;
        }
        long count = last - it->first + 1;
        std::string cid = prefix + std::to_string(it->first);
        gcluster c;
        c.id = cid;
        c.fold = static_cast<int>(count);
        c.label = count > 1 ? prefix + std::to_string(it->first) + "-" + std::to_string(last) + "  (x " +
                                  std::to_string(count) + ")"
                            : prefix + std::to_string(it->first);
        g.clusters.push_back(c);
        const auto& first_idx = it->second;
        for (size_t i : first_idx) cluster[i] = cid;
        for (auto jt = std::next(it); jt != run_end; ++jt)
          for (size_t k = 0; k < jt->second.size(); ++k) {
            size_t i = jt->second[k];
            // Same signature => same node sequence: map by position.
            rep[i] = k < first_idx.size() ? first_idx[k] : first_idx.back();
            cluster[i] = cid;
          }
        it = run_end;
      }
    }
  }

  // Named layers, expanded: one cluster per layer, nothing folded.
  void cluster_layers() {
    std::set<std::string> seen;
    for (size_t i = 0; i < n; ++i)
      if (keys[i].number >= 0) {
        std::string cid = keys[i].prefix + std::to_string(keys[i].number);
        if (seen.insert(cid).second) g.clusters.push_back({cid, cid, 1});
        cluster[i] = cid;
      }
  }

  void fold() {
    bool named = std::any_of(keys.begin(), keys.end(), [](const layer_key& k) { return k.number >= 0; });
    if (!named)
      fold_structural();
    else if (!opt.expand)
      fold_named();
    else
      cluster_layers();
    for (const auto& c : g.clusters) fold_of[c.id] = c.fold;
  }

  // An input or output of the graph, with its shape when known.
  void draw_value_end(const std::string& id, const std::string& name, const char* kind) {
    gnode x;
    x.id = id;
    x.label = name;
    x.kind = kind;
    auto s = shapes.find(name);
    if (s != shapes.end()) x.details.push_back(s->second);
    g.nodes.push_back(std::move(x));
  }

  // Constant ops with no inputs are not drawn (their value shows on the consumer as "const NAME"), nor is
  // the shape arithmetic of a folded structural drawing.
  void hide() {
    hidden.assign(n, false);
    for (size_t i = 0; i < n; ++i)
      if (og.nodes[i].op_type == "Constant" && og.nodes[i].inputs.empty() &&
          (og.nodes[i].domain.empty() || og.nodes[i].domain == "ai.onnx")) {
        hidden[i] = true;
        ++hidden_count;
      }
    for (size_t i = 0; i < n; ++i)
      if (shape_only[i] && !hidden[i]) {
        hidden[i] = true;
        ++shape_hidden;
      }
  }

  void add_edge(const std::string& from, const std::string& to, const std::string& label, bool repeat) {
    if (!edge_seen.insert({from, to, repeat ? std::string("\x01repeat") : label}).second) return;
    g.edges.push_back({from, to, repeat ? std::string() : label, repeat, false});
  }

  // A representative op: its label, kind, cluster, name, initializers and first attributes.
  void draw_op(size_t i) {
    const auto& nd = og.nodes[i];
    node_at[ids[i]] = g.nodes.size();
    gnode x;
    x.id = ids[i];
    bool known = known_op(nd.domain, nd.op_type);
    bool std_domain = nd.domain.empty() || nd.domain == "ai.onnx" || nd.domain == "ai.onnx.ml" ||
                      nd.domain == "ai.onnx.preview.training";
    x.label = (nd.domain.empty() || nd.domain == "ai.onnx" ? "" : nd.domain + "::") +
              (nd.op_type.empty() ? "(no op type)" : nd.op_type);
    x.kind = known ? op_kind(nd.op_type) : "generic";
    if (!known) (std_domain ? unknown_ops : custom_ops).insert(x.label);
    x.cluster = cluster[i];
    x.fold = cluster[i].empty() ? 1 : fold_of[cluster[i]];
    if (!nd.name.empty())
      x.details.push_back(short_name(keys[i].number >= 0 && x.fold > 1 ? mask(nd.name, keys[i]) : nd.name));
    for (const auto& in : nd.inputs) {
      auto it = inits.find(in);
      if (it == inits.end()) continue;
      const tensor_view* t = it->second;
      x.details.push_back(short_name(t->name, 28) + " " + shape_string(t->shape) + " " + dtype_name(t->type));
      x.tensors.push_back(t->name);
      x.stored.push_back(t->name);
      x.params += t->element_count();
    }
    size_t shown = 0;
    for (const auto& [k, v] : nd.attributes) {
      if (shown == 3) {
        x.details.push_back("...");
        break;
      }
      if (v.size() > 40) continue;
      x.details.push_back(k + "=" + v);
      ++shown;
    }
    g.nodes.push_back(std::move(x));
  }

  // Edges into node i, mapped to representatives: from a hidden producer a note on the node, from a value
  // nothing produces a "value:" node of its own.
  void draw_edges_into(size_t i) {
    const auto& nd = og.nodes[i];
    std::string to = ids[rep[i]];
    for (const auto& in : nd.inputs) {
      if (in.empty() || inits.count(in)) continue;
      auto s = shapes.find(in);
      std::string label = s != shapes.end() ? s->second : std::string();
      auto p = producer.find(in);
      if (p != producer.end() && hidden[p->second] && shape_only[p->second]) {
        if (rep[i] == i && !shape_noted.count(i))
          g.nodes[node_at[ids[i]]].details.push_back("+ shape arithmetic (hidden)");
        shape_noted.insert(i);
      } else if (p != producer.end() && hidden[p->second]) {
        if (rep[i] == i) g.nodes[node_at[ids[i]]].details.push_back("const " + short_name(in, 28));
      } else if (p != producer.end()) {
        size_t from = p->second;
        bool crosses = rep[from] != from || rep[i] != i;
        bool repeat =
            crosses && !cluster[from].empty() && cluster[from] == cluster[i] && copy_of[from] != copy_of[i];
        add_edge(ids[rep[from]], to, label, repeat);
      } else if (graph_inputs.count(in)) {
        add_edge("in:" + in, to, label, false);
      } else {
        std::string vid = "value:" + in;
        if (dangling.insert(in).second) {
          gnode v;
          v.id = vid;
          v.label = short_name(in);
          v.kind = "value";
          if (!label.empty()) v.details.push_back(label);
          g.nodes.push_back(std::move(v));
        }
        add_edge(vid, to, label, false);
      }
    }
  }

  // Every op not hidden: drawn when it represents itself, else its initializers go to its representative
  // (overlays and diffs see them); then the edges into it.
  void draw_ops() {
    for (size_t i = 0; i < n; ++i) {
      if (hidden[i]) continue;
      if (rep[i] == i)
        draw_op(i);
      else
        for (const auto& in : og.nodes[i].inputs)
          if (inits.count(in)) folded_tensors[rep[i]].push_back(in);
      draw_edges_into(i);
    }
    for (const auto& [r, names] : folded_tensors) {
      gnode& gn = g.nodes[node_at.at(ids[r])];
      gn.tensors.insert(gn.tensors.end(), names.begin(), names.end());
      gn.stored.insert(gn.stored.end(), names.begin(), names.end());
    }
  }

  void draw_outputs() {
    for (const auto& out : og.outputs) {
      draw_value_end("out:" + out, out, "output");
      auto p = producer.find(out);
      if (p != producer.end() && !hidden[p->second])
        add_edge(ids[rep[p->second]], "out:" + out, "", false);
      else if (graph_inputs.count(out))
        add_edge("in:" + out, "out:" + out, "", false);
    }
  }

  void findings_and_notes() {
    for (const auto& op : unknown_ops)
      g.findings.push_back({severity::low, "graph.unknown_op", op,
                            "op '" + op + "' is not a known ONNX operator: drawn as a generic node",
                            UINT64_MAX});
    for (const auto& op : custom_ops)
      g.findings.push_back({severity::info, "graph.custom_op", op,
                            "op '" + op + "' is from a custom domain: drawn as a generic node", UINT64_MAX});
    if (!dangling.empty())
      g.findings.push_back({severity::info, "graph.unproduced_value", *dangling.begin(),
                            std::to_string(dangling.size()) +
                                " value(s) are consumed but produced by no node, graph input or initializer "
                                "(outer-scope or loop-carried values of inlined subgraphs)",
                            UINT64_MAX});
    size_t drawn = 0;
    for (size_t i = 0; i < n; ++i) drawn += rep[i] == i && !hidden[i];
    if (hidden_count)
      g.notes.push_back(std::to_string(hidden_count) + " Constant ops shown on their consumers");
    if (shape_hidden)
      g.notes.push_back(
          std::to_string(shape_hidden) +
          " shape-arithmetic ops (Shape, Gather, Concat ... of sizes) left out; --expand draws them");
    if (drawn < n)
      g.notes.push_back(std::to_string(n) + " ops drawn as " + std::to_string(drawn) +
                        " (identical layers folded; --expand draws all)");
  }
};

}  // namespace

graph graph_from_onnx(const archive& a, const graph_options& opt) {
  onnx_drawing d(a, opt);
  d.title();
  d.index();
  d.fold();
  for (const auto& in : d.og.inputs) d.draw_value_end("in:" + in, in, "input");
  d.hide();
  d.draw_ops();
  d.draw_outputs();
  d.findings_and_notes();
  return std::move(d.g);
}

}  // namespace gb::viz
