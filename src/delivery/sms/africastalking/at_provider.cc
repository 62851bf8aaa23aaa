#include "delivery/sms/africastalking/at_provider.h"

#include <unordered_set>

#include "common/async.h"
#include "common/log.h"
#include "common/metrics.h"
#include "delivery/resilience/http_call.h"
#include "delivery/sms/africastalking/at_protocol.h"

namespace comms::delivery {

namespace at = africastalking;

struct AfricasTalkingProvider::Slot {
  std::string number;
  std::string key;  // at::number_key(number)
  ProviderResult result;
  Callback done;
};

struct AfricasTalkingProvider::Batch {
  std::string text;
  std::vector<std::shared_ptr<Slot>> slots;  // guarded by the provider's mu_ until taken
  std::unordered_set<std::string> keys;      // guarded by the provider's mu_
  bool taken = false;                        // guarded by the provider's mu_
  Bulkhead::TimePoint created;
};

namespace {

std::string trim_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

AfricasTalkingProvider::AfricasTalkingProvider(AfricasTalkingOptions options,
                                               std::chrono::milliseconds timeout, metrics::Registry* registry)
    : name_(at::kProvider),
      options_(std::move(options)),
      timeout_(timeout),
      url_(trim_slash(options_.base_url) + "/version1/messaging"),
      pool_(name_, std::max(1, options_.concurrency)) {
  if (registry) {
    batch_sizes_ = &registry
                        ->histogram("comms_provider_batch_size", "Recipients per provider request",
                                    {"provider"}, {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000})
                        .labels({name_});
  }
}

AfricasTalkingProvider::~AfricasTalkingProvider() = default;

boost::asio::awaitable<ProviderResult> AfricasTalkingProvider::send(const Outgoing& message) {
  auto slot = std::make_shared<Slot>();
  slot->number = message.to;
  slot->key = at::number_key(message.to);
  co_await await_callback([&](Callback done) {
    slot->done = std::move(done);
    enqueue(slot, message.text);
  });
  co_return std::move(slot->result);
}

void AfricasTalkingProvider::enqueue(const std::shared_ptr<Slot>& slot, const std::string& text) {
  const auto now = std::chrono::steady_clock::now();
  const std::size_t max = static_cast<std::size_t>(std::max(1, options_.batch_max));
  std::shared_ptr<Batch> batch;
  bool full = false;
  {
    std::lock_guard lock(mu_);
    auto it = open_.find(text);
    if (it != open_.end() && !it->second->taken && it->second->slots.size() < max &&
        !it->second->keys.count(slot->key)) {
      auto& b = *it->second;
      b.slots.push_back(slot);
      b.keys.insert(slot->key);
      if (b.slots.size() >= max) {
        full = true;
        batch = it->second;
        open_.erase(it);
      }
    } else {
      batch = std::make_shared<Batch>();
      batch->text = text;
      batch->slots.push_back(slot);
      batch->keys.insert(slot->key);
      batch->created = now;
      // A batch already holding this number (the same text twice to one phone) stays as it is;
      // the new batch takes its place for later joiners.
      if (max > 1) open_[text] = batch;
    }
  }
  if (!batch) return;  // joined an open batch, whose job is already queued
  // A full batch goes now; a new one waits for company until the window closes. Whichever of a
  // batch's jobs runs first takes it; the other finds it taken and does nothing.
  pool_.post([this, batch](CURL* h) { run(h, batch); },
             full ? Bulkhead::TimePoint{} : now + options_.batch_window);
}

void AfricasTalkingProvider::run(CURL* handle, const std::shared_ptr<Batch>& batch) {
  {
    std::lock_guard lock(mu_);
    if (batch->taken) return;
    batch->taken = true;
    if (auto it = open_.find(batch->text); it != open_.end() && it->second == batch) open_.erase(it);
  }
  if (!handle) {
    for (auto& s : batch->slots) s->result = not_sent_stopped(name_);
  } else if (std::chrono::steady_clock::now() - batch->created > options_.batch_window + timeout_) {
    for (auto& s : batch->slots) s->result = not_sent_waited(name_);
  } else {
    deliver(handle, *batch);
  }
  for (auto& s : batch->slots) s->done(nullptr);
}

void AfricasTalkingProvider::deliver(CURL* handle, Batch& batch) {
  std::vector<std::string> numbers;
  numbers.reserve(batch.slots.size());
  for (const auto& s : batch.slots) numbers.push_back(s->number);
  if (batch_sizes_) batch_sizes_->observe(static_cast<double>(numbers.size()));

  HttpCall call;
  call.url = url_;
  call.timeout = timeout_;
  call.headers = {"apiKey: " + options_.api_key, "Accept: application/json",
                  "Content-Type: application/x-www-form-urlencoded", "User-Agent: intellifin-comms"};
  call.body =
      at::messaging_form(options_.username, numbers, batch.text, options_.sender_id, options_.enqueue);
  const HttpReply reply = perform(handle, call);

  auto fail_all = [&](const ProviderResult& r) {
    for (auto& s : batch.slots) s->result = r;
  };
  if (!reply.completed)
    return fail_all(ProviderResult::failed(transport_fault(reply), name_, transport_error(reply)));
  if (reply.status < 200 || reply.status >= 300)
    return fail_all(at::classify_http_error(reply.status, reply.body));
  std::string why;
  const auto parsed = at::parse_response(reply.body, &why);
  if (!parsed) {
    return fail_all(
        ProviderResult::failed(Fault::ambiguous, name_,
                               "HTTP " + std::to_string(reply.status) + " with an unreadable reply: " + why));
  }
  std::unordered_map<std::string, const at::Recipient*> by_number;
  for (const auto& r : parsed->recipients) by_number.emplace(at::number_key(r.number), &r);
  for (auto& s : batch.slots) {
    auto it = by_number.find(s->key);
    if (it == by_number.end()) {
      s->result = ProviderResult::failed(Fault::ambiguous, name_,
                                         "accepted request, but its reply omits this number");
      continue;
    }
    const at::Recipient& r = *it->second;
    const auto meaning = at::classify_status(r.status_code);
    if (meaning.fault == Fault::none) {
      SendResult ok = SendResult::ok_from(name_);
      ok.provider_message_id = r.message_id;
      ok.cost_micros = r.cost.micros;
      ok.currency = r.cost.currency;
      s->result = ProviderResult::ok(std::move(ok));
    } else {
      s->result = ProviderResult::failed(meaning.fault, name_, std::to_string(r.status_code) + " " + r.status,
                                         meaning.alert);
    }
  }
  log::debug("africastalking_request",
             {{"recipients", std::to_string(numbers.size())}, {"http_status", std::to_string(reply.status)}});
}

}  // namespace comms::delivery
