// inspect_summary: open a model (any format glassbox reads) and print what it is: architecture, size,
// hyperparameters, dtypes and tokenizer. Header data only: no weight bytes are read.
//
//   example_inspect_summary stories260K.gguf
#include <cstdio>
#include <memory>

#include "formats/archive.h"
#include "inspect/model.h"
#include "inspect/summary.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MODEL\n", argv[0]);
    return 2;
  }
  gb::result<gb::archive> ar = gb::archive_open(argv[1]);
  if (!ar) {
    std::fprintf(stderr, "%s\n", ar.err().to_string().c_str());
    return 3;
  }
  gb::result<gb::model> m = gb::model_build(std::make_shared<const gb::archive>(std::move(ar.value())));
  if (!m) {
    std::fprintf(stderr, "%s\n", m.err().to_string().c_str());
    return 3;
  }
  const gb::model_summary s = gb::summary_build(m.value());
  const gb::hparams& hp = m.value().hp;
  std::printf("%s (%s, family %s), %s %s\n", argv[1], s.architecture.c_str(), s.family.c_str(),
              s.format.c_str(), s.format_version.c_str());
  std::printf("parameters %llu in %llu tensors, %llu bytes on disk\n",
              static_cast<unsigned long long>(s.parameter_count),
              static_cast<unsigned long long>(s.tensor_count), static_cast<unsigned long long>(s.file_bytes));
  std::printf("layers %lld, width %lld, heads %lld (kv %lld), ffn %lld, vocab %lld, context %lld\n",
              static_cast<long long>(hp.n_layer), static_cast<long long>(hp.n_embd),
              static_cast<long long>(hp.n_head), static_cast<long long>(hp.n_head_kv),
              static_cast<long long>(hp.n_ff), static_cast<long long>(hp.n_vocab),
              static_cast<long long>(hp.n_ctx));
  for (const gb::dtype_share& d : s.dtypes)
    std::printf("  %-6s %llu tensors, %llu bytes\n", gb::dtype_name(d.type),
                static_cast<unsigned long long>(d.tensors), static_cast<unsigned long long>(d.bytes));
  if (s.tokenizer.present)
    std::printf("tokenizer %s, %llu pieces (from %s)\n", s.tokenizer.model.c_str(),
                static_cast<unsigned long long>(s.tokenizer.size), s.tokenizer.source.c_str());
  return s.parameter_count > 0 ? 0 : 1;
}
