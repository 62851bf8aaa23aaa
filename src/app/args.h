// Minimal option parsing for the CLI: `--name value` and `--name=value`.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace comms::app {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Args {
 public:
  // Parses argv[first..argc). `flags` are options without a value; every
  // other option in `options` takes one. Unknown options raise UsageError.
  Args(int argc, char** argv, int first, const std::set<std::string>& options,
       const std::set<std::string>& flags = {});
  std::optional<std::string> get(const std::string& name) const;
  std::string require(const std::string& name) const;
  bool has(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

}  // namespace comms::app
