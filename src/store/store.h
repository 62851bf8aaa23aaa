// Storage interfaces: the unit of work and its repositories.
//
// Callers see only these interfaces; store/sqlite (the embedded default) and
// store/postgres (scale-out) implement them. Nothing backend-specific (SQL text,
// rowids, error codes) crosses this header.
//
// Threading: a Store is safe to use from many threads. Repository objects are
// valid only inside the callback that received their UnitOfWork, on the thread
// that runs it; they must not be kept.
#pragma once
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "domain/notification.h"

namespace comms::store {

// A row's version did not match (optimistic concurrency). Callers may reload and
// retry; the unit of work that raised it was rolled back.
class ConflictError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A unique key already exists (e.g. an id inserted twice).
class DuplicateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Any other storage failure (I/O, corruption, unreachable server).
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class T>
struct Page {
  std::vector<T> items;
  std::int64_t total = 0;  // matching rows over all pages
};

struct NotificationQuery {
  std::optional<std::string> recipient_id;
  std::optional<domain::Channel> channel;
  std::optional<domain::Status> status;
  std::optional<Millis> from;  // created_at >= from
  std::optional<Millis> to;    // created_at <= to
  int page = 1;                // 1-based; values below 1 mean 1
  int page_size = 20;          // clamped to 1..1000
};

// One user's in-app inbox (issue 6): in-app notifications addressed to
// recipient_id that were sent (Sent or Delivered), newest first.
struct InboxQuery {
  std::string recipient_id;
  bool unread_only = false;  // only read_at == 0
  int page = 1;              // paging as in NotificationQuery
  int page_size = 20;
};

struct InboxPage : Page<domain::Notification> {
  std::int64_t unread = 0;  // unread rows of the whole inbox, whatever unread_only says
};

class NotificationRepository {
 public:
  virtual ~NotificationRepository() = default;
  // Inserts `n` with version 1 (n.version is set). DuplicateError if the id exists.
  virtual void insert(domain::Notification& n) = 0;
  virtual std::optional<domain::Notification> get(const std::string& id) = 0;
  // Writes every field of `n` where the stored version equals n.version, then
  // bumps n.version. ConflictError when the version differs or the row is gone.
  // read_at never moves back: the stored value is kept when it is later than n.read_at.
  virtual void update(domain::Notification& n) = 0;
  // Newest first (created_at desc, id desc).
  virtual Page<domain::Notification> query(const NotificationQuery& q) = 0;
  // Claims up to `limit` due notifications: Pending with next_attempt_at <= now,
  // or Sending whose lease_until < now (a crashed claimant). Claimed rows become
  // Sending with lease_until = now + lease_ms and a bumped version; they are
  // returned ordered by priority desc, next_attempt_at asc. Two concurrent
  // claimants never receive the same row.
  virtual std::vector<domain::Notification> claim_due(Millis now, int limit, Millis lease_ms) = 0;
  // Embedded single-instance start-up: sets every Sending row back to Pending
  // and returns how many. On PostgreSQL, where several instances share the
  // table, a Sending row may be another live instance's in-flight send: it
  // changes nothing and returns 0 (leases expire and claim_due takes them back).
  virtual int release_all_claims() = 0;
  virtual std::optional<domain::Notification> find_by_provider_message_id(const std::string& provider,
                                                                          const std::string& message_id) = 0;
  // Pending rows whose next_attempt_at <= now (the dispatcher queue depth).
  virtual std::int64_t count_due(Millis now) = 0;
  // Row counts by (channel, status), for metrics.
  virtual std::map<std::pair<domain::Channel, domain::Status>, std::int64_t> count_by_channel_status() = 0;
  // The earliest next_attempt_at of a Pending row, if any (lets the dispatcher sleep).
  virtual std::optional<Millis> next_due_at() = 0;
  // The in-app inbox described by InboxQuery; Page::total counts the rows that match.
  virtual InboxPage inbox(const InboxQuery& q) = 0;
  // Sets read_at = at on the in-app notification `id` if it is still unread. True when it changed.
  // The version is deliberately not bumped: a read must not turn the dispatcher's in-flight outcome
  // into a conflict (a re-send), and update() never lowers read_at, so no write loses the read.
  // Ownership is the caller's check (get() first, in the same unit of work).
  virtual bool mark_read(const std::string& id, Millis at) = 0;
};

class RecipientRepository {
 public:
  virtual ~RecipientRepository() = default;
  virtual std::optional<domain::Recipient> get(const std::string& id) = 0;
  // Inserts or replaces. If r.version > 0 it must equal the stored version
  // (ConflictError otherwise); r.version == 0 means "last writer wins".
  // On return r.version is the new version.
  virtual void upsert(domain::Recipient& r) = 0;
};

// The inbox of the idempotent consumer: which events were already handled.
class ProcessedEventRepository {
 public:
  virtual ~ProcessedEventRepository() = default;
  // Records the event; false if it was already recorded (nothing changes).
  virtual bool add(const std::string& event_id, const std::string& event_type, Millis at) = 0;
  virtual bool exists(const std::string& event_id) = 0;
};

struct OutboxMessage {
  std::int64_t seq = 0;      // assigned on insert, increasing: the publish order
  std::string id;            // message id (UUID)
  std::string message_type;  // e.g. "NotificationSent"
  std::string payload;       // JSON text of the message body
  std::string correlation_id;
  Millis created_at = 0;
  Millis published_at = 0;
  int attempts = 0;
  std::string last_error;
};

class OutboxRepository {
 public:
  virtual ~OutboxRepository() = default;
  virtual void add(OutboxMessage& m) = 0;  // sets m.seq
  // Unpublished messages in seq order.
  virtual std::vector<OutboxMessage> pending(int limit) = 0;
  // Sets published_at on every row of `seqs`: one statement per call, whatever their number.
  virtual void mark_published(std::span<const std::int64_t> seqs, Millis at) = 0;
  void mark_published(std::int64_t seq, Millis at) { mark_published(std::span(&seq, 1), at); }
  virtual void mark_failed(std::int64_t seq, const std::string& error) = 0;  // attempts += 1
  // The relay lease, so that one relay publishes at a time when several instances share the
  // database (seq order stays global). Grants `holder` the lease until `expires_at` when it is
  // free, expired (its expiry < now), or already `holder`'s; true when `holder` holds it on return.
  virtual bool acquire_relay_lease(const std::string& holder, Millis now, Millis expires_at) = 0;
};

struct IdempotencyRecord {
  std::string key;
  std::string principal;     // who used the key (the caller's subject)
  std::string request_hash;  // hash of method + path + body
  std::string notification_id;
  Millis created_at = 0;
};

class IdempotencyRepository {
 public:
  virtual ~IdempotencyRepository() = default;
  virtual std::optional<IdempotencyRecord> get(const std::string& principal, const std::string& key) = 0;
  // DuplicateError if (principal, key) exists.
  virtual void put(const IdempotencyRecord& r) = 0;
};

// The built-in dev inbox (Mailtrap-like capture of everything "sent").
struct DevMessage {
  std::int64_t seq = 0;
  std::string notification_id;
  domain::Channel channel = domain::Channel::sms;
  std::string to;
  std::string subject;
  std::string body;
  Millis captured_at = 0;
};

class DevInboxRepository {
 public:
  virtual ~DevInboxRepository() = default;
  // Stores the message unless one with the same notification_id exists
  // (delivery is at-least-once; the inbox keeps one copy). True if stored.
  virtual bool add(DevMessage& m) = 0;
  // Newest first. Paging as in NotificationQuery.
  virtual Page<DevMessage> list(int page, int page_size) = 0;
};

// A recipient's delivery preferences (GET/PUT /api/v1/recipients/{id}/preferences).
// Lists hold lower-case names without commas: channel wire names ("sms",
// "email", "inapp") and template categories ("marketing").
struct RecipientPreferences {
  std::string recipient_id;
  std::vector<std::string> opted_out_channels;
  std::vector<std::string> opted_out_categories;
  std::string quiet_start;  // local "HH:MM"; empty = no quiet hours
  std::string quiet_end;    // local "HH:MM", the end of the quiet period
  std::string timezone;     // IANA name; empty = the recipient's directory time zone
  std::string language;     // preferred language tag; empty = the directory's
  Millis updated_at = 0;
  std::int64_t version = 0;
};

class PreferenceRepository {
 public:
  virtual ~PreferenceRepository() = default;
  virtual std::optional<RecipientPreferences> get(const std::string& recipient_id) = 0;
  // Inserts or replaces, with RecipientRepository::upsert's version rule
  // (p.version > 0 must match; 0 = last writer wins). Sets p.version.
  virtual void upsert(RecipientPreferences& p) = 0;
};

// A saga instance, keyed by its correlation id (one instance per id).
struct WorkflowInstance {
  std::string correlation_id;
  std::string workflow;       // state machine name, e.g. "notification-workflow"
  std::string current_state;  // e.g. "AwaitingCustomerSent", "Completed"
  std::string event_id;       // the event that started it
  std::string event_type;
  std::string event_payload = "{}";  // JSON object text: the starting event's fields
  std::string flags = "{}";          // JSON object text: the machine's booleans
  std::string steps = "{}";          // JSON object text: step name -> [notification ids]
  Millis wake_at = 0;                // a timeout is due at this time; 0 = none
  Millis created_at = 0;
  Millis updated_at = 0;
  Millis completed_at = 0;  // 0 while running
  std::int64_t version = 0;
};

// One transition of a saga instance; append-only.
struct WorkflowHistoryEntry {
  std::int64_t seq = 0;  // assigned on insert, increasing
  std::string correlation_id;
  Millis at = 0;
  std::string from_state;  // empty for the start
  std::string to_state;
  std::string cause;          // what triggered it: an event type, or "Timeout"
  std::string detail = "{}";  // JSON object text (notification ids created, ...)
};

class WorkflowRepository {
 public:
  virtual ~WorkflowRepository() = default;
  // Inserts `w` with version 1 (w.version is set). DuplicateError if the
  // correlation id exists.
  virtual void insert(WorkflowInstance& w) = 0;
  virtual std::optional<WorkflowInstance> get(const std::string& correlation_id) = 0;
  // Writes every field where the stored version equals w.version, then bumps
  // w.version. ConflictError when the version differs or the row is gone.
  virtual void update(WorkflowInstance& w) = 0;
  // Up to `limit` instances whose timeout is due (0 < wake_at <= now), earliest first.
  virtual std::vector<WorkflowInstance> due(Millis now, int limit) = 0;
  // The earliest pending timeout, if any (lets the scheduler sleep).
  virtual std::optional<Millis> next_wake_at() = 0;
  virtual void add_history(WorkflowHistoryEntry& e) = 0;  // sets e.seq
  // The instance's transitions, oldest first.
  virtual std::vector<WorkflowHistoryEntry> history(const std::string& correlation_id) = 0;
};

// Message templates (issue 3), keyed by (category, name, channel, locale). Each save is an
// immutable numbered version; exactly one version is active. See docs/templates.md.
struct TemplateContent {
  std::string subject;    // email and in-app; may hold Mustache tags
  std::string body;       // SMS text, in-app body, email text part
  std::string html_body;  // email HTML part; may be empty
  int max_segments = 0;   // SMS: most segments a render may take (0 = no limit)
  bool strict = false;    // previews list the variables a render could not resolve
};

struct TemplateVersion {
  std::string template_id;
  int version = 0;  // 1, 2, 3, ...
  TemplateContent content;
  std::string created_by;  // the subject of whoever saved it
  Millis created_at = 0;
};

struct TemplateRecord {
  std::string id;  // UUID
  std::string category;
  std::string name;
  domain::Channel channel = domain::Channel::sms;
  std::string locale;  // language tag: "en", "bem", "ny"
  std::string description;
  int active_version = 0;
  int latest_version = 0;
  TemplateContent active;  // the active version's content
  Millis created_at = 0;
  Millis updated_at = 0;
  std::int64_t version = 0;  // optimistic concurrency of the template row
};

struct TemplateQuery {
  std::optional<std::string> category;
  std::optional<std::string> name;
  std::optional<domain::Channel> channel;
  std::optional<std::string> locale;
  int page = 1;  // paging as in NotificationQuery
  int page_size = 20;
};

class TemplateRepository {
 public:
  virtual ~TemplateRepository() = default;
  // Inserts t with version 1 of its content (t.active) and makes it active: sets t.version = 1,
  // t.active_version = t.latest_version = 1. DuplicateError when the id or the key
  // (category, name, channel, locale) exists.
  virtual void create(TemplateRecord& t, const std::string& created_by) = 0;
  virtual std::optional<TemplateRecord> get(const std::string& id) = 0;
  virtual std::optional<TemplateRecord> find(const std::string& category, const std::string& name,
                                             domain::Channel channel, const std::string& locale) = 0;
  // Ordered by category, name, channel, locale.
  virtual Page<TemplateRecord> query(const TemplateQuery& q) = 0;
  // Saves t.active as version latest+1 and activates it; also writes t.description. The stored row
  // version must equal t.version (ConflictError otherwise, or when the template is gone); bumps
  // t.version and sets t.active_version, t.latest_version, t.updated_at.
  virtual void add_version(TemplateRecord& t, const std::string& created_by) = 0;
  // Activates an existing version (t.version checked and bumped as in add_version); loads its
  // content into t.active. False, and nothing changes, when the template has no such version.
  virtual bool activate(TemplateRecord& t, int version) = 0;
  // Every version, oldest first; empty when the template does not exist.
  virtual std::vector<TemplateVersion> versions(const std::string& id) = 0;
  // Deletes the template and its versions. False when it did not exist.
  virtual bool remove(const std::string& id) = 0;
};

// One transaction over every repository. Everything done through it commits
// together or not at all.
class UnitOfWork {
 public:
  virtual ~UnitOfWork() = default;
  virtual NotificationRepository& notifications() = 0;
  virtual RecipientRepository& recipients() = 0;
  virtual ProcessedEventRepository& processed_events() = 0;
  virtual OutboxRepository& outbox() = 0;
  virtual IdempotencyRepository& idempotency() = 0;
  virtual DevInboxRepository& dev_inbox() = 0;
  virtual PreferenceRepository& preferences() = 0;
  virtual WorkflowRepository& workflows() = 0;
  virtual TemplateRepository& templates() = 0;
};

using Work = std::function<void(UnitOfWork&)>;
// Called once with nullptr on commit, or with the exception that aborted the
// unit of work (ConflictError, DuplicateError, StoreError, or whatever `work`
// threw). Runs on a store thread: it must be quick and must not block. The one
// exception: work submitted after close() is refused at once, on the caller's
// thread, with StoreError("store closed").
using Done = std::function<void(std::exception_ptr)>;

// Cumulative counters since open, for metrics and benchmarks.
struct StoreStats {
  std::int64_t write_batches = 0;  // group commits attempted
  std::int64_t write_units = 0;    // units of work run by the writer
  std::int64_t read_units = 0;     // units of work run by readers
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `work` as one transaction. Implementations may group several units of
  // work into one commit (group commit), but each keeps all-or-nothing
  // semantics: a unit that throws is rolled back alone. `done` runs after the
  // commit is durable. A unit must not catch a store error and go on: on
  // PostgreSQL the failed statement has already aborted the unit's transaction,
  // and a write whose result the unit does not use (an insert) may report its
  // error at the unit's next statement or when the unit ends.
  virtual void submit_write(Work work, Done done) = 0;
  // Runs `work` against a consistent read snapshot; writes through it fail.
  virtual void submit_read(Work work, Done done) = 0;

  // Applies pending migrations; returns how many ran. Blocking.
  virtual int migrate() = 0;
  // Current schema version and the latest this binary knows.
  virtual std::pair<int, int> schema_version() = 0;
  // Cheap reachability check. Blocking.
  virtual bool ping() = 0;
  // Stops accepting work, finishes what was submitted, closes. Blocking; idempotent.
  // Must not be called from inside a Work or Done (it waits for store threads).
  virtual void close() = 0;
  // "sqlite" or "postgres".
  virtual std::string backend() const = 0;
  // Thread-safe snapshot of the counters.
  virtual StoreStats stats() const { return {}; }
};

// Blocking wrappers, for the CLI, tests and store threads' callers that may block.
// They rethrow what the unit of work threw. Called on a store thread (inside a
// Work or Done) they throw StoreError instead of deadlocking.
void write_sync(Store& s, const Work& work);
void read_sync(Store& s, const Work& work);

// Opens the store named by a COMMS_DB value: a path or "sqlite:PATH" for SQLite,
// "postgres://user:password@host:port/db?param=value" (or "postgresql://")
// for PostgreSQL, whose connection errors name host, port and database but
// never the password. Throws StoreError with a message naming the problem. SQLite creates missing parent
// directories;
// ":memory:" is a throwaway SQLite database in a fresh temporary directory that
// close() deletes (for tests). The schema is not touched: call migrate().
struct StoreOptions {
  std::string url;
  int read_threads = 2;
  // PostgreSQL: writer connections, each committing its own groups, so that one group's round
  // trips and commit overlap another's; units submitted concurrently may then commit in any
  // order. SQLite has one writer whatever this says.
  int write_threads = 2;
  int max_batch = 256;           // most units of work in one group commit (PostgreSQL: at most 64)
  bool synchronous_full = true;  // SQLite: fsync the WAL on each group commit
};
std::unique_ptr<Store> open_store(const StoreOptions& options);

}  // namespace comms::store
