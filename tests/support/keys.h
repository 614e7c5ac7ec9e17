// tests/support/keys.h: what the signature suites share: a file's text, and a fresh EC key pair made by the
// openssl command line (the real tool, installed by tools/setup.sh).
//
//   std::string k = gb::test::make_ec_key(dir, "secp384r1");   // k = private PEM, k + ".pub" = public PEM
//   if (k.empty()) -> openssl missing
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/data.h"

namespace gb::test {

inline std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// "" when openssl could not make the key.
inline std::string make_ec_key(const std::string& dir, const std::string& curve) {
  const std::string k = dir + "/" + curve + ".pem";
  const std::string cmd = "openssl ecparam -name " + curve + " -genkey -noout -out " + k +
                          " 2>/dev/null && openssl pkey -in " + k + " -pubout -out " + k + ".pub 2>/dev/null";
  return run_command(cmd, nullptr) == 0 ? k : "";
}

}  // namespace gb::test
