#include "templates/lambdas.h"

namespace comms::templates {

unsigned Lambdas::bucket(std::string_view name) {
  std::uint32_t h = static_cast<std::uint32_t>(name.size());
  if (!name.empty()) {
    h ^= static_cast<std::uint32_t>(static_cast<unsigned char>(name.front())) << 8;
    h ^= static_cast<std::uint32_t>(static_cast<unsigned char>(name.back())) << 16;
  }
  return (h * 0x9E3779B1u) >> 26;
}

Lambdas::Entry& Lambdas::slot(std::string name) {
  for (Entry& e : entries_) {
    if (e.name == name) return e;
  }
  std::uint8_t& b = buckets_[bucket(name)];
  b = (b == 0 && entries_.size() < kShared - 1) ? static_cast<std::uint8_t>(entries_.size() + 1) : kShared;
  entries_.push_back(Entry{std::move(name), nullptr, nullptr});
  return entries_.back();
}

Lambdas& Lambdas::add(std::string name, Lambda fn) {
  Entry& e = slot(std::move(name));
  e.lambda = std::move(fn);
  e.filter = nullptr;
  return *this;
}

Lambdas& Lambdas::add_filter(std::string name, Filter fn) {
  Entry& e = slot(std::move(name));
  e.filter = std::move(fn);
  e.lambda = nullptr;
  return *this;
}

const Lambdas::Entry* Lambdas::find(std::string_view name) const {
  std::uint8_t b = buckets_[bucket(name)];
  if (b == 0) return nullptr;
  if (b != kShared) {
    const Entry& e = entries_[b - 1];
    return std::string_view(e.name) == name ? &e : nullptr;
  }
  for (const Entry& e : entries_) {
    if (std::string_view(e.name) == name) return &e;
  }
  return nullptr;
}

}  // namespace comms::templates
