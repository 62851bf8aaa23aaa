// Settings of the SignalR hub, filled by app/ from its configuration (COMMS_HUB_*). Values only.
#pragma once
#include <chrono>
#include <cstddef>
#include <string>

namespace comms::hub {

struct HubOptions {
  // The hub's URL path: WebSockets connect here, negotiate is POST {path}/negotiate.
  std::string path = "/hubs/notifications";
  // A Ping is sent to a connection that was sent nothing for this long.
  std::chrono::milliseconds keepalive{15'000};
  // A connection that sends nothing (not even a Ping) for this long is closed.
  std::chrono::milliseconds client_timeout{30'000};
  // Time for the WebSocket upgrade plus the SignalR handshake, and for the WebSocket closing handshake.
  std::chrono::milliseconds handshake_timeout{15'000};
  // Messages queued for one connection (being written included). A client that lets more pile up
  // is too slow: it is sent a Close and dropped, and finds what it missed in the inbox.
  std::size_t send_queue = 256;
  // Largest record (one hub message) a client may send, in bytes; larger closes the connection.
  std::size_t max_message = 32 * 1024;
  // A negotiated connection token not used by a WebSocket within this time is forgotten.
  std::chrono::milliseconds negotiate_ttl{30'000};
  // At most this many negotiated tokens wait for their WebSocket; more negotiations get 503.
  std::size_t max_pending_negotiations = 100'000;
  // How long notify() waits to learn whether a connection received the message (see Notifier).
  std::chrono::milliseconds delivery_timeout{5'000};
};

}  // namespace comms::hub
