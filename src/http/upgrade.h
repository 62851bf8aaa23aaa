// The seam through which the SignalR hub takes over WebSocket connections (this header includes
// Beast; server.h does not).
//
// Server::set_upgrade_handler(prefix, handler, access) registers it. A request carrying
// "Upgrade: websocket" whose path starts with `prefix` runs the whole middleware chain (request id,
// log, metrics, CORS, rate limit, version, auth); if the chain lets it through, the handler is
// called with the connection's stream (timeouts cleared; its executor is the connection's strand),
// the raw request to pass to websocket::stream::async_accept, and the parsed Request, whose
// principal is set when a valid token was sent (header or access_token query). From then on the
// handler owns the connection: the server neither tracks nor closes it, so the hub drains its own
// sockets on shutdown. The handler must not block; it typically co_spawns a session. Requests on
// the prefix without the Upgrade header go to the Router as usual (e.g. POST .../negotiate).
#pragma once
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>

#include "http/message.h"

namespace comms::http {

using UpgradeFunction = void(boost::beast::tcp_stream&& stream,
                             boost::beast::http::request<boost::beast::http::string_body>&& request,
                             Request&& parsed);

// A named type (not an alias) so that server.h can declare it without Beast.
struct UpgradeHandler : std::function<UpgradeFunction> {
  using std::function<UpgradeFunction>::function;
};

}  // namespace comms::http
