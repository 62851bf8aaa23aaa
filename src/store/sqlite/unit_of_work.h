// The SQLite repositories and the unit of work that groups them over one
// connection. The caller (the store's writer or a reader) owns the transaction;
// these classes only run statements inside it. A read-only unit of work throws
// StoreError("read-only") from every method that writes.
// Thread-compatible: used only on the thread that owns the connection.
#pragma once
#include "store/sqlite/connection.h"
#include "store/store.h"

namespace comms::store::sqlite {

// Shared by the repositories: the connection and whether writes are allowed.
class RepositoryBase {
 protected:
  RepositoryBase(Connection& c, bool writable) : conn_(c), writable_(writable) {}
  // Throws StoreError("read-only") in a read-only unit of work, and
  // StoreError when the enclosing transaction is no longer open.
  void require_writable() const;

  Connection& conn_;
  bool writable_;
};

class SqliteNotifications final : public NotificationRepository, RepositoryBase {
 public:
  SqliteNotifications(Connection& c, bool writable) : RepositoryBase(c, writable) {}
  void insert(domain::Notification& n) override;
  std::optional<domain::Notification> get(const std::string& id) override;
  void update(domain::Notification& n) override;
  Page<domain::Notification> query(const NotificationQuery& q) override;
  std::vector<domain::Notification> claim_due(Millis now, int limit, Millis lease_ms) override;
  int release_all_claims() override;
  std::optional<domain::Notification> find_by_provider_message_id(const std::string& provider,
                                                                  const std::string& message_id) override;
  std::int64_t count_due(Millis now) override;
  std::map<std::pair<domain::Channel, domain::Status>, std::int64_t> count_by_channel_status() override;
  std::optional<Millis> next_due_at() override;
  InboxPage inbox(const InboxQuery& q) override;
  bool mark_read(const std::string& id, Millis at) override;
};

class SqliteRecipients final : public RecipientRepository, RepositoryBase {
 public:
  SqliteRecipients(Connection& c, bool writable) : RepositoryBase(c, writable) {}
  std::optional<domain::Recipient> get(const std::string& id) override;
  void upsert(domain::Recipient& r) override;
};

class SqliteProcessedEvents final : public ProcessedEventRepository, RepositoryBase {
 public:
  SqliteProcessedEvents(Connection& c, bool writable) : RepositoryBase(c, writable) {}
  bool add(const std::string& event_id, const std::string& event_type, Millis at) override;
  bool exists(const std::string& event_id) override;
};

class SqliteOutbox final : public OutboxRepository, RepositoryBase {
 public:
  SqliteOutbox(Connection& c, bool writable) : RepositoryBase(c, writable) {}
  void add(OutboxMessage& m) override;
  std::vector<OutboxMessage> pending(int limit) override;
  using OutboxRepository::mark_published;
  void mark_published(std::span<const std::int64_t> seqs, Millis at) override;
  void mark_failed(std::int64_t seq, const std::string& error) override;
  bool acquire_relay_lease(const std::string& holder, Millis now, Millis expires_at) override;
};

class SqliteIdempotency final : public IdempotencyRepository, RepositoryBase {
 public:
  SqliteIdempotency(Connection& c, bool writable) : RepositoryBase(c, writable) {}
  std::optional<IdempotencyRecord> get(const std::string& principal, const std::string& key) override;
  void put(const IdempotencyRecord& r) override;
};

class SqliteDevInbox final : public DevInboxRepository, RepositoryBase {
 public:
  SqliteDevInbox(Connection& c, bool writable) : RepositoryBase(c, writable) {}
  bool add(DevMessage& m) override;
  Page<DevMessage> list(int page, int page_size) override;
};

class SqlitePreferences final : public PreferenceRepository, RepositoryBase {
 public:
  SqlitePreferences(Connection& c, bool writable) : RepositoryBase(c, writable) {}
  std::optional<RecipientPreferences> get(const std::string& recipient_id) override;
  void upsert(RecipientPreferences& p) override;
};

class SqliteWorkflows final : public WorkflowRepository, RepositoryBase {
 public:
  SqliteWorkflows(Connection& c, bool writable) : RepositoryBase(c, writable) {}
  void insert(WorkflowInstance& w) override;
  std::optional<WorkflowInstance> get(const std::string& correlation_id) override;
  void update(WorkflowInstance& w) override;
  std::vector<WorkflowInstance> due(Millis now, int limit) override;
  std::optional<Millis> next_wake_at() override;
  void add_history(WorkflowHistoryEntry& e) override;
  std::vector<WorkflowHistoryEntry> history(const std::string& correlation_id) override;
};

class SqliteTemplates final : public TemplateRepository, RepositoryBase {
 public:
  SqliteTemplates(Connection& c, bool writable) : RepositoryBase(c, writable) {}
  void create(TemplateRecord& t, const std::string& created_by) override;
  std::optional<TemplateRecord> get(const std::string& id) override;
  std::optional<TemplateRecord> find(const std::string& category, const std::string& name,
                                     domain::Channel channel, const std::string& locale) override;
  Page<TemplateRecord> query(const TemplateQuery& q) override;
  void add_version(TemplateRecord& t, const std::string& created_by) override;
  bool activate(TemplateRecord& t, int version) override;
  std::vector<TemplateVersion> versions(const std::string& id) override;
  bool remove(const std::string& id) override;
};

class SqliteUnitOfWork final : public UnitOfWork {
 public:
  SqliteUnitOfWork(Connection& c, bool writable)
      : notifications_(c, writable),
        recipients_(c, writable),
        processed_events_(c, writable),
        outbox_(c, writable),
        idempotency_(c, writable),
        dev_inbox_(c, writable),
        preferences_(c, writable),
        workflows_(c, writable),
        templates_(c, writable) {}
  NotificationRepository& notifications() override { return notifications_; }
  RecipientRepository& recipients() override { return recipients_; }
  ProcessedEventRepository& processed_events() override { return processed_events_; }
  OutboxRepository& outbox() override { return outbox_; }
  IdempotencyRepository& idempotency() override { return idempotency_; }
  DevInboxRepository& dev_inbox() override { return dev_inbox_; }
  PreferenceRepository& preferences() override { return preferences_; }
  WorkflowRepository& workflows() override { return workflows_; }
  TemplateRepository& templates() override { return templates_; }

 private:
  SqliteNotifications notifications_;
  SqliteRecipients recipients_;
  SqliteProcessedEvents processed_events_;
  SqliteOutbox outbox_;
  SqliteIdempotency idempotency_;
  SqliteDevInbox dev_inbox_;
  SqlitePreferences preferences_;
  SqliteWorkflows workflows_;
  SqliteTemplates templates_;
};

// Clamps a 1-based page request to sane bounds; returns {limit, offset}.
std::pair<std::int64_t, std::int64_t> page_window(int page, int page_size);

}  // namespace comms::store::sqlite
