// bench_scan_fixture: writes the inputs bench_scan.sh times `glassbox scan` on.
//   bench_scan_fixture big OUT.pt MB       a torch.save-style zip checkpoint of ~MB megabytes (stored
//   storages) bench_scan_fixture folder DIR N        N small files: benign pickles, JSON configs, text
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "formats/zip.h"

namespace {

std::string uni(const std::string& s) {
  uint32_t n = static_cast<uint32_t>(s.size());
  return std::string("X") + std::string(reinterpret_cast<const char*>(&n), 4) + s;
}
std::string i32(int32_t v) {
  return std::string("J") + std::string(reinterpret_cast<const char*>(&v), 4);
}

// One _rebuild_tensor_v2 call for a 2-D float tensor (rows, cols) in storage `key`.
std::string tensor_pkl(const std::string& key, int rows, int cols) {
  return "ctorch._utils\n_rebuild_tensor_v2\n((" + uni("storage") + "ctorch\nFloatStorage\n" + uni(key) +
         uni("cpu") + i32(rows * cols) + "tQ" + i32(0) + "(" + i32(rows) + i32(cols) + "t(" + i32(cols) +
         i32(1) + "t\x89}tR";
}

std::string state_dict(int n, int rows, int cols) {
  std::string s =
      "\x80\x02"
      "ccollections\nOrderedDict\n)R(";
  for (int i = 0; i < n; ++i)
    s += uni("layers." + std::to_string(i) + ".weight") + tensor_pkl(std::to_string(i), rows, cols);
  return s + "u.";
}

int big(const char* out, long mb) {
  const int tensors = 100;
  const int cols = 1024;
  long per = mb * (1l << 20) / tensors;  // bytes per tensor
  int rows = static_cast<int>(per / (4 * cols));
  std::FILE* f = std::fopen(out, "wb");
  if (!f) return 1;
  gb::zip::writer w([&](const uint8_t* p, size_t n) { std::fwrite(p, 1, n, f); });
  std::string pkl = state_dict(tensors, rows, cols);
  w.add("archive/data.pkl", reinterpret_cast<const uint8_t*>(pkl.data()), pkl.size(), false, 64);
  w.add("archive/byteorder", reinterpret_cast<const uint8_t*>("little"), 6);
  for (int i = 0; i < tensors; ++i) {
    uint32_t seed = 0x9e3779b9u * static_cast<uint32_t>(i + 1);
    w.add_stream("archive/data/" + std::to_string(i), static_cast<uint64_t>(rows) * cols * 4,
                 [&](uint8_t* buf, size_t n) {
                   for (size_t k = 0; k + 4 <= n; k += 4) {
                     seed = seed * 1664525u + 1013904223u;
                     float v = static_cast<float>(static_cast<int32_t>(seed)) * 1e-11f;
                     std::memcpy(buf + k, &v, 4);
                   }
                 });
  }
  w.add("archive/version", reinterpret_cast<const uint8_t*>("3\n"), 2);
  w.finish();
  std::fclose(f);
  std::printf("wrote %s: %llu bytes, %d tensors of [%d, %d] f32\n", out,
              static_cast<unsigned long long>(w.written()), tensors, rows, cols);
  return 0;
}

int folder(const char* dir, int n) {
  std::filesystem::create_directories(dir);
  for (int i = 0; i < n; ++i) {
    std::string base = std::string(dir) + "/f" + std::to_string(i);
    std::ofstream o;
    if (i % 10 < 5) {
      o.open(base + ".pkl", std::ios::binary);
      o << state_dict(0, 1, 1) << std::flush;  // an empty OrderedDict state dict
    } else if (i % 10 < 8) {
      o.open(base + ".json", std::ios::binary);
      o << R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "chat_template": "{% for m in messages %}{{ m['content'] }}{% endfor %}"})";
    } else {
      o.open(base + ".md", std::ios::binary);
      o << "# model card " << i << "\n";
    }
  }
  std::printf("wrote %d files under %s\n", n, dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "big") == 0) return big(argv[2], std::atol(argv[3]));
  if (argc == 4 && std::strcmp(argv[1], "folder") == 0) return folder(argv[2], std::atoi(argv[3]));
  std::fprintf(stderr, "usage: bench_scan_fixture big OUT.pt MB | folder DIR N\n");
  return 2;
}
