#include "hub/negotiations.h"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace comms::hub {

std::string random_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("RAND_bytes failed");
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve(22);
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

std::optional<Negotiations::Issued> Negotiations::issue(const std::string& sub, Clock::time_point now) {
  Issued issued{random_id(), random_id()};
  std::lock_guard lock(mu_);
  expire_locked(now);
  if (pending_ >= max_pending_) return std::nullopt;
  tokens_.emplace(issued.connection_token, Entry{sub, now + ttl_, false});
  order_.emplace_back(now + ttl_, issued.connection_token);
  ++pending_;
  return issued;
}

Negotiations::Claim Negotiations::claim(const std::string& token, const std::string& sub,
                                        Clock::time_point now) {
  std::lock_guard lock(mu_);
  expire_locked(now);
  const auto it = tokens_.find(token);
  if (it == tokens_.end() || it->second.sub != sub) return Claim::unknown;
  if (it->second.claimed) return Claim::in_use;
  it->second.claimed = true;
  --pending_;
  return Claim::ok;
}

void Negotiations::release(const std::string& token) {
  std::lock_guard lock(mu_);
  const auto it = tokens_.find(token);
  if (it == tokens_.end()) return;
  if (!it->second.claimed) --pending_;
  tokens_.erase(it);
}

void Negotiations::expire(Clock::time_point now) {
  std::lock_guard lock(mu_);
  expire_locked(now);
}

void Negotiations::expire_locked(Clock::time_point now) {
  while (!order_.empty() && order_.front().first <= now) {
    const auto it = tokens_.find(order_.front().second);
    if (it != tokens_.end() && !it->second.claimed) {
      tokens_.erase(it);
      --pending_;
    }
    order_.pop_front();
  }
}

std::size_t Negotiations::pending() const {
  std::lock_guard lock(mu_);
  return pending_;
}

}  // namespace comms::hub
