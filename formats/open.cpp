// archive_open(): one entry point for files and folders. Magic bytes first, extension second.
#include <sys/stat.h>

#include <cstring>
#include <filesystem>

#include "formats/archive.h"
#include "formats/loaders.h"
#include "formats/pickle.h"
#include "formats/reader.h"
#include "formats/tokenizer_files.h"

namespace gb {
namespace {

std::string extension_of(std::string_view name) {
  auto slash = name.find_last_of('/');
  std::string_view base = slash == std::string_view::npos ? name : name.substr(slash + 1);
  auto dot = base.find_last_of('.');
  if (dot == std::string_view::npos) return "";
  std::string e(base.substr(dot + 1));
  for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

bool starts_with(const uint8_t* d, uint64_t n, const char* magic, size_t len) {
  return n >= len && std::memcmp(d, magic, len) == 0;
}

// What the extension claims, for the mismatch finding.
file_format format_from_extension(const std::string& ext) {
  if (ext == "safetensors") return file_format::safetensors;
  if (ext == "gguf") return file_format::gguf;
  if (ext == "onnx") return file_format::onnx;
  if (ext == "pt" || ext == "pth" || ext == "ckpt") return file_format::pytorch_zip;
  if (ext == "pkl" || ext == "pickle" || ext == "joblib") return file_format::pickle;
  if (ext == "npy" || ext == "npz") return file_format::numpy;
  if (ext == "zip") return file_format::zip;
  if (ext == "7z") return file_format::sevenzip;
  if (ext == "json") return file_format::json;
  if (ext == "model") return file_format::sentencepiece;
  return file_format::unknown;
}

bool compatible(file_format claimed, file_format actual) {
  if (claimed == file_format::unknown || claimed == actual) return true;
  // .pt/.pth/.ckpt may be zip or legacy torch.save; .pkl may hold a legacy checkpoint
  if (claimed == file_format::pytorch_zip &&
      (actual == file_format::pytorch_legacy || actual == file_format::pickle))
    return true;
  if (claimed == file_format::pickle && actual == file_format::pytorch_legacy) return true;
  if (claimed == file_format::numpy && actual == file_format::zip) return true;  // .npz is a zip
  if (claimed == file_format::zip && actual == file_format::pytorch_zip) return true;
  return false;
}

std::string base_name(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string dir_name(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

// Stand-alone tokenizer files (HF tokenizer.json, GPT-2 encoder.json + vocab.bpe) and a config.json
// naming its folder. Returns false when `path` is none of these.
bool open_tokenizer_file(archive& a, const std::string& path, const mapped_file_ptr& m) {
  const std::string base = base_name(path);
  std::string_view text(reinterpret_cast<const char*>(m->data()), m->size());
  if (base == "config.json") {
    loaders::load_hf_folder(a, dir_name(path), {});
    return true;
  }
  if (base == "tokenizer.json") {
    a.format = file_format::json;
    a.format_version = "tokenizer.json";
    a.files.push_back({path, "tokenizer", file_format::json, m});
    a.tokenizer = std::make_shared<const vocab>(vocab_from_tokenizer_json(text, &a.findings));
    return true;
  }
  if (base == "encoder.json" || base == "vocab.bpe") {
    const std::string dir = dir_name(path);
    mapped_file_ptr enc = base == "encoder.json" ? m : mapped_file::open(dir + "/encoder.json");
    mapped_file_ptr bpe = base == "vocab.bpe" ? m : mapped_file::open(dir + "/vocab.bpe");
    a.format = file_format::json;
    a.format_version = "gpt2 encoder.json + vocab.bpe";
    a.files.push_back({enc->path(), "tokenizer", file_format::json, enc});
    a.files.push_back({bpe->path(), "tokenizer", file_format::unknown, bpe});
    a.tokenizer = std::make_shared<const vocab>(vocab_from_gpt2_files(
        std::string_view(reinterpret_cast<const char*>(enc->data()), enc->size()),
        std::string_view(reinterpret_cast<const char*>(bpe->data()), bpe->size()), &a.findings));
    return true;
  }
  return false;
}

}  // namespace

file_format format_sniff(const uint8_t* d, uint64_t n, std::string_view filename) {
  std::string ext = extension_of(filename);
  if (starts_with(d, n, "GGUF", 4)) return file_format::gguf;
  if (starts_with(d, n, "PK\x03\x04", 4) || starts_with(d, n, "PK\x05\x06", 4)) {
    // torch zip checkpoints hold "<prefix>/data.pkl"; the loader tells zip from pytorch-zip for sure
    return (ext == "zip" || ext == "npz") ? file_format::zip : file_format::pytorch_zip;
  }
  if (starts_with(d, n, "7z\xBC\xAF\x27\x1C", 6)) return file_format::sevenzip;
  if (starts_with(d, n, "\x93NUMPY", 6)) return file_format::numpy;
  // legacy torch.save: pickle protocol 2 then LONG1 of the magic number 0x1950a86a20f9469cfc6c
  if (starts_with(d, n, "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 14))
    return file_format::pytorch_legacy;
  if (n >= 10 && d[8] == '{') {
    uint64_t hs = load_le<uint64_t>(d);
    if (hs >= 2 && hs <= n - 8) return file_format::safetensors;
  }
  if (n >= 2 && d[0] == 0x80 && d[1] >= 2 && d[1] <= 5) return file_format::pickle;
  if (n >= 1 && (ext == "pkl" || ext == "pickle" || ext == "joblib") && pickle::is_opcode(d[0]))
    return file_format::pickle;  // protocol 0/1 pickles have no header: any opcode may start them
  if (ext == "safetensors") return file_format::safetensors;  // the loader says exactly what is wrong
  if (ext == "onnx" && n >= 1 && d[0] == 0x08) return file_format::onnx;
  if (ext == "model" && n >= 1 && d[0] == 0x0a) return file_format::sentencepiece;
  if (n >= 1 && (d[0] == '{' || d[0] == '[') && ext == "json") return file_format::json;
  if (loaders::llama2c_plausible(d, n)) return file_format::llama2c;
  if (loaders::llama2c_tokenizer_plausible(d, n)) return file_format::llama2c_tokenizer;
  if (ext == "onnx") return file_format::onnx;  // let the protobuf parser decide
  return file_format::unknown;
}

result<archive> archive_open(const std::string& path, const open_options& opt) {
  return capture(path, [&]() -> archive {
    archive a;
    a.path = path;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) fail(errc::not_found, 0, "no such file or folder: " + path);
    if (S_ISDIR(st.st_mode)) {
      loaders::load_hf_folder(a, path, opt);
      return a;
    }
    std::string ext = extension_of(path);
    if (ext == "json" && path.size() >= 23 &&
        path.compare(path.size() - 23, 23, ".safetensors.index.json") == 0) {
      loaders::load_safetensors_index(a, path, opt);
      return a;
    }
    mapped_file_ptr m = mapped_file::open(path);
    if (m->size() == 0) fail(errc::empty_file, 0, "empty file (0 bytes)");
    if (open_tokenizer_file(a, path, m)) return a;
    file_format f = format_sniff(m->data(), m->size(), path);
    file_format claimed = format_from_extension(ext);
    if (!compatible(claimed, f))
      a.add_finding(severity::medium, "file.extension_mismatch", path,
                    std::string("extension ." + ext + " suggests ") + file_format_name(claimed) +
                        " but the bytes are " + file_format_name(f),
                    0);
    archive_load_as(a, m, f, opt);
    return a;
  });
}

void archive_load_as(archive& a, const mapped_file_ptr& m, file_format f, const open_options& opt) {
  switch (f) {
    case file_format::safetensors:
      loaders::load_safetensors(a, m, opt);
      break;
    case file_format::gguf:
      loaders::load_gguf(a, m, opt);
      break;
    case file_format::onnx:
      loaders::load_onnx(a, m, opt);
      break;
    case file_format::pytorch_zip:
    case file_format::zip:
      loaders::load_pytorch_zip(a, m, opt);
      break;
    case file_format::pytorch_legacy:
      loaders::load_pytorch_legacy(a, m, opt);
      break;
    case file_format::pickle:
      loaders::load_pickle(a, m, opt);
      break;
    case file_format::numpy:
      loaders::load_numpy(a, m, opt);
      break;
    case file_format::llama2c:
      loaders::load_llama2c(a, m, opt);
      break;
    case file_format::llama2c_tokenizer:
      loaders::load_llama2c_tokenizer(a, m, opt);
      break;
    case file_format::sentencepiece:
      loaders::load_sentencepiece(a, m, opt);
      break;
    case file_format::sevenzip:
      fail(errc::unsupported, 0, "7z archive: glassbox cannot open 7z containers; contents not examined");
    default: {
      char hex[64] = {0};
      for (uint64_t i = 0; i < 8 && i < m->size(); ++i) std::snprintf(hex + 3 * i, 4, "%02x ", m->data()[i]);
      fail(errc::bad_magic, 0, std::string("unrecognised format (first bytes: ") + hex + ")");
    }
  }
}

}  // namespace gb
