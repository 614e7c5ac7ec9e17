// viz/openssl_util.h: the OpenSSL helpers the signers and verifiers of viz/ share (report manifests,
// OMS/Sigstore bundles): owning pointers, PEM keys read from a file, and one sign / verify of a byte
// string. For .cpp files of viz/ only: library headers never expose OpenSSL types.
//
//   gb::viz::pkey_ptr key = gb::viz::pem_key(path, /*priv=*/true);   // "PATH: not a PEM private key"
//   std::string sig = gb::viz::sign_with(key.get(), EVP_sha256(), msg, path);
//   bool ok = gb::viz::verify_with(key.get(), EVP_sha256(), msg, sig);  // md nullptr: Ed25519 / Ed448
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>

#include <memory>
#include <string>

namespace gb::viz {

template <class T, void (*F)(T*)>
struct freer {
  void operator()(T* p) const { F(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, freer<EVP_PKEY, EVP_PKEY_free>>;
using bio_ptr = std::unique_ptr<BIO, freer<BIO, BIO_free_all>>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, freer<EVP_MD_CTX, EVP_MD_CTX_free>>;

// A read-only memory BIO over s (s must outlive it).
bio_ptr mem_bio(const std::string& s);
// The PEM private (priv) or public key in the file at path; errc::not_found / errc::bad_value otherwise.
pkey_ptr pem_key(const std::string& path, bool priv);
// The signature of msg with k and digest md; `what` names the key in the error.
std::string sign_with(EVP_PKEY* k, const EVP_MD* md, const std::string& msg, const std::string& what);
bool verify_with(EVP_PKEY* k, const EVP_MD* md, const std::string& msg, const std::string& sig);

}  // namespace gb::viz
