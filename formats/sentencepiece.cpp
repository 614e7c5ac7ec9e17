// SentencePiece tokenizer.model -> vocab, through our own minimal proto (sentencepiece_model.proto).
#include <google/protobuf/io/coded_stream.h>

#include <climits>
#include <cmath>
#include <string>

#include "formats/loaders.h"
#include "formats/meta_make.h"
#include "formats/reader.h"
#include "formats/tokenizer_files.h"
#include "sentencepiece_model.pb.h"

namespace gb {
namespace {

constexpr uint64_t k_max_bytes = uint64_t{INT_MAX};
constexpr int k_max_pieces = 1 << 22;

void note(std::vector<finding>* fs, severity s, const char* code, std::string msg) {
  if (fs) fs->push_back({s, code, "tokenizer.model", std::move(msg), UINT64_MAX});
}

void parse_model(const uint8_t* data, uint64_t size, spm::ModelProto& m) {
  if (size > k_max_bytes) fail(errc::limit, 0, "SentencePiece: model larger than protobuf's 2 GB cap");
  google::protobuf::io::CodedInputStream in(data, static_cast<int>(size));
  in.SetTotalBytesLimit(static_cast<int>(k_max_bytes));
  in.SetRecursionLimit(16);
  if (!m.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
    fail(errc::bad_protobuf, static_cast<uint64_t>(in.CurrentPosition()),
         "SentencePiece: the bytes do not parse as a sentencepiece ModelProto");
}

}  // namespace

vocab vocab_from_sentencepiece(const uint8_t* data, uint64_t size, std::vector<finding>* findings) {
  spm::ModelProto m;
  parse_model(data, size, m);
  if (m.pieces_size() == 0) fail(errc::bad_value, 0, "SentencePiece: model has no pieces");
  if (m.pieces_size() > k_max_pieces)
    fail(errc::limit, 0,
         "SentencePiece: " + std::to_string(m.pieces_size()) + " pieces exceed the cap of " +
             std::to_string(k_max_pieces));
  const spm::TrainerSpec& ts = m.trainer_spec();
  const spm::NormalizerSpec& ns = m.normalizer_spec();
  vocab v;
  v.source = "tokenizer.model";
  v.pre = "default";
  switch (ts.model_type()) {
    case 1:
      v.model = "unigram";
      break;
    case 2:
      v.model = "llama";
      break;
    default:
      v.model = "none";
      note(findings, severity::medium, "sentencepiece.model_type",
           "model_type " + std::to_string(ts.model_type()) +
               " (word/char or unknown) is not a tokenizer glassbox runs");
  }
  uint64_t empty = 0, bad_utf8 = 0, bad_type = 0, non_finite = 0;
  v.tokens.reserve(static_cast<size_t>(m.pieces_size()));
  for (const auto& p : m.pieces()) {
    if (p.piece().empty()) ++empty;
    if (!utf8_valid(p.piece())) ++bad_utf8;
    if (!std::isfinite(p.score())) ++non_finite;
    int32_t type = p.type();
    if (type < 1 || type > 6) ++bad_type, type = 1;
    v.tokens.push_back(p.piece());
    v.scores.push_back(p.score());
    v.token_types.push_back(type);
  }
  if (empty)
    note(findings, severity::low, "sentencepiece.empty_piece", std::to_string(empty) + " empty pieces");
  if (bad_utf8)
    note(findings, severity::low, "sentencepiece.bad_utf8",
         std::to_string(bad_utf8) + " pieces are not valid UTF-8");
  if (bad_type)
    note(findings, severity::low, "sentencepiece.bad_type",
         std::to_string(bad_type) + " pieces have an unknown type (read as normal)");
  if (non_finite)
    note(findings, severity::medium, "sentencepiece.non_finite_score",
         std::to_string(non_finite) + " scores are NaN or infinite");

  const int32_t n = m.pieces_size();
  auto id = [&](int32_t x, const char* what) -> int32_t {
    if (x < -1 || x >= n) {
      note(findings, severity::medium, "sentencepiece.bad_special_id",
           std::string(what) + " " + std::to_string(x) + " is outside the " + std::to_string(n) + " pieces");
      return -1;
    }
    return x;
  };
  v.unk_id = id(ts.unk_id(), "unk_id");
  v.bos_id = id(ts.bos_id(), "bos_id");
  v.eos_id = id(ts.eos_id(), "eos_id");
  v.pad_id = id(ts.pad_id(), "pad_id");
  v.add_bos = v.bos_id >= 0;  // the Llama convention; tokenizer_config.json overrides it in HF folders
  v.add_eos = false;
  v.add_space_prefix = ns.add_dummy_prefix();
  v.byte_fallback = ts.byte_fallback();
  return v;
}

namespace loaders {

void load_sentencepiece(archive& a, const mapped_file_ptr& m, const open_options&) {
  std::vector<finding> fs;
  auto v = std::make_shared<vocab>(vocab_from_sentencepiece(m->data(), m->size(), &fs));
  for (finding& f : fs) f.where = m->path(), a.findings.push_back(std::move(f));
  spm::ModelProto proto;  // a second, cheap parse for the settings shown as metadata
  parse_model(m->data(), m->size(), proto);
  a.format = file_format::sentencepiece;
  a.format_version = "sentencepiece";
  a.files.push_back({m->path(), "tokenizer", file_format::sentencepiece, m});
  const auto& ts = proto.trainer_spec();
  const auto& ns = proto.normalizer_spec();
  auto put = [&](const char* k, meta_value val) { a.metadata.emplace_back(k, std::move(val)); };
  put("tokenizer.ggml.model", meta_str(v->model));
  put("sentencepiece.model_type", meta_int(ts.model_type()));
  put("sentencepiece.piece_count", meta_int(proto.pieces_size()));
  if (ts.has_vocab_size()) put("sentencepiece.vocab_size", meta_int(ts.vocab_size()));
  put("sentencepiece.byte_fallback", meta_bool(ts.byte_fallback()));
  put("sentencepiece.unk_id", meta_int(ts.unk_id()));
  put("sentencepiece.bos_id", meta_int(ts.bos_id()));
  put("sentencepiece.eos_id", meta_int(ts.eos_id()));
  put("sentencepiece.pad_id", meta_int(ts.pad_id()));
  if (!ns.name().empty()) put("sentencepiece.normalizer", meta_str(ns.name()));
  put("sentencepiece.add_dummy_prefix", meta_bool(ns.add_dummy_prefix()));
  put("sentencepiece.remove_extra_whitespaces", meta_bool(ns.remove_extra_whitespaces()));
  put("sentencepiece.escape_whitespaces", meta_bool(ns.escape_whitespaces()));
  put("sentencepiece.precompiled_charsmap_bytes",
      meta_int(static_cast<int64_t>(ns.precompiled_charsmap().size())));
  a.tokenizer = std::move(v);
}

}  // namespace loaders
}  // namespace gb
