#include "commands/rejected.h"
#include "intake_fixture.h"

namespace comms::intake::testing {
namespace {

TEST_F(IntakeFixture, AnEventBecomesPendingNotificationsAndIsRecordedInTheInbox) {
  const auto r = post("PaymentReceived", R"({"eventId": "evt-pay-1", "paymentId": "P1", "loanId": "L1",
    "customerId": "cust-1", "amount": 1500, "paymentDate": "2026-03-01T10:00:00Z", "branchId": "lusaka-01",
    "customerName": "Mwansa", "customerPhone": "0971234567"})");
  EXPECT_FALSE(r.duplicate);
  EXPECT_EQ(r.event_id, "evt-pay-1");
  ASSERT_EQ(r.executed.created.size(), 1u);
  const auto& n = r.executed.created[0];
  EXPECT_EQ(n.status, domain::Status::pending);
  EXPECT_EQ(n.channel, domain::Channel::sms);
  EXPECT_EQ(n.to, "+260971234567");
  EXPECT_EQ(n.template_category, "collections");
  EXPECT_EQ(n.template_name, "payment-received");
  EXPECT_EQ(n.event_id, "evt-pay-1");
  EXPECT_EQ(n.content, "Dear Mwansa, we received ZMW 1500 for loan L1. Thank you. IntelliFin");
  const auto pers = boost::json::parse(n.personalization).as_object();
  EXPECT_EQ(pers.at("loanId").as_string(), "L1");
  EXPECT_EQ(pers.at("amount").as_int64(), 1500);
  bool processed = false;
  read([&](store::UnitOfWork& uow) { processed = uow.processed_events().exists("evt-pay-1"); });
  EXPECT_TRUE(processed);
  EXPECT_GE(wakes_, 1);
}

TEST_F(IntakeFixture, ARedeliveredEventCreatesNothingNew) {
  const auto payload = created_json("APP-7", "evt-dup");
  const auto first = post("LoanApplicationCreated", payload, "m-1");
  const auto again = post("LoanApplicationCreated", payload, "m-2");  // republished: same eventId
  EXPECT_EQ(first.executed.created.size(), 1u);
  EXPECT_TRUE(again.duplicate);
  EXPECT_TRUE(again.executed.created.empty());
  EXPECT_EQ(notifications().size(), 1u);
  // Without an eventId, the envelope's messageId is the key.
  const auto contact = R"({"clientId": "c-9", "phone": "0971111111"})";
  EXPECT_FALSE(post("ClientContactUpdated", contact, "m-9").duplicate);
  EXPECT_TRUE(post("ClientContactUpdated", contact, "m-9").duplicate);
}

TEST_F(IntakeFixture, UnknownTypesAndBadPayloadsAreRejectedNamingTheProblem) {
  try {
    post("LoanExploded", "{}");
    FAIL();
  } catch (const commands::Rejected& r) {
    EXPECT_EQ(r.code(), "unknown_event_type");
  }
  try {
    post("LoanApplicationCreated", R"({"applicationId": "A"})");
    FAIL();
  } catch (const commands::Rejected& r) {
    EXPECT_EQ(r.code(), "invalid_event");
    EXPECT_STREQ(r.what(),
                 "LoanApplicationCreated: fields 'customerId', 'requestedAmount', 'productType', 'branchId', "
                 "'customerName' are missing");
  }
  EXPECT_TRUE(notifications().empty());
}

TEST_F(IntakeFixture, ClientEventsKeepTheDirectoryCurrent) {
  post("ClientCreated",
       R"({"clientId": "c-1", "firstName": "Chanda", "lastName": "Mulenga", "phone": "0977000001",
    "email": "chanda@example.com", "preferredLanguage": "bem", "branchId": "ndola-02",
    "eventTimestamp": "2026-03-01T08:00:00Z"})");
  std::optional<domain::Recipient> r;
  read([&](store::UnitOfWork& uow) { r = uow.recipients().get("c-1"); });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "Chanda Mulenga");
  EXPECT_EQ(r->phone, "+260977000001");
  EXPECT_EQ(r->language, "bem");
  EXPECT_EQ(r->branch_id, "ndola-02");
  EXPECT_EQ(r->timezone, "Africa/Lusaka");

  const auto upd =
      post("ClientContactUpdated",
           R"({"clientId": "c-1", "phone": "+260966000002", "eventTimestamp": "2026-03-02T08:00:00Z"})");
  EXPECT_TRUE(upd.directory_updated);
  read([&](store::UnitOfWork& uow) { r = uow.recipients().get("c-1"); });
  EXPECT_EQ(r->phone, "+260966000002");
  EXPECT_EQ(r->email, "chanda@example.com");  // untouched

  // A late, older update changes nothing.
  const auto stale =
      post("ClientContactUpdated",
           R"({"clientId": "c-1", "phone": "+260955000003", "eventTimestamp": "2026-03-01T09:00:00Z"})");
  EXPECT_FALSE(stale.directory_updated);
  read([&](store::UnitOfWork& uow) { r = uow.recipients().get("c-1"); });
  EXPECT_EQ(r->phone, "+260966000002");
}

TEST_F(IntakeFixture, TheDirectoryIsReadThroughTheCacheAndDirectoryEventsInvalidateIt) {
  const auto created = post("ClientCreated", R"({"clientId": "c-7", "firstName": "Mwila", "lastName": "Banda",
    "phone": "+260977000007", "eventTimestamp": "2026-03-01T08:00:00Z"})");
  ASSERT_TRUE(created.directory_updated);
  auto r = run(directory_->get("c-7"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->phone, "+260977000007");
  EXPECT_TRUE(run(cache_.get(delivery::RecipientDirectory::cache_key("c-7"))));

  // A change behind the cache's back is not seen until the entry is dropped...
  write([&](store::UnitOfWork& uow) {
    auto row = *uow.recipients().get("c-7");
    row.email = "mwila@example.com";
    uow.recipients().upsert(row);
  });
  EXPECT_EQ(run(directory_->get("c-7"))->email, "");
  // ...and a directory event drops it after its commit.
  post("ClientContactUpdated",
       R"({"clientId": "c-7", "phone": "+260966000007", "eventTimestamp": "2026-03-02T08:00:00Z"})");
  EXPECT_FALSE(run(cache_.get(delivery::RecipientDirectory::cache_key("c-7"))));
  r = run(directory_->get("c-7"));
  EXPECT_EQ(r->phone, "+260966000007");
  EXPECT_EQ(r->email, "mwila@example.com");

  // An unknown id is cached as absent, and get_many returns only what exists.
  EXPECT_FALSE(run(directory_->get("nobody")));
  EXPECT_EQ(run(cache_.get(delivery::RecipientDirectory::cache_key("nobody"))), "null");
  const auto many = run(directory_->get_many({"c-7", "nobody", "other"}));
  EXPECT_EQ(many.size(), 1u);
  EXPECT_EQ(many.at("c-7").name, "Mwila Banda");
}

TEST(RecipientDirectoryCodec, RoundTripsAndRejectsWhatItCannotRead) {
  domain::Recipient r;
  r.id = "c-1";
  r.name = "Chanda \"CJ\" Mulenga";
  r.phone = "+260977000001";
  r.email = "c@example.com";
  r.language = "bem";
  r.timezone = "Africa/Lusaka";
  r.branch_id = "ndola-02";
  r.updated_at = 1767225600000;
  r.version = 3;
  const auto back = delivery::RecipientDirectory::decode(delivery::RecipientDirectory::encode(r));
  ASSERT_TRUE(back && *back);
  EXPECT_EQ((*back)->name, r.name);
  EXPECT_EQ((*back)->branch_id, r.branch_id);
  EXPECT_EQ((*back)->updated_at, r.updated_at);
  EXPECT_EQ((*back)->version, 3);
  const auto absent = delivery::RecipientDirectory::decode("null");
  ASSERT_TRUE(absent);
  EXPECT_FALSE(*absent);
  for (const char* bad : {"", "{", "[]", "42", R"({"id":"x"})", R"({"id":1,"name":"","phone":"","email":"",
      "language":"","timezone":"","branchId":"","updatedAt":0,"version":0})"})
    EXPECT_FALSE(delivery::RecipientDirectory::decode(bad)) << bad;
}

TEST_F(IntakeFixture, BusConsumersFaultBadPayloadsAndAcceptGoodOnes) {
  struct FakeBus final : bus::MessageBus {
    std::map<std::string, bus::Consumer> consumers;
    void subscribe(const std::string& type, bus::Consumer c) override { consumers[type] = std::move(c); }
    void start() override {}
    boost::asio::awaitable<void> publish(const std::string&, const std::string&,
                                         bus::PublishOptions) override {
      co_return;
    }
    boost::asio::awaitable<void> stop(std::chrono::milliseconds) override { co_return; }
    bool connected() const override { return true; }
    std::string name() const override { return "fake"; }
  } fake;
  intake_->subscribe(fake);
  for (const auto& spec : catalogue()) EXPECT_TRUE(fake.consumers.count(std::string(spec.type))) << spec.type;
  // Our own events reach the sagas from the outbox relay, not back through the bus.
  EXPECT_FALSE(fake.consumers.count("NotificationSent"));
  EXPECT_FALSE(fake.consumers.count("NotificationFailed"));

  bus::Envelope env;
  env.message_id = new_uuid();
  env.message = R"({"clientId": "c-2", "phone": "not a phone"})";
  auto bad = run(fake.consumers["ClientContactUpdated"](env));
  EXPECT_EQ(bad.outcome, bus::Outcome::fault);
  EXPECT_EQ(bad.reason,
            "ClientContactUpdated: field 'phone' must be a phone number in E.164 form such as +260971234567");
  env.message = R"({"clientId": "c-2", "phone": "0971234567"})";
  EXPECT_EQ(run(fake.consumers["ClientContactUpdated"](env)).outcome, bus::Outcome::done);
}

}  // namespace
}  // namespace comms::intake::testing
