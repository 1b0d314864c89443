#include "signaling/signaling_client.h"

#include "common/logging.h"
#include "signaling/error_mapping.h"
#include "signaling/room_url.h"

#include <algorithm>
#include <iomanip>
#include <sstream>

namespace callagent::signaling {

namespace {

std::shared_ptr<spdlog::logger> log() { return logging::get("signaling"); }

std::string seconds_text(std::chrono::milliseconds d) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(1) << static_cast<double>(d.count()) / 1000.0 << " s";
  return o.str();
}

// The server stamps a relayed frame with the receiver's own id, not the
// sender's (docs/protocol.md, "Frames a client sends").
const std::string* relayed_user(const ServerMessage& m) {
  if (auto* j = std::get_if<JoinMsg>(&m)) return j->server_made ? nullptr : &j->user;
  if (auto* o = std::get_if<OfferMsg>(&m)) return &o->user;
  if (auto* a = std::get_if<AnswerMsg>(&m)) return &a->user;
  if (auto* c = std::get_if<CandidateMsg>(&m)) return &c->user;
  if (auto* c = std::get_if<ChatMsg>(&m)) return &c->user;
  return nullptr;
}

}  // namespace

const char* SignalingClient::state_name(State s) {
  switch (s) {
    case State::Idle: return "idle";
    case State::LoggingIn: return "logging-in";
    case State::Connecting: return "connecting";
    case State::Joining: return "joining";
    case State::Connected: return "connected";
    case State::WaitingToReconnect: return "waiting-to-reconnect";
    case State::Closing: return "closing";
    case State::Stopped: return "stopped";
    case State::Failed: return "failed";
  }
  return "?";
}

bool SignalingClient::is_legal_transition(State from, State to) {
  using S = State;
  switch (from) {
    case S::Idle: return to == S::LoggingIn || to == S::Connecting || to == S::Stopped;
    case S::LoggingIn:
      return to == S::Connecting || to == S::WaitingToReconnect || to == S::Failed || to == S::Stopped;
    case S::Connecting:
      return to == S::Joining || to == S::LoggingIn || to == S::WaitingToReconnect ||
             to == S::Failed || to == S::Stopped;
    case S::Joining:
      return to == S::Connected || to == S::WaitingToReconnect || to == S::Failed || to == S::Closing;
    case S::Connected: return to == S::WaitingToReconnect || to == S::Failed || to == S::Closing;
    case S::WaitingToReconnect: return to == S::LoggingIn || to == S::Connecting || to == S::Stopped;
    case S::Closing: return to == S::Stopped;
    case S::Stopped:
    case S::Failed: return false;
  }
  return false;
}

Result<std::unique_ptr<SignalingClient>> SignalingClient::create(SignalingOptions options,
                                                                 Listener& listener) {
  auto base = normalize_server_url(options.base_url);
  if (!base) return base.error();
  options.base_url = *base;
  if (!is_valid_room_id(options.room_id)) {
    return Error{ExitCode::Usage, "'" + options.room_id + "' is not a valid room id"};
  }
  if (!options.credentials.password && !options.credentials.token) {
    return Error{ExitCode::Usage,
                 "no credentials: give --password-file FILE, set CALLAGENT_PASSWORD, or pass --token"};
  }
  HttpOptions http_options;
  http_options.base_url = options.base_url;
  http_options.ca_file = options.ca_file;
  http_options.insecure = options.insecure;
  http_options.timeout = options.request_timeout;
  auto http = HttpClient::create(std::move(http_options), options.credentials);
  if (!http) return http.error();
  return std::unique_ptr<SignalingClient>(
      new SignalingClient(std::move(options), listener, std::move(*http)));
}

SignalingClient::SignalingClient(SignalingOptions options, Listener& listener,
                                 std::unique_ptr<HttpClient> http)
    : options_(std::move(options)),
      listener_(listener),
      http_(std::move(http)),
      backoff_(options_.backoff_min, options_.backoff_max, options_.backoff_jitter, options_.random) {}

// Members go in reverse order: the WebSocket (dropped without a handshake)
// before the HTTP client it borrows.
SignalingClient::~SignalingClient() = default;

bool SignalingClient::set_state(State next) {
  if (!is_legal_transition(state_, next)) {
    log()->error("internal: refusing the illegal signaling state change {} -> {}", state_name(state_),
                 state_name(next));
    return false;
  }
  log()->debug("state {} -> {}", state_name(state_), state_name(next));
  state_ = next;
  return true;
}

void SignalingClient::start() {
  if (state_ != State::Idle) {
    log()->error("internal: start() called in state {}", state_name(state_));
    return;
  }
  if (http_->has_token()) {
    open_socket();
  } else {
    log_in();
  }
}

void SignalingClient::log_in() {
  if (!set_state(State::LoggingIn)) return;
  std::weak_ptr<void> alive = alive_;
  http_->login([this, alive](Status s) {
    if (!alive.lock() || state_ != State::LoggingIn) return;  // stopped meanwhile
    if (!s) return attempt_failed(s.error());
    listener_.on_logged_in();
    // The owner may have stopped or dropped us from inside that callback.
    if (alive.expired() || state_ != State::LoggingIn) return;
    open_socket();
  });
}

void SignalingClient::open_socket() {
  if (!set_state(State::Connecting)) return;
  WsClient::Listener& ws_listener = *this;  // a private base: convert here, inside the class
  ws_ = std::make_unique<WsClient>(*http_, ws_listener, options_.keepalive);
  ws_->connect(options_.room_id);
}

void SignalingClient::on_ws_open() {
  relogged_in_ = false;
  join_sent_ = false;
  if (!self_id_.empty()) {
    // A new connection gets a new id; remember the old one (see on_ws_text).
    past_self_ids_.push_back(self_id_);
    if (past_self_ids_.size() > 8) past_self_ids_.erase(past_self_ids_.begin());
    self_id_.clear();
  }
  if (!set_state(State::Joining)) {
    ws_.reset();  // nobody wants this socket
    return;
  }
  // Our join at once (see Admission in the header); a refusal drops it.
  log()->debug("sending join");
  join_sent_ = ws_->send_text(encode_join(options_.room_id));
  // The server refuses a room right behind the upgrade; give that refusal a
  // moment to arrive before telling anyone we are in.
  admission_timer_.start_once(options_.admission_wait, [this] { admit_when_idle(); });
}

void SignalingClient::admit_when_idle() {
  // Through a low-priority idle: if this process was too busy to read for a
  // while, a refusal already waiting on the socket (default priority) is
  // read first and wins.
  struct Guarded {
    std::weak_ptr<void> alive;
    SignalingClient* self;
  };
  GSource* idle = g_idle_source_new();
  g_source_set_priority(idle, G_PRIORITY_LOW);
  g_source_set_callback(
      idle,
      [](gpointer data) -> gboolean {
        auto* g = static_cast<Guarded*>(data);
        if (!g->alive.expired() && g->self->state_ == State::Joining) g->self->admitted();
        return G_SOURCE_REMOVE;
      },
      new Guarded{alive_, this}, [](gpointer data) { delete static_cast<Guarded*>(data); });
  g_source_attach(idle, g_main_context_get_thread_default());
  g_source_unref(idle);
}

void SignalingClient::admitted() {
  admission_timer_.cancel();
  if (!set_state(State::Connected)) return;
  const bool reconnected = was_connected_;
  was_connected_ = true;
  stable_timer_.start_once(options_.stable_after, [this] {
    if (backoff_.attempts() > 0) log()->debug("connection stable: backoff reset");
    backoff_.reset();
  });
  if (reconnected) log()->info("reconnected to room {}", options_.room_id);
  listener_.on_connected(reconnected);  // may destroy this
}

void SignalingClient::on_ws_text(std::string_view text) {
  auto decoded = decode_server_frame(text);
  if (auto* e = std::get_if<DecodeError>(&decoded)) {
    // The page and server tolerate junk; so do we (one bad frame is not fatal).
    log()->warn("ignoring an unreadable frame from the server: {}", e->reason);
    return;
  }
  const auto& message = std::get<ServerMessage>(decoded);
  if (auto* err = std::get_if<ServerErrorMsg>(&message)) {
    Error error = server_error(*err, options_.room_id);
    log()->debug("error frame: \"{}\"", err->message);
    // The server drops the connection after an error frame; do not wait for it.
    ws_.reset();
    admission_timer_.cancel();
    stable_timer_.cancel();
    if (state_ == State::Closing) {
      // We are leaving anyway: the refusal ends the close early.
      log()->info("left room {} ({})", options_.room_id, err->message);
      finish_stop();
      return;
    }
    if (reconnecting_ && options_.reconnect && retryable_on_reconnect(error.code)) {
      log()->warn("the server refused the reconnection: {}", error.message);
      const bool announced = state_ == State::Connected;  // only a slow refusal gets here
      if (!set_state(State::WaitingToReconnect)) return;
      schedule_reconnect();
      if (announced) listener_.on_disconnected(error.message);  // may destroy this
      return;
    }
    fail(error);
    return;
  }
  if (state_ == State::Joining) {
    // Anything but an error frame means the server let us in.
    std::weak_ptr<void> alive = alive_;
    admitted();
    if (alive.expired() || state_ != State::Connected) return;
  }
  if (auto* ignored = std::get_if<IgnoredMsg>(&message)) {
    log()->debug("ignoring a frame of type '{}'", ignored->type);
    return;
  }
  if (auto* leave = std::get_if<LeaveMsg>(&message); leave && is_past_self(leave->user)) {
    // After a reconnect the server may notice our previous connection only
    // now; its leave is not the peer leaving.
    log()->info("the server dropped our previous connection ({})", leave->user);
    return;
  }
  if (const std::string* user = relayed_user(message); user && self_id_.empty() && !user->empty()) {
    self_id_ = *user;
    log()->debug("our id in room {} is {}", options_.room_id, self_id_);
  }
  listener_.on_message(message);  // may destroy this
}

bool SignalingClient::is_past_self(const std::string& user) const {
  return std::find(past_self_ids_.begin(), past_self_ids_.end(), user) != past_self_ids_.end();
}

void SignalingClient::on_ws_closed(const WsClose& info) {
  ws_.reset();
  stable_timer_.cancel();
  admission_timer_.cancel();
  if (state_ == State::Joining) {
    attempt_failed(Error{ExitCode::Unavailable,
                         "the server closed the connection to room " + options_.room_id +
                             " right after accepting it (" + info.reason + ")"});
    return;
  }
  if (state_ == State::Closing) {
    log()->info("left room {}", options_.room_id);
    finish_stop();
    return;
  }
  if (state_ != State::Connected) {
    log()->debug("WebSocket closed in state {}", state_name(state_));
    return;
  }
  connection_lost(info.reason + (info.code != 1006 ? " (code " + std::to_string(info.code) + ")" : ""));
}

void SignalingClient::on_ws_failed(const Error& error, bool unauthorized) {
  ws_.reset();
  if (unauthorized) {
    if (!relogged_in_ && http_->can_login()) {
      // The server forgot our session (it restarted, or the token expired).
      relogged_in_ = true;
      http_->forget_token();
      log_in();
      return;
    }
    Error e{ExitCode::NoPerm,
            relogged_in_ ? "the server refused to let us into room " + options_.room_id +
                               " right after a successful login: check the account's rights"
                         : "the server rejected the session token (it expired, or the server "
                           "restarted): give a password (--password-file or CALLAGENT_PASSWORD) "
                           "so callagent can log in again"};
    fail(e);
    return;
  }
  attempt_failed(error);
}

void SignalingClient::attempt_failed(const Error& error) {
  if (reconnecting_ && options_.reconnect && retryable_on_reconnect(error.code)) {
    log()->warn("reconnection failed: {}", error.message);
    if (!set_state(State::WaitingToReconnect)) return;
    schedule_reconnect();
    return;
  }
  fail(error);
}

void SignalingClient::connection_lost(const std::string& reason) {
  if (!options_.reconnect) {
    fail(Error{ExitCode::Unavailable, "lost the connection to the server (" + reason + ")"});
    return;
  }
  log()->warn("lost the connection to the server ({}); reconnecting", reason);
  reconnecting_ = true;
  if (!set_state(State::WaitingToReconnect)) return;
  schedule_reconnect();
  listener_.on_disconnected(reason);  // may destroy this
}

void SignalingClient::schedule_reconnect() {
  const auto delay = backoff_.next();
  relogged_in_ = false;
  log()->info("reconnect attempt {} to {} in {}", backoff_.attempts(), options_.base_url,
              seconds_text(delay));
  reconnect_timer_.start_once(delay, [this] {
    if (state_ != State::WaitingToReconnect) return;
    log()->info("reconnecting to room {} (attempt {})", options_.room_id, backoff_.attempts());
    if (http_->has_token()) {
      open_socket();
    } else {
      log_in();
    }
  });
}

void SignalingClient::fail(const Error& error) {
  // Already final or leaving: that outcome stands, on_fatal() is not called.
  if (!set_state(State::Failed)) {
    log()->warn("{} (in state {}: ignored)", error.message, state_name(state_));
    return;
  }
  admission_timer_.cancel();
  reconnect_timer_.cancel();
  stable_timer_.cancel();
  close_deadline_.cancel();
  ws_.reset();
  log()->error("{}", error.message);
  listener_.on_fatal(error);  // may destroy this
}

void SignalingClient::stop() {
  switch (state_) {
    case State::Joining:
    case State::Connected:
      if (!set_state(State::Closing)) return;
      admission_timer_.cancel();
      stable_timer_.cancel();
      log()->info("leaving room {}", options_.room_id);
      ws_->close();
      // libsoup gives the server 5 s to answer the close; do not wait longer.
      close_deadline_.start_once(std::chrono::seconds(8), [this] {
        log()->warn("the server did not finish the close handshake; leaving anyway");
        ws_.reset();
        finish_stop();
      });
      return;
    case State::Idle:
    case State::LoggingIn:
    case State::Connecting:
    case State::WaitingToReconnect: {
      if (!set_state(State::Stopped)) return;
      reconnect_timer_.cancel();
      ws_.reset();
      // Never call out from inside a public method.
      post(g_main_context_get_thread_default(), alive_, [this] { listener_.on_stopped(); });
      return;
    }
    case State::Closing:
    case State::Stopped:
    case State::Failed:
      log()->debug("stop() in state {}: nothing to do", state_name(state_));
      return;
  }
}

void SignalingClient::finish_stop() {
  if (!set_state(State::Stopped)) return;  // stopped already: on_stopped() came once
  close_deadline_.cancel();
  reconnect_timer_.cancel();
  listener_.on_stopped();  // may destroy this
}

bool SignalingClient::send_frame(const std::string& frame, const char* what) {
  if (state_ != State::Connected || !ws_) {
    log()->warn("not connected (state {}): {} not sent", state_name(state_), what);
    return false;
  }
  log()->debug("sending {}", what);
  return ws_->send_text(frame);
}

bool SignalingClient::send_join() {
  if (join_sent_ && state_ == State::Connected && ws_) return true;  // sent when the socket opened
  join_sent_ = send_frame(encode_join(options_.room_id), "join");
  return join_sent_;
}

bool SignalingClient::send_description(const SessionDescription& description) {
  return send_frame(encode_description(description, options_.room_id),
                    description.type == "answer" ? "answer" : "offer");
}

bool SignalingClient::send_candidate(const IceCandidate& candidate) {
  return send_frame(encode_candidate(candidate, options_.room_id), "ice-candidate");
}

bool SignalingClient::send_chat(std::string_view text) {
  const std::string frame = encode_chat(text, options_.room_id);
  if (frame.size() > kMaxFrameBytes) {
    log()->warn("chat message of {} bytes is over the {} byte frame limit: not sent", text.size(),
                kMaxFrameBytes);
    return false;
  }
  return send_frame(frame, "chat");
}

}  // namespace callagent::signaling
