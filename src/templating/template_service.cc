#include "templating/template_service.h"

#include <algorithm>
#include <cctype>
#include <boost/json.hpp>
#include <deque>
#include <map>
#include <mutex>

#include "cache/cache.h"
#include "store/await.h"

namespace comms::templating {
namespace {

namespace json = boost::json;

// What the cache holds for one key: the active version's identity and content, or "" for "no such
// template". Content rather than the compiled form, so that an L2 can share it between instances.
std::string encode(const store::TemplateRecord& t) {
  return json::serialize(json::object{{"id", t.id},
                                      {"version", t.active_version},
                                      {"subject", t.active.subject},
                                      {"body", t.active.body},
                                      {"html", t.active.html_body},
                                      {"maxSegments", t.active.max_segments},
                                      {"strict", t.active.strict}});
}

struct Entry {
  std::string id;
  int version = 0;
  store::TemplateContent content;
};

// nullopt for a value this version did not write (then the store is asked again).
std::optional<Entry> decode(const std::string& text) {
  boost::system::error_code ec;
  const auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  const auto* id = o.if_contains("id");
  const auto* version = o.if_contains("version");
  if (!id || !id->is_string() || !version || !version->is_int64()) return std::nullopt;
  auto str = [&](std::string_view k) -> std::string {
    const auto* f = o.if_contains(k);
    return f && f->is_string() ? std::string(f->get_string()) : std::string();
  };
  Entry e;
  e.id = std::string(id->get_string());
  e.version = static_cast<int>(version->get_int64());
  e.content.subject = str("subject");
  e.content.body = str("body");
  e.content.html_body = str("html");
  const auto* segs = o.if_contains("maxSegments");
  e.content.max_segments = segs && segs->is_int64() ? static_cast<int>(segs->get_int64()) : 0;
  const auto* strict = o.if_contains("strict");
  e.content.strict = strict && strict->is_bool() && strict->get_bool();
  return e;
}

// BCP 47 casing, as the API stores tags: "bem_zm" -> "bem-ZM", "EN" -> "en".
std::string normalise(std::string_view tag) {
  std::string out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= tag.size(); ++i) {
    if (i < tag.size() && tag[i] != '-' && tag[i] != '_') continue;
    const bool region = start > 0 && i - start == 2;
    if (start > 0) out += '-';
    for (char c : tag.substr(start, i - start))
      out += static_cast<char>(region ? std::toupper(static_cast<unsigned char>(c))
                                      : std::tolower(static_cast<unsigned char>(c)));
    start = i + 1;
  }
  return out;
}

}  // namespace

std::vector<std::string> locale_chain(std::string_view locale) {
  std::vector<std::string> chain;
  auto add = [&](std::string tag) {
    if (!tag.empty() && std::find(chain.begin(), chain.end(), tag) == chain.end()) chain.push_back(std::move(tag));
  };
  const std::string tag = normalise(locale);
  add(tag);
  add(tag.substr(0, tag.find('-')));
  add("en");
  return chain;
}

std::string cache_key(std::string_view category, std::string_view name, domain::Channel channel,
                      std::string_view locale) {
  std::string key = "tmpl:";
  key.append(category).append("/").append(name).append("/");
  key.append(domain::to_string(channel)).append("/").append(locale);
  return key;
}

std::shared_ptr<const CompiledTemplate> compile_content(const store::TemplateContent& content, std::string& error) {
  auto out = std::make_shared<CompiledTemplate>();
  auto part = [&](std::string_view what, const std::string& source, templates::Template& into) {
    auto c = templates::compile(source);
    if (c) {
      into = std::move(c).value();
      return true;
    }
    const auto& e = c.error();
    error = std::string(what) + " " + std::to_string(e.line) + ":" + std::to_string(e.column) + ": " + e.message;
    return false;
  };
  if (!part("subject", content.subject, out->subject) || !part("body", content.body, out->body) ||
      !part("html_body", content.html_body, out->html))
    return nullptr;
  out->has_html = !content.html_body.empty();
  out->max_segments = content.max_segments;
  out->strict = content.strict;
  return out;
}

struct TemplateService::Impl {
  store::Store& store;
  cache::Cache& cache;
  TemplateServiceOptions options;

  mutable std::mutex mu;
  std::map<std::pair<std::string, int>, std::shared_ptr<const CompiledTemplate>> compiled;  // guarded by mu
  std::deque<std::pair<std::string, int>> order;  // guarded by mu; insertion order, for eviction

  // The active version stored under one exact key, through the cache.
  boost::asio::awaitable<std::optional<Entry>> lookup(const std::string& category, const std::string& name,
                                                      domain::Channel channel, const std::string& locale) {
    const std::string key = cache_key(category, name, channel, locale);
    if (auto hit = co_await cache.get(key)) {
      if (hit->empty()) co_return std::nullopt;
      if (auto e = decode(*hit)) co_return e;
    }
    std::optional<store::TemplateRecord> found;
    co_await store::read_async(
        store, [&](store::UnitOfWork& uow) { found = uow.templates().find(category, name, channel, locale); });
    if (!found) {
      co_await cache.set(key, std::string(), options.negative_ttl);
      co_return std::nullopt;
    }
    co_await cache.set(key, encode(*found), options.ttl);
    co_return Entry{found->id, found->active_version, found->active};
  }

  std::shared_ptr<const CompiledTemplate> compiled_for(const Entry& e, const std::string& locale) {
    const auto id = std::make_pair(e.id, e.version);
    {
      std::lock_guard lock(mu);
      if (auto it = compiled.find(id); it != compiled.end()) return it->second;
    }
    std::string error;
    auto c = compile_content(e.content, error);
    if (!c) throw BrokenTemplateError("template " + e.id + " (" + locale + ") version " +
                                      std::to_string(e.version) + ": " + error);
    auto owned = std::const_pointer_cast<CompiledTemplate>(c);
    owned->template_id = e.id;
    owned->version = e.version;
    std::lock_guard lock(mu);
    auto [it, inserted] = compiled.emplace(id, std::move(c));
    if (inserted) {
      order.push_back(id);
      while (compiled.size() > std::max<std::size_t>(options.compiled_capacity, 1)) {
        compiled.erase(order.front());
        order.pop_front();
      }
    }
    return it->second;
  }
};

TemplateService::TemplateService(store::Store& store, cache::Cache& cache, TemplateServiceOptions options)
    : impl_(std::make_unique<Impl>(store, cache, options)) {}

TemplateService::~TemplateService() = default;

boost::asio::awaitable<std::optional<Resolved>> TemplateService::resolve(std::string category, std::string name,
                                                                        domain::Channel channel,
                                                                        std::string locale) {
  for (const auto& tag : locale_chain(locale)) {
    if (auto e = co_await impl_->lookup(category, name, channel, tag))
      co_return Resolved{impl_->compiled_for(*e, tag), tag};
  }
  co_return std::nullopt;
}

boost::asio::awaitable<void> TemplateService::invalidate(store::TemplateRecord t) {
  co_await impl_->cache.remove(cache_key(t.category, t.name, t.channel, normalise(t.locale)));
}

boost::asio::awaitable<void> TemplateService::invalidate_all() { co_await impl_->cache.remove_by_pattern("tmpl:*"); }

std::size_t TemplateService::compiled_size() const {
  std::lock_guard lock(impl_->mu);
  return impl_->compiled.size();
}

}  // namespace comms::templating
