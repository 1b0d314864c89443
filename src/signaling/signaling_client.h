#pragma once
// SignalingClient: membership of one room on the messenger server, kept up
// for as long as the owner wants it. Used by `callagent chat` and by the
// call state machine (`callagent join`).
//
// It logs in (unless given a token), opens /ws?room=ID, decodes the frames
// (protocol.h) and hands them to a Listener, and sends the frames a client
// may send. When a connection that was up drops, it reconnects with capped
// exponential backoff and jitter (0.5 s doubling to 30 s, +-20 %, each
// attempt logged at info), logging in again when the server forgot the
// session (a restarted server forgets every token: a 401 on the upgrade
// means "log in again", once per attempt). It never queues frames across a
// reconnect: after on_connected(true) the owner re-joins and renegotiates.
//
// A failure of the FIRST connection (bad credentials, room not found, room
// full, server unreachable, TLS) is fatal, with its own exit code, and not
// retried. While reconnecting, transient failures (unreachable, room still
// held by our own stale connection, ...) are retried; permanent ones (login
// refused, room gone, certificate rejected) are fatal.
//
// Admission: the server checks the room only after the WebSocket upgrade and
// refuses with an error frame ("room full", "room not found") sent right
// behind the 101 answer. So an open socket is not yet membership: the client
// waits in Joining until a frame that is not an error arrives or
// `admission_wait` (250 ms) passes quietly, and only then reports
// on_connected(). A refusal therefore never shows up as "connected, then
// failed". (If a server were slow enough to refuse after the wait, the
// refusal still arrives, as on_fatal() or on_disconnected().)
// The `join` frame does not wait for admission: it goes out the moment the
// socket opens (a refused connection's join is dropped with it), so the
// partner, who offers on our join, starts 250 ms sooner; measured, that
// wait was an eighth of a call's setup. send_join() is therefore once per
// connection: on a connection whose join already left it sends nothing
// and returns true.
//
// Threading and ownership: everything runs on the thread-default main
// context current at create(); no threads. The owner holds the client
// (unique_ptr) and lends the Listener, which must outlive it. Listener
// callbacks never run inline from a public method. The owner may destroy
// the client from inside a Listener callback. Destroying it drops the
// connection without a close handshake (call stop() first for a clean
// leave).
//
// States (one transition function, set_state(), refuses an illegal move
// with an error line and returns false; the caller then does nothing more.
// The table below is is_legal_transition(): a unit test reads it from this
// header and checks it pair by pair against the code):
//
//   Idle --start()--> LoggingIn --token--> Connecting --open--> Joining --admitted--> Connected
//                        ^                   |    ^                                      |
//                        +--401, once--------+    |                                   dropped   stop() from
//                                                 |                                      v      Joining/Connected
//                                          (LoggingIn | Connecting) <--timer-- WaitingToReconnect   --> Closing --> Stopped
//
//   Idle               -> LoggingIn (no token) | Connecting (token) | Stopped
//   LoggingIn          -> Connecting | WaitingToReconnect (transient, reconnecting) | Failed | Stopped
//   Connecting         -> Joining (socket open) | LoggingIn (401, once per attempt)
//                         | WaitingToReconnect (transient, reconnecting) | Failed | Stopped
//   Joining            -> Connected (admitted) | WaitingToReconnect (refused or dropped while
//                         reconnecting) | Failed | Closing (stop)
//   Connected          -> WaitingToReconnect (dropped) | Failed | Closing (stop)
//   WaitingToReconnect -> LoggingIn | Connecting (timer) | Stopped
//   Closing            -> Stopped (closed, an error frame, or the close took too long)
//   Stopped, Failed    -> final

#include "common/main_context.h"
#include "common/result.h"
#include "common/backoff.h"
#include "signaling/http_client.h"
#include "signaling/protocol.h"
#include "signaling/ws_client.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace callagent::signaling {

struct SignalingOptions {
  std::string base_url;  // server base URL (room_url.h normalizes it)
  std::string room_id;
  Credentials credentials;
  std::string ca_file;
  bool insecure = false;
  bool reconnect = true;  // after an established connection drops
  std::chrono::milliseconds backoff_min{500};
  std::chrono::milliseconds backoff_max{30'000};
  double backoff_jitter = 0.2;
  Backoff::Random random;  // uniform [0,1); empty: g_random_double (tests inject their own)
  std::chrono::seconds keepalive{15};        // WebSocket ping interval (0: off)
  std::chrono::seconds request_timeout{20};  // each login / upgrade
  // A connection that stays up this long resets the backoff to backoff_min.
  std::chrono::seconds stable_after{10};
  // How long an open socket must stay unrefused before on_connected() (see
  // "Admission" above); a non-error frame ends the wait early.
  std::chrono::milliseconds admission_wait{250};
};

class SignalingClient final : private WsClient::Listener {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // The login request succeeded (each time the client logs in).
    virtual void on_logged_in() {}
    // We are in the room (the socket is open and the server did not refuse
    // it). `reconnected`: after a drop (re-join and renegotiate now).
    virtual void on_connected(bool reconnected) = 0;
    // A decoded frame: join, leave, offer, answer, ice-candidate, chat, or an
    // ignored type. Error frames never come here (see on_fatal /
    // on_disconnected).
    virtual void on_message(const ServerMessage& message) = 0;
    // The connection dropped (or the server refused a reconnect for now);
    // the client is retrying on its own.
    virtual void on_disconnected(const std::string& reason) = 0;
    // The client gave up; the Error carries the exit code. Final.
    virtual void on_fatal(const Error& error) = 0;
    // stop() has finished (the close handshake is done, or there was
    // nothing to close). Final.
    virtual void on_stopped() {}
  };

  enum class State {
    Idle,
    LoggingIn,
    Connecting,
    Joining,  // socket open, waiting for the server to admit us to the room
    Connected,
    WaitingToReconnect,
    Closing,
    Stopped,
    Failed
  };

  // Checks the options (URL, credentials, --ca-file); no I/O yet.
  static Result<std::unique_ptr<SignalingClient>> create(SignalingOptions options, Listener& listener);
  ~SignalingClient() override;
  SignalingClient(const SignalingClient&) = delete;
  SignalingClient& operator=(const SignalingClient&) = delete;

  // Logs in if needed and connects. Once.
  void start();
  // Leaves cleanly: frames already sent go out, then a WebSocket close
  // (the server then tells the peer "leave"). on_stopped() follows.
  void stop();

  // The frames a client may send (docs/protocol.md). false, with a log line, when not
  // Connected: nothing is queued. send_join(): see Admission above.
  bool send_join();
  bool send_description(const SessionDescription& description);
  bool send_candidate(const IceCandidate& candidate);
  bool send_chat(std::string_view text);

  State state() const { return state_; }
  bool connected() const { return state_ == State::Connected; }
  const std::string& room_id() const { return options_.room_id; }
  const std::string& base_url() const { return options_.base_url; }
  // Our own user id on the current connection, learned from the first
  // relayed frame (the server stamps relayed frames with the receiver's
  // id); empty until then. A `leave` naming one of our ids on an earlier
  // connection (the server noticing our old connection late, after a
  // reconnect) is dropped, not passed on as the peer leaving.
  const std::string& self_id() const { return self_id_; }

  static const char* state_name(State s);
  static bool is_legal_transition(State from, State to);

 private:
  SignalingClient(SignalingOptions options, Listener& listener, std::unique_ptr<HttpClient> http);

  // WsClient::Listener
  void on_ws_open() override;
  void on_ws_text(std::string_view text) override;
  void on_ws_closed(const WsClose& info) override;
  void on_ws_failed(const Error& error, bool unauthorized) override;

  // Moves to `next` if is_legal_transition(); else logs and returns false.
  [[nodiscard]] bool set_state(State next);
  // Joining -> Connected, and tells the listener (which may destroy this).
  void admitted();
  void admit_when_idle();
  void log_in();
  void open_socket();
  // A connection attempt (login, upgrade, or a refusal right after it) failed.
  void attempt_failed(const Error& error);
  // An established connection is gone; reconnect or give up.
  void connection_lost(const std::string& reason);
  void schedule_reconnect();
  void fail(const Error& error);
  void finish_stop();
  bool send_frame(const std::string& frame, const char* what);
  bool is_past_self(const std::string& user) const;

  SignalingOptions options_;
  Listener& listener_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<WsClient> ws_;
  State state_ = State::Idle;
  Backoff backoff_;
  Timeout reconnect_timer_;
  Timeout stable_timer_;
  Timeout close_deadline_;
  Timeout admission_timer_;
  bool reconnecting_ = false;    // the current attempt follows a drop
  bool relogged_in_ = false;     // this attempt already logged in again after a 401
  bool join_sent_ = false;       // on the current socket
  bool was_connected_ = false;   // some connection was admitted (for on_connected's flag)
  std::string self_id_;
  std::vector<std::string> past_self_ids_;  // our ids on earlier connections (last few)
  Lifetime alive_ = make_lifetime();
};

}  // namespace callagent::signaling
