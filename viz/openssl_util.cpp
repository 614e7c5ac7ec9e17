// viz/openssl_util.cpp: PEM keys, one-shot sign and verify (see viz/openssl_util.h).
#include "viz/openssl_util.h"

#include <openssl/pem.h>

#include "formats/error.h"
#include "formats/file_text.h"

namespace gb::viz {

bio_ptr mem_bio(const std::string& s) {
  return bio_ptr(BIO_new_mem_buf(s.data(), static_cast<int>(s.size())));
}

pkey_ptr pem_key(const std::string& path, bool priv) {
  const std::string text = file_text(path, priv ? "private key" : "public key");
  bio_ptr b = mem_bio(text);
  EVP_PKEY* k = priv ? PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr)
                     : PEM_read_bio_PUBKEY(b.get(), nullptr, nullptr, nullptr);
  if (!k) fail(errc::bad_value, 0, path + ": not a PEM " + std::string(priv ? "private" : "public") + " key");
  return pkey_ptr(k);
}

std::string sign_with(EVP_PKEY* k, const EVP_MD* md, const std::string& msg, const std::string& what) {
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(msg.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, k) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, data, msg.size()) != 1)
    fail(errc::bad_value, 0, "OpenSSL could not sign with " + what);
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data, msg.size()) != 1)
    fail(errc::bad_value, 0, "OpenSSL could not sign with " + what);
  sig.resize(len);
  return sig;
}

bool verify_with(EVP_PKEY* k, const EVP_MD* md, const std::string& msg, const std::string& sig) {
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, k) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) == 1;
}

}  // namespace gb::viz
