#include "app/args.h"

namespace comms::app {

Args::Args(int argc, char** argv, int first, const std::set<std::string>& options,
           const std::set<std::string>& flags) {
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || a == "--") {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (flags.count(name)) {
      if (value) throw UsageError("option --" + name + " takes no value");
      values_[name] = "true";
      continue;
    }
    if (!options.count(name)) throw UsageError("unknown option --" + name);
    if (!value) {
      if (i + 1 >= argc) throw UsageError("option --" + name + " needs a value");
      value = argv[++i];
    }
    values_[name] = *value;
  }
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::require(const std::string& name) const {
  auto v = get(name);
  if (!v || v->empty()) throw UsageError("missing required option --" + name);
  return *v;
}

bool Args::has(const std::string& name) const { return values_.count(name) > 0; }

}  // namespace comms::app
