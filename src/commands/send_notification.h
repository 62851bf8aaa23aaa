// The send command (CQRS write side): accept one notification durably.
//
// Runs inside a caller's unit of work so that intake can record the event in
// the same transaction (the inbox) and API callers can record the idempotency
// key with it.
#pragma once
#include <string>

#include "domain/notification.h"
#include "store/store.h"

namespace comms::commands {

struct SendNotification {
  std::string recipient_id;
  domain::Channel channel = domain::Channel::sms;
  std::string template_category;
  std::string template_name;
  std::string subject;
  std::string content;
  std::string personalization = "{}";  // JSON object text
  std::string to;                      // optional explicit address
  std::string locale;
  std::string event_id;
  std::string correlation_id;
  int priority = 0;
  bool critical = false;
  domain::Millis not_before = 0;  // deliver no earlier than this (quiet hours); 0 = now

  // Idempotency (API): same (principal, key) with the same request hash
  // returns the first notification; with another hash it is a conflict.
  std::string idempotency_key;
  std::string principal;
  std::string request_hash;
};

struct SendAccepted {
  domain::Notification notification;
  bool replayed = false;  // the idempotency key matched an earlier request
};

// Validates and inserts a Pending notification. Throws Rejected:
//   invalid        - a field is malformed (e.g. `to` is not E.164 for sms);
//   unprocessable  - no `to` and the directory has no address for the channel;
//   conflict       - the idempotency key was used with a different request.
SendAccepted send_notification(store::UnitOfWork& uow, const SendNotification& cmd, domain::Millis now);

// Checks what can be checked without the store (address formats, content or
// template present), and writes an SMS `to` in E.164 (domain::normalize_phone).
// Throws Rejected(invalid).
void validate(SendNotification& cmd);

}  // namespace comms::commands
