#include "store/postgres/connection.h"

#include <libpq-fe.h>

#include <charconv>
#include <optional>

#include "store/sql_text.h"
#include "store/store.h"

namespace comms::store::postgres {
namespace {

constexpr std::string_view kUniqueViolation = "23505";

std::string trimmed(const char* text) {
  std::string s = text ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The password of a postgres:// URL as written (percent-encoded), or empty.
std::string url_password(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?"));
  const auto at = rest.rfind('@');
  if (at == std::string_view::npos) return {};
  const std::string_view userinfo = rest.substr(0, at);
  const auto colon = userinfo.find(':');
  return colon == std::string_view::npos ? std::string() : std::string(userinfo.substr(colon + 1));
}

void replace_all(std::string& s, const std::string& what, std::string_view with) {
  if (what.empty()) return;
  for (auto pos = s.find(what); pos != std::string::npos; pos = s.find(what, pos + with.size()))
    s.replace(pos, what.size(), with);
}

// Host, port, database and password named by `url`, with libpq's defaults.
struct Target {
  std::string host = "localhost", port = "5432", database, password;
};

Target parse_target(const std::string& url) {
  Target t;
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (!opts) {
    std::string msg = trimmed(err);
    PQfreemem(err);
    replace_all(msg, url_password(url), "***");
    throw StoreError("invalid PostgreSQL URL: " + msg);
  }
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (!o->val || !*o->val) continue;
    const std::string_view key = o->keyword;
    if (key == "host" || (key == "hostaddr" && t.host == "localhost")) t.host = o->val;
    if (key == "port") t.port = o->val;
    if (key == "dbname") t.database = o->val;
    if (key == "user" && t.database.empty()) t.database = o->val;  // libpq's default database
    if (key == "password") t.password = o->val;
  }
  PQconninfoFree(opts);
  return t;
}

// PostgreSQL text cannot hold NUL bytes. Text values are stored with NUL as
// kEscape '0' and kEscape itself (U+E000, private use) doubled, so that every
// string round-trips and text without either is stored unchanged.
constexpr std::string_view kEscape = "\xEE\x80\x80";

std::string escape_text(std::string_view v) {
  std::string out;
  out.reserve(v.size() + 8);
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\0') {
      out.append(kEscape).push_back('0');
    } else if (v.substr(i, kEscape.size()) == kEscape) {
      out.append(kEscape).append(kEscape);
      i += kEscape.size() - 1;
    } else {
      out.push_back(v[i]);
    }
  }
  return out;
}

std::string unescape_text(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size();) {
    if (v.substr(i, kEscape.size()) != kEscape) {
      out.push_back(v[i++]);
    } else if (v.substr(i + kEscape.size(), 1) == "0") {
      out.push_back('\0');
      i += kEscape.size() + 1;
    } else {
      out.append(kEscape);
      i += v.substr(i + kEscape.size(), kEscape.size()) == kEscape ? 2 * kEscape.size() : kEscape.size();
    }
  }
  return out;
}

bool needs_escape(std::string_view v) {
  return v.find('\0') != std::string_view::npos || v.find(kEscape) != std::string_view::npos;
}

void ignore_notice(void*, const char*) {}

}  // namespace

// ---- Params ----------------------------------------------------------------

Params& Params::add(std::string_view v) {
  if (needs_escape(v))
    text_.push_back(escape_text(v));
  else
    text_.emplace_back(v);
  null_.push_back(false);
  return *this;
}

Params& Params::add(std::int64_t v) {
  text_.push_back(std::to_string(v));
  null_.push_back(false);
  return *this;
}

Params& Params::add_null() {
  text_.emplace_back();
  null_.push_back(true);
  return *this;
}

std::vector<const char*> Params::values() const {
  std::vector<const char*> out(text_.size());
  for (std::size_t i = 0; i < text_.size(); ++i) out[i] = null_[i] ? nullptr : text_[i].c_str();
  return out;
}

// ---- Result ----------------------------------------------------------------

Result::~Result() {
  PQclear(res_);
}

Result& Result::operator=(Result&& o) noexcept {
  if (this != &o) {
    PQclear(res_);
    res_ = o.res_;
    o.res_ = nullptr;
  }
  return *this;
}

int Result::rows() const {
  return res_ ? PQntuples(res_) : 0;
}

std::int64_t Result::affected() const {
  const char* n = res_ ? PQcmdTuples(res_) : "";
  std::int64_t v = 0;
  std::from_chars(n, n + std::char_traits<char>::length(n), v);
  return v;
}

std::string Result::command() const {
  return res_ ? PQcmdStatus(res_) : "";
}

bool Result::is_null(int row, int col) const {
  return PQgetisnull(res_, row, col) != 0;
}

std::string Result::text(int row, int col) const {
  const std::string_view v(PQgetvalue(res_, row, col), static_cast<std::size_t>(PQgetlength(res_, row, col)));
  return v.find(kEscape) == std::string_view::npos ? std::string(v) : unescape_text(v);
}

std::int64_t Result::int64(int row, int col) const {
  if (is_null(row, col)) return 0;
  const char* p = PQgetvalue(res_, row, col);
  const char* end = p + PQgetlength(res_, row, col);
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(p, end, v);
  if (ec != std::errc() || ptr != end)
    throw StoreError("column " + std::string(PQfname(res_, col)) + " holds '" + std::string(p, end) +
                     "', not an integer");
  return v;
}

// ---- Connection ------------------------------------------------------------

struct Connection::Failure {
  std::string sqlstate;
  std::string message;
  std::string sql;

  [[noreturn]] void raise() const {
    const std::string what = "postgres: " + message + " (SQLSTATE " + sqlstate + "; " + excerpt(sql) + ")";
    if (sqlstate == kUniqueViolation) throw DuplicateError(what);
    throw StoreError(what);
  }
};

Connection::Connection(const std::string& url) {
  const Target t = parse_target(url);
  target_ = t.host + ":" + t.port + "/" + t.database;
  password_ = t.password;
  // The URL comes after the defaults, so that its own parameters override them.
  const char* keys[] = {"connect_timeout", "fallback_application_name", "dbname", "client_encoding", nullptr};
  const char* values[] = {"10", "comms", url.c_str(), "UTF8", nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    std::string msg = conn_ ? trimmed(PQerrorMessage(conn_)) : "out of memory";
    PQfinish(conn_);
    conn_ = nullptr;
    replace_all(msg, password_, "***");
    replace_all(msg, url_password(url), "***");
    throw StoreError("cannot connect to PostgreSQL at " + target_ + ": " + msg);
  }
  PQsetNoticeProcessor(conn_, ignore_notice, nullptr);  // "already exists, skipping" and the like
  if (PQenterPipelineMode(conn_) != 1) {
    const std::string msg = trimmed(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    throw StoreError("PostgreSQL at " + target_ + " refused pipeline mode: " + msg);
  }
}

Connection::~Connection() {
  PQfinish(conn_);
}

bool Connection::ok() const {
  return conn_ && !broken_ && PQstatus(conn_) == CONNECTION_OK;
}

void Connection::lost(std::string_view during) {
  pending_.clear();
  unchecked_ = 0;
  std::string msg = trimmed(PQerrorMessage(conn_));
  replace_all(msg, password_, "***");
  broken_ = true;  // its protocol state is no longer known: it is not used again
  throw StoreError("PostgreSQL connection to " + target_ + " failed during " + std::string(during) + ": " +
                   (msg.empty() ? "unexpected protocol state" : msg));
}

void Connection::push(Pending::Kind kind, bool keep, std::string_view sql) {
  pending_.push_back({kind, keep, std::string(sql)});
}

const std::string& Connection::prepared_name(std::string_view sql) {
  std::string key(sql);
  if (auto it = prepared_.find(key); it != prepared_.end()) return it->second;
  std::string name = "s" + std::to_string(prepared_.size() + 1);
  if (!PQsendPrepare(conn_, name.c_str(), key.c_str(), 0, nullptr)) lost("prepare");
  push(Pending::Kind::prepare, false, key);
  return prepared_.emplace(std::move(key), std::move(name)).first->second;
}

void Connection::send(std::string_view sql, const Params& params, bool control) {
  const std::string& name = prepared_name(sql);
  const auto values = params.values();
  if (!PQsendQueryPrepared(conn_, name.c_str(), params.size(), values.data(), nullptr, nullptr, 0))
    lost("send");
  push(Pending::Kind::statement, false, sql);
  if (!control) ++unchecked_;
}

Result Connection::query(std::string_view sql, const Params& params, bool then_sync) {
  const std::string& name = prepared_name(sql);
  const auto values = params.values();
  if (!PQsendQueryPrepared(conn_, name.c_str(), params.size(), values.data(), nullptr, nullptr, 0))
    lost("send");
  push(Pending::Kind::statement, true, sql);
  return drain(then_sync);
}

void Connection::wait() {
  if (!pending_.empty()) drain(false);
}

void Connection::sync() {
  drain(true);
}

void Connection::sync_later() {
  if (!PQpipelineSync(conn_)) lost("sync");
  push(Pending::Kind::sync, false, "");
  if (PQflush(conn_) != 0) lost("flush");
}

void Connection::discard() noexcept {
  if (!ok() || pending_.empty()) return;  // an empty queue is already in sync
  try {
    drain(true);
  } catch (const std::exception&) {
    // drain resynchronized the pipeline (or marked the connection lost)
  }
}

void Connection::rollback() noexcept {
  discard();
  if (!ok()) return;
  try {  // outside a transaction, ROLLBACK only warns
    send("ROLLBACK", {}, true);
    sync();
  } catch (const std::exception&) {
    // the connection is lost; its owner reconnects
  }
}

Result Connection::drain(bool sync_after) {
  if (sync_after) {
    if (!PQpipelineSync(conn_)) lost("sync");
    push(Pending::Kind::sync, false, "");
  } else if (!PQsendFlushRequest(conn_)) {
    lost("flush request");
  }
  if (PQflush(conn_) != 0) lost("flush");

  std::optional<Failure> failure;
  bool resynced = sync_after;
  Result last;
  while (!pending_.empty()) {
    const Pending p = std::move(pending_.front());
    pending_.pop_front();
    PGresult* r = PQgetResult(conn_);
    if (!r) lost("reading results");
    const ExecStatusType status = PQresultStatus(r);
    if (p.kind == Pending::Kind::sync) {
      PQclear(r);
      if (status != PGRES_PIPELINE_SYNC) lost("sync");
      continue;
    }
    if (status == PGRES_FATAL_ERROR || status == PGRES_PIPELINE_ABORTED) {
      if (status == PGRES_FATAL_ERROR && !failure) {
        const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        failure =
            Failure{state ? state : "?????", trimmed(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)), p.sql};
      }
      if (p.kind == Pending::Kind::prepare) prepared_.erase(p.sql);
      PQclear(r);
      if (!ok()) lost("a statement");
    } else if (p.keep) {
      last = Result(r);
    } else {
      PQclear(r);
    }
    if (PGresult* extra = PQgetResult(conn_)) {  // each command's results end with a null
      PQclear(extra);
      lost("reading results");
    }
  }
  unchecked_ = 0;
  if (failure) {
    if (!resynced) {
      // The server skips everything after an error until a Sync.
      if (!PQpipelineSync(conn_) || PQflush(conn_) != 0) lost("sync");
      PGresult* r = PQgetResult(conn_);
      const bool synced = r && PQresultStatus(r) == PGRES_PIPELINE_SYNC;
      PQclear(r);
      if (!synced) lost("sync");
    }
    failure->raise();
  }
  return last;
}

void Connection::script(std::string_view sql) {
  wait();
  if (PQexitPipelineMode(conn_) != 1) lost("leaving pipeline mode");
  const std::string text(sql);
  PGresult* r = PQexec(conn_, text.c_str());
  std::optional<Failure> failure;
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    failure =
        Failure{state ? state : "?????",
                trimmed(r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : PQerrorMessage(conn_)), text};
  }
  PQclear(r);
  if (!ok()) lost("a script");
  if (PQenterPipelineMode(conn_) != 1) lost("entering pipeline mode");
  if (failure) failure->raise();
}

}  // namespace comms::store::postgres
