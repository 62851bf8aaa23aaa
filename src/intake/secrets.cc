#include "intake/secrets.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <boost/json.hpp>
#include <memory>
#include <stdexcept>
#include <vector>

namespace comms::intake {
namespace {

constexpr std::string_view kPrefix = "sealed:v1:";
constexpr std::size_t kNonce = 12;
constexpr std::size_t kTag = 16;
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string b64url_encode(const unsigned char* data, std::size_t n) {
  std::string out;
  out.reserve((n * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const unsigned v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (n - i == 1) {
    const unsigned v = data[i] << 16;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
  } else if (n - i == 2) {
    const unsigned v = (data[i] << 16) | (data[i + 1] << 8);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
  }
  return out;
}

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::optional<std::vector<unsigned char>> b64url_decode(std::string_view s) {
  if (s.size() % 4 == 1) return std::nullopt;
  std::vector<unsigned char> out;
  out.reserve(s.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : s) {
    const int v = b64_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<unsigned char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherCtx new_ctx() {
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (!ctx) throw std::runtime_error("OpenSSL: cannot allocate a cipher context");
  return ctx;
}

}  // namespace

Sealer::Sealer(std::string_view hex_key) {
  if (hex_key.empty()) {
    if (RAND_bytes(key_.data(), static_cast<int>(key_.size())) != 1)
      throw std::runtime_error("OpenSSL: no randomness for the secrets key");
    ephemeral_ = true;
    return;
  }
  if (hex_key.size() != key_.size() * 2)
    throw std::invalid_argument("COMMS_SECRETS_KEY: expected 64 hex digits (32 bytes), got " +
                                std::to_string(hex_key.size()) + " characters");
  for (std::size_t i = 0; i < key_.size(); ++i) {
    const int hi = hex_value(hex_key[2 * i]);
    const int lo = hex_value(hex_key[2 * i + 1]);
    if (hi < 0 || lo < 0) throw std::invalid_argument("COMMS_SECRETS_KEY: expected hex digits only");
    key_[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
}

std::string Sealer::seal(std::string_view clear) const {
  std::vector<unsigned char> buf(kNonce + clear.size() + kTag);
  if (RAND_bytes(buf.data(), kNonce) != 1) throw std::runtime_error("OpenSSL: no randomness for a nonce");
  auto ctx = new_ctx();
  int len = 0;
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), buf.data()) != 1 ||
      EVP_EncryptUpdate(ctx.get(), buf.data() + kNonce, &len,
                        reinterpret_cast<const unsigned char*>(clear.data()),
                        static_cast<int>(clear.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), buf.data() + kNonce + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, buf.data() + kNonce + clear.size()) != 1)
    throw std::runtime_error("OpenSSL: sealing failed");
  return std::string(kPrefix) + b64url_encode(buf.data(), buf.size());
}

std::optional<std::string> Sealer::open(std::string_view token) const {
  if (!token.starts_with(kPrefix)) return std::nullopt;
  auto raw = b64url_decode(token.substr(kPrefix.size()));
  if (!raw || raw->size() < kNonce + kTag) return std::nullopt;
  const std::size_t n = raw->size() - kNonce - kTag;
  std::string clear(n, '\0');
  auto ctx = new_ctx();
  int len = 0;
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), raw->data()) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(clear.data()), &len, raw->data() + kNonce,
                        static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, raw->data() + kNonce + n) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(clear.data()) + len, &len) != 1)
    return std::nullopt;  // wrong key or tampered
  return clear;
}

bool Sealer::is_token(std::string_view s) {
  return s.starts_with(kPrefix);
}

std::string Sealer::mask(std::string_view clear) {
  return std::string(clear.size(), '*');
}

bool contains_token(std::string_view text) {
  return text.find(kPrefix) != std::string_view::npos;
}

std::optional<std::string> reveal_json(std::string_view personalization_json, const Sealer& sealer,
                                       Reveal how) {
  boost::system::error_code ec;
  auto v = boost::json::parse(personalization_json, ec);
  if (ec || !v.is_object()) return std::string(personalization_json);
  for (auto& kv : v.get_object()) {
    if (!kv.value().is_string()) continue;
    const std::string_view s = kv.value().get_string();
    if (!Sealer::is_token(s)) continue;
    auto clear = sealer.open(s);
    if (!clear) return std::nullopt;
    kv.value() = how == Reveal::clear ? *clear : Sealer::mask(*clear);
  }
  return boost::json::serialize(v);
}

}  // namespace comms::intake
