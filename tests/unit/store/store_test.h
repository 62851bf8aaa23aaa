// The backend-parameterized fixture for store tests. Every suite built on
// StoreTest runs once per backend: SQLite in a fresh temporary directory, and
// PostgreSQL in a fresh schema of the server named by COMMS_TEST_PG_URL (the
// PostgreSQL instances are skipped, saying so, when it is unset).
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/ids.h"
#include "store/postgres/connection.h"
#include "store/store.h"

namespace comms::store::testing {

struct Backend {
  std::string name;  // test-name suffix: "sqlite" or "postgres"
  std::string url;   // PostgreSQL: the server's URL, empty when not configured; SQLite: unused
};

inline std::vector<Backend> backends() {
  const char* pg = std::getenv("COMMS_TEST_PG_URL");
  return {{"sqlite", ""}, {"postgres", pg ? pg : ""}};
}

// A schema of its own on the PostgreSQL server at `server_url`, dropped with
// everything in it on destruction; url() reaches the server with that schema
// as the search path, so a store opened there sees only this schema.
class PgSchema {
 public:
  explicit PgSchema(std::string server_url)
      : server_url_(std::move(server_url)), name_("t_" + hex_of(new_uuid())) {
    postgres::Connection(server_url_).script("CREATE SCHEMA " + name_);
    url_ = server_url_ + (server_url_.find('?') == std::string::npos ? "?" : "&") +
           "options=-csearch_path%3D" + name_;
  }
  ~PgSchema() {
    try {
      postgres::Connection(server_url_).script("DROP SCHEMA " + name_ + " CASCADE");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cannot drop schema " << name_ << ": " << e.what();
    }
  }
  PgSchema(const PgSchema&) = delete;
  PgSchema& operator=(const PgSchema&) = delete;
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  static std::string hex_of(const std::string& uuid) {
    std::string out;
    for (char c : uuid)
      if (c != '-') out += c;
    return out;
  }

  std::string server_url_;
  std::string name_;
  std::string url_;
};

inline void PrintTo(const Backend& b, std::ostream* os) {
  *os << b.name;
}

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param.name;
}

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam().name == "postgres") {
      if (GetParam().url.empty())
        GTEST_SKIP() << "COMMS_TEST_PG_URL is not set: no PostgreSQL server to test";
      schema_ = std::make_unique<PgSchema>(GetParam().url);
      url_ = schema_->url();
    } else {
      dir_ = std::filesystem::temp_directory_path() / ("comms-store-test-" + new_uuid());
      url_ = "sqlite:" + (dir_ / "store.db").string();
    }
    store_ = open();
    store_->migrate();
  }

  void TearDown() override {
    if (store_) store_->close();
    store_.reset();
    schema_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  bool is_postgres() const { return GetParam().name == "postgres"; }

  // Another store over the same database.
  std::unique_ptr<Store> open(StoreOptions options = {}) {
    options.url = url_;
    return open_store(options);
  }

  // Closes the fixture's store and opens it again over the same database.
  void reopen(StoreOptions options = {}) {
    store_->close();
    store_ = open(options);
  }

  void write(const Work& w) { write_sync(*store_, w); }
  void read(const Work& w) { read_sync(*store_, w); }

  std::string url_;
  std::filesystem::path dir_;
  std::unique_ptr<PgSchema> schema_;
  std::unique_ptr<Store> store_;
};

// A notification with every field set to a distinct, non-default value.
inline domain::Notification sample_notification(std::string recipient = "r-1", Millis created_at = 1'000) {
  domain::Notification n;
  n.id = new_uuid();
  n.event_id = "evt-" + n.id;
  n.correlation_id = "corr-" + n.id;
  n.recipient_id = std::move(recipient);
  n.channel = domain::Channel::email;
  n.to = "mwansa@example.com";
  n.template_category = "loans";
  n.template_name = "loan_approved";
  n.locale = "bem";
  n.personalization = R"({"name":"Mwansa","amount":"K 5,000"})";
  n.subject = "Your loan is approved";
  n.content = "Muli shani Mwansa \xE2\x80\x94 K 5,000 approved.\nThank you.";
  n.status = domain::Status::pending;
  n.priority = 7;
  n.critical = true;
  n.attempts = 2;
  n.next_attempt_at = created_at + 5;
  n.lease_until = 0;
  n.provider = "smtp";
  n.provider_message_id = "";
  n.cost_micros = 12'345;
  n.currency = "ZMW";
  n.last_error = "421 try later";
  n.created_at = created_at;
  n.sent_at = created_at + 10;
  n.delivered_at = created_at + 20;
  n.read_at = created_at + 30;
  return n;
}

}  // namespace comms::store::testing

// Instantiates `suite` (a StoreTest alias) once per backend.
#define COMMS_STORE_BACKENDS(suite)                                                                   \
  INSTANTIATE_TEST_SUITE_P(Backends, suite, ::testing::ValuesIn(::comms::store::testing::backends()), \
                           ::comms::store::testing::backend_name)
