#include "bus/rabbitmq/properties.h"

#include <amqp_framing.h>

#include <cstring>
#include <new>
#include <stdexcept>

namespace comms::bus::rabbitmq {
namespace {

std::string_view view(amqp_bytes_t b) {
  return {static_cast<const char*>(b.bytes), b.len};
}

}  // namespace

void Properties::PoolDeleter::operator()(amqp_pool_t* p) const {
  empty_amqp_pool(p);
  delete p;
}

Properties::Properties() : pool_(new amqp_pool_t) {
  init_amqp_pool(pool_.get(), 1024);
}

Properties::Properties(const amqp_basic_properties_t& s) : Properties() {
  p_._flags = s._flags;
  p_.delivery_mode = s.delivery_mode;
  p_.priority = s.priority;
  p_.timestamp = s.timestamp;
  const auto flag = [&](amqp_flags_t f) { return (s._flags & f) != 0; };
  if (flag(AMQP_BASIC_CONTENT_TYPE_FLAG)) p_.content_type = copy(s.content_type);
  if (flag(AMQP_BASIC_CONTENT_ENCODING_FLAG)) p_.content_encoding = copy(s.content_encoding);
  if (flag(AMQP_BASIC_CORRELATION_ID_FLAG)) p_.correlation_id = copy(s.correlation_id);
  if (flag(AMQP_BASIC_REPLY_TO_FLAG)) p_.reply_to = copy(s.reply_to);
  if (flag(AMQP_BASIC_EXPIRATION_FLAG)) p_.expiration = copy(s.expiration);
  if (flag(AMQP_BASIC_MESSAGE_ID_FLAG)) p_.message_id = copy(s.message_id);
  if (flag(AMQP_BASIC_TYPE_FLAG)) p_.type = copy(s.type);
  if (flag(AMQP_BASIC_USER_ID_FLAG)) p_.user_id = copy(s.user_id);
  if (flag(AMQP_BASIC_APP_ID_FLAG)) p_.app_id = copy(s.app_id);
  if (flag(AMQP_BASIC_CLUSTER_ID_FLAG)) p_.cluster_id = copy(s.cluster_id);
  if (flag(AMQP_BASIC_HEADERS_FLAG) &&
      amqp_table_clone(&s.headers, &p_.headers, pool_.get()) != AMQP_STATUS_OK)
    throw std::bad_alloc();
}

amqp_bytes_t Properties::copy(amqp_bytes_t b) {
  amqp_bytes_t out{0, nullptr};
  if (b.len == 0) return out;
  amqp_pool_alloc_bytes(pool_.get(), b.len, &out);
  if (!out.bytes) throw std::bad_alloc();
  std::memcpy(out.bytes, b.bytes, b.len);
  return out;
}

std::string Properties::content_type() const {
  return p_._flags & AMQP_BASIC_CONTENT_TYPE_FLAG ? std::string(view(p_.content_type)) : std::string();
}

std::string Properties::message_id() const {
  return p_._flags & AMQP_BASIC_MESSAGE_ID_FLAG ? std::string(view(p_.message_id)) : std::string();
}

void Properties::set_content_type(std::string_view v) {
  p_.content_type = copy(v);
  p_._flags |= AMQP_BASIC_CONTENT_TYPE_FLAG;
}

void Properties::set_message_id(std::string_view v) {
  p_.message_id = copy(v);
  p_._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
}

void Properties::set_correlation_id(std::string_view v) {
  p_.correlation_id = copy(v);
  p_._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
}

void Properties::set_persistent() {
  p_.delivery_mode = AMQP_DELIVERY_PERSISTENT;
  p_._flags |= AMQP_BASIC_DELIVERY_MODE_FLAG;
}

void Properties::clear_expiration() {
  p_._flags &= ~static_cast<amqp_flags_t>(AMQP_BASIC_EXPIRATION_FLAG);
}

void Properties::put(std::string_view key, const amqp_field_value_t& value) {
  const bool has = p_._flags & AMQP_BASIC_HEADERS_FLAG;
  const int n = has ? p_.headers.num_entries : 0;
  for (int i = 0; i < n; ++i) {
    if (view(p_.headers.entries[i].key) == key) {
      p_.headers.entries[i].value = value;
      return;
    }
  }
  auto* entries =
      static_cast<amqp_table_entry_t*>(amqp_pool_alloc(pool_.get(), sizeof(amqp_table_entry_t) * (n + 1)));
  if (!entries) throw std::bad_alloc();
  if (n > 0) std::memcpy(entries, p_.headers.entries, sizeof(amqp_table_entry_t) * n);
  entries[n].key = copy(key);
  entries[n].value = value;
  p_.headers.entries = entries;
  p_.headers.num_entries = n + 1;
  p_._flags |= AMQP_BASIC_HEADERS_FLAG;
}

void Properties::set_header(std::string_view key, std::string_view value) {
  amqp_field_value_t v{};
  v.kind = AMQP_FIELD_KIND_UTF8;
  v.value.bytes = copy(value);
  put(key, v);
}

void Properties::set_header(std::string_view key, std::int32_t value) {
  amqp_field_value_t v{};
  v.kind = AMQP_FIELD_KIND_I32;
  v.value.i32 = value;
  put(key, v);
}

std::optional<std::string> Properties::header(std::string_view key) const {
  if (!(p_._flags & AMQP_BASIC_HEADERS_FLAG)) return std::nullopt;
  for (int i = 0; i < p_.headers.num_entries; ++i) {
    const auto& e = p_.headers.entries[i];
    if (view(e.key) != key) continue;
    switch (e.value.kind) {
      case AMQP_FIELD_KIND_UTF8:
      case AMQP_FIELD_KIND_BYTES:
        return std::string(view(e.value.value.bytes));
      case AMQP_FIELD_KIND_I8:
        return std::to_string(e.value.value.i8);
      case AMQP_FIELD_KIND_U8:
        return std::to_string(e.value.value.u8);
      case AMQP_FIELD_KIND_I16:
        return std::to_string(e.value.value.i16);
      case AMQP_FIELD_KIND_U16:
        return std::to_string(e.value.value.u16);
      case AMQP_FIELD_KIND_I32:
        return std::to_string(e.value.value.i32);
      case AMQP_FIELD_KIND_U32:
        return std::to_string(e.value.value.u32);
      case AMQP_FIELD_KIND_I64:
        return std::to_string(e.value.value.i64);
      case AMQP_FIELD_KIND_U64:
        return std::to_string(e.value.value.u64);
      default:
        return std::string();
    }
  }
  return std::nullopt;
}

}  // namespace comms::bus::rabbitmq
