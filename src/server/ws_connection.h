#pragma once
// One accepted WebSocket connection: wraps libsoup's SoupWebsocketConnection
// for the server, as a Peer of the RoomHub.
//
// Ownership: Server owns each WsConnection (unique_ptr); the WsConnection
// owns a reference to the SoupWebsocketConnection and to its raw GSocket
// (needed to drop TCP without a close frame, which libsoup 3.2 has no call
// for). Signal handlers live in SignalConnections and die with it.
//
// States:
//
//   Open ──close()──> Closing ──"closed"──> Closed
//     │                                       ^
//     ├──abort()────────────────"closed"──────┤
//     └──reject(err)──> Rejecting ──(peer EOF or 2 s)── abort() ──┘
//
// - reject(): the protocol's error frames (room missing, not found, full). Sends {"error":…}, then shuts the
//   socket for writing (FIN right after the frame, so the frame cannot be
//   lost to a reset) and drops the connection when the peer hangs up or
//   after a grace period. No close frame is ever sent: the client sees 1006.
// - abort(): shuts the socket down both ways; libsoup reads EOF and reports
//   "closed" without sending a close frame (dead peers, shutdown leftovers).
// - on_closed fires exactly once, from the main loop, never from inside a
//   call on this object.

#include "common/gref.h"
#include "common/main_context.h"
#include "common/signal_connection.h"
#include "server/clock.h"
#include "server/room_hub.h"

#include <libsoup/soup.h>

#include <functional>
#include <string>
#include <string_view>

namespace callagent::server {

class WsConnection final : public Peer {
 public:
  enum class State { Open, Rejecting, Closing, Closed };

  struct Callbacks {
    std::function<void(WsConnection&, std::string_view text)> on_text;
    std::function<void(WsConnection&)> on_closed;
  };

  WsConnection(SoupWebsocketConnection* conn, GSocket* socket, std::string remote,
               Callbacks callbacks, Clock clock = system_clock());
  ~WsConnection() override;
  WsConnection(const WsConnection&) = delete;
  WsConnection& operator=(const WsConnection&) = delete;

  void send_text(const std::string& text) override;
  void reject(const std::string& error_frame);
  void close(gushort code, const char* reason);
  void abort();

  // Pings every `interval` (libsoup); the server's sweep drops connections
  // that stayed silent (no frame, no pong) for too long.
  void set_keepalive(std::chrono::seconds interval);
  std::chrono::steady_clock::duration silent_for() const { return clock_() - last_heard_; }

  State state() const { return state_; }
  const std::string& remote() const { return remote_; }
  // Who this is in the hub ("" until it joined): for logs.
  const std::string& user() const { return user_; }
  void set_user(std::string user) { user_ = std::move(user); }

 private:
  static void on_message(SoupWebsocketConnection*, gint type, GBytes* message, gpointer self);
  static void on_pong(SoupWebsocketConnection*, GBytes*, gpointer self);
  static void on_error(SoupWebsocketConnection*, GError* error, gpointer self);
  static void on_closed_signal(SoupWebsocketConnection*, gpointer self);
  void set_state(State next);
  void shutdown_socket(bool read, bool write);

  GRef<SoupWebsocketConnection> conn_;
  GRef<GSocket> socket_;
  std::string remote_;
  std::string user_;
  Callbacks callbacks_;
  Clock clock_;
  SteadyTime last_heard_;
  State state_ = State::Open;
  Timeout reject_timer_;
  SignalConnection message_sig_, pong_sig_, error_sig_, closed_sig_;
};

const char* to_string(WsConnection::State s);

}  // namespace callagent::server
