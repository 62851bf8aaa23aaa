// Sealing of one-time secrets (OTP codes, password-reset tokens), so that they
// are never stored in clear.
//
// A secret field of an event is replaced, as soon as the payload is parsed, by
// a sealed token: "sealed:v1:" + base64url(nonce | AES-256-GCM ciphertext |
// tag). Tokens sit in the notification's personalization; only the delivery
// path opens them, in memory, just before handing the message to a provider
// (see secret_delivery.h). What is stored and shown in history is a mask of
// the same length ("******").
//
// The key comes from configuration (COMMS_SECRETS_KEY, 64 hex digits) so that
// any instance can open what another sealed; without it, a random key lives
// in this process only, and a secret still pending when the process restarts
// can no longer be sent (its notification fails with a clear reason; an OTP
// is short-lived anyway and the user asks for a new one).
//
// Thread-safety: a Sealer is immutable after construction; share it freely.
#pragma once
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace comms::intake {

class Sealer {
 public:
  // `hex_key`: 64 hex digits, or empty for a random per-process key.
  // Throws std::invalid_argument when the key is malformed (the message
  // names COMMS_SECRETS_KEY and never contains the key).
  explicit Sealer(std::string_view hex_key);
  bool ephemeral() const { return ephemeral_; }

  std::string seal(std::string_view clear) const;
  // nullopt when `token` is not a token sealed with this key.
  std::optional<std::string> open(std::string_view token) const;

  static bool is_token(std::string_view s);
  // The masked form of a secret: '*' for each byte.
  static std::string mask(std::string_view clear);

 private:
  std::array<unsigned char, 32> key_{};
  bool ephemeral_ = false;
};

// How sealed tokens inside a JSON personalization are to be shown.
enum class Reveal { clear, masked };

// Returns `personalization_json` (a JSON object text) with every string value
// that is a sealed token replaced by its clear or masked text. nullopt when a
// token cannot be opened. Other values are unchanged.
std::optional<std::string> reveal_json(std::string_view personalization_json, const Sealer& sealer,
                                       Reveal how);
// True when `text` contains a sealed token (a cheap scan).
bool contains_token(std::string_view text);

}  // namespace comms::intake
