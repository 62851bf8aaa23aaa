#include "http/jwt.h"

#include <jwt.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "http/text.h"

namespace comms::http {
namespace {

constexpr std::string_view kDotNetRoleClaim = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";
constexpr std::size_t kShards = 16;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct JwtDeleter {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;
struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};

std::optional<std::int64_t> as_seconds(const boost::json::value* v) {
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
  return std::nullopt;
}

// The highest known role named by a claim that is a string or an array of strings.
Role highest_role(const boost::json::value* v, Role so_far) {
  if (!v) return so_far;
  auto consider = [&](const boost::json::value& x) {
    if (!x.is_string()) return;
    if (auto r = parse_role(x.get_string()); r && *r > so_far) so_far = *r;
  };
  if (v->is_array()) {
    for (const auto& x : v->get_array()) consider(x);
  } else {
    consider(*v);
  }
  return so_far;
}

bool audience_matches(const boost::json::value* aud, std::string_view want) {
  if (!aud) return false;
  if (aud->is_string()) return aud->get_string() == want;
  if (aud->is_array()) {
    for (const auto& x : aud->get_array()) {
      if (x.is_string() && x.get_string() == want) return true;
    }
  }
  return false;
}

}  // namespace

std::string_view to_string(TokenError e) {
  switch (e) {
    case TokenError::none:
      return "none";
    case TokenError::not_configured:
      return "authentication is not configured";
    case TokenError::malformed:
      return "malformed token";
    case TokenError::bad_signature:
      return "invalid token";
    case TokenError::wrong_alg:
      return "unexpected token algorithm";
    case TokenError::expired:
      return "token expired";
    case TokenError::not_yet_valid:
      return "token not yet valid";
    case TokenError::wrong_issuer:
      return "unexpected token issuer";
    case TokenError::wrong_audience:
      return "unexpected token audience";
    case TokenError::no_subject:
      return "token has no subject";
    case TokenError::no_role:
      return "token has no known role";
  }
  return "invalid token";
}

struct TokenVerifier::Cache {
  struct Entry {
    Principal principal;
    std::int64_t expires;  // unix seconds, leeway included
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> map;  // guarded by mu
  };
  std::array<Shard, kShards> shards;
  std::size_t per_shard;

  explicit Cache(std::size_t capacity) : per_shard(std::max<std::size_t>(1, capacity / kShards)) {}
  Shard& shard(std::string_view token) { return shards[StringHash{}(token) % kShards]; }
};

TokenVerifier::TokenVerifier(AuthOptions options)
    : options_(std::move(options)), cache_(std::make_unique<Cache>(options_.cache_capacity)) {
  const bool hs = !options_.hs256_secret.empty();
  const bool rs = !options_.rs256_public_key_file.empty();
  if (hs && rs)
    throw std::invalid_argument("auth: configure either an HS256 secret or an RS256 key, not both");
  if (hs) {
    key_ = options_.hs256_secret;
    alg_ = JWT_ALG_HS256;
  } else if (rs) {
    std::ifstream in(options_.rs256_public_key_file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    key_ = text.str();
    if (!in || key_.find("-----BEGIN") == std::string::npos) {
      throw std::invalid_argument("auth: cannot read a PEM public key from " +
                                  options_.rs256_public_key_file);
    }
    alg_ = JWT_ALG_RS256;
  }
}

TokenVerifier::~TokenVerifier() = default;

Verified TokenVerifier::verify(std::string_view token) const {
  const std::int64_t now = unix_now();
  Cache::Shard& shard = cache_->shard(token);
  {
    std::lock_guard lock(shard.mu);
    if (auto it = shard.map.find(token); it != shard.map.end()) {
      if (it->second.expires > now) return Verified{it->second.principal, TokenError::none};
      shard.map.erase(it);
      return Verified{{}, TokenError::expired};
    }
  }
  return verify_uncached(token, now);
}

Verified TokenVerifier::verify_uncached(std::string_view token, std::int64_t now) const {
  if (key_.empty()) return {{}, TokenError::not_configured};
  if (token.empty() || token.size() > 16 * 1024 || token.find('\0') != std::string_view::npos ||
      std::count(token.begin(), token.end(), '.') != 2) {
    return {{}, TokenError::malformed};
  }
  const std::string text(token);
  jwt_t* raw = nullptr;
  const int rc = jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(key_.data()),
                            static_cast<int>(key_.size()));
  JwtPtr jwt(raw);
  if (rc != 0 || !jwt) return {{}, TokenError::bad_signature};
  if (jwt_get_alg(jwt.get()) != static_cast<jwt_alg_t>(alg_)) return {{}, TokenError::wrong_alg};

  std::unique_ptr<char, FreeDeleter> grants(jwt_get_grants_json(jwt.get(), nullptr));
  if (!grants) return {{}, TokenError::malformed};
  boost::system::error_code ec;
  boost::json::value claims = boost::json::parse(grants.get(), ec);
  if (ec || !claims.is_object()) return {{}, TokenError::malformed};
  const boost::json::object& c = claims.get_object();

  const std::int64_t leeway = options_.leeway.count();
  const auto exp = as_seconds(c.if_contains("exp"));
  if (!exp) return {{}, TokenError::malformed};
  if (*exp + leeway <= now) return {{}, TokenError::expired};
  if (const auto nbf = as_seconds(c.if_contains("nbf")); nbf && *nbf - leeway > now) {
    return {{}, TokenError::not_yet_valid};
  }
  if (!options_.issuer.empty()) {
    const auto* iss = c.if_contains("iss");
    if (!iss || !iss->is_string() || iss->get_string() != options_.issuer)
      return {{}, TokenError::wrong_issuer};
  }
  if (!options_.audience.empty() && !audience_matches(c.if_contains("aud"), options_.audience)) {
    return {{}, TokenError::wrong_audience};
  }
  const auto* sub = c.if_contains("sub");
  if (!sub || !sub->is_string() || sub->get_string().empty()) return {{}, TokenError::no_subject};

  Principal p;
  p.sub = sub->get_string();
  p.role = highest_role(c.if_contains("role"), Role::none);
  p.role = highest_role(c.if_contains("roles"), p.role);
  p.role = highest_role(c.if_contains(kDotNetRoleClaim), p.role);
  if (p.role == Role::none) return {{}, TokenError::no_role};
  if (const auto* b = c.if_contains("branch"); b && b->is_string()) p.branch = b->get_string();

  Cache::Shard& shard = cache_->shard(token);
  std::lock_guard lock(shard.mu);
  if (shard.map.size() >= cache_->per_shard) {
    std::erase_if(shard.map, [now](const auto& kv) { return kv.second.expires <= now; });
    if (shard.map.size() >= cache_->per_shard) shard.map.erase(shard.map.begin());
  }
  shard.map.insert_or_assign(text, Cache::Entry{p, *exp + leeway});
  return {std::move(p), TokenError::none};
}

std::string mint_hs256(std::string_view secret, std::string_view sub, Role role, std::chrono::seconds ttl,
                       std::string_view branch, std::string_view issuer, std::string_view audience) {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new failed");
  JwtPtr jwt(raw);
  const std::int64_t now = unix_now();
  const std::string sub_s(sub);
  const std::string branch_s(branch);
  int rc = jwt_add_grant(jwt.get(), "sub", sub_s.c_str());
  rc |= jwt_add_grant(jwt.get(), "role", std::string(to_string(role)).c_str());
  rc |= jwt_add_grant_int(jwt.get(), "iat", now);
  rc |= jwt_add_grant_int(jwt.get(), "exp", now + ttl.count());
  if (!branch_s.empty()) rc |= jwt_add_grant(jwt.get(), "branch", branch_s.c_str());
  if (!issuer.empty()) rc |= jwt_add_grant(jwt.get(), "iss", std::string(issuer).c_str());
  if (!audience.empty()) rc |= jwt_add_grant(jwt.get(), "aud", std::string(audience).c_str());
  rc |= jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                    static_cast<int>(secret.size()));
  if (rc != 0) throw std::runtime_error("cannot build the token (is the secret empty?)");
  std::unique_ptr<char, FreeDeleter> out(jwt_encode_str(jwt.get()));
  if (!out) throw std::runtime_error("jwt_encode_str failed");
  return std::string(out.get());
}

}  // namespace comms::http
