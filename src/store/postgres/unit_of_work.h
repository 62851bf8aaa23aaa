// The PostgreSQL repositories and the unit of work that groups them over one
// connection. The caller (the store's writer or a reader) owns the transaction;
// these classes only run statements inside it. Writes whose outcome the caller
// does not need (plain inserts, outbox marks) are only queued on the pipeline:
// their errors surface at the unit's next statement, or when the writer checks
// the unit at its end. A read-only unit of work throws StoreError("read-only")
// from every method that writes.
// Thread-compatible: used only on the thread that owns the connection.
#pragma once
#include "store/postgres/connection.h"
#include "store/store.h"

namespace comms::store::postgres {

// Shared by the repositories: the connection and whether writes are allowed.
class RepositoryBase {
 protected:
  RepositoryBase(Connection& c, bool writable) : conn_(c), writable_(writable) {}
  // Throws StoreError("read-only") in a read-only unit of work.
  void require_writable() const;

  Connection& conn_;
  bool writable_;
};

class PgNotifications final : public NotificationRepository, RepositoryBase {
 public:
  PgNotifications(Connection& c, bool writable) : RepositoryBase(c, writable) {}
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

class PgRecipients final : public RecipientRepository, RepositoryBase {
 public:
  PgRecipients(Connection& c, bool writable) : RepositoryBase(c, writable) {}
  std::optional<domain::Recipient> get(const std::string& id) override;
  void upsert(domain::Recipient& r) override;
};

class PgProcessedEvents final : public ProcessedEventRepository, RepositoryBase {
 public:
  PgProcessedEvents(Connection& c, bool writable) : RepositoryBase(c, writable) {}
  bool add(const std::string& event_id, const std::string& event_type, Millis at) override;
  bool exists(const std::string& event_id) override;
};

class PgOutbox final : public OutboxRepository, RepositoryBase {
 public:
  PgOutbox(Connection& c, bool writable) : RepositoryBase(c, writable) {}
  void add(OutboxMessage& m) override;
  std::vector<OutboxMessage> pending(int limit) override;
  using OutboxRepository::mark_published;
  void mark_published(std::span<const std::int64_t> seqs, Millis at) override;
  void mark_failed(std::int64_t seq, const std::string& error) override;
  bool acquire_relay_lease(const std::string& holder, Millis now, Millis expires_at) override;
};

class PgIdempotency final : public IdempotencyRepository, RepositoryBase {
 public:
  PgIdempotency(Connection& c, bool writable) : RepositoryBase(c, writable) {}
  std::optional<IdempotencyRecord> get(const std::string& principal, const std::string& key) override;
  void put(const IdempotencyRecord& r) override;
};

class PgDevInbox final : public DevInboxRepository, RepositoryBase {
 public:
  PgDevInbox(Connection& c, bool writable) : RepositoryBase(c, writable) {}
  bool add(DevMessage& m) override;
  Page<DevMessage> list(int page, int page_size) override;
};

class PgPreferences final : public PreferenceRepository, RepositoryBase {
 public:
  PgPreferences(Connection& c, bool writable) : RepositoryBase(c, writable) {}
  std::optional<RecipientPreferences> get(const std::string& recipient_id) override;
  void upsert(RecipientPreferences& p) override;
};

class PgWorkflows final : public WorkflowRepository, RepositoryBase {
 public:
  PgWorkflows(Connection& c, bool writable) : RepositoryBase(c, writable) {}
  void insert(WorkflowInstance& w) override;
  std::optional<WorkflowInstance> get(const std::string& correlation_id) override;
  void update(WorkflowInstance& w) override;
  std::vector<WorkflowInstance> due(Millis now, int limit) override;
  std::optional<Millis> next_wake_at() override;
  void add_history(WorkflowHistoryEntry& e) override;
  std::vector<WorkflowHistoryEntry> history(const std::string& correlation_id) override;
};

class PgTemplates final : public TemplateRepository, RepositoryBase {
 public:
  PgTemplates(Connection& c, bool writable) : RepositoryBase(c, writable) {}
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

class PgUnitOfWork final : public UnitOfWork {
 public:
  PgUnitOfWork(Connection& c, bool writable)
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
  PgNotifications notifications_;
  PgRecipients recipients_;
  PgProcessedEvents processed_events_;
  PgOutbox outbox_;
  PgIdempotency idempotency_;
  PgDevInbox dev_inbox_;
  PgPreferences preferences_;
  PgWorkflows workflows_;
  PgTemplates templates_;
};

// Clamps a 1-based page request to sane bounds; returns {limit, offset}.
std::pair<std::int64_t, std::int64_t> page_window(int page, int page_size);

// Lists stored comma-separated (RecipientPreferences), as on SQLite.
std::string join_list(const std::vector<std::string>& items);
std::vector<std::string> split_list(const std::string& text);

}  // namespace comms::store::postgres
