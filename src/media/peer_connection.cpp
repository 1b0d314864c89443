#include "media/peer_connection.h"

#include "common/logging.h"
#include "media/audio_playback.h"
#include "media/frame_stamp.h"
#include "media/local_source.h"
#include "media/recorder.h"
#include "media/rtmp_output.h"


#include <fmt/format.h>
#include <gio/gio.h>

#include <gst/audio/audio.h>
#include <gst/video/video.h>

namespace callagent::media {

namespace {
auto log() { return logging::get("webrtc"); }

const char* negotiation_name(PeerConnection::Negotiation n) {
  using N = PeerConnection::Negotiation;
  switch (n) {
    case N::Idle: return "idle";
    case N::CreatingOffer: return "creating-offer";
    case N::WaitingAnswer: return "waiting-answer";
    case N::ApplyingAnswer: return "applying-answer";
    case N::ApplyingOffer: return "applying-offer";
    case N::CreatingAnswer: return "creating-answer";
    case N::Stable: return "stable";
    case N::Failed: return "failed";
    case N::Closed: return "closed";
  }
  return "?";
}

int default_payload_type(const std::string& encoding) {
  if (encoding == "OPUS") return 111;
  if (encoding == "VP9") return 98;
  if (encoding == "H264") return 102;
  return 96;  // VP8
}

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

PeerConnection::PeerConnection(Config config, Listener* listener)
    : config_(std::move(config)), listener_(listener), id_(config_.id) {
  ctx_ = thread_default_context();
}

PeerConnection::~PeerConnection() {
  signals_.clear();
  missing_media_timer_.cancel();
  detach_playback();
  for (auto& s : senders_) {
    if (s.tee_pad) {
      if (s.ghost) gst_pad_unlink(s.tee_pad, s.ghost);
      gst_element_release_request_pad(s.source->tee(), s.tee_pad);
      gst_object_unref(s.tee_pad);
    }
  }
  if (bin_) {
    if (display_) display_->log_counts(fmt::format("peer{}: ", id_));
    // Joins the streaming threads (and with them any pad-added handler).
    gst_element_set_state(bin_, GST_STATE_NULL);
    {
      std::lock_guard lock(mutex_);
      rtmp_.reset();
      recorder_.reset();
    }
    if (GST_OBJECT_PARENT(bin_))
      gst_bin_remove(config_.pipeline, bin_);
    else
      gst_object_unref(bin_);
  }
}

Status PeerConnection::build() {
  const auto& o = *config_.options;
  if (!o.output.video_sink.empty()) {
    // Made here, on the main thread, not in pad-added: see VideoDisplay::create.
    display_ = VideoDisplay::create(o.output.video_sink, o.output.fullscreen);
    if (!display_)
      log()->error("peer{}: cannot show the remote video on '{}'; decoding it without a display", id_,
                   o.output.video_sink);
  }
  bin_ = gst_bin_new(fmt::format("peer{}", id_).c_str());
  webrtc_ = make_element("webrtcbin", "webrtc");
  if (!webrtc_) return Error{ExitCode::Config, "cannot create webrtcbin"};
  gst_bin_add(GST_BIN(bin_), webrtc_);
  gst_util_set_object_arg(G_OBJECT(webrtc_), "bundle-policy", "max-bundle");
  g_object_set(webrtc_, "latency", o.latency_ms, nullptr);
  if (!o.ice.stun_url.empty()) g_object_set(webrtc_, "stun-server", o.ice.stun_url.c_str(), nullptr);
  for (const auto& turn : o.ice.turn_urls) {
    gboolean ok = FALSE;
    g_signal_emit_by_name(webrtc_, "add-turn-server", turn.c_str(), &ok);
    if (!ok) log()->warn("peer{}: webrtcbin rejected a TURN server URL", id_);
  }
  GstWebRTCICE* ice = nullptr;
  g_object_get(webrtc_, "ice-agent", &ice, nullptr);  // transfer full
  if (ice) {
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "ice-tcp"))
      g_object_set(ice, "ice-tcp", o.ice.tcp ? TRUE : FALSE, "ice-udp", o.ice.udp ? TRUE : FALSE,
                   nullptr);
    for (const auto& addr : o.ice.local_addresses) {
      gboolean ok = FALSE;
      g_signal_emit_by_name(ice, "add-local-ip-address", addr.c_str(), &ok);
      if (!ok) log()->warn("peer{}: libnice refused local address {}", id_, addr);
    }
    gst_object_unref(ice);
  }
  signals_.emplace_back(webrtc_, "pad-added", G_CALLBACK(&PeerConnection::on_pad_added), this);
  signals_.emplace_back(webrtc_, "on-ice-candidate", G_CALLBACK(&PeerConnection::on_ice_candidate),
                        this);
  signals_.emplace_back(webrtc_, "notify::connection-state",
                        G_CALLBACK(&PeerConnection::on_connection_state_notify), this);
  signals_.emplace_back(webrtc_, "notify::ice-connection-state",
                        G_CALLBACK(&PeerConnection::on_ice_state_notify), this);
  gst_bin_add(config_.pipeline, bin_);
  if (!gst_element_sync_state_with_parent(bin_))
    return Error{ExitCode::Software, "cannot start webrtcbin"};
  log()->debug("peer{}: webrtcbin ready", id_);
  return Ok{};
}

// ---- negotiation ------------------------------------------------------------

void PeerConnection::set_negotiation(Negotiation to) {
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
    log()->error("peer{}: illegal negotiation move {} -> {}", id_, negotiation_name(from),
                 negotiation_name(to));
    return;
  }
  log()->debug("peer{}: negotiation {} -> {}", id_, negotiation_name(from), negotiation_name(to));
  negotiation_ = to;
}

void PeerConnection::fail(const std::string& what) {
  log()->error("peer{}: {}", id_, what);
  if (negotiation_ == Negotiation::Closed || negotiation_ == Negotiation::Failed) return;
  set_negotiation(Negotiation::Failed);
  if (listener_) listener_->on_error(Error{ExitCode::CallFailed, what});
}

void PeerConnection::request_promise(const char* signal, GstWebRTCSessionDescription* desc,
                                     std::function<void(GstPromise*)> on_reply) {
  GstPromise* p = promise_on_context(ctx_, lifetime_, std::move(on_reply));
  if (desc)
    g_signal_emit_by_name(webrtc_, signal, desc, p);
  else
    g_signal_emit_by_name(webrtc_, signal, nullptr, p);
  gst_promise_unref(p);
}

bool PeerConnection::link_sender(LocalSource* src, int pt, std::optional<int> mline) {
  const bool video = src->kind() == MediaKind::Video;
  const std::string k(to_string(src->kind()));
  GstElement* q = make_element("queue", nullptr);
  GstElement* pay = make_element(src->payloader_factory(), nullptr);
  if (!q || !pay) return false;
  // A slow or blocked peer (webrtcbin blocks its sink pads until negotiated)
  // must never stall the shared encoder: drop old data instead.
  g_object_set(q, "max-size-buffers", 30u, "max-size-bytes", 0u, "max-size-time",
               G_GUINT64_CONSTANT(300000000), nullptr);
  gst_util_set_object_arg(G_OBJECT(q), "leaky", "downstream");
  // Browsers bind a receiver's track to the SSRC the SDP announces: packets
  // with another SSRC are decoded (getStats counts frames) but never reach
  // the page's <video>. webrtcbin announces the `ssrc` of the transceiver's
  // codec preferences (or a random one when they have none), and the
  // payloader would pick its own: give both the same.
  const guint ssrc = g_random_int();
  g_object_set(pay, "pt", static_cast<guint>(pt), "mtu", 1200u, "ssrc", ssrc, nullptr);
  if (video && g_object_class_find_property(G_OBJECT_GET_CLASS(pay), "picture-id-mode"))
    gst_util_set_object_arg(G_OBJECT(pay), "picture-id-mode", "15-bit");
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(pay), "config-interval"))
    g_object_set(pay, "config-interval", -1, nullptr);
  gst_bin_add_many(GST_BIN(bin_), q, pay, nullptr);
  gst_element_link(q, pay);
  if (video) {
    GstPad* ps = gst_element_get_static_pad(pay, "sink");
    gst_pad_add_probe(ps, GST_PAD_PROBE_TYPE_BUFFER,
                      +[](GstPad*, GstPadProbeInfo*, gpointer d) {
                        static_cast<PeerConnection*>(d)->video_frames_sent_.fetch_add(1, std::memory_order_relaxed);
                        return GST_PAD_PROBE_OK;
                      },
                      this, nullptr);
    gst_object_unref(ps);
  }

  GstPad* wpad = nullptr;
  if (mline) {
    GstPadTemplate* templ =
        gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(webrtc_), "sink_%u");
    std::string name = fmt::format("sink_{}", *mline);
    wpad = gst_element_request_pad(webrtc_, templ, name.c_str(), nullptr);
  } else {
    wpad = gst_element_request_pad_simple(webrtc_, "sink_%u");
  }
  if (!wpad) {
    log()->error("peer{}: webrtcbin gave no sink pad for {}", id_, k);
    return false;
  }
  GstWebRTCRTPTransceiver* trans = nullptr;
  g_object_get(wpad, "transceiver", &trans, nullptr);
  if (trans) {
    GUnique<GstCaps> caps(gst_caps_from_string(fmt::format("{},payload={},ssrc=(uint){}", src->rtp_caps(), pt, ssrc).c_str()));
    g_object_set(trans, "codec-preferences", caps.get(), "direction",
                 GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV, nullptr);
    if (video && g_object_class_find_property(G_OBJECT_GET_CLASS(trans), "do-nack"))
      g_object_set(trans, "do-nack", TRUE, nullptr);
    gst_object_unref(trans);
  }
  GstPad* paysrc = gst_element_get_static_pad(pay, "src");
  bool ok = gst_pad_link(paysrc, wpad) == GST_PAD_LINK_OK;
  gst_object_unref(paysrc);
  gst_object_unref(wpad);
  if (!ok) {
    log()->error("peer{}: cannot link the {} payloader to webrtcbin", id_, k);
    return false;
  }
  GstPad* qsink = gst_element_get_static_pad(q, "sink");
  GstPad* ghost = gst_ghost_pad_new(fmt::format("{}_in", k).c_str(), qsink);
  gst_object_unref(qsink);
  gst_pad_set_active(ghost, TRUE);
  gst_element_add_pad(bin_, ghost);
  gst_element_sync_state_with_parent(pay);
  gst_element_sync_state_with_parent(q);

  if (video) {
    // The tee is linked when the connection is up (connect_senders); drop
    // delta frames until the keyframe requested then, so that a receiver's
    // first frame decodes.
    gst_pad_add_probe(ghost, GST_PAD_PROBE_TYPE_BUFFER,
                      +[](GstPad*, GstPadProbeInfo* info, gpointer) {
                        GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
                        if (GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT))
                          return GST_PAD_PROBE_DROP;
                        return GST_PAD_PROBE_REMOVE;
                      },
                      nullptr, nullptr);
  }
  senders_.push_back(SendBranch{src, nullptr, ghost, pay});
  log()->debug("peer{}: sending {} as {} pt {}{}", id_, k, src->encoding_name(), pt,
               mline ? fmt::format(" on m-line {}", *mline) : "");
  return true;
}

void PeerConnection::add_recv_transceiver(MediaKind kind) {
  std::string caps_str =
      kind == MediaKind::Video
          ? fmt::format("application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96")
          : std::string("application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,encoding-params=(string)2,payload=111");
  GUnique<GstCaps> caps(gst_caps_from_string(caps_str.c_str()));
  GstWebRTCRTPTransceiver* trans = nullptr;
  g_signal_emit_by_name(webrtc_, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY,
                        caps.get(), &trans);
  if (trans) gst_object_unref(trans);
}

void PeerConnection::create_offer() {
  if (negotiation_ != Negotiation::Idle) {
    log()->error("peer{}: create_offer in state {}", id_, negotiation_name(negotiation_));
    return;
  }
  set_negotiation(Negotiation::CreatingOffer);
  for (LocalSource* src : {config_.video, config_.audio}) {
    if (!src) continue;
    if (!link_sender(src, default_payload_type(src->encoding_name()), std::nullopt))
      return fail(fmt::format("cannot set up sending {}", to_string(src->kind())));
  }
  // Receive what we do not send, too.
  if (!config_.video) add_recv_transceiver(MediaKind::Video);
  if (!config_.audio) add_recv_transceiver(MediaKind::Audio);
  log()->info("peer{}: creating offer", id_);
  request_promise("create-offer", nullptr, [this](GstPromise* p) { on_offer_created(p); });
}

void PeerConnection::on_offer_created(GstPromise* p) {
  if (negotiation_ != Negotiation::CreatingOffer) return;
  std::string err;
  const GstStructure* reply = nullptr;
  promise_ok(p, &reply, err);
  GstWebRTCSessionDescription* offer = nullptr;
  if (reply) gst_structure_get(reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, nullptr);
  if (!offer) return fail("webrtcbin could not create an offer: " + (err.empty() ? "no offer" : err));
  set_local(offer, "offer");
  gst_webrtc_session_description_free(offer);
}

void PeerConnection::on_answer_created(GstPromise* p) {
  if (negotiation_ != Negotiation::CreatingAnswer) return;
  std::string err;
  const GstStructure* reply = nullptr;
  promise_ok(p, &reply, err);
  GstWebRTCSessionDescription* answer = nullptr;
  if (reply)
    gst_structure_get(reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, nullptr);
  if (!answer)
    return fail("webrtcbin could not create an answer: " + (err.empty() ? "no answer" : err));
  set_local(answer, "answer");
  gst_webrtc_session_description_free(answer);
}

void PeerConnection::set_local(GstWebRTCSessionDescription* desc, const char* type) {
  GCharPtr text(gst_sdp_message_as_text(desc->sdp));
  std::string sdp = text.get();
  local_mids_.clear();
  if (auto info = signaling::parse_sdp(sdp))
    for (const auto& m : info->media) local_mids_.push_back(m.mid);
  request_promise("set-local-description", desc,
                  [this, t = std::string(type), sdp](GstPromise* p) { on_local_set(p, t, sdp); });
}

void PeerConnection::on_local_set(GstPromise* p, std::string type, std::string sdp) {
  if (negotiation_ == Negotiation::Closed || negotiation_ == Negotiation::Failed) return;
  std::string err;
  const GstStructure* reply = nullptr;
  if (!promise_ok(p, &reply, err)) return fail(fmt::format("set-local-description({}) failed: {}", type, err));
  if (negotiation_ == Negotiation::CreatingOffer)
    set_negotiation(Negotiation::WaitingAnswer);
  else if (negotiation_ == Negotiation::CreatingAnswer)
    set_negotiation(Negotiation::Stable);
  log()->info("peer{}: local {} set", id_, type);
  local_sent_ = true;
  if (listener_) listener_->on_local_description(signaling::SessionDescription{type, sdp});
  auto pending = std::move(pending_local_);
  pending_local_.clear();
  for (auto& [mline, cand] : pending) emit_local_candidate(mline, std::move(cand));
}

void PeerConnection::set_remote_description(const signaling::SessionDescription& d) {
  const bool offer = d.type == "offer";
  if (!offer && d.type != "answer")
    return fail(fmt::format("unsupported remote description type '{}'", d.type));
  auto info = signaling::parse_sdp(d.sdp);
  if (!info || info->media.empty()) return fail(fmt::format("unparsable remote {} SDP", d.type));
  if (offer && negotiation_ != Negotiation::Idle) {
    // webrtcbin cannot restart ICE/DTLS in place: the call layer makes a
    // new PeerConnection for a partner that re-offers.
    return fail(fmt::format("remote offer in state {}; a re-offer needs a new PeerConnection",
                            negotiation_name(negotiation_)));
  }
  if (!offer && negotiation_ != Negotiation::WaitingAnswer) {
    log()->warn("peer{}: ignoring an answer in state {}", id_, negotiation_name(negotiation_));
    return;
  }
  set_negotiation(offer ? Negotiation::ApplyingOffer : Negotiation::ApplyingAnswer);
  remote_info_ = *info;
  prepare_outputs(*info);

  GstSDPMessage* sdp = nullptr;
  if (gst_sdp_message_new_from_text(d.sdp.c_str(), &sdp) != GST_SDP_OK || !sdp)
    return fail("unparsable remote SDP");
  GstWebRTCSessionDescription* desc = gst_webrtc_session_description_new(
      offer ? GST_WEBRTC_SDP_TYPE_OFFER : GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  log()->info("peer{}: applying remote {}", id_, d.type);
  log()->trace("peer{}: remote SDP:\n{}", id_, d.sdp);
  request_promise("set-remote-description", desc,
                  [this, offer](GstPromise* p) { on_remote_set(p, offer); });
  gst_webrtc_session_description_free(desc);
}

void PeerConnection::on_remote_set(GstPromise* p, bool offer) {
  if (negotiation_ == Negotiation::Closed || negotiation_ == Negotiation::Failed) return;
  std::string err;
  const GstStructure* reply = nullptr;
  if (!promise_ok(p, &reply, err))
    return fail(fmt::format("set-remote-description({}) failed: {}", offer ? "offer" : "answer", err));
  remote_applied_ = true;
  auto pending = std::move(pending_remote_);
  pending_remote_.clear();
  for (const auto& c : pending) apply_candidate(c);
  if (!offer) {
    set_negotiation(Negotiation::Stable);
    return;
  }
  // Answer with the offer's m-lines and payload types.
  for (const auto& m : remote_info_->media) {
    if (m.rejected || (m.kind != "video" && m.kind != "audio")) continue;
    LocalSource* src = m.kind == "video" ? config_.video : config_.audio;
    GstWebRTCRTPTransceiver* trans = nullptr;
    g_signal_emit_by_name(webrtc_, "get-transceiver", m.index, &trans);
    log()->debug("peer{}: remote m-line {} {} mid '{}' sends={} receives={} codecs={}", id_,
                 m.index, m.kind, m.mid, m.remote_sends, m.remote_receives, m.codecs.size());
    if (!src || !m.remote_receives) {
      if (trans) g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, nullptr);
      if (trans) gst_object_unref(trans);
      continue;
    }
    if (trans) gst_object_unref(trans);
    auto pt = m.payload_type(src->encoding_name());
    if (!pt) {
      log()->warn("peer{}: the offer's {} m-line has no {}; not sending {}", id_, m.kind,
                  src->encoding_name(), m.kind);
      continue;
    }
    if (!link_sender(src, *pt, m.index))
      return fail(fmt::format("cannot set up sending {}", m.kind));
  }
  set_negotiation(Negotiation::CreatingAnswer);
  request_promise("create-answer", nullptr, [this](GstPromise* pr) { on_answer_created(pr); });
}

// ---- candidates -------------------------------------------------------------

void PeerConnection::add_remote_candidate(const signaling::IceCandidate& c) {
  if (negotiation_ == Negotiation::Closed || negotiation_ == Negotiation::Failed) return;
  if (c.candidate.empty()) return;  // end-of-candidates: libnice needs no marker
  if (!remote_applied_) {
    pending_remote_.push_back(c);
    return;
  }
  apply_candidate(c);
}

void PeerConnection::apply_candidate(const signaling::IceCandidate& c) {
  std::string line = sanitize_candidate(c.candidate);
  if (line.empty()) {
    log()->debug("peer{}: ignoring candidate '{}'", id_, c.candidate);
    return;
  }
  if (!seen_remote_.insert(line).second) return;  // Chromium's per-mid duplicates
  int mline = 0;
  if (c.sdp_mline_index)
    mline = *c.sdp_mline_index;
  else if (c.sdp_mid && remote_info_)
    mline = remote_info_->mline_for_mid(*c.sdp_mid).value_or(0);
  std::string address = candidate_address(line);
  if (address.size() > 6 && address.compare(address.size() - 6, 6, ".local") == 0) {
    resolve_mdns_candidate(std::move(line), std::move(address), mline);
    return;
  }
  log()->debug("peer{}: remote candidate {} (m-line {})", id_, line, mline);
  g_signal_emit_by_name(webrtc_, "add-ice-candidate", static_cast<guint>(mline), line.c_str());
}

// Browsers hide host addresses behind "<uuid>.local" names (mDNS). libnice
// cannot resolve them; the system resolver can where nss-mdns (Avahi) is
// installed. Without one the candidate is dropped: the call can still come
// up through the peer-reflexive candidate that the browser's own checks
// create when it reaches one of our candidates.
void PeerConnection::resolve_mdns_candidate(std::string line, std::string name, int mline) {
  struct Lookup {
    std::weak_ptr<int> guard;
    PeerConnection* self;
    std::string line, name;
    int mline;
  };
  log()->debug("peer{}: resolving mDNS candidate {}", id_, name);
  auto* lookup = new Lookup{lifetime_, this, std::move(line), std::move(name), mline};
  GResolver* resolver = g_resolver_get_default();
  g_resolver_lookup_by_name_async(
      resolver, lookup->name.c_str(), nullptr,
      [](GObject* src, GAsyncResult* res, gpointer data) {
        std::unique_ptr<Lookup> l(static_cast<Lookup*>(data));
        GError* err = nullptr;
        GList* addrs = g_resolver_lookup_by_name_finish(G_RESOLVER(src), res, &err);
        GErrorPtr error(err);
        auto alive = l->guard.lock();
        if (!alive || l->self->negotiation_ == Negotiation::Closed) {
          g_resolver_free_addresses(addrs);
          return;
        }
        std::string ip;
        for (GList* a = addrs; a; a = a->next) {
          GInetAddress* ia = G_INET_ADDRESS(a->data);
          GCharPtr text(g_inet_address_to_string(ia));
          if (ip.empty() || g_inet_address_get_family(ia) == G_SOCKET_FAMILY_IPV4) ip = text.get();
          if (g_inet_address_get_family(ia) == G_SOCKET_FAMILY_IPV4) break;
        }
        g_resolver_free_addresses(addrs);
        if (ip.empty()) {
          log()->info("peer{}: cannot resolve the mDNS candidate {} ({}); relying on peer-reflexive "
                      "candidates (install libnss-mdns to resolve them)",
                      l->self->id_, l->name, error ? error->message : "no address");
          return;
        }
        std::string resolved = l->line;
        resolved.replace(resolved.find(l->name), l->name.size(), ip);
        log()->info("peer{}: mDNS candidate {} is {}", l->self->id_, l->name, ip);
        g_signal_emit_by_name(l->self->webrtc_, "add-ice-candidate", static_cast<guint>(l->mline),
                              resolved.c_str());
      },
      lookup);
  g_object_unref(resolver);
}

void PeerConnection::on_ice_candidate(GstElement*, guint mline, gchar* candidate, gpointer data) {
  auto* self = static_cast<PeerConnection*>(data);
  std::string cand = candidate ? candidate : "";
  int m = static_cast<int>(mline);
  post(self->ctx_, self->lifetime_, [self, m, cand]() mutable {
    if (!self->local_sent_) {
      self->pending_local_.emplace_back(m, std::move(cand));
      return;
    }
    self->emit_local_candidate(m, std::move(cand));
  });
}

void PeerConnection::emit_local_candidate(int mline, std::string cand) {
  if (!listener_ || cand.empty()) return;
  signaling::IceCandidate c;
  c.candidate = std::move(cand);
  c.sdp_mline_index = mline;
  if (mline >= 0 && static_cast<size_t>(mline) < local_mids_.size() && !local_mids_[mline].empty())
    c.sdp_mid = local_mids_[mline];
  log()->debug("peer{}: local candidate {}", id_, c.candidate);
  listener_->on_local_candidate(c);
}

// ---- connection state -------------------------------------------------------

void PeerConnection::on_connection_state_notify(GObject* obj, GParamSpec*, gpointer data) {
  auto* self = static_cast<PeerConnection*>(data);
  GstWebRTCPeerConnectionState st;
  g_object_get(obj, "connection-state", &st, nullptr);
  int s = static_cast<int>(st);
  post(self->ctx_, self->lifetime_, [self, s] { self->on_connection_state_changed(s); });
}

void PeerConnection::on_ice_state_notify(GObject* obj, GParamSpec*, gpointer data) {
  auto* self = static_cast<PeerConnection*>(data);
  GstWebRTCICEConnectionState st;
  g_object_get(obj, "ice-connection-state", &st, nullptr);
  int s = static_cast<int>(st);
  post(self->ctx_, self->lifetime_, [self, s] {
    static const char* names[] = {"new", "checking", "connected", "completed",
                                  "failed", "disconnected", "closed"};
    log()->debug("peer{}: ICE {}", self->id_, s >= 0 && s < 7 ? names[s] : "?");
    if (s == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED)
      self->on_connection_state_changed(GST_WEBRTC_PEER_CONNECTION_STATE_FAILED);
    if ((s == GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED || s == GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED) &&
        self->listener_)
      self->listener_->on_ice_connected();
  });
}

void PeerConnection::on_connection_state_changed(int s) {
  ConnectionState next = state_;
  switch (s) {
    case GST_WEBRTC_PEER_CONNECTION_STATE_NEW: next = ConnectionState::New; break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTING: next = ConnectionState::Connecting; break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED: next = ConnectionState::Connected; break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_DISCONNECTED: next = ConnectionState::Disconnected; break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_FAILED: next = ConnectionState::Failed; break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED: next = ConnectionState::Closed; break;
  }
  if (next == state_ || state_ == ConnectionState::Failed || state_ == ConnectionState::Closed)
    return;
  log()->info("peer{}: {} -> {}", id_, to_string(state_), to_string(next));
  state_ = next;
  if (next == ConnectionState::Connected) on_connected();
  if (listener_) listener_->on_connection_state(next);
}

void PeerConnection::connect_senders() {
  for (auto& s : senders_) {
    if (s.tee_pad) continue;
    s.tee_pad = gst_element_request_pad_simple(s.source->tee(), "src_%u");
    if (!s.tee_pad || gst_pad_link(s.tee_pad, s.ghost) != GST_PAD_LINK_OK)
      log()->error("peer{}: cannot link the {} tee", id_, to_string(s.source->kind()));
  }
}

void PeerConnection::on_connected() {
  // Media starts flowing only now: before, webrtcbin would block it and a
  // burst of stale frames would follow the connection. A new receiver needs
  // a keyframe now, not at the next scheduled one.
  connect_senders();
  if (config_.video) config_.video->request_keyframe();
  missing_media_timer_.start_once(std::chrono::seconds(4), [this] {
    std::lock_guard lock(mutex_);
    if (recorder_) {
      recorder_->end_missing(MediaKind::Video);
      recorder_->end_missing(MediaKind::Audio);
    }
  });
}

// ---- receiving ----------------------------------------------------------------

void PeerConnection::prepare_outputs(const signaling::Sdp& remote) {
  const auto& out = config_.options->output;
  const signaling::SdpMediaSection* v = remote.find_kind("video");
  const signaling::SdpMediaSection* a = remote.find_kind("audio");
  const bool video = v && v->remote_sends;
  const bool audio = a && a->remote_sends;
  std::lock_guard lock(mutex_);
  if (config_.record_path && !recorder_ && (video || audio)) {
    Recorder::Kinds kinds;
    kinds.video = video;
    kinds.audio = audio;
    kinds.video_encoding = config_.video ? config_.video->encoding_name() : "VP8";
    auto r = Recorder::create(GST_BIN(bin_), config_.record_path(), kinds);
    if (!r) {
      log()->error("peer{}: {}", id_, r.error().message);
      if (listener_) listener_->on_error(r.error());
    } else {
      recorder_ = std::move(*r);
    }
  }
  if (!out.rtmp_url.empty() && !rtmp_ && (video || audio)) {
    rtmp_ = std::make_unique<RtmpOutput>(GST_BIN(bin_), out.rtmp_url, video, audio,
                                         config_.options->video.fps);
  }
}

void PeerConnection::on_pad_added(GstElement*, GstPad* pad, gpointer data) {
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
  static_cast<PeerConnection*>(data)->handle_remote_pad(pad);
}

void PeerConnection::handle_remote_pad(GstPad* pad) {
  GUnique<GstCaps> caps(gst_pad_get_current_caps(pad));
  if (!caps) caps.reset(gst_pad_query_caps(pad, nullptr));
  const GstStructure* s = gst_caps_get_structure(caps.get(), 0);
  const char* media = gst_structure_get_string(s, "media");
  const char* enc = gst_structure_get_string(s, "encoding-name");
  std::string m = media ? media : "", e = enc ? enc : "";
  for (auto& c : e) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  log()->info("peer{}: receiving {} {}", id_, m, e);
  guint ssrc = 0;
  if (gst_structure_get_uint(s, "ssrc", &ssrc)) (m == "video" ? video_in_ssrc_ : audio_in_ssrc_) = ssrc;
  bool ok = false;
  if (m == "video" && (e == "VP8" || e == "VP9" || e == "H264"))
    ok = build_video_receive(pad, e);
  else if (m == "audio" && e == "OPUS")
    ok = build_audio_receive(pad);
  if (!ok) {
    // An unlinked webrtcbin pad would fail the whole receive path.
    log()->warn("peer{}: discarding remote {} {}", id_, m, e);
    GstElement* sink = make_element("fakesink", nullptr);
    g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
    gst_bin_add(GST_BIN(bin_), sink);
    gst_element_sync_state_with_parent(sink);
    GstPad* sp = gst_element_get_static_pad(sink, "sink");
    gst_pad_link(pad, sp);
    gst_object_unref(sp);
  }
}

GstPadProbeReturn PeerConnection::on_decoded(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<PeerConnection*>(data);
  const bool video = GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER &&
                     g_object_get_data(G_OBJECT(pad), "callagent-video");
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(ev) == GST_EVENT_CAPS && g_object_get_data(G_OBJECT(pad), "callagent-video")) {
      GstCaps* caps = nullptr;
      gst_event_parse_caps(ev, &caps);
      int w = 0, h = 0;
      const GstStructure* s = gst_caps_get_structure(caps, 0);
      gst_structure_get_int(s, "width", &w);
      gst_structure_get_int(s, "height", &h);
      if (w != self->width_.load() || h != self->height_.load())
        log()->info("peer{}: remote video {}x{}", self->id_, w, h);
      self->width_ = w;
      self->height_ = h;
    }
    return GST_PAD_PROBE_OK;
  }
  MediaKind kind = video ? MediaKind::Video : MediaKind::Audio;
  if (video)
    self->video_frames_.fetch_add(1, std::memory_order_relaxed);
  else
    self->audio_buffers_.fetch_add(1, std::memory_order_relaxed);
  if (GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info)) {
    if (video)
      self->log_video_frame(pad, buf);
    else
      self->log_audio_buffer(pad, buf);
  }
  auto& first = video ? self->first_video_ : self->first_audio_;
  if (!first.exchange(true)) {
    post(self->ctx_, self->lifetime_, [self, kind] {
      log()->info("peer{}: first remote {} decoded", self->id_, to_string(kind));
      if (self->listener_) self->listener_->on_remote_media(kind);
    });
  }
  return GST_PAD_PROBE_OK;
}

bool PeerConnection::build_video_receive(GstPad* pad, const std::string& enc) {
  std::lock_guard lock(mutex_);
  GstBin* bin = GST_BIN(bin_);
  const char* depay_f = enc == "VP8" ? "rtpvp8depay" : enc == "VP9" ? "rtpvp9depay" : "rtph264depay";
  const char* dec_f = enc == "VP8" ? "vp8dec" : enc == "VP9" ? "vp9dec" : "avdec_h264";
  GstElement* depay = make_element(depay_f, nullptr);
  GstElement* enc_tee = make_element("tee", "video-received-tee");
  GstElement* q = make_element("queue", nullptr);
  GstElement* parse = enc == "H264" ? make_element("h264parse", nullptr) : nullptr;
  GstElement* dec = make_element(dec_f, "video-decoder");
  GstElement* raw_tee = make_element("tee", "video-decoded-tee");
  if (!depay || !enc_tee || !q || !dec || !raw_tee) return false;
  // Drop until a keyframe and ask the sender for one (PLI) after loss.
  set_if_exists(depay, "request-keyframe", true);
  set_if_exists(depay, "wait-for-keyframe", true);
  set_if_exists(dec, "max-errors", -1);  // a corrupt frame is not a fatal error
  g_object_set(enc_tee, "allow-not-linked", TRUE, nullptr);
  g_object_set(raw_tee, "allow-not-linked", TRUE, nullptr);
  gst_bin_add_many(bin, depay, enc_tee, q, dec, raw_tee, nullptr);
  if (parse) gst_bin_add(bin, parse);
  bool ok = parse ? link_many({depay, enc_tee, q, parse, dec, raw_tee})
                  : link_many({depay, enc_tee, q, dec, raw_tee});
  if (!ok) return false;

  // Without a display, decode anyway (the counters prove media flowed) into
  // fakesink sync=false: it counts what the decoder produced, with no QoS
  // drops and no dependence on the latency computation.
  std::vector<GstElement*> added;
  GstElement* sink_q = make_element("queue", nullptr);
  GstElement* sink = nullptr;
  if (display_) {
    display_->show("callagent");
    log()->info("peer{}: showing the remote video on {}", id_, display_->description());
    GstElement* conv = make_element("videoconvert", nullptr);
    GstElement* scale = make_element("videoscale", nullptr);
    sink = display_->sink();
    if (!conv || !scale) return false;
    gst_bin_add_many(bin, sink_q, conv, scale, sink, nullptr);
    link_many({raw_tee, sink_q, conv, scale, sink});
    added = {sink, scale, conv, sink_q};
  } else {
    sink = make_element("fakesink", "video-sink");
    g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
    gst_bin_add_many(bin, sink_q, sink, nullptr);
    link_many({raw_tee, sink_q, sink});
    added = {sink, sink_q};
  }
  GstPad* dsrc = gst_element_get_static_pad(dec, "src");
  g_object_set_data(G_OBJECT(dsrc), "callagent-video", GINT_TO_POINTER(1));
  gst_pad_add_probe(dsrc, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                    &PeerConnection::on_decoded, this, nullptr);
  gst_object_unref(dsrc);
  GstPad* depay_src = gst_element_get_static_pad(depay, "src");
  gst_pad_add_probe(depay_src, GST_PAD_PROBE_TYPE_BUFFER,
                    +[](GstPad*, GstPadProbeInfo*, gpointer d) {
                      static_cast<PeerConnection*>(d)->video_frames_received_.fetch_add(1, std::memory_order_relaxed);
                      return GST_PAD_PROBE_OK;
                    },
                    this, nullptr);
  gst_object_unref(depay_src);

  if (recorder_ && recorder_->sink_pad(MediaKind::Video)) {
    GstPad* tp = gst_element_request_pad_simple(enc_tee, "src_%u");
    if (gst_pad_link(tp, recorder_->sink_pad(MediaKind::Video)) != GST_PAD_LINK_OK)
      log()->error("peer{}: cannot link the video recording", id_);
    gst_object_unref(tp);
  }
  if (rtmp_) rtmp_->link_input(MediaKind::Video, raw_tee);

  for (GstElement* e : added) gst_element_sync_state_with_parent(e);
  for (GstElement* e : {raw_tee, dec}) gst_element_sync_state_with_parent(e);
  if (parse) gst_element_sync_state_with_parent(parse);
  for (GstElement* e : {q, enc_tee, depay}) gst_element_sync_state_with_parent(e);
  video_raw_tee_ = raw_tee;
  GstPad* dsink = gst_element_get_static_pad(depay, "sink");
  bool linked = gst_pad_link(pad, dsink) == GST_PAD_LINK_OK;
  gst_object_unref(dsink);
  return linked;
}

bool PeerConnection::build_audio_receive(GstPad* pad) {
  std::lock_guard lock(mutex_);
  GstBin* bin = GST_BIN(bin_);
  GstElement* depay = make_element("rtpopusdepay", nullptr);
  GstElement* enc_tee = make_element("tee", "audio-received-tee");
  GstElement* q = make_element("queue", nullptr);
  GstElement* dec = make_element("opusdec", "audio-decoder");
  GstElement* raw_tee = make_element("tee", "audio-decoded-tee");
  if (!depay || !enc_tee || !q || !dec || !raw_tee) return false;
  g_object_set(dec, "plc", TRUE, "use-inband-fec", TRUE, nullptr);
  g_object_set(enc_tee, "allow-not-linked", TRUE, nullptr);
  g_object_set(raw_tee, "allow-not-linked", TRUE, nullptr);
  gst_bin_add_many(bin, depay, enc_tee, q, dec, raw_tee, nullptr);
  if (!link_many({depay, enc_tee, q, dec, raw_tee})) return false;

  std::vector<GstElement*> added;
  GstElement* sink_q = make_element("queue", nullptr);
  if (config_.playback && !closing_) {
    // Into the engine's mixer (one sink and echo probe for all partners),
    // converted here to the mixer's format so it never renegotiates.
    GstElement* conv = make_element("audioconvert", nullptr);
    GstElement* res = make_element("audioresample", nullptr);
    GstElement* cf = make_element("capsfilter", "audio-playback-caps");
    if (!conv || !res || !cf) return false;
    set_caps(cf, AudioPlayback::input_caps());
    gst_bin_add_many(bin, sink_q, conv, res, cf, nullptr);
    if (!link_many({raw_tee, sink_q, conv, res, cf})) return false;
    GstPad* cf_src = gst_element_get_static_pad(cf, "src");
    GstPad* ghost = gst_ghost_pad_new("audio_out", cf_src);
    gst_object_unref(cf_src);
    gst_pad_set_active(ghost, TRUE);
    gst_element_add_pad(bin_, ghost);
    playback_pad_ = config_.playback->link_input(ghost);
    if (!playback_pad_) return false;
    playback_out_ = ghost;
    playback_in_ = gst_element_get_static_pad(sink_q, "sink");
    gst_object_unref(playback_in_);  // borrowed: the queue lives as long as the bin
    added = {cf, res, conv, sink_q};
  } else {
    GstElement* sink = make_element("fakesink", "audio-sink");
    g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
    gst_bin_add_many(bin, sink_q, sink, nullptr);
    link_many({raw_tee, sink_q, sink});
    added = {sink, sink_q};
  }
  GstPad* dsrc = gst_element_get_static_pad(dec, "src");
  gst_pad_add_probe(dsrc, GST_PAD_PROBE_TYPE_BUFFER, &PeerConnection::on_decoded, this, nullptr);
  gst_object_unref(dsrc);
  if (config_.options->frame_log) {
    // The jitter buffer announces each lost packet (GstRTPPacketLost, with
    // its duration); opusdec conceals that much audio (plc=true).
    GstPad* dsink = gst_element_get_static_pad(dec, "sink");
    gst_pad_add_probe(dsink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                      +[](GstPad*, GstPadProbeInfo* info, gpointer d) {
                        GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
                        if (GST_EVENT_TYPE(ev) != GST_EVENT_CUSTOM_DOWNSTREAM) return GST_PAD_PROBE_OK;
                        const GstStructure* st = gst_event_get_structure(ev);
                        if (!st || !gst_structure_has_name(st, "GstRTPPacketLost")) return GST_PAD_PROBE_OK;
                        GstClockTime dur = 0;
                        gst_structure_get_clock_time(st, "duration", &dur);
                        auto* self = static_cast<PeerConnection*>(d);
                        std::lock_guard guard(self->log_mutex_);
                        self->frame_log_.audio_concealed_ms += static_cast<double>(dur) / 1e6;
                        return GST_PAD_PROBE_OK;
                      },
                      this, nullptr);
    gst_object_unref(dsink);
  }

  if (recorder_ && recorder_->sink_pad(MediaKind::Audio)) {
    GstPad* tp = gst_element_request_pad_simple(enc_tee, "src_%u");
    if (gst_pad_link(tp, recorder_->sink_pad(MediaKind::Audio)) != GST_PAD_LINK_OK)
      log()->error("peer{}: cannot link the audio recording", id_);
    gst_object_unref(tp);
  }
  if (rtmp_) rtmp_->link_input(MediaKind::Audio, raw_tee);

  for (GstElement* e : added) gst_element_sync_state_with_parent(e);
  for (GstElement* e : {raw_tee, dec, q, enc_tee, depay}) gst_element_sync_state_with_parent(e);
  audio_raw_tee_ = raw_tee;
  GstPad* dsink = gst_element_get_static_pad(depay, "sink");
  bool linked = gst_pad_link(pad, dsink) == GST_PAD_LINK_OK;
  gst_object_unref(dsink);
  if (playback_pad_) {
    // A new live input behind a jitter buffer: have the engine recompute
    // the pipeline latency (the mixer's floor normally covers it already).
    gst_element_post_message(bin_, gst_message_new_latency(GST_OBJECT(bin_)));
  }
  return linked;
}

void PeerConnection::detach_playback() {
  GstPad *in = nullptr, *out = nullptr, *mixer_pad = nullptr;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;  // a late pad-added builds no new playback branch
    in = std::exchange(playback_in_, nullptr);
    out = std::exchange(playback_out_, nullptr);
    mixer_pad = std::exchange(playback_pad_, nullptr);
  }
  if (!mixer_pad) return;
  // Drop at the branch's entry from now on: upstream (the decoder, a
  // recording still finishing) keeps getting OK instead of the FLUSHING or
  // NOT_LINKED of a released pad, and the branch's queue never sees EOS, so
  // it stops quietly instead of posting a not-linked error.
  gst_pad_add_probe(in, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM,
                    +[](GstPad*, GstPadProbeInfo*, gpointer) { return GST_PAD_PROBE_DROP; },
                    nullptr, nullptr);
  config_.playback->release_input(out, mixer_pad);
  gst_object_unref(mixer_pad);
  log()->debug("peer{}: audio playback detached", id_);
}

// ---- engine hooks ----------------------------------------------------------------

bool PeerConnection::owns(GstObject* o) const {
  return o && bin_ && (o == GST_OBJECT(bin_) || gst_object_has_as_ancestor(o, GST_OBJECT(bin_)));
}

void PeerConnection::on_pipeline_error(GstMessage* msg) {
  {
    std::lock_guard lock(mutex_);
    if (rtmp_ && rtmp_->owns(GST_MESSAGE_SRC(msg))) {
      rtmp_->on_error(msg);
      return;
    }
  }
  GErrorPtr err;
  GCharPtr dbg;
  GError* e = nullptr;
  gchar* d = nullptr;
  gst_message_parse_error(msg, &e, &d);
  err.reset(e);
  dbg.reset(d);
  fail(fmt::format("{} failed: {}", object_path(GST_MESSAGE_SRC(msg)), err ? err->message : "?"));
  if (state_ != ConnectionState::Failed) {
    state_ = ConnectionState::Failed;
    if (listener_) listener_->on_connection_state(state_);
  }
}

void PeerConnection::close(std::function<void()> done) {
  if (negotiation_ != Negotiation::Closed) set_negotiation(Negotiation::Closed);
  listener_ = nullptr;
  missing_media_timer_.cancel();
  for (auto& s : senders_) {
    if (!s.tee_pad) continue;
    gst_pad_unlink(s.tee_pad, s.ghost);
    gst_element_release_request_pad(s.source->tee(), s.tee_pad);
    gst_object_unref(s.tee_pad);
    s.tee_pad = nullptr;
  }
  // The partner is gone: stop playing it now, not when its recording is
  // finalized.
  detach_playback();
  Recorder* rec = nullptr;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    if (rtmp_) rtmp_->stop();
    rec = recorder_.get();
  }
  if (rec)
    rec->finish(std::move(done));
  else if (done)
    done();
}

void PeerConnection::log_video_frame(GstPad* pad, GstBuffer* buf) {
  const auto& o = *config_.options;
  if (!o.frame_log && !o.latency_stamp && !o.keep_last_frame) return;
  const int64_t now = g_get_monotonic_time();
  GstCaps* caps = (o.latency_stamp || o.keep_last_frame) ? gst_pad_get_current_caps(pad) : nullptr;
  std::optional<double> latency;
  if (o.latency_stamp && caps) {
    GstVideoInfo vinfo;
    GstVideoFrame frame;
    if (gst_video_info_from_caps(&vinfo, caps) && gst_video_frame_map(&frame, &vinfo, buf, GST_MAP_READ)) {
      if (auto ms = read_stamp(&frame)) {
        const double d = static_cast<double>(g_get_real_time()) / 1000.0 - static_cast<double>(*ms);
        if (d > -1000 && d < 60000) latency = d;  // else: not our stamp, or unsynchronized clocks
      }
      gst_video_frame_unmap(&frame);
    }
  }
  std::lock_guard lock(log_mutex_);
  constexpr size_t kMax = 100000;  // ~1 hour at 30 fps if nobody drains
  auto bounded_push = [](auto& v, auto x) {
    if (v.size() >= kMax) v.erase(v.begin(), v.begin() + kMax / 2);
    v.push_back(x);
  };
  if (o.frame_log) bounded_push(frame_log_.video_decode_times_us, now);
  if (latency) bounded_push(frame_log_.latency_ms, *latency);
  if (o.keep_last_frame && caps) {
    last_video_.reset(gst_buffer_ref(buf));
    last_video_caps_.reset(gst_caps_ref(caps));
  }
  if (caps) gst_caps_unref(caps);
}

void PeerConnection::log_audio_buffer(GstPad* pad, GstBuffer* buf) {
  if (!config_.options->frame_log) return;
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (!caps) return;
  GstAudioInfo ainfo;
  const bool ok = gst_audio_info_from_caps(&ainfo, caps);
  gst_caps_unref(caps);
  if (!ok || GST_AUDIO_INFO_FORMAT(&ainfo) != GST_AUDIO_FORMAT_S16) return;
  GstMapInfo map;
  if (!gst_buffer_map(buf, &map, GST_MAP_READ)) return;
  const auto* s = reinterpret_cast<const int16_t*>(map.data);
  const size_t n = map.size / 2;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const double x = s[i] / 32768.0;
    sum += x * x;
  }
  gst_buffer_unmap(buf, &map);
  std::lock_guard lock(log_mutex_);
  frame_log_.audio_sum_squares += sum;
  frame_log_.audio_samples += n;
}

PeerConnection::FrameLog PeerConnection::take_frame_log() {
  std::lock_guard lock(log_mutex_);
  FrameLog out = std::move(frame_log_);
  frame_log_ = FrameLog{};
  frame_log_.audio_concealed_ms = out.audio_concealed_ms;
  return out;
}

GUnique<GstSample> PeerConnection::last_video_sample() const {
  std::lock_guard lock(log_mutex_);
  if (!last_video_ || !last_video_caps_) return nullptr;
  return GUnique<GstSample>(gst_sample_new(last_video_.get(), last_video_caps_.get(), nullptr, nullptr));
}

PeerConnection::Counters PeerConnection::counters() const {
  Counters c;
  c.video_frames_received = video_frames_received_.load();
  c.video_frames_sent = video_frames_sent_.load();
  c.video_in_ssrc = video_in_ssrc_.load();
  c.audio_in_ssrc = audio_in_ssrc_.load();
  for (const auto& snd : senders_) {
    if (!snd.payloader) continue;
    GstPad* ps = gst_element_get_static_pad(snd.payloader, "src");
    GstCaps* pc = ps ? gst_pad_get_current_caps(ps) : nullptr;
    guint ssrc = 0;
    if (pc && gst_structure_get_uint(gst_caps_get_structure(pc, 0), "ssrc", &ssrc))
      (snd.source->kind() == MediaKind::Video ? c.video_out_ssrc : c.audio_out_ssrc) = ssrc;
    if (pc) gst_caps_unref(pc);
    if (ps) gst_object_unref(ps);
  }
  c.video_frames = video_frames_.load();
  c.audio_buffers = audio_buffers_.load();
  c.video_width = width_.load();
  c.video_height = height_.load();
  std::lock_guard lock(mutex_);
  if (rtmp_) c.rtmp_restarts = rtmp_->restarts();
  return c;
}

std::string PeerConnection::recording_path() const {
  std::lock_guard lock(mutex_);
  return recorder_ ? recorder_->path() : std::string();
}

}  // namespace callagent::media
