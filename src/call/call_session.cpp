#include "call/call_session.h"

#include "common/logging.h"

namespace callagent::call {

namespace {
auto log() {
  static auto l = logging::get("call");
  return l;
}
}  // namespace

// Adapts one media::PeerConnection to call::Peer. Its listener side posts
// every event to the main context instead of calling the Call inline, so
// that the Call may tear the peer down in reaction without pulling the
// PeerConnection out from under its own callback.
class CallSession::MediaPeer final : public Peer, public media::PeerConnection::Listener {
 public:
  MediaPeer(CallSession& s, PeerEvents& events) : session_(s), events_(events) {}
  ~MediaPeer() override {
    if (pc_) session_.retire_peer(pc_);
  }

  void attach(media::PeerConnection* pc) { pc_ = pc; }

  // call::Peer
  void create_offer() override { pc_->create_offer(); }
  void set_remote_description(const SessionDescription& d) override { pc_->set_remote_description(d); }
  void add_remote_candidate(const IceCandidate& c) override { pc_->add_remote_candidate(c); }

  // media::PeerConnection::Listener
  void on_local_description(const SessionDescription& d) override {
    later([d](PeerEvents& e) { e.on_local_description(d); });
  }
  void on_local_candidate(const IceCandidate& c) override {
    later([c](PeerEvents& e) { e.on_local_candidate(c); });
  }
  void on_connection_state(media::ConnectionState s) override {
    std::optional<PeerState> mapped;
    switch (s) {
      case media::ConnectionState::New: mapped = PeerState::New; break;
      case media::ConnectionState::Connecting: mapped = PeerState::Connecting; break;
      case media::ConnectionState::Connected: mapped = PeerState::Connected; break;
      case media::ConnectionState::Failed: mapped = PeerState::Failed; break;
      case media::ConnectionState::Closed: mapped = PeerState::Closed; break;
      case media::ConnectionState::Disconnected:
        // ICE may recover on its own; "failed" follows if it does not.
        log()->warn("peer connection {}: disconnected, waiting for ICE to recover", pc_ ? pc_->id() : 0);
        break;
    }
    if (mapped) later([st = *mapped](PeerEvents& e) { e.on_peer_state(st); });
  }
  void on_remote_media(media::MediaKind kind) override {
    auto k = kind == media::MediaKind::Audio ? MediaKind::Audio : MediaKind::Video;
    later([k](PeerEvents& e) { e.on_remote_media(k); });
  }
  void on_error(const Error& err) override {
    // A peer's own failure (DTLS, a sink) ends this peer, not the call.
    log()->error("peer connection {}: {}", pc_ ? pc_->id() : 0, err.message);
    later([](PeerEvents& e) { e.on_peer_state(PeerState::Failed); });
  }

 private:
  void later(std::function<void(PeerEvents&)> fn) {
    post(g_main_context_get_thread_default(), lifetime_,
         [this, fn = std::move(fn)] { fn(events_); });
  }

  CallSession& session_;
  PeerEvents& events_;
  media::PeerConnection* pc_ = nullptr;
  Lifetime lifetime_ = make_lifetime();
};

Result<std::unique_ptr<CallSession>> CallSession::create(SessionOptions options, Done done) {
  std::unique_ptr<CallSession> s(new CallSession(std::move(options), std::move(done)));
  media::MediaEngine::Listener* ml = s.get();
  auto engine = media::MediaEngine::create(s->options_.media, ml);
  if (!engine) return engine.error();
  s->engine_ = std::move(*engine);
  signaling::SignalingClient::Listener& sl = *s;
  auto client = signaling::SignalingClient::create(s->options_.signaling, sl);
  if (!client) return client.error();
  s->signaling_ = std::move(*client);
  CallSignaling& sig = *s;
  PeerFactory& peers = *s;
  CallObserver& observer = *s;
  s->call_ = std::make_unique<Call>(s->options_.call, sig, peers, observer);
  return s;
}

CallSession::CallSession(SessionOptions options, Done done)
    : options_(std::move(options)), done_(std::move(done)) {}

CallSession::~CallSession() {
  // The Call's peer adapter reaches back into the engine: Call first.
  call_.reset();
  signaling_.reset();
  engine_.reset();
}

void CallSession::start() {
  phase_ = Phase::Running;
  if (options_.mute_audio) engine_->set_muted(media::MediaKind::Audio, true);
  if (options_.mute_video) engine_->set_muted(media::MediaKind::Video, true);
  call_->start();
  signaling_->start();
  progress_timer_.start(std::chrono::seconds(10), [this] {
    log_progress();
    return true;
  });
}

void CallSession::finish(ExitCode code, const std::string& reason) {
  if ((phase_ == Phase::Created || phase_ == Phase::Running) && call_) {
    call_->finish(code, reason);  // -> on_call_finished
  }
}

SessionTotals CallSession::totals() const {
  SessionTotals t = totals_;
  if (current_) {
    auto c = current_->counters();
    t.video_frames_received += c.video_frames;
    t.audio_buffers_received += c.audio_buffers;
    if (c.video_width) {
      t.last_width = c.video_width;
      t.last_height = c.video_height;
    }
    auto rec = current_->recording_path();
    if (!rec.empty()) t.recordings.push_back(rec);
  }
  return t;
}

void CallSession::log_progress() {
  if (!current_) {
    log()->info("waiting for a partner");
    return;
  }
  auto c = current_->counters();
  log()->info("peer {}: {} video frames ({}x{}), {} audio buffers received", current_->id(),
              c.video_frames, c.video_width, c.video_height, c.audio_buffers);
}

// ---- signaling ----------------------------------------------------------

void CallSession::on_connected(bool reconnected) {
  if (call_) call_->on_signaling_connected(reconnected);
}

void CallSession::on_message(const signaling::ServerMessage& message) {
  if (auto* chat = std::get_if<signaling::ChatMsg>(&message)) {
    logging::get("chat")->info("partner says: {}", chat->text);
    return;
  }
  if (call_) call_->on_signaling_message(message);
}

void CallSession::on_disconnected(const std::string& reason) {
  log()->warn("signaling connection lost ({}); reconnecting", reason);
  if (call_) call_->on_signaling_lost();
}

void CallSession::on_fatal(const Error& error) {
  if (phase_ == Phase::StoppingSignaling) {
    complete();
    return;
  }
  finish(error.code, error.message);
}

void CallSession::on_stopped() {
  if (phase_ == Phase::StoppingSignaling) complete();
}

bool CallSession::send_join() { return signaling_->send_join(); }
bool CallSession::send_description(const SessionDescription& d) { return signaling_->send_description(d); }
bool CallSession::send_candidate(const IceCandidate& c) { return signaling_->send_candidate(c); }

// ---- media --------------------------------------------------------------

void CallSession::on_engine_error(const Error& e) {
  finish(e.code == ExitCode::Ok ? ExitCode::CallFailed : e.code, e.message);
}

void CallSession::on_source_eos(media::MediaKind kind) {
  finish(ExitCode::Ok, std::string("the ") + (kind == media::MediaKind::Audio ? "audio" : "video") +
                           " file source ended");
}

Result<std::unique_ptr<Peer>> CallSession::create_peer(int visit, PeerEvents& events) {
  if (phase_ != Phase::Running) return Error{ExitCode::Software, "no new peer while stopping"};
  auto peer = std::make_unique<MediaPeer>(*this, events);
  media::PeerConnection* pc = engine_->add_peer(peer.get());
  if (!pc) return Error{ExitCode::CallFailed, "could not build a peer connection (see the log above)"};
  peer->attach(pc);
  current_ = pc;
  log()->debug("peer connection {} for partner visit {}", pc->id(), visit);
  return std::unique_ptr<Peer>(std::move(peer));
}

void CallSession::retire_peer(media::PeerConnection* pc) {
  auto c = pc->counters();
  totals_.video_frames_received += c.video_frames;
  totals_.audio_buffers_received += c.audio_buffers;
  if (c.video_width) {
    totals_.last_width = c.video_width;
    totals_.last_height = c.video_height;
  }
  auto rec = pc->recording_path();
  if (!rec.empty()) totals_.recordings.push_back(rec);
  if (pc == current_) current_ = nullptr;
  // While stopping, engine_->stop() finalizes and removes every peer at once.
  if (phase_ == Phase::Running && engine_ && engine_->state() == media::MediaEngine::State::Running)
    engine_->remove_peer(pc);
}

// ---- call ---------------------------------------------------------------

void CallSession::on_call_event(CallEvent e, int visit) {
  if (e == CallEvent::PeerConnected) ++totals_.partners_connected;
  log()->debug("event {} (visit {})", to_string(e), visit);
}

void CallSession::on_call_finished(ExitCode code, const std::string& reason) {
  code_ = code;
  reason_ = reason;
  progress_timer_.cancel();
  phase_ = Phase::StoppingMedia;
  log_progress();
  // Runs on the next iteration: the Call (and the peer that may have
  // reported this) are still on the stack.
  post(g_main_context_get_thread_default(), lifetime_, [this] {
    // Drop the Call's peer first so its counters and recording are counted.
    call_.reset();
    engine_->stop([this] {
      phase_ = Phase::StoppingSignaling;
      auto st = signaling_->state();
      if (st == signaling::SignalingClient::State::Failed || st == signaling::SignalingClient::State::Stopped) {
        complete();
        return;
      }
      signaling_stop_timer_.start_once(std::chrono::seconds(5), [this] { complete(); });
      signaling_->stop();
    });
  });
}

void CallSession::complete() {
  if (phase_ == Phase::Done) return;
  phase_ = Phase::Done;
  signaling_stop_timer_.cancel();
  auto t = totals();
  log()->info("summary: {} partner connection(s), {} video frames ({}x{}), {} audio buffers received",
              t.partners_connected, t.video_frames_received, t.last_width, t.last_height,
              t.audio_buffers_received);
  for (const auto& r : t.recordings) log()->info("recording: {}", r);
  if (done_) done_(code_, reason_);
}

}  // namespace callagent::call
