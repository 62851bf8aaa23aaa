// AMQP basic properties that own their memory: a deep copy of a delivery's
// properties (rabbitmq-c frees the original with the envelope) that can be
// handed from the consume thread to the publish thread, edited (headers added
// when a message is moved to the error queue) and published again.
//
// Not thread-safe; move it between threads through a queue.
#pragma once
#include <amqp.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace comms::bus::rabbitmq {

class Properties {
 public:
  Properties();
  explicit Properties(const amqp_basic_properties_t& source);  // deep copy
  Properties(Properties&&) noexcept = default;
  Properties& operator=(Properties&&) noexcept = default;

  const amqp_basic_properties_t* get() const { return &p_; }

  std::string content_type() const;
  std::string message_id() const;
  void set_content_type(std::string_view v);
  void set_message_id(std::string_view v);
  void set_correlation_id(std::string_view v);
  void set_persistent();
  void clear_expiration();

  // Adds or replaces a header.
  void set_header(std::string_view key, std::string_view value);
  void set_header(std::string_view key, std::int32_t value);
  // A header's value as text (strings as they are, integers in decimal); nullopt when absent.
  std::optional<std::string> header(std::string_view key) const;

 private:
  amqp_bytes_t copy(amqp_bytes_t b);
  amqp_bytes_t copy(std::string_view s) { return copy(amqp_bytes_t{s.size(), const_cast<char*>(s.data())}); }
  void put(std::string_view key, const amqp_field_value_t& value);

  struct PoolDeleter {
    void operator()(amqp_pool_t* p) const;
  };
  std::unique_ptr<amqp_pool_t, PoolDeleter> pool_;
  amqp_basic_properties_t p_{};
};

}  // namespace comms::bus::rabbitmq
