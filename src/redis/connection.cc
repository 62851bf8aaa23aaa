#include "redis/connection.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/time.h>

namespace comms::redis {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

Reply convert(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING: out.type = Reply::Type::string; break;
    case REDIS_REPLY_STATUS: out.type = Reply::Type::status; break;
    case REDIS_REPLY_ERROR: out.type = Reply::Type::error; break;
    case REDIS_REPLY_INTEGER: out.type = Reply::Type::integer; break;
    case REDIS_REPLY_ARRAY: out.type = Reply::Type::array; break;
    default: out.type = Reply::Type::nil; break;
  }
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR)
    out.str.assign(r->str, r->len);
  if (r->type == REDIS_REPLY_INTEGER) out.integer = r->integer;
  if (r->type == REDIS_REPLY_ARRAY) {
    out.elements.reserve(r->elements);
    for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
  }
  return out;
}

int append(redisContext* c, const Command& command) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(command.size());
  lens.reserve(command.size());
  for (const auto& a : command) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data());
}

}  // namespace

Connection::Connection(RedisUrl url, std::chrono::milliseconds timeout) : url_(std::move(url)), timeout_(timeout) {}

Connection::~Connection() { close(); }

void Connection::close() {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
}

std::string Connection::fail(const char* what) {
  std::string e = std::string(what) + ": ";
  e += ctx_ && ctx_->errstr[0] ? ctx_->errstr : "connection lost";
  close();
  return e;
}

std::string Connection::ensure() {
  if (ctx_) return "";
  ctx_ = redisConnectWithTimeout(url_.host.c_str(), url_.port, to_timeval(timeout_));
  if (!ctx_) return "connect: out of memory";
  if (ctx_->err) return fail("connect");
  if (redisSetTimeout(ctx_, to_timeval(timeout_)) != REDIS_OK) return fail("connect");
  std::vector<Command> setup;
  if (!url_.password.empty()) {
    setup.push_back(url_.user.empty() ? Command{"AUTH", url_.password} : Command{"AUTH", url_.user, url_.password});
  }
  if (url_.db != 0) setup.push_back({"SELECT", std::to_string(url_.db)});
  if (setup.empty()) return "";
  Result r = run(setup);
  if (!r.ok()) return r.error;
  for (const Reply& reply : r.replies) {
    if (reply.is_error()) {
      // AUTH errors name neither the user nor the password.
      std::string e = (setup.front().front() == "AUTH" ? "auth/select: " : "select: ") + reply.str;
      close();
      return e;
    }
  }
  return "";
}

Result Connection::run(const std::vector<Command>& commands) {
  if (!ctx_) return Result::failure("not connected");
  for (const auto& c : commands)
    if (append(ctx_, c) != REDIS_OK) return Result::failure(fail("write"));
  Result out;
  out.replies.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || !raw) return Result::failure(fail("read"));
    out.replies.push_back(convert(static_cast<redisReply*>(raw)));
    freeReplyObject(raw);
  }
  return out;
}

bool Connection::dropped() const {
  if (!ctx_) return false;
  pollfd p{ctx_->fd, POLLIN | POLLRDHUP, 0};
  return ::poll(&p, 1, 0) != 0;
}

int Connection::fd() const { return ctx_ ? ctx_->fd : -1; }

std::string Connection::send(const Command& command) {
  if (!ctx_) return "not connected";
  if (append(ctx_, command) != REDIS_OK) return fail("write");
  int done = 0;
  while (!done)
    if (redisBufferWrite(ctx_, &done) != REDIS_OK) return fail("write");
  return "";
}

std::string Connection::read_available(std::vector<Reply>& out) {
  if (!ctx_) return "not connected";
  if (redisBufferRead(ctx_) != REDIS_OK) return fail("read");
  for (;;) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(ctx_, &raw) != REDIS_OK) return fail("read");
    if (!raw) return "";
    out.push_back(convert(static_cast<redisReply*>(raw)));
    freeReplyObject(raw);
  }
}

}  // namespace comms::redis
