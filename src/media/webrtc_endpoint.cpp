#include "media/webrtc_endpoint.h"

#include "common/logging.h"
#include "gst/gst_util.h"
#include "media/local_source.h"
#include "media/receive_chain.h"
#include "media/retransmission.h"

#include <callagent_config.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <cctype>

namespace callagent {
CALLAGENT_DEFINE_GDELETER(GstWebRTCSessionDescription, gst_webrtc_session_description_free);
}  // namespace callagent

namespace callagent::media {

namespace {
auto log() { return logging::get("webrtc"); }

using Negotiation = WebrtcEndpoint::Negotiation;

const char* negotiation_name(Negotiation n) {
  switch (n) {
    case Negotiation::Idle: return "idle";
    case Negotiation::CreatingOffer: return "creating-offer";
    case Negotiation::WaitingAnswer: return "waiting-answer";
    case Negotiation::ApplyingAnswer: return "applying-answer";
    case Negotiation::ApplyingOffer: return "applying-offer";
    case Negotiation::CreatingAnswer: return "creating-answer";
    case Negotiation::Stable: return "stable";
    case Negotiation::Failed: return "failed";
    case Negotiation::Closed: return "closed";
  }
  return "?";
}

bool finished(Negotiation n) { return n == Negotiation::Closed || n == Negotiation::Failed; }

}  // namespace

std::string_view to_string(ConnectionState s) {
  switch (s) {
    case ConnectionState::New: return "new";
    case ConnectionState::Connecting: return "connecting";
    case ConnectionState::Connected: return "connected";
    case ConnectionState::Disconnected: return "disconnected";
    case ConnectionState::Failed: return "failed";
    case ConnectionState::Closed: return "closed";
  }
  return "?";
}

Result<std::unique_ptr<WebrtcEndpoint>> WebrtcEndpoint::create(const Config& config, Events& events) {
  std::unique_ptr<WebrtcEndpoint> e(new WebrtcEndpoint(config, events));
  if (auto st = e->build(); !st) return st.error();
  return e;
}

WebrtcEndpoint::WebrtcEndpoint(const Config& config, Events& events)
    : config_(config), events_(events), ctx_(thread_default_context()) {}

WebrtcEndpoint::~WebrtcEndpoint() { disconnect_signals(); }

Status WebrtcEndpoint::build() {
  const auto& o = *config_.options;
  const int id = config_.id;
  GstElement* webrtc = make_element("webrtcbin", "webrtc");
  if (!webrtc) return Error{ExitCode::Config, "cannot create webrtcbin"};
  webrtc_ = GRef<GstElement>::ref_sink(webrtc);
  gst_bin_add(config_.bin, webrtc);
  gst_util_set_object_arg(G_OBJECT(webrtc), "bundle-policy", "max-bundle");
  g_object_set(webrtc, "latency", o.latency_ms, nullptr);
  if (!o.ice.stun_url.empty()) g_object_set(webrtc, "stun-server", o.ice.stun_url.c_str(), nullptr);
  g_object_set(webrtc, "ice-transport-policy",
               o.ice.transport_policy == IceOptions::TransportPolicy::Relay ? GST_WEBRTC_ICE_TRANSPORT_POLICY_RELAY
                                                                            : GST_WEBRTC_ICE_TRANSPORT_POLICY_ALL,
               nullptr);
  // One TURN server goes into the `turn-server` property: only for that
  // one does 1.22 report the relay's transport (relay-protocol) in get-stats.
  if (o.ice.turn_urls.size() == 1) {
    g_object_set(webrtc, "turn-server", o.ice.turn_urls[0].c_str(), nullptr);
    g_autofree gchar* taken = nullptr;
    g_object_get(webrtc, "turn-server", &taken, nullptr);
    if (!taken) log()->warn("peer{}: webrtcbin rejected the TURN server URL", id);
  }
  for (size_t i = 0; o.ice.turn_urls.size() > 1 && i < o.ice.turn_urls.size(); ++i) {
    gboolean ok = FALSE;
    g_signal_emit_by_name(webrtc, "add-turn-server", o.ice.turn_urls[i].c_str(), &ok);
    if (!ok) log()->warn("peer{}: webrtcbin rejected a TURN server URL", id);
  }
  GstWebRTCICE* ice_agent = nullptr;
  g_object_get(webrtc, "ice-agent", &ice_agent, nullptr);  // transfer full
  if (auto ice = GRef<GstWebRTCICE>::adopt(ice_agent)) {
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice.get()), "ice-tcp"))
      g_object_set(ice.get(), "ice-tcp", o.ice.tcp ? TRUE : FALSE, "ice-udp", o.ice.udp ? TRUE : FALSE,
                   nullptr);
    for (const auto& addr : o.ice.local_addresses) {
      gboolean ok = FALSE;
      g_signal_emit_by_name(ice.get(), "add-local-ip-address", addr.c_str(), &ok);
      if (!ok) log()->warn("peer{}: libnice refused local address {}", id, addr);
    }
  }
  // Lip sync: rtpbin moves a stream's timestamps by the offset that the
  // partner's sender reports imply, and by default in one step. A step
  // back (seen: 20-200 ms when the first sender report arrives) makes
  // timestamps go backwards: overlapping audio in a recording, frames
  // dropped as late on a display. At most 1 ms per buffer instead: the
  // timestamps of 20 ms Opus packets and 33 ms frames keep increasing,
  // and a 200 ms correction is done within ~7 s.
  if (auto rtpbin = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(webrtc), "rtpbin")))
    g_object_set(rtpbin.get(), "max-ts-offset-adjustment", static_cast<guint64>(GST_MSECOND), nullptr);
  remote_candidates_ = std::make_unique<RemoteCandidates>(id, webrtc);
  retransmission_ = std::make_unique<Retransmission>(id, webrtc, o);
  signals_.emplace_back(webrtc, "pad-added", G_CALLBACK(&WebrtcEndpoint::on_pad_added), this);
  signals_.emplace_back(webrtc, "on-ice-candidate", G_CALLBACK(&WebrtcEndpoint::on_ice_candidate), this);
  signals_.emplace_back(webrtc, "notify::connection-state",
                        G_CALLBACK(&WebrtcEndpoint::on_connection_state_notify), this);
  signals_.emplace_back(webrtc, "notify::ice-connection-state",
                        G_CALLBACK(&WebrtcEndpoint::on_ice_state_notify), this);
  return Ok{};
}

void WebrtcEndpoint::disconnect_signals() {
  signals_.clear();
  if (retransmission_) retransmission_->disconnect();
}

// ---- negotiation ------------------------------------------------------------

void WebrtcEndpoint::set_resend_rate(int64_t bps) {
  if (retransmission_) retransmission_->set_resend_rate(bps);
}

void WebrtcEndpoint::set_negotiation(Negotiation to) {
  using N = Negotiation;
  const N from = negotiation_;
  bool legal = false;
  switch (to) {
    case N::CreatingOffer: legal = from == N::Idle; break;
    case N::WaitingAnswer: legal = from == N::CreatingOffer; break;
    case N::ApplyingAnswer: legal = from == N::WaitingAnswer; break;
    case N::ApplyingOffer: legal = from == N::Idle; break;
    case N::CreatingAnswer: legal = from == N::ApplyingOffer; break;
    case N::Stable: legal = from == N::ApplyingAnswer || from == N::CreatingAnswer; break;
    case N::Failed: legal = from != N::Closed; break;
    case N::Closed: legal = true; break;
    case N::Idle: legal = false; break;
  }
  if (!legal) {
    log()->error("peer{}: illegal negotiation move {} -> {}", config_.id, negotiation_name(from),
                 negotiation_name(to));
    return;
  }
  log()->debug("peer{}: negotiation {} -> {}", config_.id, negotiation_name(from), negotiation_name(to));
  negotiation_ = to;
}

void WebrtcEndpoint::fail(const std::string& what, ExitCode code) {
  log()->error("peer{}: {}", config_.id, what);
  if (finished(negotiation_)) return;
  set_negotiation(Negotiation::Failed);
  events_.on_failed(Error{code, what});
}

void WebrtcEndpoint::request_promise(const char* signal, GstWebRTCSessionDescription* desc,
                                     std::function<void(GstPromise*)> on_reply) {
  GUnique<GstPromise> p(promise_on_context(ctx_, lifetime_, std::move(on_reply)));
  if (desc)
    g_signal_emit_by_name(webrtc_.get(), signal, desc, p.get());
  else
    g_signal_emit_by_name(webrtc_.get(), signal, nullptr, p.get());
}

bool WebrtcEndpoint::add_sender(LocalSource* src, int pt, std::optional<int> mline) {
  auto branch = SendBranch::create(config_.id, config_.bin, webrtc_.get(), src, pt, mline, twcc_id_);
  if (!branch) return false;
  senders_.push_back(std::move(branch));
  return true;
}

void WebrtcEndpoint::add_recv_transceiver(MediaKind kind, std::optional<int> pt) {
  const CodecInfo& codec = kind == MediaKind::Video ? codec_info(Codec::VP8) : opus_codec();
  GUnique<GstCaps> caps(gst_caps_from_string(rtp_caps(codec, pt.value_or(codec.default_payload_type)).c_str()));
  if (twcc_id_ > 0) add_twcc_extmap(caps.get(), twcc_id_);
  GstWebRTCRTPTransceiver* trans = nullptr;
  g_signal_emit_by_name(webrtc_.get(), "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY,
                        caps.get(), &trans);
  Retransmission::enable_nack(trans, kind);
  GRef<GstWebRTCRTPTransceiver>::adopt(trans).reset();
}

void WebrtcEndpoint::create_offer() {
  if (negotiation_ != Negotiation::Idle) {
    log()->error("peer{}: create_offer in state {}", config_.id, negotiation_name(negotiation_));
    return;
  }
  set_negotiation(Negotiation::CreatingOffer);
  for (LocalSource* src : {config_.video, config_.audio}) {
    if (!src) continue;
    const CodecInfo* codec = find_codec(src->encoding_name());
    if (!add_sender(src, codec ? codec->default_payload_type : 96, std::nullopt))
      return fail(fmt::format("cannot set up sending {}", to_string(src->kind())));
  }
  // Receive what we do not send, too.
  if (!config_.video) add_recv_transceiver(MediaKind::Video);
  if (!config_.audio) add_recv_transceiver(MediaKind::Audio);
  log()->info("peer{}: creating offer", config_.id);
  request_promise("create-offer", nullptr, [this](GstPromise* p) { on_description_created(p, "offer"); });
}

void WebrtcEndpoint::on_description_created(GstPromise* p, const char* type) {
  const bool offer = std::string_view(type) == "offer";
  if (negotiation_ != (offer ? Negotiation::CreatingOffer : Negotiation::CreatingAnswer)) return;
  std::string err;
  const GstStructure* reply = nullptr;
  promise_ok(p, &reply, err);
  GstWebRTCSessionDescription* d = nullptr;
  if (reply) gst_structure_get(reply, type, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &d, nullptr);
  GUnique<GstWebRTCSessionDescription> desc(d);
  if (!desc)
    return fail(fmt::format("webrtcbin could not create an {}: {}", type,
                            err.empty() ? fmt::format("no {}", type) : err));
  // Our name on the session line (s=, free text, which browsers ignore):
  // how a partner's report names what it talks to
  // (signaling::implementation_of).
  gst_sdp_message_set_session_name(desc->sdp, "callagent " CALLAGENT_VERSION);
  GCharPtr text(gst_sdp_message_as_text(desc->sdp));
  std::string sdp = text.get();
  local_mids_.clear();
  if (auto info = signaling::parse_sdp(sdp))
    for (const auto& m : info->media) local_mids_.push_back(m.mid);
  request_promise("set-local-description", desc.get(),
                  [this, t = std::string(type), sdp](GstPromise* pr) { on_local_set(pr, t, sdp); });
}

void WebrtcEndpoint::on_local_set(GstPromise* p, std::string type, std::string sdp) {
  if (finished(negotiation_)) return;
  std::string err;
  const GstStructure* reply = nullptr;
  if (!promise_ok(p, &reply, err)) return fail(fmt::format("set-local-description({}) failed: {}", type, err));
  if (negotiation_ == Negotiation::CreatingOffer)
    set_negotiation(Negotiation::WaitingAnswer);
  else if (negotiation_ == Negotiation::CreatingAnswer)
    set_negotiation(Negotiation::Stable);
  log()->info("peer{}: local {} set", config_.id, type);
  local_sent_ = true;
  events_.on_local_description(signaling::SessionDescription{type, sdp});
  auto pending = std::exchange(pending_local_, {});
  for (auto& [mline, cand] : pending) emit_local_candidate(mline, std::move(cand));
}

void WebrtcEndpoint::set_remote_description(const signaling::SessionDescription& d) {
  const bool offer = d.type == "offer";
  if (!offer && d.type != "answer")
    return fail(fmt::format("unsupported remote description type '{}'", d.type));
  auto info = signaling::parse_sdp(d.sdp);
  if (!info || info->media.empty()) return fail(fmt::format("unparsable remote {} SDP", d.type));
  if (offer && negotiation_ != Negotiation::Idle) {
    // webrtcbin cannot restart ICE/DTLS in place: the call layer makes a
    // new peer for a partner that re-offers.
    return fail(fmt::format("remote offer in state {}; a re-offer needs a new PeerConnection",
                            negotiation_name(negotiation_)));
  }
  if (!offer && negotiation_ != Negotiation::WaitingAnswer) {
    log()->warn("peer{}: ignoring an answer in state {}", config_.id, negotiation_name(negotiation_));
    return;
  }
  if (!offer && config_.video) {
    // The partner may accept the call but not our video codec: its answer
    // rejects the video m-line (Firefox's then has no ICE credentials,
    // which webrtcbin refuses with a message about ice-ufrag) or names
    // another codec. Said at once, and not retried: another offer would
    // get the same answer.
    for (const auto& m : info->media) {
      if (m.kind != "video") continue;
      if (m.rejected || !m.payload_type(config_.video->encoding_name()))
        return fail(codec_mismatch(m, config_.video->encoding_name(), "answer"), ExitCode::Config);
      break;
    }
  }
  set_negotiation(offer ? Negotiation::ApplyingOffer : Negotiation::ApplyingAnswer);
  remote_ = std::move(*info);
  if (const auto impl = signaling::implementation_of(*remote_); !impl.empty())
    log()->info("peer{}: the partner is {}", config_.id, impl);
  retransmission_->set_remote(*remote_);
  if (offer) twcc_id_ = twcc_id(*remote_).value_or(0);
  events_.on_remote_description(*remote_);

  GstSDPMessage* msg = nullptr;
  if (gst_sdp_message_new_from_text(d.sdp.c_str(), &msg) != GST_SDP_OK || !msg)
    return fail("unparsable remote SDP");
  // The description takes the message.
  GUnique<GstWebRTCSessionDescription> desc(gst_webrtc_session_description_new(
      offer ? GST_WEBRTC_SDP_TYPE_OFFER : GST_WEBRTC_SDP_TYPE_ANSWER, msg));
  log()->info("peer{}: applying remote {}", config_.id, d.type);
  log()->trace("peer{}: remote SDP:\n{}", config_.id, d.sdp);
  request_promise("set-remote-description", desc.get(),
                  [this, offer](GstPromise* p) { on_remote_set(p, offer); });
}

void WebrtcEndpoint::on_remote_set(GstPromise* p, bool offer) {
  if (finished(negotiation_)) return;
  std::string err;
  const GstStructure* reply = nullptr;
  if (!promise_ok(p, &reply, err))
    return fail(fmt::format("set-remote-description({}) failed: {}", offer ? "offer" : "answer", err));
  if (!offer) {
    set_negotiation(Negotiation::Stable);
    return;
  }
  answer_offer();
}

std::string WebrtcEndpoint::codec_mismatch(const signaling::SdpMediaSection& m, const std::string& ours,
                                           const char* what) {
  // What the partner has, without the repair formats.
  std::vector<std::string> theirs;
  for (const auto& c : m.codecs) {
    if (c.encoding.empty() || c.encoding == "RTX" || c.encoding == "RED" || c.encoding == "ULPFEC" ||
        c.encoding == "FLEXFEC-03")
      continue;
    if (std::find(theirs.begin(), theirs.end(), c.encoding) == theirs.end()) theirs.push_back(c.encoding);
  }
  std::string suggest;
  for (const char* c : {"VP8", "VP9", "H264"})
    if (c != ours && m.payload_type(c)) {
      suggest = c;
      break;
    }
  std::string lower = suggest;
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return fmt::format("the partner cannot receive {} video: its {} {} ({}); start the agent with {} (or "
                     "--video-source none to send no video)",
                     ours, what, m.rejected ? "rejects the video" : "has no " + ours,
                     theirs.empty() ? std::string("no video codec") : fmt::format("it has {}", fmt::join(theirs, ", ")),
                     suggest.empty() ? std::string("another --video-codec") : "--video-codec " + lower);
}

// Answers with the offer's m-lines and payload types.
void WebrtcEndpoint::answer_offer() {
  for (const auto& m : remote_->media) {
    if (m.rejected || (m.kind != "video" && m.kind != "audio")) continue;
    LocalSource* src = m.kind == "video" ? config_.video : config_.audio;
    GstWebRTCRTPTransceiver* t = nullptr;
    g_signal_emit_by_name(webrtc_.get(), "get-transceiver", m.index, &t);
    auto trans = GRef<GstWebRTCRTPTransceiver>::adopt(t);
    Retransmission::enable_nack(trans.get(), m.kind == "video" ? MediaKind::Video : MediaKind::Audio);
    log()->debug("peer{}: remote m-line {} {} mid '{}' sends={} receives={} codecs={}", config_.id,
                 m.index, m.kind, m.mid, m.remote_sends, m.remote_receives, m.codecs.size());
    if (!src || !m.remote_receives) {
      if (trans) g_object_set(trans.get(), "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, nullptr);
      // Only our own caps put the transport-cc extmap into the answer.
      else if (auto rpt = m.payload_type(m.kind == "video" ? "VP8" : "OPUS"); twcc_id_ > 0 && m.remote_sends && rpt)
        add_recv_transceiver(m.kind == "video" ? MediaKind::Video : MediaKind::Audio, rpt);
      continue;
    }
    auto pt = m.payload_type(src->encoding_name());
    if (!pt) return fail(codec_mismatch(m, src->encoding_name(), "offer"), ExitCode::Config);
    if (!add_sender(src, *pt, m.index)) return fail(fmt::format("cannot set up sending {}", m.kind));
  }
  set_negotiation(Negotiation::CreatingAnswer);
  request_promise("create-answer", nullptr, [this](GstPromise* pr) { on_description_created(pr, "answer"); });
}

void WebrtcEndpoint::on_element_error(const std::string& what) {
  fail(what);
  if (state_ != ConnectionState::Failed) {
    state_ = ConnectionState::Failed;
    events_.on_connection_state(state_);
  }
}

void WebrtcEndpoint::close() {
  if (negotiation_ != Negotiation::Closed) set_negotiation(Negotiation::Closed);
  for (auto& s : senders_) s->disconnect();
  remote_candidates_->close();
  pending_local_.clear();
}

uint32_t WebrtcEndpoint::out_ssrc(MediaKind kind) const {
  for (const auto& s : senders_)
    if (s->kind() == kind) return s->ssrc();
  return 0;
}

uint64_t WebrtcEndpoint::video_frames_sent() const {
  uint64_t n = 0;
  for (const auto& s : senders_)
    if (s->kind() == MediaKind::Video) n += s->frames_sent();
  return n;
}

// ---- candidates -------------------------------------------------------------

void WebrtcEndpoint::add_remote_candidate(const signaling::IceCandidate& c) {
  if (finished(negotiation_)) return;
  remote_candidates_->add(c, remote_ ? &*remote_ : nullptr);
}

void WebrtcEndpoint::on_ice_candidate(GstElement*, guint mline, gchar* candidate, gpointer data) {
  auto* self = static_cast<WebrtcEndpoint*>(data);
  post(self->ctx_, self->lifetime_,
       [self, m = static_cast<int>(mline), cand = std::string(candidate ? candidate : "")]() mutable {
         self->on_local_candidate(m, std::move(cand));
       });
}

void WebrtcEndpoint::on_local_candidate(int mline, std::string cand) {
  if (negotiation_ == Negotiation::Closed) return;
  if (!local_sent_) {
    pending_local_.emplace_back(mline, std::move(cand));
    return;
  }
  emit_local_candidate(mline, std::move(cand));
}

void WebrtcEndpoint::emit_local_candidate(int mline, std::string cand) {
  if (cand.empty() || negotiation_ == Negotiation::Closed) return;
  signaling::IceCandidate c;
  c.candidate = std::move(cand);
  c.sdp_mline_index = mline;
  if (mline >= 0 && static_cast<size_t>(mline) < local_mids_.size() && !local_mids_[mline].empty())
    c.sdp_mid = local_mids_[mline];
  log()->debug("peer{}: local candidate {}", config_.id, c.candidate);
  events_.on_local_candidate(c);
}

// ---- connection state -------------------------------------------------------

void WebrtcEndpoint::on_pad_added(GstElement*, GstPad* pad, gpointer data) {
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
  static_cast<WebrtcEndpoint*>(data)->events_.on_remote_pad(pad);
}

void WebrtcEndpoint::on_connection_state_notify(GObject* obj, GParamSpec*, gpointer data) {
  auto* self = static_cast<WebrtcEndpoint*>(data);
  GstWebRTCPeerConnectionState st;
  g_object_get(obj, "connection-state", &st, nullptr);
  post(self->ctx_, self->lifetime_, [self, s = static_cast<int>(st)] { self->on_connection_state_changed(s); });
}

void WebrtcEndpoint::on_ice_state_notify(GObject* obj, GParamSpec*, gpointer data) {
  auto* self = static_cast<WebrtcEndpoint*>(data);
  GstWebRTCICEConnectionState st;
  g_object_get(obj, "ice-connection-state", &st, nullptr);
  post(self->ctx_, self->lifetime_, [self, s = static_cast<int>(st)] { self->on_ice_state_changed(s); });
}

void WebrtcEndpoint::on_ice_state_changed(int s) {
  static const char* names[] = {"new", "checking", "connected", "completed", "failed", "disconnected", "closed"};
  log()->debug("peer{}: ICE {}", config_.id, s >= 0 && s < 7 ? names[s] : "?");
  if (s == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED)
    on_connection_state_changed(GST_WEBRTC_PEER_CONNECTION_STATE_FAILED);
  if (s == GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED || s == GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED)
    events_.on_ice_connected();
}

void WebrtcEndpoint::on_connection_state_changed(int s) {
  ConnectionState next = state_;
  switch (s) {
    case GST_WEBRTC_PEER_CONNECTION_STATE_NEW: next = ConnectionState::New; break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTING: next = ConnectionState::Connecting; break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED: next = ConnectionState::Connected; break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_DISCONNECTED: next = ConnectionState::Disconnected; break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_FAILED: next = ConnectionState::Failed; break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED: next = ConnectionState::Closed; break;
  }
  if (next == state_ || state_ == ConnectionState::Failed || state_ == ConnectionState::Closed) return;
  log()->info("peer{}: {} -> {}", config_.id, to_string(state_), to_string(next));
  state_ = next;
  if (next == ConnectionState::Connected && negotiation_ != Negotiation::Closed) {
    // Media starts flowing only now: before, webrtcbin would block it and a
    // burst of stale frames would follow the connection. A new receiver
    // needs a keyframe now, not at the next scheduled one.
    for (auto& sender : senders_) sender->connect();
    if (config_.video) config_.video->request_keyframe();
  }
  events_.on_connection_state(next);
}

}  // namespace callagent::media
