#include "viz/manifest.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "formats/error.h"
#include "formats/file_text.h"
#include "inspect/sha256.h"
#include "viz/openssl_util.h"

namespace gb::viz {

using nlohmann::json;

namespace {

const EVP_MD* digest_for(EVP_PKEY* k) {
  int id = EVP_PKEY_get_base_id(k);
  return (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) ? nullptr : EVP_sha256();
}

}  // namespace

manifest_file manifest_file_of(const std::string& path, const std::string& recorded) {
  manifest_file m;
  m.path = recorded;
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) fail(errc::not_found, 0, "cannot read " + path);
  m.bytes = static_cast<uint64_t>(f.tellg());
  m.sha256 = digest_hex(file_sha256(path));
  return m;
}

std::string manifest_build(const manifest_info& info, const std::vector<manifest_file>& inputs,
                           const std::vector<manifest_file>& outputs) {
  auto files = [](const std::vector<manifest_file>& v) {
    json a = json::array();
    for (const auto& f : v) a.push_back({{"path", f.path}, {"bytes", f.bytes}, {"sha256", f.sha256}});
    return a;
  };
  json seeds = json::object();
  for (const auto& [k, v] : info.seeds) seeds[k] = v;
  json j = {{"schema", "glassbox-manifest/1"},
            {"tool", {{"name", "glassbox"}, {"version", info.tool_version}, {"build", info.build}}},
            {"command", info.command},
            {"time", info.time},
            {"machine", info.machine},
            {"seeds", seeds},
            {"inputs", files(inputs)},
            {"outputs", files(outputs)}};
  return j.dump(2) + "\n";
}

void manifest_sign(const std::string& text, const std::string& key_path, const std::string& sig_path) {
  pkey_ptr key = pem_key(key_path, true);
  const std::string sig = sign_with(key.get(), digest_for(key.get()), text, key_path);
  std::ofstream(sig_path, std::ios::binary) << sig;
}

bool manifest_signature_valid(const std::string& text, const std::string& sig, const std::string& pub_path) {
  pkey_ptr key = pem_key(pub_path, false);
  return verify_with(key.get(), digest_for(key.get()), text, sig);
}

report_check report_verify(const std::string& dir, const std::string& pub) {
  report_check c;
  std::string text = file_text(dir + "/manifest.json");
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("outputs") || !j.contains("inputs"))
    fail(errc::bad_json, 0, dir + "/manifest.json is not a glassbox manifest");
  auto check = [&](const json& f, const std::string& path, const char* kind) {
    std::string want = f.value("sha256", "");
    std::ifstream probe(path, std::ios::binary);
    if (!probe) {
      c.problems.push_back(std::string(kind) + " missing: " + path);
      return;
    }
    ++c.files_checked;
    manifest_file now = manifest_file_of(path, path);
    if (now.sha256 != want || now.bytes != f.value("bytes", uint64_t{0}))
      c.problems.push_back(std::string(kind) + " changed: " + path + " (sha256 " + now.sha256.substr(0, 16) +
                           "..., manifest says " + want.substr(0, 16) + "...)");
  };
  for (const auto& f : j["outputs"]) check(f, dir + "/" + f.value("path", ""), "output");
  for (const auto& f : j["inputs"]) check(f, f.value("path", ""), "input");
  std::ifstream sigf(dir + "/manifest.sig", std::ios::binary);
  if (!pub.empty()) {
    if (!sigf)
      c.problems.push_back("no manifest.sig in " + dir + " but a key was given");
    else {
      std::string sig((std::istreambuf_iterator<char>(sigf)), std::istreambuf_iterator<char>());
      if (!manifest_signature_valid(text, sig, pub))
        c.problems.push_back("signature does not match manifest.json for key " + pub);
      else
        c.notes.push_back("signature valid for " + pub);
    }
  } else {
    c.notes.push_back(sigf ? "manifest.sig present but not checked (pass --key PUB.pem)"
                           : "manifest not signed");
  }
  return c;
}

std::string build_description() {
  std::string s;
#if defined(__clang__)
  s = "clang " __clang_version__;
#elif defined(__GNUC__)
  s = "gcc " __VERSION__;
#endif
#ifdef NDEBUG
  s += ", release";
#else
  s += ", debug";
#endif
#if defined(__AVX2__)
  s += ", avx2";
#endif
  return s;
}

std::string machine_description() {
  utsname u{};
  ::uname(&u);
  return std::string(u.sysname) + " " + u.release + " " + u.machine + ", " +
         std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)) + " cores";
}

}  // namespace gb::viz
