#include "media/peer_connection.h"

#include "common/logging.h"
#include "media/ice_release.h"
#include "media/local_source.h"
#include "media/peer_outputs.h"
#include "media/rate_controller.h"
#include "media/receive_chain.h"
#include "media/retransmission.h"

#include <fmt/format.h>

#include <cctype>

namespace callagent::media {

namespace {
auto log() { return logging::get("webrtc"); }
}  // namespace

// Marks the span of a public method: listener calls made meanwhile are posted.
struct PeerConnection::InCall {
  explicit InCall(PeerConnection& pc) : pc_(pc) { ++pc_.in_call_; }
  ~InCall() { --pc_.in_call_; }
  PeerConnection& pc_;
};

PeerConnection::PeerConnection(Config config, Listener* listener)
    : config_(std::move(config)), listener_(listener), id_(config_.id), ctx_(thread_default_context()) {}

PeerConnection::~PeerConnection() {
  if (rate_) rate_->stop();
  if (endpoint_) {
    endpoint_->disconnect_signals();
    endpoint_->close();  // gives the engine's tee pads back
  }
  if (outputs_) outputs_->detach_playback();
  if (bin_) {
    if (outputs_) outputs_->log_display_counts();
    // Joins the streaming threads (and with them any pad-added handler).
    gst_element_set_state(bin_.get(), GST_STATE_NULL);
    if (outputs_) outputs_->release();
    if (GST_OBJECT_PARENT(bin_.get())) gst_bin_remove(config_.pipeline, bin_.get());
  }
}

Status PeerConnection::build() {
  bin_ = GRef<GstElement>::ref_sink(gst_bin_new(fmt::format("peer{}", id_).c_str()));
  GstBin* bin = GST_BIN(bin_.get());
  probes_ = std::make_unique<ReceiveProbes>(id_, *config_.options, [this](MediaKind kind) {
    // Streaming thread: the one post of this event.
    post(ctx_, lifetime_, [this, kind] {
      log()->info("peer{}: first remote {} decoded", id_, to_string(kind));
      notify([kind](Listener& l) { l.on_remote_media(kind); });
    });
  });
  PeerOutputs::Config oc;
  oc.id = id_;
  oc.bin = bin;
  oc.options = config_.options;
  oc.playback = config_.playback;
  oc.record_path = config_.record_path;
  oc.on_failure = config_.on_output_failure;
  // The partner answers or offers what we send.
  oc.video_encoding = config_.video ? config_.video->encoding_name() : "VP8";
  outputs_ = std::make_unique<PeerOutputs>(std::move(oc));

  WebrtcEndpoint::Config ec;
  ec.id = id_;
  ec.bin = bin;
  ec.video = config_.video;
  ec.audio = config_.audio;
  ec.options = config_.options;
  auto endpoint = WebrtcEndpoint::create(ec, *this);
  if (!endpoint) return endpoint.error();
  endpoint_ = std::move(*endpoint);
  probes_->follow_playout_latency(endpoint_->retransmission().playout_latency());
  if (config_.options->congestion_control && (config_.video || config_.audio)) {
    RateController::Config rc{id_, endpoint_->webrtcbin(), config_.video, config_.audio, config_.options,
                              [this](MediaKind k) { return endpoint_->out_ssrc(k); },
                              [this](int64_t bps) { endpoint_->set_resend_rate(bps); }};
    rate_ = std::make_unique<RateController>(std::move(rc));
  }
  // TWCC feedback from the partner: per-packet arrival times for the
  // delay-based estimate (only counted with --congestion-control off).
  transport_feedback_ = TransportFeedback::attach(
      id_, endpoint_->webrtcbin(),
      rate_ ? TransportFeedback::Callback([this](int64_t now_us, std::vector<congestion::PacketResult> packets) {
        if (rate_) rate_->on_transport_feedback(now_us, packets);
      })
            : TransportFeedback::Callback());

  gst_bin_add(config_.pipeline, bin_.get());
  if (!gst_element_sync_state_with_parent(bin_.get())) return Error{ExitCode::Software, "cannot start webrtcbin"};
  log()->debug("peer{}: webrtcbin ready", id_);
  return Ok{};
}

void PeerConnection::on_presets_changed() {
  if (rate_)
    rate_->on_presets_changed();
  else if (endpoint_)
    endpoint_->set_resend_rate(int64_t{config_.options->video.effective_bitrate_kbps()} * 1000);
}

void PeerConnection::notify(std::function<void(Listener&)> fn) {
  if (in_call_ > 0) {
    post(ctx_, lifetime_, [this, fn = std::move(fn)] {
      if (listener_) fn(*listener_);
    });
    return;
  }
  if (listener_) fn(*listener_);
}

// ---- the caller's side ------------------------------------------------------

void PeerConnection::create_offer() {
  InCall in(*this);
  endpoint_->create_offer();
}

void PeerConnection::set_remote_description(const signaling::SessionDescription& d) {
  InCall in(*this);
  endpoint_->set_remote_description(d);
}

void PeerConnection::add_remote_candidate(const signaling::IceCandidate& c) {
  InCall in(*this);
  endpoint_->add_remote_candidate(c);
}

PeerConnection::Counters PeerConnection::counters() const {
  const auto in = probes_->counters();
  Counters c;
  c.video_frames = in.video_frames;
  c.audio_buffers = in.audio_buffers;
  c.video_width = in.video_width;
  c.video_height = in.video_height;
  c.video_frames_received = in.video_frames_received;
  c.video_in_ssrc = in.video_in_ssrc;
  c.audio_in_ssrc = in.audio_in_ssrc;
  c.video_frames_sent = endpoint_->video_frames_sent();
  c.video_out_ssrc = endpoint_->out_ssrc(MediaKind::Video);
  c.audio_out_ssrc = endpoint_->out_ssrc(MediaKind::Audio);
  c.rtmp_restarts = outputs_->rtmp_restarts();
  const auto fb = endpoint_->retransmission().counters();
  c.recovery = {fb.nack_requests, fb.rtx_received, fb.rtx_recovered, fb.lost_after_recovery,
                fb.rtx_requests_received, fb.rtx_sent, fb.audio_nack_requests, in.keyframe_requests,
                fb.latency_ms};
  c.recovery.lost_before_recovery = fb.lost_before_recovery;
  c.recovery.rtx_refused = fb.rtx_refused;
  c.rtt_ms = fb.rtt_ms;
  if (const auto* tf = transport_feedback_.get()) {
    c.twcc_feedback_received = tf->feedback_messages();
    c.twcc_packets_reported = tf->packets_reported();
    c.twcc_packets_lost = tf->packets_lost();
    c.twcc_feedback_sent = tf->feedback_sent();
  }
  return c;
}

std::string PeerConnection::recording_path() const { return outputs_->recording_path(); }

// ---- the endpoint's events ----------------------------------------------------

void PeerConnection::on_remote_description(const signaling::Sdp& remote) {
  const signaling::SdpMediaSection* v = remote.find_kind("video");
  remote_sends_video_ = v && v->remote_sends;
  partner_implementation_ = signaling::implementation_of(remote);
  if (auto err = outputs_->prepare(remote)) notify([e = *err](Listener& l) { l.on_error(e); });
}

void PeerConnection::on_local_description(const signaling::SessionDescription& d) {
  notify([d](Listener& l) { l.on_local_description(d); });
}

void PeerConnection::on_local_candidate(const signaling::IceCandidate& c) {
  notify([c](Listener& l) { l.on_local_candidate(c); });
}

void PeerConnection::on_connection_state(ConnectionState s) {
  if (s == ConnectionState::Connected && listener_) outputs_->on_connected();
  notify([s](Listener& l) { l.on_connection_state(s); });
}

void PeerConnection::on_ice_connected() {
  notify([](Listener& l) { l.on_ice_connected(); });
}

void PeerConnection::on_failed(const Error& e) {
  notify([e](Listener& l) { l.on_error(e); });
}

void PeerConnection::on_remote_pad(GstPad* pad) {
  GUnique<GstCaps> caps(gst_pad_get_current_caps(pad));
  if (!caps) caps.reset(gst_pad_query_caps(pad, nullptr));
  const GstStructure* s = gst_caps_get_structure(caps.get(), 0);
  const char* media = gst_structure_get_string(s, "media");
  const char* enc = gst_structure_get_string(s, "encoding-name");
  std::string m = media ? media : "", e = enc ? enc : "";
  for (auto& ch : e) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
  log()->info("peer{}: receiving {} {}", id_, m, e);
  const CodecInfo* codec = find_codec(e);
  if (codec && to_string(codec->kind) != m) codec = nullptr;
  guint ssrc = 0;
  if (gst_structure_get_uint(s, "ssrc", &ssrc))
    probes_->set_ssrc(m == "video" ? MediaKind::Video : MediaKind::Audio, ssrc);
  GstBin* bin = GST_BIN(bin_.get());
  std::unique_ptr<ReceiveChain> chain = codec ? ReceiveChain::build(bin, *codec) : nullptr;
  bool ok = chain != nullptr;
  if (ok) {
    probes_->attach(*chain);
    ok = outputs_->attach(*chain) && chain->start(pad);
    if (ok) outputs_->started(*chain);
  }
  if (!ok) {
    log()->warn("peer{}: discarding remote {} {}", id_, m, e);
    if (!chain || !GST_PAD_IS_LINKED(pad)) ReceiveChain::discard(bin, pad);
  }
  if (chain) (codec->kind == MediaKind::Video ? video_chain_ : audio_chain_) = std::move(chain);
}

// ---- engine hooks -----------------------------------------------------------

bool PeerConnection::owns(GstObject* o) const {
  return o && bin_ && (o == GST_OBJECT(bin_.get()) || gst_object_has_as_ancestor(o, GST_OBJECT(bin_.get())));
}

void PeerConnection::on_pipeline_error(GstMessage* msg) {
  if (outputs_->handle_error(msg)) return;
  GError* e = nullptr;
  gst_message_parse_error(msg, &e, nullptr);
  GErrorPtr err(e);
  endpoint_->on_element_error(
      fmt::format("{} failed: {}", object_path(GST_MESSAGE_SRC(msg)), err ? err->message : "?"));
}

void PeerConnection::close(std::function<void()> done) {
  if (rate_) rate_->stop();
  endpoint_->close();
  listener_ = nullptr;
  // TURN allocations are released while the outputs finish (ice_release.h).
  outputs_->finish(release_turn_allocations(id_, endpoint_->webrtcbin(), std::move(done)));
}

}  // namespace callagent::media
