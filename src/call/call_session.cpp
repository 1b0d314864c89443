#include "call/call_session.h"

#include "common/logging.h"
#include "media/rate_controller.h"
#include "media/snapshot_writer.h"

#include <fmt/format.h>

namespace callagent::call {

namespace {
auto log() {
  static auto l = logging::get("call");
  return l;
}
}  // namespace

// Adapts one media::PeerConnection to call::Peer. PeerConnection delivers
// every event on the main context, never inside a call we made into it, and
// tolerates being removed from inside its own callback (remove_peer only
// closes it; the engine destroys it later): so the events go to the Call
// directly, without a second post.
//
// Ownership: the Call owns this adapter; the adapter holds the engine's
// peer (borrowed pointer, valid until remove_peer) and gives it back when
// the Call drops it. The engine then reports the retirement to the session
// (MediaEngine::Listener::on_peer_retired -> CallSession::retire_peer): the
// adapter itself reaches nothing above it.
class CallSession::MediaPeer final : public Peer, public media::PeerConnection::Listener {
 public:
  MediaPeer(media::MediaEngine& engine, std::function<void(const std::string&)> mark, PeerEvents& events)
      : engine_(engine), mark_(std::move(mark)), events_(events) {}
  ~MediaPeer() override {
    if (pc_) engine_.remove_peer(pc_);
  }

  void attach(media::PeerConnection* pc) { pc_ = pc; }

  // call::Peer
  void create_offer() override { pc_->create_offer(); }
  void set_remote_description(const SessionDescription& d) override { pc_->set_remote_description(d); }
  void add_remote_candidate(const IceCandidate& c) override { pc_->add_remote_candidate(c); }

  // media::PeerConnection::Listener. Each call is the last thing done
  // here: the Call may destroy this adapter in reaction.
  void on_local_description(const SessionDescription& d) override { events_.on_local_description(d); }
  void on_local_candidate(const IceCandidate& c) override { events_.on_local_candidate(c); }
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
    if (mapped) events_.on_peer_state(*mapped);
  }
  void on_ice_connected() override {
    mark_("ice_connected");
    events_.on_ice_connected();
  }
  void on_remote_media(media::MediaKind kind) override {
    events_.on_remote_media(kind == media::MediaKind::Audio ? MediaKind::Audio : MediaKind::Video);
  }
  void on_error(const Error& err) override {
    // A peer's own failure (DTLS, a sink) ends this peer, not the call
    // (call-failed: it is retried). Anything else says that no connection
    // with this partner can work as configured (config-error: a video
    // codec it cannot receive): the call ends with that code.
    if (err.code != ExitCode::CallFailed) return events_.on_peer_error(err);
    log()->error("peer connection {}: {}", pc_ ? pc_->id() : 0, err.message);
    events_.on_peer_state(PeerState::Failed);
  }

 private:
  media::MediaEngine& engine_;  // the session's; outlives the Call and so this adapter
  std::function<void(const std::string&)> mark_;
  PeerEvents& events_;
  media::PeerConnection* pc_ = nullptr;  // the engine's, until remove_peer
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
  stats::StatsCollector::Source& src = *s;
  auto collector = stats::StatsCollector::create(s->options_.stats, src);
  if (!collector) return collector.error();
  s->stats_ = std::move(*collector);
  if (s->options_.status_line && s->options_.stats.interval.count() > 0) {
    s->status_ = std::make_unique<stats::StatusLine>(s->options_.status_tty);
  }
  s->stats_->on_snapshot = [self = s.get()](const stats::Snapshot& snap) {
    if (self->status_) self->status_->update(snap);
    if (self->on_stats_) self->on_stats_(snap);
  };
  return s;
}

CallSession::CallSession(SessionOptions options, Done done)
    : options_(std::move(options)), done_(std::move(done)) {}

CallSession::~CallSession() {
  if (stats_) stats_->stop();
  status_.reset();
  // The Call's peer adapter reaches back into the engine: Call first.
  call_.reset();
  last_sample_.reset();
  signaling_.reset();
  slate_.reset();
  engine_.reset();
}

void CallSession::start() {
  phase_ = Phase::Running;
  stats_->start();
  if (options_.snapshot_every && !options_.snapshot_path.empty()) {
    snapshot_timer_.start(*options_.snapshot_every, [this] {
      const auto& p = options_.snapshot_path;
      auto dot = p.rfind('.');
      std::string base = dot == std::string::npos ? p : p.substr(0, dot);
      std::string ext = dot == std::string::npos ? ".png" : p.substr(dot);
      write_snapshot(fmt::format("{}-{:04d}{}", base, ++snapshot_seq_, ext));
      return true;
    });
  }
  if (options_.mute_audio) engine_->set_muted(media::MediaKind::Audio, true);
  if (options_.mute_video) engine_->set_muted(media::MediaKind::Video, true);
  call_->start();
  signaling_->start();
  update_slate();
  progress_timer_.start(std::chrono::seconds(10), [this] {
    log_progress();
    update_slate();  // a slate whose display failed goes
    return true;
  });
}

void CallSession::finish(ExitCode code, const std::string& reason) {
  if (phase_ != Phase::Created && phase_ != Phase::Running) return;
  if (call_) {
    call_->finish(code, reason);  // -> on_call_finished
  } else {
    on_call_finished(code, reason);  // out of the room (hangup): no Call to finish
  }
}

namespace {
// Adds what one partner's peer connection received to the run's totals.
void add_peer_totals(SessionTotals& t, const media::PeerConnection& pc) {
  auto c = pc.counters();
  t.video_frames_received += c.video_frames;
  t.audio_buffers_received += c.audio_buffers;
  if (c.video_width) {
    t.last_width = c.video_width;
    t.last_height = c.video_height;
  }
  auto rec = pc.recording_path();
  if (!rec.empty()) t.recordings.push_back(rec);
}
}  // namespace

SessionTotals CallSession::totals() const {
  SessionTotals t = totals_;
  if (current_) add_peer_totals(t, *current_);
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

void CallSession::on_logged_in() { mark("login"); }

void CallSession::on_connected(bool reconnected) {
  mark(reconnected ? "ws_reopen" : "ws_open");
  if (reconnected) ++reconnects_;
  signaling_lost_ = false;
  if (call_) call_->on_signaling_connected(reconnected);
  update_slate();
}

void CallSession::on_message(const signaling::ServerMessage& message) {
  if (auto* chat = std::get_if<signaling::ChatMsg>(&message)) {
    logging::get("chat")->info("partner says: {}", chat->text);
    emit("chat", {{"from", chat->user}, {"text", chat->text}});
    return;
  }
  if (auto* j = std::get_if<signaling::JoinMsg>(&message); j && j->server_made) partner_ = j->user;
  if (auto* l = std::get_if<signaling::LeaveMsg>(&message); l && (partner_.empty() || l->user == partner_)) {
    // The event goes out from on_call_event (PartnerLeft) with the leaver's
    // id (the second to join learns it only here).
    partner_ = l->user;
    if (call_) call_->on_signaling_message(message);
    partner_.clear();
    return;
  }
  if (call_) call_->on_signaling_message(message);
}

void CallSession::on_disconnected(const std::string& reason) {
  log()->warn("signaling connection lost ({}); reconnecting", reason);
  emit("reconnecting", {{"reason", reason}});
  signaling_lost_ = true;
  if (call_) call_->on_signaling_lost();
  update_slate();
}

void CallSession::on_fatal(const Error& error) {
  if (phase_ == Phase::StoppingSignaling) {
    complete();
    return;
  }
  if (membership_ == Membership::Leaving) {
    left_room();
    return;
  }
  emit("error", {{"message", error.message}, {"code", std::string(exit_code_name(error.code))}});
  finish(error.code, error.message);
}

void CallSession::on_stopped() {
  if (phase_ == Phase::StoppingSignaling) {
    complete();
  } else if (membership_ == Membership::Leaving) {
    left_room();
  }
}

bool CallSession::send_join() { return signaling_->send_join(); }
bool CallSession::send_description(const SessionDescription& d) { return signaling_->send_description(d); }
bool CallSession::send_candidate(const IceCandidate& c) { return signaling_->send_candidate(c); }

// ---- media --------------------------------------------------------------

void CallSession::on_engine_error(const Error& e) {
  emit("error", {{"message", e.message}, {"code", std::string(exit_code_name(e.code))}});
  finish(e.code == ExitCode::Ok ? ExitCode::CallFailed : e.code, e.message);
}

void CallSession::on_source_eos(media::MediaKind kind) {
  finish(ExitCode::Ok, std::string("the ") + (kind == media::MediaKind::Audio ? "audio" : "video") +
                           " file source ended");
}

void CallSession::on_device(media::MediaKind kind, bool lost, const std::string& device, const std::string& why) {
  mark(lost ? "device_lost" : "device_back");
  emit("source", {{"kind", std::string(media::to_string(kind))}, {"state", std::string(lost ? "lost" : "back")},
                  {"source", device}, {"reason", why}});
}

Result<std::unique_ptr<Peer>> CallSession::create_peer(int visit, PeerEvents& events) {
  if (phase_ != Phase::Running) return Error{ExitCode::Software, "no new peer while stopping"};
  auto peer = std::make_unique<MediaPeer>(*engine_, [this](const std::string& e) { mark(e); }, events);
  media::PeerConnection* pc = engine_->add_peer(peer.get());
  if (!pc) return Error{ExitCode::CallFailed, "could not build a peer connection (see the log above)"};
  peer->attach(pc);
  current_ = pc;
  log()->debug("peer connection {} for partner visit {}", pc->id(), visit);
  return std::unique_ptr<Peer>(std::move(peer));
}

void CallSession::on_peer_retired(const media::PeerConnection& pc) { retire_peer(pc); }

void CallSession::on_output_failed(int, const media::OutputFailure& f) { note_output_failure(f); }

void CallSession::note_output_failure(const media::OutputFailure& f) {
  output_failures_.push_back(f);
  emit("error", {{"message", f.error.message}, {"output", f.output}, {"path", f.path},
                 {"code", std::string(exit_code_name(f.error.code))}});
  if (options_.output_errors == OutputErrors::Fail) finish(f.error.code, f.error.message + " (--output-errors fail)");
}

void CallSession::retire_peer(const media::PeerConnection& pc) {
  if (!options_.snapshot_path.empty()) {
    if (auto smp = pc.last_video_sample()) last_sample_ = std::move(smp);
  }
  add_peer_totals(totals_, pc);
  if (&pc == current_) {
    current_ = nullptr;
    partner_video_ = false;
    if (peer_connected_) {
      peer_connected_ = false;
      emit("disconnected", {{"peer", static_cast<double>(pc.id())}});
    }
    update_slate();
  }
}

// ---- call ---------------------------------------------------------------

void CallSession::on_call_event(CallEvent e, int visit) {
  if (e == CallEvent::PeerConnected) ++totals_.partners_connected;
  log()->debug("event {} (visit {})", to_string(e), visit);
  switch (e) {
    case CallEvent::PartnerJoined:
      mark("partner_join");
      emit("partner-joined", {{"partner", partner_}});
      break;
    case CallEvent::PartnerLeft:
      mark(to_string(e));
      emit("partner-left", {{"partner", partner_}});
      break;
    case CallEvent::OfferSent:
    case CallEvent::OfferReceived: mark("offer"); break;
    case CallEvent::AnswerSent:
    case CallEvent::AnswerReceived: mark("answer"); break;
    // webrtcbin's connection-state: ICE and DTLS both connected.
    case CallEvent::PeerConnected:
      mark("dtls_connected");
      // From now on the partner's video is due: if none ever comes, the
      // report shows one freeze to the end of the call.
      if (stats_ && current_ && current_->remote_sends_video()) stats_->expect_video();
      if (!connected_once_) on_first_connection();
      peer_connected_ = true;
      emit("connected", {{"peer", static_cast<double>(current_ ? current_->id() : 0)},
                         {"partner", partner_},
                         {"connections", static_cast<double>(totals_.partners_connected)}});
      break;
    case CallEvent::FirstRemoteAudio: mark("first_audio"); break;
    case CallEvent::FirstRemoteVideo:
      mark("first_video");
      partner_video_ = true;
      if (engine_) engine_->raise_self_view();  // over the partner's window
      if (engine_) {
        if (auto path = engine_->dump_graph(fmt::format("peer{}-first-video", current_ ? current_->id() : 0));
            !path.empty())
          log()->info("pipeline graph: {}", path);
      }
      break;
    default: mark(to_string(e)); break;
  }
  update_slate();
}

void CallSession::on_first_connection() {
  connected_once_ = true;
  if (!options_.test_freeze) return;
  auto [at, len] = *options_.test_freeze;
  freeze_timer_.start_once(at, [this, len = len] {
    if (engine_) engine_->set_video_paused(true);
    freeze_timer_.start_once(len, [this] {
      if (engine_) engine_->set_video_paused(false);
    });
  });
}

void CallSession::mark(const std::string& event) {
  if (stats_) stats_->mark(event);
}

Status CallSession::write_png_now(const std::string& path) {
  GUnique<GstSample> smp = current_ ? current_->last_video_sample() : nullptr;
  if (!smp && last_sample_) smp.reset(gst_sample_ref(last_sample_.get()));
  if (!smp) return Error{ExitCode::NoInput, fmt::format("snapshot {}: no remote video frame yet", path)};
  auto st = media::write_png(smp.get(), path);
  if (!st) return Error{st.error().code, fmt::format("snapshot {}: {}", path, st.error().message)};
  log()->info("snapshot: {}", path);
  snapshots_.push_back(path);
  return Ok{};
}

void CallSession::write_snapshot(const std::string& path) {
  auto st = write_png_now(path);
  if (!st && st.error().code == ExitCode::NoInput) {
    log()->warn("{}", st.error().message);
    return;
  }
  if (!st) {
    media::OutputFailure f;
    f.output = "snapshot";
    f.path = path;
    f.error = st.error();
    log()->error("{}", f.error.message);
    note_output_failure(f);
  }
}

// ---- stats source ---------------------------------------------------------

GstElement* CallSession::stats_webrtcbin() {
  if (!current_ || current_->state() == media::ConnectionState::Closed) return nullptr;
  return current_->webrtcbin();
}

int CallSession::stats_peer_id() { return current_ ? current_->id() : 0; }

stats::ProbeFacts CallSession::take_probe_facts() {
  stats::ProbeFacts f;
  if (engine_) {
    auto ec = engine_->counters();
    f.video_frames_encoded = ec.video_frames_encoded;
    f.recovery.keyframes_forced = ec.keyframes_forced;
    const auto& mo = engine_->options();
    if (mo.video_source.type != media::SourceSpec::Type::None) {
      f.out_width = mo.video.width;
      f.out_height = mo.video.height;
    }
  }
  if (current_) {
    auto c = current_->counters();
    f.video_frames_sent = c.video_frames_sent;
    f.video_frames_received = c.video_frames_received;
    f.video_frames_decoded = c.video_frames;
    f.audio_buffers_decoded = c.audio_buffers;
    f.video_width = c.video_width;
    f.video_height = c.video_height;
    f.video_in_ssrc = c.video_in_ssrc;
    f.audio_in_ssrc = c.audio_in_ssrc;
    f.video_out_ssrc = c.video_out_ssrc;
    f.audio_out_ssrc = c.audio_out_ssrc;
    const auto& r = c.recovery;
    f.recovery = {r.nack_requests, r.rtx_received, r.rtx_recovered, r.lost_after_recovery, r.rtx_requests_received,
                  r.rtx_sent, r.audio_nack_requests, r.keyframes_requested, f.recovery.keyframes_forced,
                  r.jitter_buffer_ms};
    f.recovery.lost_before_recovery = r.lost_before_recovery;
    f.recovery.rtx_refused = r.rtx_refused;
    f.twcc = {c.twcc_feedback_received, c.twcc_packets_reported, c.twcc_packets_lost, c.twcc_feedback_sent};
    f.rtt_ms = c.rtt_ms;
    f.partner_implementation = current_->partner_implementation();
    auto lg = current_->take_frame_log();
    f.frame_times_us = std::move(lg.video_render_times_us);
    f.latency_ms = std::move(lg.latency_ms);
    f.audio_sum_squares = lg.audio_sum_squares;
    f.audio_samples = lg.audio_samples;
    f.audio_concealed_ms = lg.audio_concealed_ms;
    if (const auto* rc = current_->rate_controller()) {
      const auto st = rc->status();
      f.congestion = stats::CongestionStats{st.target_bps, st.video_bps, st.audio_bps, st.limited_by, st.width,
                                            st.height, st.fps, st.ladder_steps, st.fec_percentage, st.remb_bps};
      if (st.width > 0) {
        f.out_width = st.width;
        f.out_height = st.height;
      }
    }
  }
  return f;
}

std::string CallSession::stats_call_state() { return call_state_name(); }

std::string CallSession::call_state_name() const {
  if (call_) return to_string(call_->state());
  if (phase_ == Phase::Running) return membership_ == Membership::Leaving ? "leaving" : "hung-up";
  return "finished";
}

void CallSession::on_call_finished(ExitCode code, const std::string& reason) {
  code_ = code;
  reason_ = reason;
  progress_timer_.cancel();
  snapshot_timer_.cancel();
  freeze_timer_.cancel();
  phase_ = Phase::StoppingMedia;
  leave_timer_.cancel();
  slate_.reset();
  log_progress();
  // Before the media stops: the last frame and the last per-frame facts.
  if (!options_.snapshot_path.empty()) write_snapshot(options_.snapshot_path);
  if (stats_) stats_->stop();
  if (status_) status_->clear();
  // Runs on the next iteration: the Call (and the peer that may have
  // reported this) are still on the stack.
  post(g_main_context_get_thread_default(), lifetime_, [this] {
    if (call_ && call_->connect_failure()) connect_failure_ = call_->connect_failure();
    // Drop the Call's peer first so its counters and recording are counted.
    call_.reset();
    engine_->stop([this] {
      phase_ = Phase::StoppingSignaling;
      if (!signaling_) {  // out of the room (hangup)
        complete();
        return;
      }
      auto st = signaling_->state();
      if (st == signaling::SignalingClient::State::Failed || st == signaling::SignalingClient::State::Stopped) {
        complete();
        return;
      }
      signaling_stop_timer_.start_once(std::chrono::seconds(5), [this] { complete(); });
      // Already closing (a hangup under way): on_stopped() completes.
      if (st != signaling::SignalingClient::State::Closing) signaling_->stop();
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
  if (!output_failures_.empty()) {
    for (const auto& f : output_failures_) log()->error("output failed: {}", f.error.message);
    if (code_ == ExitCode::Ok && options_.output_errors == OutputErrors::Report) {
      const auto& first = output_failures_.front();
      code_ = first.error.code;
      reason_ = fmt::format("{}; but {} output(s) failed during the call, first: {}", reason_,
                            output_failures_.size(), first.error.message);
    }
  }
  if (done_) done_(code_, reason_);
}

// ---- the display's slate ---------------------------------------------------

std::string CallSession::slate_headline() const {
  if (membership_ == Membership::Leaving) return "Leaving the room";
  if (membership_ == Membership::Out) return "Out of the room";
  if (signaling_lost_) return "The server is unreachable: trying again";
  if (!signaling_ || !signaling_->connected()) return "Connecting to the server";
  if (!call_) return "Joining the room";
  const std::string who = partner_.empty() ? "the partner" : partner_;
  switch (call_->state()) {
    case Call::State::Idle: return "Joining the room";
    case Call::State::Alone: return "Waiting for someone to join";
    case Call::State::Negotiating: return "Connecting to " + who;
    case Call::State::Connected:
      return current_ && !current_->remote_sends_video() ? "Connected: " + who + " sends no video"
                                                         : "Connected to " + who;
    case Call::State::Finished: break;
  }
  return "The call is over";
}

void CallSession::update_slate() {
  // On the next iteration: the Call finishes its move first (a partner that
  // left retires its peer while the Call still says "connected").
  if (slate_update_posted_) return;
  slate_update_posted_ = true;
  post(g_main_context_get_thread_default(), lifetime_, [this] {
    slate_update_posted_ = false;
    apply_slate();
  });
}

void CallSession::apply_slate() {
  const auto& out = options_.media.output;
  if (out.video_sink.empty() || slate_failed_) return;
  if (phase_ != Phase::Running || partner_video_) {
    slate_.reset();
    return;
  }
  if (slate_ && !slate_->ok()) {
    slate_.reset();
    slate_failed_ = true;
    return;
  }
  // What is going on, large; the room below it (ids are long).
  const std::string headline = slate_headline();
  const std::string room = "room " + options_.signaling.room_id;
  if (slate_) {
    slate_->set_text(headline, room);
    return;
  }
  // Full screen: drawn at 720p, scaled to the screen; in a window: a
  // window of 640x360.
  const bool full = out.fullscreen;
  slate_ = media::Slate::create(out.video_sink, full, full ? 1280 : 640, full ? 720 : 360, headline, room);
  if (!slate_) {
    slate_failed_ = true;
    log()->warn("cannot show the slate on '{}' (see above); the screen shows only the partner's video", out.video_sink);
    return;
  }
  if (engine_) engine_->raise_self_view();
}

// ---- control ---------------------------------------------------------------

void CallSession::emit(std::string name, std::vector<std::pair<std::string, SessionEvent::Value>> fields) {
  if (!on_event_) return;
  SessionEvent e{std::move(name), std::move(fields)};
  on_event_(e);
}

void CallSession::set_muted(media::MediaKind kind, bool muted) {
  if (!engine_) return;
  const bool was = engine_->muted(kind);
  engine_->set_muted(kind, muted);
  if (engine_->muted(kind) != was)
    emit("muted", {{"audio", engine_->muted(media::MediaKind::Audio)}, {"video", engine_->muted(media::MediaKind::Video)}});
}

bool CallSession::muted(media::MediaKind kind) const { return engine_ && engine_->muted(kind); }

Status CallSession::set_send(const SendChange& c) {
  if (!engine_ || phase_ != Phase::Running) return Error{ExitCode::Unavailable, "the media engine is not running"};
  const media::MediaOptions& cur = engine_->options();
  std::optional<media::VideoPreset> video;
  if (c.video || c.fps || c.video_kbps) {
    media::VideoPreset p = cur.video;
    // The size's parser checks the frame rate too (the current one is valid).
    auto q = media::parse_video_preset(c.video.value_or("720p"), c.fps.value_or(cur.video.fps));
    if (!q) return q.error();
    if (c.video) {
      p.width = q->width;
      p.height = q->height;
    }
    p.fps = q->fps;
    if (c.video_kbps) {
      if (*c.video_kbps != 0 && (*c.video_kbps < media::kMinVideoBitrateKbps || *c.video_kbps > media::kMaxVideoBitrateKbps))
        return Error{ExitCode::Usage, fmt::format("video bitrate {} kbit/s is out of range (use {}-{}, or 0 for the "
                                                  "size's default)",
                                                  *c.video_kbps, media::kMinVideoBitrateKbps, media::kMaxVideoBitrateKbps)};
      p.bitrate_kbps = *c.video_kbps;
    }
    video = p;
  }
  std::optional<int> audio_kbps;
  if (c.audio) {
    auto a = media::parse_audio_preset(*c.audio);
    if (!a) return a.error();
    audio_kbps = a->bitrate_kbps;
  }
  return engine_->set_presets(video, audio_kbps);
}

Status CallSession::set_source(media::MediaKind kind, const std::string& spec) {
  if (!engine_ || phase_ != Phase::Running) return Error{ExitCode::Unavailable, "the media engine is not running"};
  auto parsed = media::parse_source_spec(spec, kind);
  if (!parsed) return parsed.error();
  return engine_->set_source(kind, *parsed);
}

Status CallSession::hangup(bool rejoin) {
  if (phase_ != Phase::Running) return Error{ExitCode::Unavailable, "the session is ending"};
  if (membership_ == Membership::Leaving) {
    rejoin_after_leave_ = rejoin_after_leave_ || rejoin;
    return Ok{};
  }
  if (membership_ == Membership::Out) {
    if (!rejoin) return Error{ExitCode::Usage, "not in the room (hangup rejoin joins again)"};
    return join_room();
  }
  log()->info("hangup: leaving room {}{}", options_.signaling.room_id, rejoin ? " (rejoining)" : "");
  membership_ = Membership::Leaving;
  rejoin_after_leave_ = rejoin;
  // Never from inside the caller (a socket read, a timer): the Call's
  // teardown reports events.
  post(g_main_context_get_thread_default(), lifetime_, [this] {
    if (membership_ != Membership::Leaving || phase_ != Phase::Running) return;
    // The Call drops its peer: the engine finalizes the partner's recording.
    call_.reset();
    partner_.clear();
    // The close handshake is bounded by the client; this bounds the rest.
    leave_timer_.start_once(std::chrono::seconds(10), [this] { left_room(); });
    signaling_->stop();  // -> on_stopped -> left_room
  });
  return Ok{};
}

void CallSession::left_room() {
  if (membership_ != Membership::Leaving) return;
  leave_timer_.cancel();
  membership_ = Membership::Out;
  log()->info("left room {}", options_.signaling.room_id);
  update_slate();
  // The old client may be the one calling us: drop it on the next iteration.
  post(g_main_context_get_thread_default(), lifetime_, [this] {
    if (membership_ != Membership::Out || phase_ != Phase::Running) return;
    signaling_.reset();
    if (rejoin_after_leave_) {
      rejoin_after_leave_ = false;
      if (auto st = join_room(); !st) {
        emit("error", {{"message", st.error().message}, {"code", std::string(exit_code_name(st.error().code))}});
        finish(st.error().code, st.error().message);
      }
    }
  });
}

Status CallSession::join_room() {
  signaling::SignalingClient::Listener& sl = *this;
  auto client = signaling::SignalingClient::create(options_.signaling, sl);
  if (!client) return client.error();
  signaling_ = std::move(*client);
  CallSignaling& sig = *this;
  PeerFactory& peers = *this;
  CallObserver& observer = *this;
  call_ = std::make_unique<Call>(options_.call, sig, peers, observer);
  membership_ = Membership::In;
  log()->info("joining room {} again", options_.signaling.room_id);
  signaling_lost_ = false;
  call_->start();
  signaling_->start();
  update_slate();
  return Ok{};
}

Status CallSession::send_chat(const std::string& text) {
  if (!signaling_ || !signaling_->connected()) return Error{ExitCode::Unavailable, "not connected to the room"};
  if (!signaling_->send_chat(text)) return Error{ExitCode::Unavailable, "the message was not sent (see the log)"};
  return Ok{};
}

Status CallSession::request_keyframe() {
  if (!current_) return Error{ExitCode::Unavailable, "no partner connection"};
  if (!current_->request_keyframe()) return Error{ExitCode::Unavailable, "no video received from the partner yet"};
  return Ok{};
}

Result<std::string> CallSession::snapshot_now(const std::string& path) {
  const std::string& p = path.empty() ? options_.snapshot_path : path;
  if (p.empty()) return Error{ExitCode::Usage, "no path given and no --snapshot"};
  if (auto st = write_png_now(p); !st) return st.error();
  return p;
}

SessionStatus CallSession::status() const {
  SessionStatus s;
  s.state = call_state_name();
  if (phase_ != Phase::Running && phase_ != Phase::Created) s.state = "stopping";
  s.server = options_.signaling.base_url;
  s.room = options_.signaling.room_id;
  s.partner = partner_;
  if (call_) {
    if (auto id = call_->partner_id(); !id.empty()) s.partner = id;
    s.partner_present = call_->partner_in_room();
  }
  s.signaling_connected = signaling_ && signaling_->connected();
  s.signaling_reconnects = reconnects_;
  s.peer = current_ ? current_->id() : 0;
  if (stats_ && stats_->last() && s.peer && stats_->last()->peer == s.peer) s.ice = stats_->last()->pair;
  s.audio_muted = muted(media::MediaKind::Audio);
  s.video_muted = muted(media::MediaKind::Video);
  // The engine's: `set` changes its presets mid-call.
  const auto& mo = engine_ ? engine_->options() : options_.media;
  s.video_source = media::to_string(mo.video_source);
  s.audio_source = media::to_string(mo.audio_source);
  s.video = mo.video;
  s.video.bitrate_kbps = mo.video.effective_bitrate_kbps();
  s.audio = mo.audio;
  if (current_) {
    if (const auto* rc = current_->rate_controller()) {
      const auto st = rc->status();
      if (st.width > 0) {
        s.video.width = st.width;
        s.video.height = st.height;
        s.video.fps = st.fps;
      }
      s.video_target_bps = st.video_bps;
    }
    s.recording = current_->recording_path();
  }
  auto t = totals();
  s.recordings = t.recordings;
  s.partners_connected = t.partners_connected;
  s.snapshot_path = options_.snapshot_path;
  s.snapshots = snapshots_;
  s.stats_log = options_.stats.log_path;
  return s;
}

}  // namespace callagent::call
