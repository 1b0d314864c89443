#pragma once
// One accepted WebSocket connection, as a Peer of the RoomHub: the stream
// libsoup hands over after the upgrade (plain TCP or TLS), framed by
// WsFrameDecoder / ws_encode_frame, its readiness watched by the server's
// FdPoller (ws_frame_codec.h says why not SoupWebsocketConnection).
//
// Ownership: Server owns each WsConnection (unique_ptr); the WsConnection
// owns a reference to the stream and to its raw GSocket (to shut TCP down
// without a close frame) and its watch in the FdPoller, which it removes
// before the descriptor is closed. The FdPoller outlives it.
//
// States:
//
//   Open ──close()──> Closing ──peer's close / EOF / 5 s──> Closed
//     │                                                       ^
//     ├──peer's close (echoed), EOF, error, abort()───────────┤
//     └──reject(err)──> Rejecting ──(peer EOF or 2 s)─────────┘
//
// - reject(): the protocol's error frames (room missing, not found, full).
//   Sends {"error":…}, then shuts the socket for writing (FIN right after
//   the frame, so the frame cannot be lost to a reset) and drops the
//   connection when the peer hangs up or after a grace period. No close
//   frame is ever sent: the client sees 1006.
// - abort(): shuts the socket down both ways and closes it without a close
//   frame (dead peers, shutdown leftovers).
// - on_closed fires exactly once, from the main loop, never from inside a
//   call on this object.

#include "common/gref.h"
#include "common/main_context.h"
#include "server/clock.h"
#include "server/fd_poller.h"
#include "server/room_hub.h"
#include "server/ws_frame_codec.h"

#include <gio/gio.h>

#include <deque>
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

  // `stream`: what soup_server_message_steal_connection() returned; it may
  // hold bytes the client sent right after its handshake, so reading
  // starts with them. `socket`: the TCP socket under it (may be null).
  WsConnection(GIOStream* stream, GSocket* socket, FdPoller& poller, std::string remote,
               std::size_t max_payload_bytes, Callbacks callbacks, Clock clock = system_clock());
  ~WsConnection() override;
  WsConnection(const WsConnection&) = delete;
  WsConnection& operator=(const WsConnection&) = delete;

  void send_text(const std::string& text) override;
  void reject(const std::string& error_frame);
  void close(gushort code, const char* reason);
  void abort();
  // The server's keepalive: an empty ping; a live peer answers with a pong.
  void ping();

  std::chrono::steady_clock::duration silent_for() const { return clock_() - last_heard_; }

  State state() const { return state_; }
  const std::string& remote() const { return remote_; }
  // Who this is in the hub ("" until it joined): for logs.
  const std::string& user() const { return user_; }
  void set_user(std::string user) { user_ = std::move(user); }

 private:
  void set_state(State next);
  void on_events(std::uint32_t events);
  void read_all();
  void handle(WsEvent& e);
  void queue(std::string frame, bool last = false);
  void flush();
  // Ends the connection: stops watching, closes the stream, reports closed.
  void finish(const char* why);
  void shutdown_socket(bool read, bool write);

  GRef<GIOStream> stream_;
  GRef<GSocket> socket_;
  GPollableInputStream* in_ = nullptr;    // borrowed from stream_
  GPollableOutputStream* out_ = nullptr;  // borrowed from stream_
  FdPoller& poller_;
  int fd_ = -1;
  std::uint32_t watch_ = 0;  // FdPoller token, 0 when not watched
  std::string remote_;
  std::string user_;
  Callbacks callbacks_;
  Clock clock_;
  SteadyTime last_heard_;
  State state_ = State::Open;
  WsFrameDecoder decoder_;
  std::deque<std::string> outgoing_;
  std::size_t queued_bytes_ = 0;  // in outgoing_
  // What a client may leave unread before it is dropped: 8 MiB, ~30000
  // candidate-sized frames or ~1300 offers.
  static constexpr std::size_t kMaxQueuedBytes = 8u << 20;
  std::size_t sent_of_front_ = 0;
  bool close_after_flush_ = false;
  bool finished_ = false;
  Timeout grace_timer_;
  Lifetime lifetime_ = make_lifetime();
};

const char* to_string(WsConnection::State s);

}  // namespace callagent::server
