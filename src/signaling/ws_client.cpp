#include "signaling/ws_client.h"

#include "common/logging.h"
#include "signaling/error_mapping.h"
#include "signaling/http_client.h"
#include "signaling/protocol.h"
#include "signaling/room_url.h"

#include <algorithm>

namespace callagent::signaling {

namespace {

std::shared_ptr<spdlog::logger> log() { return logging::get("ws"); }

// Releases a GObject from an idle callback on the thread-default context, so
// that it is never finalized inside one of its own signal emissions.
template <typename T>
void release_later(GRef<T> ref) {
  if (!ref) return;
  GSource* src = g_idle_source_new();
  g_source_set_callback(
      src, [](gpointer) -> gboolean { return G_SOURCE_REMOVE; }, ref.release(), g_object_unref);
  g_source_attach(src, g_main_context_get_thread_default());
  g_source_unref(src);
}

// "ws://host/..." for log lines (libsoup is given the http:// form).
std::string as_ws(const std::string& url) {
  if (url.rfind("https://", 0) == 0) return "wss://" + url.substr(8);
  if (url.rfind("http://", 0) == 0) return "ws://" + url.substr(7);
  return url;
}

}  // namespace

struct WsClient::Pending {
  std::weak_ptr<void> alive;
  WsClient* self = nullptr;
  GRef<SoupMessage> msg;
  SignalConnection tls_guard;
  GRef<GCancellable> cancellable;
  Timeout deadline;
  bool timed_out = false;
};

WsClient::WsClient(HttpClient& http, Listener& listener, std::chrono::seconds keepalive)
    : http_(http), listener_(listener), keepalive_(keepalive) {}

WsClient::~WsClient() {
  watchdog_.cancel();
  if (pending_) {
    pending_->deadline.cancel();
    g_cancellable_cancel(pending_->cancellable.get());  // its callback frees it
    pending_ = nullptr;
  }
  if (conn_) {
    log()->debug("dropping the WebSocket connection");
    drop_connection();
  }
}

const char* WsClient::state_name(State s) {
  switch (s) {
    case State::Idle: return "idle";
    case State::Connecting: return "connecting";
    case State::Open: return "open";
    case State::Closing: return "closing";
    case State::Closed: return "closed";
    case State::Failed: return "failed";
  }
  return "?";
}

bool WsClient::is_legal_transition(State from, State to) {
  switch (from) {
    case State::Idle: return to == State::Connecting;
    case State::Connecting: return to == State::Open || to == State::Failed;
    case State::Open: return to == State::Closing || to == State::Closed;
    case State::Closing: return to == State::Closed;
    case State::Closed:
    case State::Failed: return false;
  }
  return false;
}

bool WsClient::set_state(State next) {
  if (!is_legal_transition(state_, next)) {
    log()->error("internal: refusing the illegal WebSocket state change {} -> {}", state_name(state_),
                 state_name(next));
    return false;
  }
  log()->trace("state {} -> {}", state_name(state_), state_name(next));
  state_ = next;
  return true;
}

void WsClient::connect(const std::string& room_id) {
  if (state_ != State::Idle) {
    log()->error("internal: connect() called in state {}", state_name(state_));
    return;
  }
  if (!set_state(State::Connecting)) return;
  url_ = ws_url(http_.base_url(), room_id);

  auto* p = new Pending;
  p->alive = alive_;
  p->self = this;
  p->msg = http_.new_message("GET", url_, p->tls_guard);
  if (!p->msg) {
    delete p;
    post(g_main_context_get_thread_default(), alive_, [this] {
      if (!set_state(State::Failed)) return;
      listener_.on_ws_failed(Error{ExitCode::Usage, "cannot make a WebSocket request to " + url_}, false);
    });
    return;
  }
  p->cancellable = GRef<GCancellable>::adopt(g_cancellable_new());
  p->deadline.start_once(http_.timeout(), [p] {
    p->timed_out = true;
    g_cancellable_cancel(p->cancellable.get());
  });
  pending_ = p;
  log()->info("connecting to {}", as_ws(url_));
  // The browser page sends its own origin; send the server's, which any
  // same-origin check accepts.
  const std::string origin = http_.base_url();
  soup_session_websocket_connect_async(http_.session(), p->msg.get(), origin.c_str(), nullptr,
                                       G_PRIORITY_DEFAULT, p->cancellable.get(),
                                       &WsClient::on_connect_done, p);
}

void WsClient::on_connect_done(GObject* source, GAsyncResult* res, gpointer data) {
  std::unique_ptr<Pending> p(static_cast<Pending*>(data));
  GError* raw = nullptr;
  GRef<SoupWebsocketConnection> conn = GRef<SoupWebsocketConnection>::adopt(
      soup_session_websocket_connect_finish(SOUP_SESSION(source), res, &raw));
  GErrorPtr err(raw);
  p->deadline.cancel();
  auto alive = p->alive.lock();
  if (!alive) return;  // the WsClient is gone; `conn` (if any) is released here
  WsClient* self = p->self;
  self->pending_ = nullptr;

  if (conn) {
    p.reset();
    self->opened(std::move(conn));
    return;
  }

  const unsigned status = soup_message_get_status(p->msg.get());
  Error error;
  bool unauthorized = false;
  if (p->timed_out) {
    error = Error{ExitCode::Unavailable, "no answer to the WebSocket upgrade from " + self->url_ +
                                             " within " + std::to_string(self->http_.timeout().count()) +
                                             " s: check the network, a firewall, or the server"};
  } else if (status == 401 || status == 403) {
    unauthorized = true;
    error = http_status_error(status, soup_message_get_reason_phrase(p->msg.get())
                                          ? soup_message_get_reason_phrase(p->msg.get())
                                          : "",
                              "joining the room", self->url_);
  } else if (status != 0 && status != 101) {
    error = http_status_error(status, soup_message_get_reason_phrase(p->msg.get())
                                          ? soup_message_get_reason_phrase(p->msg.get())
                                          : "",
                              "joining the room", self->url_);
  } else {
    error = transport_error(err.get(), self->url_,
                            soup_message_get_tls_peer_certificate_errors(p->msg.get()));
  }
  log()->debug("WebSocket upgrade failed (HTTP {}, {}): {}", status, err ? err->message : "-",
               error.message);
  p.reset();
  if (!self->set_state(State::Failed)) return;
  self->listener_.on_ws_failed(error, unauthorized);  // may destroy self
}

void WsClient::opened(GRef<SoupWebsocketConnection> conn) {
  if (!set_state(State::Open)) return;  // `conn` is released here
  conn_ = std::move(conn);
  soup_websocket_connection_set_max_incoming_payload_size(conn_.get(), kMaxFrameBytes);
  soup_websocket_connection_set_keepalive_interval(conn_.get(),
                                                   static_cast<guint>(keepalive_.count()));
  on_message_ = SignalConnection(conn_.get(), "message", G_CALLBACK(&WsClient::on_message), this);
  on_pong_ = SignalConnection(conn_.get(), "pong", G_CALLBACK(&WsClient::on_pong), this);
  on_error_ = SignalConnection(conn_.get(), "error", G_CALLBACK(&WsClient::on_error), this);
  on_closed_ = SignalConnection(conn_.get(), "closed", G_CALLBACK(&WsClient::on_closed), this);
  last_rx_us_ = g_get_monotonic_time();
  if (keepalive_.count() > 0) {
    const auto period = std::min<std::chrono::milliseconds>(keepalive_, std::chrono::seconds(5));
    watchdog_.start(period, [this] { return check_alive(); });
  }
  log()->info("connected to {}", as_ws(url_));
  listener_.on_ws_open();  // may destroy this
}

bool WsClient::check_alive() {
  const gint64 limit_us = (2 * keepalive_.count() + 5) * G_USEC_PER_SEC;
  const gint64 silent_us = g_get_monotonic_time() - last_rx_us_;
  if (silent_us < limit_us) return true;
  log()->warn("no answer from the server for {} s (not even to pings): giving up this connection",
              silent_us / G_USEC_PER_SEC);
  const bool by_us = state_ == State::Closing;
  if (!set_state(State::Closed)) return false;
  watchdog_.cancel();
  drop_connection();
  WsClose info;
  info.code = SOUP_WEBSOCKET_CLOSE_ABNORMAL;
  info.reason = "no answer from the server for " + std::to_string(silent_us / G_USEC_PER_SEC) + " s";
  info.by_us = by_us;
  info.dead_peer = true;
  listener_.on_ws_closed(info);  // may destroy this: touch nothing after
  return false;
}

void WsClient::drop_connection() {
  on_message_.disconnect();
  on_pong_.disconnect();
  on_error_.disconnect();
  on_closed_.disconnect();
  // Disposing a connection that is still open closes its stream without a
  // close frame, which is what a dead or abandoned connection needs.
  release_later(std::move(conn_));
}

void WsClient::on_message(SoupWebsocketConnection*, gint type, GBytes* message, gpointer data) {
  auto* self = static_cast<WsClient*>(data);
  self->last_rx_us_ = g_get_monotonic_time();
  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    log()->debug("ignoring a binary frame");
    return;
  }
  gsize n = 0;
  const char* d = static_cast<const char*>(g_bytes_get_data(message, &n));
  log()->trace("received: {}", std::string_view(d ? d : "", n));
  if (self->state_ != State::Open) return;  // closing: nobody wants it any more
  self->listener_.on_ws_text(std::string_view(d ? d : "", n));  // may destroy self
}

void WsClient::on_pong(SoupWebsocketConnection*, GBytes*, gpointer data) {
  static_cast<WsClient*>(data)->last_rx_us_ = g_get_monotonic_time();
}

void WsClient::on_error(SoupWebsocketConnection*, GError* error, gpointer data) {
  auto* self = static_cast<WsClient*>(data);
  self->last_error_ = error && error->message ? error->message : "unknown error";
  log()->debug("WebSocket error: {}", self->last_error_);
}

void WsClient::on_closed(SoupWebsocketConnection* conn, gpointer data) {
  auto* self = static_cast<WsClient*>(data);
  WsClose info;
  info.code = soup_websocket_connection_get_close_code(conn);
  const char* reason = soup_websocket_connection_get_close_data(conn);
  info.reason = reason && *reason ? reason : self->last_error_;
  if (info.code == 0) info.code = SOUP_WEBSOCKET_CLOSE_ABNORMAL;  // no close frame: the TCP connection just ended
  if (info.reason.empty())
    info.reason = info.code == SOUP_WEBSOCKET_CLOSE_ABNORMAL ? "connection lost" : "closed by the server";
  info.by_us = self->state_ == State::Closing;
  log()->log(info.by_us ? spdlog::level::debug : spdlog::level::info,
             "WebSocket closed (code {}, {})", info.code, info.reason);
  self->watchdog_.cancel();
  if (!self->set_state(State::Closed)) return;
  self->drop_connection();
  self->listener_.on_ws_closed(info);  // may destroy self
}

bool WsClient::send_text(const std::string& text) {
  if (state_ != State::Open || !conn_ ||
      soup_websocket_connection_get_state(conn_.get()) != SOUP_WEBSOCKET_STATE_OPEN) {
    log()->warn("not connected: dropping an outgoing frame");
    return false;
  }
  log()->trace("sending: {}", text);
  soup_websocket_connection_send_text(conn_.get(), text.c_str());
  return true;
}

void WsClient::close() {
  if (state_ != State::Open) {
    log()->debug("close() in state {}: nothing to close", state_name(state_));
    return;
  }
  if (!set_state(State::Closing)) return;
  // Queued after any frames already sent, so the last chat line goes out first.
  soup_websocket_connection_close(conn_.get(), SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
}

}  // namespace callagent::signaling
