#include "tests/support/data.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace gb::test {

bool in_ci() {
  const char* c = std::getenv("CI");
  return c && *c;
}

std::string data_root() {
  if (const char* d = std::getenv("GLASSBOX_DATA"); d && *d) return d;
  return std::string(GB_SOURCE_DIR) + "/../shared/data";
}

std::string data_path(const std::string& rel) {
  std::string p = data_root() + "/" + rel;
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return "";
  return p;
}

std::vector<std::string> data_paths(const std::vector<std::string>& rels, std::string* missing) {
  std::vector<std::string> paths;
  for (const std::string& rel : rels) {
    paths.push_back(data_path(rel));
    if (paths.back().empty()) {
      *missing = rel;
      return {};
    }
  }
  return paths;
}

std::vector<std::string> stories260k_formats() {
  return {"models/stories260K/stories260K.gguf", "models/stories260K/tinyllamas-stories-260k-f32.ggufv1.gguf",
          "models/stories260K/stories260K.bin", "models/stories260K/hf"};
}

std::string temp_dir(const std::string& name) {
  std::filesystem::path p = std::filesystem::path(GB_BINARY_DIR) / "test-tmp" / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

std::string glassbox_binary() {
  if (const char* g = std::getenv("GLASSBOX"); g && *g) return g;
  return std::string(GB_BINARY_DIR) + "/cli/glassbox";
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::string read_text(const std::string& path) {
  const std::vector<uint8_t> b = read_file(path);
  return std::string(b.begin(), b.end());
}

std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

void write_file(const std::string& path, const void* data, size_t size) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!f) throw std::runtime_error("cannot write " + path);
}

void write_file(const std::string& path, const std::string& text) {
  write_file(path, text.data(), text.size());
}

std::string quoted(const std::string& s) {
  return "'" + s + "'";
}

int run_command(const std::string& cmd, std::string* out) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::array<char, 65536> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0)
    if (out) out->append(buf.data(), n);
  int st = ::pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int run_glassbox(const std::string& args, std::string* out, bool merge_stderr) {
  return run_command(glassbox_binary() + " " + args + (merge_stderr ? " 2>&1" : " 2>/dev/null"), out);
}

int run_glassbox_maxrss(const std::vector<std::string>& args, std::string* out, long* maxrss_kib) {
  const std::string bin = glassbox_binary();
  std::vector<char*> argv{const_cast<char*>(bin.c_str())};
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  std::array<char, 65536> buf;
  ssize_t n;
  while ((n = ::read(fds[0], buf.data(), buf.size())) > 0)
    if (out) out->append(buf.data(), static_cast<size_t>(n));
  ::close(fds[0]);
  int st = 0;
  rusage ru{};
  if (::wait4(pid, &st, 0, &ru) != pid) return -1;
  if (maxrss_kib) *maxrss_kib = ru.ru_maxrss;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string llamacpp_node_path() {
  const char* env = std::getenv("LLAMACPP_NODE_PATH");
  const std::string path = env && *env ? env : std::string(GB_SOURCE_DIR) + "/bench/node_modules";
  struct stat st {};
  if (::stat((path + "/node-llama-cpp").c_str(), &st) != 0 ||
      std::system("node --version >/dev/null 2>&1") != 0)
    return "";
  return path;
}

}  // namespace gb::test
