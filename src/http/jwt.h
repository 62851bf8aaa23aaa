// JWT bearer tokens: verification (HS256 or RS256, via libjwt) with a cache of verified tokens,
// and minting HS256 tokens for the CLI and tests.
//
// Accepted claims: "sub" (required), the role from "role" (string or array),
// "roles" (array) or the .NET claim ".../identity/claims/role", taking the highest known role
// (customer < staff < service < admin); "branch" (optional). "exp" is required; "exp"/"nbf" are
// checked with AuthOptions::leeway; "iss"/"aud" only when configured. The header's alg must equal
// the configured algorithm ("none" never verifies).
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "http/message.h"
#include "http/options.h"

namespace comms::http {

enum class TokenError {
  none,
  not_configured,
  malformed,
  bad_signature,
  wrong_alg,
  expired,
  not_yet_valid,
  wrong_issuer,
  wrong_audience,
  no_subject,
  no_role
};
std::string_view to_string(TokenError e);

struct Verified {
  Principal principal;  // meaningful when error == none
  TokenError error = TokenError::none;
  bool ok() const { return error == TokenError::none; }
};

// Thread-safe. Verified tokens are cached by their exact text until their exp, so repeated
// requests with one token pay for one hash lookup, not a signature check. The cache holds at most
// AuthOptions::cache_capacity tokens (expired ones are dropped first, then arbitrary ones).
class TokenVerifier {
 public:
  // Reads the RS256 key file when configured. Throws std::invalid_argument when both or an
  // unreadable key are configured.
  explicit TokenVerifier(AuthOptions options);
  ~TokenVerifier();

  Verified verify(std::string_view token) const;

 private:
  struct Cache;
  Verified verify_uncached(std::string_view token, std::int64_t now) const;

  AuthOptions options_;
  std::string key_;  // the HS256 secret or the RS256 PEM; empty: not configured
  int alg_ = 0;      // jwt_alg_t
  std::unique_ptr<Cache> cache_;
};

// An HS256 token with sub, role, iat, exp = now + ttl, and branch, iss and aud when not empty.
// Throws std::runtime_error if libjwt fails.
std::string mint_hs256(std::string_view secret, std::string_view sub, Role role, std::chrono::seconds ttl,
                       std::string_view branch = {}, std::string_view issuer = {}, std::string_view audience = {});

}  // namespace comms::http
