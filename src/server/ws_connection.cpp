#include "server/ws_connection.h"

#include "common/logging.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>

namespace callagent::server {

namespace {
std::shared_ptr<spdlog::logger> ws_log() { return logging::get("ws"); }
// How long a rejected client gets to read its error frame and hang up.
constexpr std::chrono::seconds kRejectGrace{2};
// How long the peer gets to answer our close frame (libsoup's value).
constexpr std::chrono::seconds kCloseGrace{5};
constexpr std::size_t kReadChunk = 16 * 1024;
// Reads per wake-up: a client that floods gets its turn again on the next
// iteration (level-triggered), after everyone else's.
constexpr int kReadsPerWake = 16;
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

WsConnection::WsConnection(GIOStream* stream, GSocket* socket, FdPoller& poller, std::string remote,
                           std::size_t max_payload_bytes, Callbacks callbacks, Clock clock)
    : stream_(GRef<GIOStream>::ref(stream)),
      socket_(GRef<GSocket>::ref(socket)),
      poller_(poller),
      remote_(std::move(remote)),
      callbacks_(std::move(callbacks)),
      clock_(std::move(clock)),
      last_heard_(clock_()),
      decoder_(max_payload_bytes) {
  GInputStream* in = stream ? g_io_stream_get_input_stream(stream) : nullptr;
  GOutputStream* out = stream ? g_io_stream_get_output_stream(stream) : nullptr;
  if (in && G_IS_POLLABLE_INPUT_STREAM(in) && out && G_IS_POLLABLE_OUTPUT_STREAM(out)) {
    in_ = G_POLLABLE_INPUT_STREAM(in);
    out_ = G_POLLABLE_OUTPUT_STREAM(out);
  }
  if (socket_) fd_ = g_socket_get_fd(socket_.get());
  // Signaling frames are small and each one is awaited by a peer: without
  // TCP_NODELAY, Nagle's algorithm holds a relayed candidate back until the
  // previous segment is acknowledged (up to the 40 ms delayed-ACK timer).
  if (socket_) {
    GError* raw = nullptr;
    if (!g_socket_set_option(socket_.get(), IPPROTO_TCP, TCP_NODELAY, 1, &raw)) {
      GErrorPtr err(raw);
      ws_log()->debug("{}: TCP_NODELAY: {}", remote_, err->message);
    }
  }
  if (in_ && out_ && fd_ >= 0) watch_ = poller_.add(fd_, false, [this](std::uint32_t ev) { on_events(ev); });
  if (watch_ == 0) {
    ws_log()->warn("{}: WebSocket stream cannot be polled; dropping it", remote_);
    std::weak_ptr<void> alive = lifetime_;
    post(thread_default_context(), alive, [this] { finish("unusable stream"); });
    return;
  }
  // The stream may already hold bytes the client sent right behind its
  // handshake; epoll would not report those. Read once the owner is done
  // setting this connection up (join), as libsoup did.
  std::weak_ptr<void> alive = lifetime_;
  post(thread_default_context(), alive, [this] {
    if (!finished_) read_all();
  });
}

WsConnection::~WsConnection() {
  // By now the descriptor may be closed and its number another
  // connection's: the token keeps that one's watch (fd_poller.h).
  poller_.remove(fd_, watch_);
  if (!finished_ && stream_) {
    // Dropped without a close frame (server teardown).
    shutdown_socket(true, true);
    g_io_stream_close(stream_.get(), nullptr, nullptr);
  }
}

void WsConnection::set_state(State next) {
  bool legal = false;
  switch (state_) {
    case State::Open: legal = next != State::Open; break;
    case State::Rejecting: legal = next == State::Closed; break;
    case State::Closing: legal = next == State::Closed; break;
    case State::Closed: legal = false; break;
  }
  if (!legal) {
    ws_log()->warn("{}: illegal state change {} -> {}", remote_, to_string(state_), to_string(next));
    return;
  }
  state_ = next;
}

void WsConnection::send_text(const std::string& text) {
  if (state_ != State::Open) return;
  queue(ws_encode_frame(ws::kText, text));
}

void WsConnection::ping() {
  if (state_ != State::Open) return;
  queue(ws_encode_frame(ws::kPing, {}));
}

void WsConnection::reject(const std::string& error_frame) {
  if (state_ != State::Open) return;
  send_text(error_frame);
  if (finished_) return;
  set_state(State::Rejecting);
  // The small frame went out at once (a fresh socket has room); FIN follows
  // it, so the client reads the frame and then EOF: code 1006.
  shutdown_socket(false, true);
  grace_timer_.start_once(kRejectGrace, [this] { finish("rejected client did not hang up"); });
}

void WsConnection::close(gushort code, const char* reason) {
  if (state_ != State::Open) {
    if (state_ == State::Rejecting) finish("closed while rejecting");
    return;
  }
  set_state(State::Closing);
  queue(ws_encode_close(code, reason ? reason : ""));
  if (!finished_) grace_timer_.start_once(kCloseGrace, [this] { finish("no close frame in time"); });
}

void WsConnection::abort() {
  if (finished_) return;
  shutdown_socket(true, true);
  finish("aborted");
}

void WsConnection::on_events(std::uint32_t events) {
  if (finished_) return;
  if (events & EPOLLOUT) flush();
  if (finished_) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read_all();
}

void WsConnection::read_all() {
  char buf[kReadChunk];
  for (int i = 0; i < kReadsPerWake && !finished_; ++i) {
    GError* raw = nullptr;
    gssize n = g_pollable_input_stream_read_nonblocking(in_, buf, sizeof buf, nullptr, &raw);
    if (n < 0) {
      GErrorPtr err(raw);
      if (g_error_matches(err.get(), G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) return;
      ws_log()->debug("{} {}: {}", remote_, user_, err->message);
      finish("read error");
      return;
    }
    if (n == 0) {
      finish(state_ == State::Closing ? "peer hung up after our close" : "peer hung up");
      return;
    }
    if (state_ == State::Rejecting) continue;  // a rejected client's join etc.
    decoder_.feed(buf, static_cast<std::size_t>(n));
    while (!finished_ && state_ != State::Rejecting) {
      auto e = decoder_.next();
      if (!e) break;
      handle(*e);
    }
  }
  // Still more to read. The socket stays readable (level-triggered) unless
  // the rest is already inside the stream (TLS records decrypted ahead):
  // then only another read finds it.
  if (!finished_) {
    std::weak_ptr<void> alive = lifetime_;
    post(thread_default_context(), alive, [this] {
      if (!finished_) read_all();
    });
  }
}

void WsConnection::handle(WsEvent& e) {
  last_heard_ = clock_();
  switch (e.kind) {
    case WsEvent::Kind::Message:
      // Binary frames are handled like text: the payload is JSON or dropped.
      if (state_ == State::Open && callbacks_.on_text) callbacks_.on_text(*this, e.payload);
      return;
    case WsEvent::Kind::Ping:
      queue(ws_encode_frame(ws::kPong, e.payload));
      return;
    case WsEvent::Kind::Pong:
      return;
    case WsEvent::Kind::Close:
      ws_log()->debug("{} {}: close frame (code {}, was {})", remote_, user_, e.code, to_string(state_));
      if (state_ == State::Closing) {
        finish("close handshake done");
        return;
      }
      // Echo it and hang up once it is written.
      set_state(State::Closing);
      queue(ws_encode_close(e.code == ws::kCloseNoStatus ? ws::kCloseNormal : e.code,
                            e.code == ws::kCloseNoStatus ? "" : e.payload),
            true);
      return;
    case WsEvent::Kind::Error:
      ws_log()->debug("{} {}: broke the WebSocket framing (closing with {})", remote_, user_, e.code);
      if (e.drop || state_ != State::Open) {
        finish("framing error");
        return;
      }
      set_state(State::Closing);
      queue(ws_encode_close(e.code), true);
      return;
  }
}

void WsConnection::queue(std::string frame, bool last) {
  if (finished_ || close_after_flush_) return;
  // A client that stops reading would make the server hold every frame
  // relayed to it (and every ping): past the bound it is dropped, as a
  // browser's own stack drops a peer whose buffer overflows.
  if (queued_bytes_ + frame.size() > kMaxQueuedBytes) {
    ws_log()->warn("{} {}: not reading its WebSocket ({} KiB waiting): dropped", remote_, user_, queued_bytes_ / 1024);
    finish("send queue full");
    return;
  }
  queued_bytes_ += frame.size();
  outgoing_.push_back(std::move(frame));
  if (last) close_after_flush_ = true;
  // Nothing waiting: write now. Otherwise the socket's readiness flushes.
  if (outgoing_.size() == 1) flush();
}

void WsConnection::flush() {
  while (!outgoing_.empty() && !finished_) {
    const std::string& f = outgoing_.front();
    GError* raw = nullptr;
    gssize n = g_pollable_output_stream_write_nonblocking(out_, f.data() + sent_of_front_,
                                                          f.size() - sent_of_front_, nullptr, &raw);
    if (n < 0) {
      GErrorPtr err(raw);
      if (g_error_matches(err.get(), G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        poller_.set_want_write(fd_, watch_, true);
        return;
      }
      ws_log()->debug("{} {}: {}", remote_, user_, err->message);
      finish("write error");
      return;
    }
    sent_of_front_ += static_cast<std::size_t>(n);
    if (sent_of_front_ >= f.size()) {
      queued_bytes_ -= f.size();
      outgoing_.pop_front();
      sent_of_front_ = 0;
    }
  }
  if (finished_) return;
  poller_.set_want_write(fd_, watch_, false);
  if (close_after_flush_) finish("closed");
}

void WsConnection::finish(const char* why) {
  if (finished_) return;
  finished_ = true;
  ws_log()->debug("{} {}: {} (was {})", remote_, user_, why, to_string(state_));
  grace_timer_.cancel();
  poller_.remove(fd_, watch_);
  watch_ = 0;
  if (state_ != State::Closed) set_state(State::Closed);
  outgoing_.clear();
  queued_bytes_ = 0;
  if (stream_) {
    // Never blocks: a TLS close_notify that does not fit fails at once.
    shutdown_socket(true, true);
    g_io_stream_close(stream_.get(), nullptr, nullptr);
  }
  // Reported from the main loop: the owner may destroy this object then.
  std::weak_ptr<void> alive = lifetime_;
  post(thread_default_context(), alive, [this] {
    if (callbacks_.on_closed) callbacks_.on_closed(*this);
  });
}

void WsConnection::shutdown_socket(bool read, bool write) {
  if (!socket_ || g_socket_is_closed(socket_.get())) return;
  GError* raw = nullptr;
  if (!g_socket_shutdown(socket_.get(), read, write, &raw)) {
    GErrorPtr err(raw);
    ws_log()->debug("{}: shutdown: {}", remote_, err->message);
  }
}

}  // namespace callagent::server
