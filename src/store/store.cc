#include "store/store.h"

#include <cctype>
#include <future>
#include <string_view>

#include "common/log.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_thread.h"

namespace comms::store {
namespace detail {
namespace {
thread_local bool t_store_thread = false;
}  // namespace

void mark_store_thread() {
  t_store_thread = true;
}
bool on_store_thread() {
  return t_store_thread;
}

void call_done(const Done& done, std::exception_ptr e) {
  if (!done) return;
  try {
    done(std::move(e));
  } catch (const std::exception& ex) {
    log::error("store_done_callback_threw", {{"error", ex.what()}});
  } catch (...) {
    log::error("store_done_callback_threw", {{"error", "non-standard exception"}});
  }
}

void fail_committed(std::vector<std::exception_ptr>& results, std::size_t first, std::size_t end,
                    const std::string& why) {
  for (std::size_t k = first; k < end; ++k)
    if (!results[k]) results[k] = std::make_exception_ptr(StoreError(why));
}

std::string what_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "non-standard exception";
  }
}

}  // namespace detail

namespace {

void run_sync(const char* what, const Work& work, const std::function<void(Work, Done)>& submit) {
  if (detail::on_store_thread())
    throw StoreError(std::string(what) + " called on a store thread (it would deadlock)");
  auto promise = std::make_shared<std::promise<void>>();
  auto result = promise->get_future();
  submit(work, [promise](std::exception_ptr e) {
    if (e)
      promise->set_exception(e);
    else
      promise->set_value();
  });
  result.get();
}

// "scheme" of "scheme://...", or empty when `url` has none.
std::string_view url_scheme(std::string_view url) {
  const auto pos = url.find("://");
  if (pos == std::string_view::npos || pos == 0) return {};
  const std::string_view scheme = url.substr(0, pos);
  for (char c : scheme)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return {};
  return scheme;
}

}  // namespace

void write_sync(Store& s, const Work& work) {
  run_sync("write_sync", work, [&s](Work w, Done d) { s.submit_write(std::move(w), std::move(d)); });
}

void read_sync(Store& s, const Work& work) {
  run_sync("read_sync", work, [&s](Work w, Done d) { s.submit_read(std::move(w), std::move(d)); });
}

std::unique_ptr<Store> open_store(const StoreOptions& options) {
  if (options.read_threads < 1)
    throw StoreError("store option read_threads must be at least 1, got " +
                     std::to_string(options.read_threads));
  if (options.write_threads < 1)
    throw StoreError("store option write_threads must be at least 1, got " +
                     std::to_string(options.write_threads));
  if (options.max_batch < 1)
    throw StoreError("store option max_batch must be at least 1, got " + std::to_string(options.max_batch));

  std::string_view url = options.url;
  if (url.empty()) throw StoreError("store url is empty (expected a path, sqlite:PATH or postgres://...)");

  const std::string_view scheme = url_scheme(url);
  if (scheme == "postgres" || scheme == "postgresql") return postgres::open_pg_store(options.url, options);
  if (url.starts_with("sqlite:")) {
    url.remove_prefix(7);
    // "sqlite:///abs/path" and "sqlite://rel/path" are accepted as well as "sqlite:PATH".
    if (url.starts_with("//")) url.remove_prefix(2);
    if (url.empty()) throw StoreError("store url 'sqlite:' names no file");
  } else if (!scheme.empty()) {
    throw StoreError("store url scheme '" + std::string(scheme) +
                     "' is not supported (expected a path, sqlite:PATH or postgres://...)");
  }
  return sqlite::open_sqlite_store(std::string(url), options);
}

}  // namespace comms::store
