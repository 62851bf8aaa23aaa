#include "templating/defaults.h"

#include <cstdint>
#include <cstdio>

#include "common/clock.h"

namespace comms::templating {
namespace {

constexpr std::string_view kSeededBy = "defaults";
constexpr std::string_view kLedgerType = "TemplateDefaultSeeded";

// FNV-1a over the content: stable across builds and platforms, enough to tell revisions apart.
std::string revision_of(const store::TemplateContent& c) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::string_view s) {
    for (unsigned char ch : s) {
      h ^= ch;
      h *= 1099511628211ull;
    }
    h ^= 0xff;  // field separator
    h *= 1099511628211ull;
  };
  mix(c.subject);
  mix(c.body);
  mix(c.html_body);
  mix(std::to_string(c.max_segments));
  mix(c.strict ? "1" : "0");
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

}  // namespace

std::vector<TemplateFile> default_templates() {
  std::vector<TemplateFile> out;
  for (const auto& f : default_template_files())
    out.push_back(parse_template_file(f.text, "templates/defaults/" + std::string(f.path)));
  return out;
}

SeedCounts seed_defaults(store::Store& store) { return seed_templates(store, default_templates()); }

SeedCounts seed_templates(store::Store& store, const std::vector<TemplateFile>& defaults) {
  SeedCounts counts;
  store::write_sync(store, [&](store::UnitOfWork& uow) {
    counts = {};
    const Millis now = now_ms();
    auto& ledger = uow.processed_events();
    auto& repo = uow.templates();
    for (const auto& d : defaults) {
      const std::string key = "template-default:" + d.category + "/" + d.name + "/" +
                              std::string(domain::to_string(d.channel)) + "/" + d.locale;
      const std::string revision = key + "@" + revision_of(d.content);
      if (ledger.exists(revision)) {
        ++counts.unchanged;
        continue;
      }
      const bool seen_before = !ledger.add(key, std::string(kLedgerType), now);
      ledger.add(revision, std::string(kLedgerType), now);
      auto existing = repo.find(d.category, d.name, d.channel, d.locale);
      if (!existing) {
        if (seen_before) {
          ++counts.kept;  // deleted by an operator
          continue;
        }
        auto t = new_record(d);
        repo.create(t, std::string(kSeededBy));
        ++counts.created;
        continue;
      }
      bool ours = false;
      for (const auto& v : repo.versions(existing->id))
        if (v.version == existing->active_version) ours = v.created_by == kSeededBy;
      if (!ours) {
        ++counts.kept;  // created or edited by an operator (or an import)
        continue;
      }
      existing->active = d.content;
      existing->description = d.description;
      repo.add_version(*existing, std::string(kSeededBy));
      ++counts.updated;
    }
  });
  return counts;
}

}  // namespace comms::templating
