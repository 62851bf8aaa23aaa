#include <gtest/gtest.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <filesystem>
#include <fstream>

#include "common/ids.h"
#include "http/jwt.h"
#include "test_support.h"

namespace comms::http {
namespace {

using namespace std::chrono_literals;
using test::request;
using test::TestServer;

constexpr const char* kSecret = "a-test-secret-of-decent-length-123";

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Signs arbitrary claims (a JSON object) with libjwt.
std::string sign(const std::string& claims, jwt_alg_t alg, const std::string& key) {
  jwt_t* j = nullptr;
  EXPECT_EQ(jwt_new(&j), 0);
  EXPECT_EQ(jwt_add_grants_json(j, claims.c_str()), 0);
  EXPECT_EQ(jwt_set_alg(j, alg, key.empty() ? nullptr : reinterpret_cast<const unsigned char*>(key.data()),
                        static_cast<int>(key.size())),
            0);
  char* out = jwt_encode_str(j);
  std::string token = out ? out : "";
  std::free(out);
  jwt_free(j);
  return token;
}

std::string claims(const std::string& extra, std::int64_t exp_offset = 3600) {
  return "{\"sub\":\"u-1\",\"exp\":" + std::to_string(now_s() + exp_offset) +
         (extra.empty() ? "" : "," + extra) + "}";
}

struct KeyPair {
  std::string private_pem;
  std::string public_pem;
};

KeyPair generate_rsa() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  EXPECT_NE(key, nullptr);
  auto to_string = [](BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string s(data, n);
    BIO_free(bio);
    return s;
  };
  BIO* priv = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr);
  BIO* pub = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(pub, key);
  KeyPair kp{to_string(priv), to_string(pub)};
  EVP_PKEY_free(key);
  return kp;
}

class TempFile {
 public:
  explicit TempFile(const std::string& content)
      : path_(std::filesystem::temp_directory_path() / ("comms-http-test-" + new_uuid() + ".pem")) {
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

Handler whoami() {
  return [](Request& q) -> boost::asio::awaitable<Response> {
    co_return Response::json(
        200,
        {{"sub", q.principal.sub}, {"role", to_string(q.principal.role)}, {"branch", q.principal.branch}});
  };
}

Router auth_router() {
  Router r;
  r.add("GET", "/api/v1/staff", Access::roles_of({Role::staff}), whoami());
  r.add("GET", "/api/v1/open", Access::anyone(), whoami());
  r.add("POST", "/hubs/notifications/negotiate", Access::roles_of({Role::customer, Role::staff}), whoami());
  return r;
}

HttpOptions hs_options() {
  auto o = test::quiet_options();
  o.auth.hs256_secret = kSecret;
  return o;
}

test::Headers bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

TEST(Auth, ValidHs256TokenSetsPrincipal) {
  TestServer s(hs_options(), auth_router());
  const auto r = request(s.port(), "GET", "/api/v1/staff",
                         bearer(mint_hs256(kSecret, "staff-9", Role::staff, 1h, "LSK")));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json().at("sub"), "staff-9");
  EXPECT_EQ(r.json().at("role"), "staff");
  EXPECT_EQ(r.json().at("branch"), "LSK");
}

TEST(ClientRateLimit, EachSubjectHasItsOwnBucketAfterAuth) {
  auto o = hs_options();
  o.rate_limit.enabled = false;  // only the per-client limit
  o.rate_limit.client_rate_per_second = 0.5;
  o.rate_limit.client_burst = 2;
  TestServer s(o, auth_router());
  const auto a = bearer(mint_hs256(kSecret, "staff-a", Role::staff, 1h, "LSK"));
  const auto b = bearer(mint_hs256(kSecret, "staff-b", Role::staff, 1h, "LSK"));
  EXPECT_EQ(request(s.port(), "GET", "/api/v1/staff", a).status, 200);
  EXPECT_EQ(request(s.port(), "GET", "/api/v1/staff", a).status, 200);
  const auto refused = request(s.port(), "GET", "/api/v1/staff", a);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.error_code(), "rate_limited");
  EXPECT_GE(std::stoi(refused.header("retry-after")), 1);
  // Another subject from the same address has its own bucket.
  EXPECT_EQ(request(s.port(), "GET", "/api/v1/staff", b).status, 200);
  // Requests without a principal are not counted: an anonymous public route, and a 401.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(request(s.port(), "GET", "/api/v1/open").status, 200);
  EXPECT_EQ(request(s.port(), "GET", "/api/v1/staff").status, 401);
}

TEST(Auth, MissingTokenIs401WithChallenge) {
  TestServer s(hs_options(), auth_router());
  const auto r = request(s.port(), "GET", "/api/v1/staff");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.error_code(), "unauthorized");
  EXPECT_EQ(r.header("www-authenticate"), "Bearer");
}

TEST(Auth, ExpiredTokenIs401) {
  TestServer s(hs_options(), auth_router());
  const auto r =
      request(s.port(), "GET", "/api/v1/staff", bearer(mint_hs256(kSecret, "u", Role::staff, -1h)));
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.header("www-authenticate").find("invalid_token"), std::string::npos);
}

TEST(Auth, BadSignatureIs401) {
  TestServer s(hs_options(), auth_router());
  const auto r =
      request(s.port(), "GET", "/api/v1/staff", bearer(mint_hs256("another-secret", "u", Role::staff, 1h)));
  EXPECT_EQ(r.status, 401);
}

TEST(Auth, AlgNoneIs401) {
  TestServer s(hs_options(), auth_router());
  const std::string none = sign(claims("\"role\":\"admin\""), JWT_ALG_NONE, "");
  ASSERT_FALSE(none.empty());
  EXPECT_EQ(request(s.port(), "GET", "/api/v1/staff", bearer(none)).status, 401);
  // The same with a junk signature appended.
  EXPECT_EQ(request(s.port(), "GET", "/api/v1/staff", bearer(none + "c2ln")).status, 401);
}

TEST(Auth, WrongRoleIs403AndAdminPasses) {
  TestServer s(hs_options(), auth_router());
  const auto r =
      request(s.port(), "GET", "/api/v1/staff", bearer(mint_hs256(kSecret, "c", Role::customer, 1h)));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.error_code(), "forbidden");
  EXPECT_EQ(
      request(s.port(), "GET", "/api/v1/staff", bearer(mint_hs256(kSecret, "a", Role::admin, 1h))).status,
      200);
}

TEST(Auth, PublicRouteSkipsAuth) {
  TestServer s(hs_options(), auth_router());
  EXPECT_EQ(request(s.port(), "GET", "/api/v1/open").status, 200);
  EXPECT_EQ(request(s.port(), "GET", "/api/v1/open", bearer("garbage")).status, 200);
}

TEST(Auth, AccessTokenQueryOnlyOnHubs) {
  TestServer s(hs_options(), auth_router());
  const std::string token = mint_hs256(kSecret, "cust-1", Role::customer, 1h);
  const auto hub = request(s.port(), "POST", "/hubs/notifications/negotiate?access_token=" + token);
  ASSERT_EQ(hub.status, 200);
  EXPECT_EQ(hub.json().at("sub"), "cust-1");
  const std::string staff = mint_hs256(kSecret, "s", Role::staff, 1h);
  EXPECT_EQ(request(s.port(), "GET", "/api/v1/staff?access_token=" + staff).status, 401);
}

TEST(Auth, RolesArrayAndDotNetClaimTakeTheHighest) {
  TestServer s(hs_options(), auth_router());
  const auto a = sign(claims("\"roles\":[\"customer\",\"Staff\"]"), JWT_ALG_HS256, kSecret);
  const auto ra = request(s.port(), "GET", "/api/v1/staff", bearer(a));
  ASSERT_EQ(ra.status, 200);
  EXPECT_EQ(ra.json().at("role"), "staff");
  const auto b = sign(claims("\"http://schemas.microsoft.com/ws/2008/06/identity/claims/role\":[\"Admin\"]"),
                      JWT_ALG_HS256, kSecret);
  EXPECT_EQ(request(s.port(), "GET", "/api/v1/staff", bearer(b)).json().at("role"), "admin");
  const auto c = sign(claims("\"role\":\"janitor\""), JWT_ALG_HS256, kSecret);
  EXPECT_EQ(request(s.port(), "GET", "/api/v1/staff", bearer(c)).status, 401);
}

TEST(Auth, NotBeforeInTheFutureIs401) {
  TestServer s(hs_options(), auth_router());
  const auto t =
      sign(claims("\"role\":\"staff\",\"nbf\":" + std::to_string(now_s() + 3600)), JWT_ALG_HS256, kSecret);
  EXPECT_EQ(request(s.port(), "GET", "/api/v1/staff", bearer(t)).status, 401);
  const auto ok =
      sign(claims("\"role\":\"staff\",\"nbf\":" + std::to_string(now_s() + 5)), JWT_ALG_HS256, kSecret);
  EXPECT_EQ(request(s.port(), "GET", "/api/v1/staff", bearer(ok)).status, 200);  // within leeway
}

TEST(Auth, IssuerAndAudienceWhenConfigured) {
  auto o = hs_options();
  o.auth.issuer = "intellifin-identity";
  o.auth.audience = "comms";
  TestServer s(o, auth_router());
  auto with = [&](const std::string& extra) {
    return request(s.port(), "GET", "/api/v1/staff", bearer(sign(claims(extra), JWT_ALG_HS256, kSecret)))
        .status;
  };
  EXPECT_EQ(with("\"role\":\"staff\",\"iss\":\"intellifin-identity\",\"aud\":[\"x\",\"comms\"]"), 200);
  EXPECT_EQ(with("\"role\":\"staff\",\"iss\":\"intellifin-identity\",\"aud\":\"comms\""), 200);
  EXPECT_EQ(with("\"role\":\"staff\",\"iss\":\"someone-else\",\"aud\":\"comms\""), 401);
  EXPECT_EQ(with("\"role\":\"staff\",\"iss\":\"intellifin-identity\",\"aud\":\"other\""), 401);
  EXPECT_EQ(with("\"role\":\"staff\",\"aud\":\"comms\""), 401);
}

TEST(Auth, Rs256WithGeneratedKeyPair) {
  const KeyPair kp = generate_rsa();
  TempFile pub(kp.public_pem);
  auto o = test::quiet_options();
  o.auth.rs256_public_key_file = pub.path();
  TestServer s(o, auth_router());

  const auto good = sign(claims("\"role\":\"staff\""), JWT_ALG_RS256, kp.private_pem);
  ASSERT_FALSE(good.empty());
  const auto r = request(s.port(), "GET", "/api/v1/staff", bearer(good));
  EXPECT_EQ(r.status, 200) << r.body;
  // Algorithm confusion: HS256 keyed with the public key must not pass.
  const auto confused = sign(claims("\"role\":\"staff\""), JWT_ALG_HS256, kp.public_pem);
  EXPECT_EQ(request(s.port(), "GET", "/api/v1/staff", bearer(confused)).status, 401);
  // A token from another key pair.
  const KeyPair other = generate_rsa();
  const auto foreign = sign(claims("\"role\":\"staff\""), JWT_ALG_RS256, other.private_pem);
  EXPECT_EQ(request(s.port(), "GET", "/api/v1/staff", bearer(foreign)).status, 401);
}

TEST(Auth, Hs256ServerRejectsRs256Token) {
  const KeyPair kp = generate_rsa();
  TestServer s(hs_options(), auth_router());
  const auto rs = sign(claims("\"role\":\"staff\""), JWT_ALG_RS256, kp.private_pem);
  EXPECT_EQ(request(s.port(), "GET", "/api/v1/staff", bearer(rs)).status, 401);
}

TEST(TokenVerifier, CachesVerifiedTokensAndStillExpiresThem) {
  AuthOptions o;
  o.hs256_secret = kSecret;
  o.leeway = 0s;
  TokenVerifier v(o);
  const std::string token = mint_hs256(kSecret, "u-5", Role::service, 2s);
  for (int i = 0; i < 3; ++i) {
    const Verified r = v.verify(token);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.principal.sub, "u-5");
    EXPECT_EQ(r.principal.role, Role::service);
  }
  std::this_thread::sleep_for(2100ms);
  EXPECT_EQ(v.verify(token).error, TokenError::expired);
}

TEST(TokenVerifier, ManyDistinctTokensPastCapacityStillVerify) {
  AuthOptions o;
  o.hs256_secret = kSecret;
  o.cache_capacity = 32;
  TokenVerifier v(o);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(v.verify(mint_hs256(kSecret, "u-" + std::to_string(i), Role::customer, 1h)).ok());
  }
  EXPECT_TRUE(v.verify(mint_hs256(kSecret, "last", Role::customer, 1h)).ok());
}

TEST(TokenVerifier, RejectsBothKeysConfigured) {
  AuthOptions o;
  o.hs256_secret = "x";
  o.rs256_public_key_file = "/nonexistent.pem";
  EXPECT_THROW(TokenVerifier{o}, std::invalid_argument);
  o.hs256_secret.clear();
  EXPECT_THROW(TokenVerifier{o}, std::invalid_argument);
}

}  // namespace
}  // namespace comms::http
