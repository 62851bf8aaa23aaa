// A real SQLite store in a temporary folder, an in-memory cache and a TemplateService over them,
// with helpers to run coroutines to completion and to save templates.
#pragma once
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>

#include "cache/lru_cache.h"
#include "common/ids.h"
#include "store/store.h"
#include "templating/template_service.h"

namespace comms::templating::testing {

class TemplatingFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("comms-templating-test-" + new_uuid());
    store_ = store::open_store({.url = "sqlite:" + (dir_ / "comms.db").string()});
    store_->migrate();
    service_ = std::make_unique<TemplateService>(*store_, cache_, options_);
  }

  void TearDown() override {
    service_.reset();
    store_->close();
    std::filesystem::remove_all(dir_);
  }

  template <class T>
  T run(boost::asio::awaitable<T> a) {
    auto f = boost::asio::co_spawn(io_, std::move(a), boost::asio::use_future);
    io_.restart();
    io_.run();
    return f.get();
  }

  void write(const store::Work& w) { store::write_sync(*store_, w); }
  void read(const store::Work& w) { store::read_sync(*store_, w); }

  store::TemplateRecord create(std::string category, std::string name, domain::Channel channel, std::string locale,
                               store::TemplateContent content) {
    store::TemplateRecord t;
    t.id = new_uuid();
    t.category = std::move(category);
    t.name = std::move(name);
    t.channel = channel;
    t.locale = std::move(locale);
    t.active = std::move(content);
    write([&](store::UnitOfWork& uow) { uow.templates().create(t, "test"); });
    return t;
  }

  // Saves `content` as the next version of t (without telling the service).
  void add_version(store::TemplateRecord& t, store::TemplateContent content) {
    t.active = std::move(content);
    write([&](store::UnitOfWork& uow) { uow.templates().add_version(t, "test"); });
  }

  std::optional<Resolved> resolve(std::string category, std::string name, domain::Channel channel,
                                  std::string locale) {
    return run(service_->resolve(std::move(category), std::move(name), channel, std::move(locale)));
  }

  static store::TemplateContent body(std::string text, int max_segments = 0) {
    store::TemplateContent c;
    c.body = std::move(text);
    c.max_segments = max_segments;
    return c;
  }

  boost::asio::io_context io_;
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  cache::MemoryCache cache_;
  TemplateServiceOptions options_;
  std::unique_ptr<TemplateService> service_;
};

}  // namespace comms::templating::testing
