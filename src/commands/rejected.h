// A command or query refused for a reason the caller can act on. Protocol
// neutral: api/ maps each kind to an HTTP status in one place.
#pragma once
#include <stdexcept>
#include <string>

namespace comms::commands {

class Rejected : public std::runtime_error {
 public:
  enum class Kind { invalid, unprocessable, not_found, conflict, forbidden };
  Rejected(Kind kind, std::string code, std::string message)
      : std::runtime_error(std::move(message)), kind_(kind), code_(std::move(code)) {}
  Kind kind() const { return kind_; }
  const std::string& code() const { return code_; }

 private:
  Kind kind_;
  std::string code_;
};

}  // namespace comms::commands
