#include "server/ws_connection.h"

#include "common/logging.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

namespace callagent::server {

namespace {
std::shared_ptr<spdlog::logger> log() { return logging::get("ws"); }
// How long a rejected client gets to read its error frame and hang up.
constexpr std::chrono::seconds kRejectGrace{2};
}  // namespace

const char* to_string(WsConnection::State s) {
  switch (s) {
    case WsConnection::State::Open: return "open";
    case WsConnection::State::Rejecting: return "rejecting";
    case WsConnection::State::Closing: return "closing";
    case WsConnection::State::Closed: return "closed";
  }
  return "?";
}

WsConnection::WsConnection(SoupWebsocketConnection* conn, GSocket* socket, std::string remote,
                           Callbacks callbacks, Clock clock)
    : conn_(GRef<SoupWebsocketConnection>::ref(conn)),
      socket_(GRef<GSocket>::ref(socket)),
      remote_(std::move(remote)),
      callbacks_(std::move(callbacks)),
      clock_(std::move(clock)),
      last_heard_(clock_()),
      message_sig_(conn, "message", G_CALLBACK(&WsConnection::on_message), this),
      pong_sig_(conn, "pong", G_CALLBACK(&WsConnection::on_pong), this),
      error_sig_(conn, "error", G_CALLBACK(&WsConnection::on_error), this),
      closed_sig_(conn, "closed", G_CALLBACK(&WsConnection::on_closed_signal), this) {
  // Signaling frames are small and each one is awaited by a peer: without
  // TCP_NODELAY, Nagle's algorithm holds a relayed candidate back until the
  // previous segment is acknowledged (up to the 40 ms delayed-ACK timer).
  if (socket_) {
    GError* raw = nullptr;
    if (!g_socket_set_option(socket_.get(), IPPROTO_TCP, TCP_NODELAY, 1, &raw)) {
      GErrorPtr err(raw);
      log()->debug("{}: TCP_NODELAY: {}", remote_, err->message);
    }
  }
}

// Members go in reverse order: the signal handlers first, conn_ last. If
// the connection is still open, dropping its last reference makes libsoup
// close the stream without a close frame.
WsConnection::~WsConnection() = default;

void WsConnection::set_state(State next) {
  bool legal = false;
  switch (state_) {
    case State::Open: legal = next != State::Open; break;
    case State::Rejecting: legal = next == State::Closed; break;
    case State::Closing: legal = next == State::Closed; break;
    case State::Closed: legal = false; break;
  }
  if (!legal) {
    log()->warn("{}: illegal state change {} -> {}", remote_, to_string(state_), to_string(next));
    return;
  }
  state_ = next;
}

void WsConnection::send_text(const std::string& text) {
  if (state_ != State::Open) return;
  if (soup_websocket_connection_get_state(conn_.get()) != SOUP_WEBSOCKET_STATE_OPEN) return;
  // send_message, not send_text: no NUL terminator needed and no strlen.
  GUnique<GBytes> bytes(g_bytes_new(text.data(), text.size()));
  soup_websocket_connection_send_message(conn_.get(), SOUP_WEBSOCKET_DATA_TEXT, bytes.get());
}

void WsConnection::reject(const std::string& error_frame) {
  if (state_ != State::Open) return;
  send_text(error_frame);
  set_state(State::Rejecting);
  // libsoup wrote the small frame synchronously (a fresh socket has room);
  // FIN follows it, so the client reads the frame and then EOF: code 1006.
  shutdown_socket(false, true);
  reject_timer_.start_once(kRejectGrace, [this] { shutdown_socket(true, true); });
}

void WsConnection::close(gushort code, const char* reason) {
  if (state_ != State::Open) {
    if (state_ == State::Rejecting) shutdown_socket(true, true);
    return;
  }
  set_state(State::Closing);
  soup_websocket_connection_close(conn_.get(), code, reason);
}

void WsConnection::abort() {
  if (state_ == State::Closed) return;
  shutdown_socket(true, true);
}

void WsConnection::set_keepalive(std::chrono::seconds interval) {
  soup_websocket_connection_set_keepalive_interval(conn_.get(),
                                                   static_cast<guint>(interval.count()));
}

void WsConnection::shutdown_socket(bool read, bool write) {
  if (!socket_) {
    // Never seen with libsoup 3.2, but if the socket is unknown only an
    // orderly close (with a close frame) can end the connection.
    if (read && write && soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(conn_.get(), SOUP_WEBSOCKET_CLOSE_GOING_AWAY, nullptr);
    return;
  }
  if (g_socket_is_closed(socket_.get())) return;
  GError* raw = nullptr;
  // libsoup sees EOF on its next read and closes the stream itself; closing
  // the fd under it would leave its poll source on a dead descriptor.
  if (!g_socket_shutdown(socket_.get(), read, write, &raw)) {
    GErrorPtr err(raw);
    log()->debug("{}: shutdown: {}", remote_, err->message);
  }
}

void WsConnection::on_message(SoupWebsocketConnection*, gint type, GBytes* message, gpointer self) {
  auto* c = static_cast<WsConnection*>(self);
  c->last_heard_ = c->clock_();
  if (c->state_ != State::Open) return;  // a rejected client's join etc.
  gsize len = 0;
  const char* data = static_cast<const char*>(g_bytes_get_data(message, &len));
  // Binary frames are handled like text: the payload is JSON or dropped.
  (void)type;
  if (c->callbacks_.on_text) c->callbacks_.on_text(*c, std::string_view(data ? data : "", len));
}

void WsConnection::on_pong(SoupWebsocketConnection*, GBytes*, gpointer self) {
  auto* c = static_cast<WsConnection*>(self);
  c->last_heard_ = c->clock_();
}

void WsConnection::on_error(SoupWebsocketConnection*, GError* error, gpointer self) {
  auto* c = static_cast<WsConnection*>(self);
  // Mostly peers that vanish or break the framing; "closed" follows.
  log()->debug("{} {}: {}", c->remote_, c->user_, error ? error->message : "error");
}

void WsConnection::on_closed_signal(SoupWebsocketConnection* conn, gpointer self) {
  auto* c = static_cast<WsConnection*>(self);
  if (c->state_ == State::Closed) return;
  log()->debug("{} {}: closed (code {}, was {})", c->remote_, c->user_,
               soup_websocket_connection_get_close_code(conn), to_string(c->state_));
  c->reject_timer_.cancel();
  c->set_state(State::Closed);
  // Last statement: the owner may destroy this object (it defers that).
  if (c->callbacks_.on_closed) c->callbacks_.on_closed(*c);
}

}  // namespace callagent::server
