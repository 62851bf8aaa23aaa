// A real SQLite store in a temporary folder, an in-memory cache, the shipped
// rules and an Intake over them, with helpers to run coroutines to completion.
#pragma once
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cache/lru_cache.h"
#include "common/ids.h"
#include "intake/intake.h"

namespace comms::intake::testing {

// Forwards to a real store; `interloper` runs as a unit of its own just
// before the next write (to provoke optimistic-concurrency conflicts).
class InterleavingStore final : public store::Store {
 public:
  explicit InterleavingStore(store::Store& inner) : inner_(inner) {}
  store::Work interloper;

  void submit_write(store::Work w, store::Done d) override {
    if (auto f = std::exchange(interloper, nullptr))
      inner_.submit_write(std::move(f), [](std::exception_ptr) {});
    inner_.submit_write(std::move(w), std::move(d));
  }
  void submit_read(store::Work w, store::Done d) override { inner_.submit_read(std::move(w), std::move(d)); }
  int migrate() override { return inner_.migrate(); }
  std::pair<int, int> schema_version() override { return inner_.schema_version(); }
  bool ping() override { return inner_.ping(); }
  void close() override {}
  std::string backend() const override { return inner_.backend(); }

 private:
  store::Store& inner_;
};

class IntakeFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("comms-intake-test-" + new_uuid());
    store_ = store::open_store({.url = "sqlite:" + (dir_ / "comms.db").string()});
    store_->migrate();
    store_view_ = std::make_unique<InterleavingStore>(*store_);
    directory_ = std::make_unique<delivery::RecipientDirectory>(*store_view_, cache_, std::chrono::minutes(5));
    make_intake();
  }

  void TearDown() override {
    intake_.reset();
    store_->close();
    std::filesystem::remove_all(dir_);
  }

  void make_intake(IntakeOptions options = {.secrets_key = std::string(64, '7')}) {
    intake_.reset();
    intake_ = std::make_unique<Intake>(io_, *store_view_, cache_, *directory_,
                                       Rules::load_file(shipped_rules_path()), options, [this] { ++wakes_; });
  }

  template <class T>
  T run(boost::asio::awaitable<T> a) {
    auto f = boost::asio::co_spawn(io_, std::move(a), boost::asio::use_future);
    io_.restart();
    io_.run();
    return f.get();
  }

  IntakeResult post(std::string type, std::string payload, std::string message_id = "",
                    std::string correlation = "") {
    bus::Envelope env;
    env.message = std::move(payload);
    env.message_id = message_id.empty() ? new_uuid() : std::move(message_id);
    env.correlation_id = std::move(correlation);
    return run(intake_->handle(std::move(type), env));
  }

  void write(const store::Work& w) { store::write_sync(*store_, w); }
  void read(const store::Work& w) { store::read_sync(*store_, w); }

  std::vector<domain::Notification> notifications(std::optional<std::string> recipient = std::nullopt) {
    std::vector<domain::Notification> out;
    read([&](store::UnitOfWork& uow) {
      store::NotificationQuery q;
      q.recipient_id = recipient;
      q.page_size = 1000;
      out = uow.notifications().query(q).items;
    });
    return out;
  }

  std::string db_bytes() {
    std::string all;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      all += ss.str();
    }
    return all;
  }

  static std::string created_json(const std::string& app = "APP-1", const std::string& event_id = "") {
    boost::json::object o{{"applicationId", app},
                          {"customerId", "cust-1"},
                          {"requestedAmount", 15000},
                          {"productType", "Salary Advance"},
                          {"branchId", "lusaka-01"},
                          {"customerName", "Mwansa Banda"},
                          {"customerPhone", "+260971234567"}};
    if (!event_id.empty()) o["eventId"] = event_id;
    return boost::json::serialize(o);
  }

  boost::asio::io_context io_;
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<InterleavingStore> store_view_;
  cache::MemoryCache cache_;
  std::unique_ptr<delivery::RecipientDirectory> directory_;  // over store_view_ and cache_
  std::unique_ptr<Intake> intake_;
  int wakes_ = 0;
};

}  // namespace comms::intake::testing
