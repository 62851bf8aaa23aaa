// Finding the template a notification renders with (the seed's CachedTemplateRepository).
//
// Cache-aside over store::TemplateRepository: a lookup of one exact key (category, name, channel,
// locale) reads the cache ("tmpl:<category>/<name>/<channel>/<locale>"), else the store (on a store
// reader thread, never on the caller's), and caches what it found, including "no such template" for a
// short time. The compiled form of each (template id, version) is kept in an in-process map; versions
// are immutable, so that map is bounded in size and never invalidated.
//
// Locale fallback: the requested tag ("bem-ZM"), then its language ("bem"), then "en". Tags are
// read with '_' as '-', the language lower-case and a two-letter region upper-case ("bem_zm" is
// "bem-ZM"), which is how the API stores them.
//
// Every change to a template (create, new version, activation, delete) must be followed by
// invalidate(record): the API does it after its unit of work commits. Through a shared L2 (Redis,
// issue 7) that reaches every instance.
//
// Thread-safety: safe to use from many coroutines and threads at once.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "domain/notification.h"
#include "store/store.h"
#include "templates/template.h"

namespace comms::cache {
class Cache;
}

namespace comms::templating {

// One template version, compiled. Immutable; shared between renders.
struct CompiledTemplate {
  std::string template_id;
  int version = 0;
  templates::Template subject;
  templates::Template body;
  templates::Template html;  // email HTML part; empty when the version has none
  bool has_html = false;
  int max_segments = 0;  // 0 = no limit
  bool strict = false;
};

struct Resolved {
  std::shared_ptr<const CompiledTemplate> compiled;
  std::string locale;  // the locale whose template was found ("bem", or "en" after a fallback)
};

// A stored template that does not compile (saved around the API's validation, e.g. by SQL).
// what(): "template <id> (bem): body 1:7: unclosed section ...".
class BrokenTemplateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Compiles the three parts of `content`. On failure returns nullptr and sets `error` to the part
// and position: "html_body 3:12: unclosed tag: no '}}' after it".
std::shared_ptr<const CompiledTemplate> compile_content(const store::TemplateContent& content, std::string& error);

struct TemplateServiceOptions {
  std::chrono::milliseconds ttl{std::chrono::minutes(10)};         // a found template
  std::chrono::milliseconds negative_ttl{std::chrono::seconds(30)};  // "no such template"
  std::size_t compiled_capacity = 1024;                              // (id, version) programs kept
};

// The lookup order for `locale`: itself (normalised), its language, "en"; no duplicates.
std::vector<std::string> locale_chain(std::string_view locale);

// The cache key of one exact template key.
std::string cache_key(std::string_view category, std::string_view name, domain::Channel channel,
                      std::string_view locale);

class TemplateService {
 public:
  // `store` and `cache` must outlive the service.
  TemplateService(store::Store& store, cache::Cache& cache, TemplateServiceOptions options = {});
  ~TemplateService();
  TemplateService(const TemplateService&) = delete;
  TemplateService& operator=(const TemplateService&) = delete;

  // The active version of the first template along locale_chain(locale), compiled; nullopt when no
  // locale has one. Throws BrokenTemplateError when the template found does not compile, and
  // store::StoreError when the store fails.
  boost::asio::awaitable<std::optional<Resolved>> resolve(std::string category, std::string name,
                                                          domain::Channel channel, std::string locale);

  // Drops the cached entry of t's key (category, name, channel, locale). Call after every change to
  // a template, once it has committed.
  boost::asio::awaitable<void> invalidate(store::TemplateRecord t);
  // Drops every cached template ("tmpl:*"), e.g. after an import.
  boost::asio::awaitable<void> invalidate_all();

  // Compiled programs held (for tests and metrics).
  std::size_t compiled_size() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace comms::templating
