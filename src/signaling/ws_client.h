#pragma once
// WsClient: one WebSocket connection to the server's /ws?room=ID, from the
// upgrade to the close. A new WsClient is made for every (re)connection
// attempt; reconnecting and re-login are the SignalingClient's business.
//
// - Authentication: the upgrade request carries the session (Bearer header
//   and the auth_token cookie) from the shared HttpClient; a 401 on the
//   upgrade is reported as on_ws_failed(NoPerm, unauthorized = true) so that
//   the owner can log in again once.
// - Liveness: libsoup sends a ping every `keepalive` seconds. libsoup 3.2
//   does not time out missing pongs itself, so a watchdog closes the
//   connection (on_ws_closed with dead_peer) when nothing at all (frame or
//   pong) came back for 2 * keepalive + 5 s: a server that vanished without
//   a TCP reset is noticed within about 35 s rather than after the kernel's
//   retransmission timeout (~15 min).
// - Frames: text frames are handed over as they are (decoding is the
//   owner's job through protocol.h); binary frames are ignored; frames over
//   kMaxFrameBytes close the connection (libsoup enforces it).
//
// Ownership: the owner holds the WsClient (unique_ptr) and borrows the
// HttpClient and the Listener, which must outlive it. Callbacks run on the
// main context. The owner may destroy the WsClient from inside any Listener
// callback; the WsClient touches nothing after calling out. Destroying it
// drops the connection at once (no close handshake) and no callback follows.
//
// States (one transition function, set_state(), refuses an illegal move
// with an error line and returns false; the caller then calls nobody):
//
//   Idle --connect()--> Connecting --upgrade ok--> Open --close()--> Closing
//                           |                       |                  |
//                           | failed                | dropped / dead   | closed / dead
//                           v                       v                  v
//                         Failed                  Closed <-------------+
//
//   Idle           -> Connecting (connect())
//   Connecting     -> Open (upgrade ok) | Failed (upgrade failed)
//   Open           -> Closing (close()) | Closed (dropped, or no answer to pings)
//   Closing        -> Closed (closed, or no answer to pings)
//   Closed, Failed -> final
//
// (That table is is_legal_transition(); a unit test reads it from this
// header and checks it pair by pair against the code.)

#include "common/gref.h"
#include "common/main_context.h"
#include "common/result.h"
#include "common/signal_connection.h"

#include <libsoup/soup.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace callagent::signaling {

class HttpClient;

struct WsClose {
  int code = 0;         // WebSocket close code; 1006 when the connection just dropped
  std::string reason;   // the peer's close reason, an error, or our own description
  bool by_us = false;   // after close()
  bool dead_peer = false;  // the keepalive watchdog gave up
};

class WsClient {
 public:
  enum class State { Idle, Connecting, Open, Closing, Closed, Failed };

  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void on_ws_open() = 0;
    virtual void on_ws_text(std::string_view text) = 0;
    virtual void on_ws_closed(const WsClose& info) = 0;
    // The upgrade did not happen. `unauthorized`: the server answered 401.
    virtual void on_ws_failed(const Error& error, bool unauthorized) = 0;
  };

  WsClient(HttpClient& http, Listener& listener, std::chrono::seconds keepalive);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Starts the upgrade of /ws?room=`room_id` (once per WsClient).
  void connect(const std::string& room_id);
  // Queues a text frame; false (and a log line) unless Open.
  bool send_text(const std::string& text);
  // Clean close (1000) after the frames already queued; on_ws_closed follows.
  void close();

  State state() const { return state_; }
  bool is_open() const { return state_ == State::Open; }

  static const char* state_name(State s);
  static bool is_legal_transition(State from, State to);

 private:
  struct Pending;
  static void on_connect_done(GObject* source, GAsyncResult* res, gpointer data);
  static void on_message(SoupWebsocketConnection* conn, gint type, GBytes* message, gpointer self);
  static void on_pong(SoupWebsocketConnection* conn, GBytes* message, gpointer self);
  static void on_error(SoupWebsocketConnection* conn, GError* error, gpointer self);
  static void on_closed(SoupWebsocketConnection* conn, gpointer self);

  // Moves to `next` if is_legal_transition(); else logs and returns false.
  [[nodiscard]] bool set_state(State next);
  void opened(GRef<SoupWebsocketConnection> conn);
  // The watchdog tick: false once the connection was declared dead (the
  // listener has been told, and may have destroyed this).
  bool check_alive();
  // Lets go of the connection: signal handlers off, the object released
  // from an idle callback (never inside its own signal emission).
  void drop_connection();

  HttpClient& http_;
  Listener& listener_;
  std::chrono::seconds keepalive_;
  State state_ = State::Idle;
  std::string url_;
  Pending* pending_ = nullptr;  // the upgrade in flight, owned by its callback
  GRef<SoupWebsocketConnection> conn_;
  SignalConnection on_message_;
  SignalConnection on_pong_;
  SignalConnection on_error_;
  SignalConnection on_closed_;
  std::string last_error_;
  gint64 last_rx_us_ = 0;  // monotonic time of the last frame or pong
  Timeout watchdog_;
  Lifetime alive_ = make_lifetime();
};

}  // namespace callagent::signaling
