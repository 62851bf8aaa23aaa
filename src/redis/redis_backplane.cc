#include "redis/redis_backplane.h"

#include <charconv>
#include <optional>
#include <vector>

namespace comms::redis {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::seconds kGiveUpAfter{60};

std::optional<std::uint64_t> parse_seq(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

RedisBackplane::RedisBackplane(Redis& redis) : redis_(redis), last_expiry_(Clock::now()) {}

void RedisBackplane::start(Deliver deliver) {
  {
    std::lock_guard lock(mu_);
    deliver_ = std::move(deliver);
  }
  redis_.subscriber().subscribe(reply_channel(redis_.instance_id()),
                                [weak = weak_from_this()](std::string_view, std::string_view m) {
                                  if (auto self = weak.lock()) self->on_reply(m);
                                });
}

void RedisBackplane::subscribe(const std::string& group) {
  redis_.subscriber().subscribe(group_channel(group),
                                [weak = weak_from_this()](std::string_view channel, std::string_view m) {
                                  if (auto self = weak.lock()) self->on_group_message(channel, m);
                                });
}

void RedisBackplane::unsubscribe(const std::string& group) { redis_.subscriber().unsubscribe(group_channel(group)); }

RedisBackplane::Deliver RedisBackplane::deliver_copy() {
  std::lock_guard lock(mu_);
  return deliver_;
}

void RedisBackplane::publish(const std::string& group, hub::Frame frame, hub::DeliveredCallback done) {
  Deliver deliver = deliver_copy();
  if (!deliver) {
    done(false);
    return;
  }
  const std::uint64_t seq = next_seq_.fetch_add(1);
  {
    std::lock_guard lock(mu_);
    pending_.emplace(seq, Pending{std::move(done), Clock::now()});
  }
  expire_old();
  std::string message = redis_.instance_id() + " " + std::to_string(seq) + "\n" + *frame;
  auto weak = weak_from_this();
  deliver(group, std::move(frame), [weak, seq](bool delivered) {
    if (auto self = weak.lock()) self->answer(seq, delivered ? Answer::positive : Answer::local_negative);
  });
  redis_.client().submit("backplane", std::vector<Command>{{"PUBLISH", group_channel(group), std::move(message)}},
                         [weak, seq](Result r) {
                           auto self = weak.lock();
                           if (!self) return;
                           const bool counted = r.ok() && !r.replies.empty() &&
                                                r.replies[0].type == Reply::Type::integer;
                           // Redis unreachable: nobody else received it; the local result decides.
                           self->answer(seq, Answer::receivers, counted ? r.replies[0].integer : 0);
                         });
}

void RedisBackplane::answer(std::uint64_t seq, Answer kind, long long receivers) {
  hub::DeliveredCallback done;
  bool delivered = false;
  {
    std::lock_guard lock(mu_);
    const auto it = pending_.find(seq);
    if (it == pending_.end()) return;
    Pending& p = it->second;
    switch (kind) {
      case Answer::positive: delivered = true; break;
      case Answer::negative: ++p.negatives; break;
      case Answer::local_negative: p.local_answered = true; break;
      case Answer::receivers: p.receivers = receivers; break;
    }
    if (delivered || (p.local_answered && p.receivers >= 0 && p.negatives >= p.receivers)) {
      done = std::move(p.done);
      pending_.erase(it);
    }
  }
  if (done) done(delivered);
}

void RedisBackplane::expire_old() {
  std::vector<hub::DeliveredCallback> expired;
  {
    std::lock_guard lock(mu_);
    const auto now = Clock::now();
    if (now - last_expiry_ < std::chrono::seconds(1)) return;
    last_expiry_ = now;
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (now - it->second.created < kGiveUpAfter) break;  // seqs grow with time
      expired.push_back(std::move(it->second.done));
      it = pending_.erase(it);
    }
  }
  for (auto& d : expired) d(false);
}

void RedisBackplane::on_group_message(std::string_view channel, std::string_view message) {
  // "<origin id> <seq>\n<frame>"
  const auto nl = message.find('\n');
  const auto sp = message.find(' ');
  if (nl == std::string_view::npos || sp == std::string_view::npos || sp > nl) return;
  const std::string_view origin = message.substr(0, sp);
  const std::string seq(message.substr(sp + 1, nl - sp - 1));
  if (origin == redis_.instance_id()) {
    // This instance delivered its own publish directly; its copy counts as a negative answer.
    if (auto s = parse_seq(seq)) answer(*s, Answer::negative);
    return;
  }
  const std::string prefix = group_channel("");
  if (channel.substr(0, prefix.size()) != prefix) return;
  const std::string group(channel.substr(prefix.size()));
  auto frame = std::make_shared<const std::string>(message.substr(nl + 1));
  Client* client = &redis_.client();
  auto reply = [client, channel = reply_channel(origin), seq](bool delivered) {
    client->submit("backplane", std::vector<Command>{{"PUBLISH", channel, seq + (delivered ? " 1" : " 0")}},
                   [](Result) {});
  };
  if (Deliver deliver = deliver_copy()) {
    deliver(group, std::move(frame), std::move(reply));
  } else {
    reply(false);
  }
}

void RedisBackplane::on_reply(std::string_view message) {
  // "<seq> 1|0"
  const auto sp = message.find(' ');
  if (sp == std::string_view::npos) return;
  const auto seq = parse_seq(message.substr(0, sp));
  if (!seq) return;
  answer(*seq, message.substr(sp + 1) == "1" ? Answer::positive : Answer::negative);
}

void RedisBackplane::stop() {
  std::map<std::uint64_t, Pending> left;
  {
    std::lock_guard lock(mu_);
    deliver_ = nullptr;
    left.swap(pending_);
  }
  redis_.subscriber().unsubscribe(reply_channel(redis_.instance_id()));
  for (auto& [seq, p] : left) p.done(false);
}

}  // namespace comms::redis
