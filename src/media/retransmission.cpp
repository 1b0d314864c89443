#include "media/retransmission.h"

#include "common/logging.h"
#include "gst/gst_util.h"

#include <algorithm>
#include <cmath>
#include <string_view>

namespace callagent::media {

namespace {
auto log() { return logging::get("webrtc"); }

bool is_factory(GstElement* e, std::string_view name) {
  GstElementFactory* f = gst_element_get_factory(e);
  return f && name == GST_OBJECT_NAME(f);
}

// Every element below `bin` made by `factory` (references).
std::vector<GRef<GstElement>> find_all(GstElement* bin, std::string_view factory, bool recurse) {
  std::vector<GRef<GstElement>> out;
  GstIterator* it = recurse ? gst_bin_iterate_recurse(GST_BIN(bin)) : gst_bin_iterate_elements(GST_BIN(bin));
  GValue v = G_VALUE_INIT;
  bool done = false;
  while (!done) {
    switch (gst_iterator_next(it, &v)) {
      case GST_ITERATOR_OK: {
        auto* e = GST_ELEMENT(g_value_get_object(&v));
        if (is_factory(e, factory)) out.push_back(GRef<GstElement>::ref(e));
        g_value_reset(&v);
        break;
      }
      case GST_ITERATOR_RESYNC:
        out.clear();
        gst_iterator_resync(it);
        break;
      default: done = true; break;
    }
  }
  g_value_unset(&v);
  gst_iterator_free(it);
  return out;
}

uint64_t struct_u64(const GstStructure* s, const char* field) {
  guint64 v64 = 0;
  guint v = 0;
  if (gst_structure_get_uint64(s, field, &v64)) return v64;
  if (gst_structure_get_uint(s, field, &v)) return v;
  return 0;
}

// A jitter buffer's `stats` structure (null if it has none).
GUnique<GstStructure> jitterbuffer_stats(GstElement* jb) {
  GstStructure* st = nullptr;
  g_object_get(jb, "stats", &st, nullptr);
  return GUnique<GstStructure>(st);
}

uint64_t prop_uint(GstElement* e, const char* prop) {
  if (!g_object_class_find_property(G_OBJECT_GET_CLASS(e), prop)) return 0;
  guint v = 0;
  g_object_get(e, prop, &v, nullptr);
  return v;
}
}  // namespace

Retransmission::Retransmission(int peer_id, GstElement* webrtc, const MediaOptions& options)
    : peer_id_(peer_id), webrtc_(webrtc), latency_([&] {
        congestion::JitterLatencyConfig c;
        c.base_ms = static_cast<int>(options.latency_ms);
        c.pinned = options.latency_pinned;
        return c;
      }()),
      playout_latency_ms_(std::make_shared<std::atomic<unsigned>>(static_cast<unsigned>(latency_.latency_ms()))),
      context_(thread_default_context()) {
  signals_.emplace_back(webrtc, "on-new-transceiver", G_CALLBACK(&Retransmission::on_new_transceiver), this);
  set_resend_rate(int64_t{options.video.effective_bitrate_kbps()} * 1000);
  signals_.emplace_back(webrtc, "deep-element-added", G_CALLBACK(&Retransmission::on_element_added), this);
  auto bins = find_all(webrtc, "rtpbin", false);
  if (bins.empty()) {
    log()->warn("peer{}: webrtcbin has no rtpbin: retransmission stays as webrtcbin sets it", peer_id_);
  } else {
    rtpbin_ = std::move(bins.front());
    signals_.emplace_back(rtpbin_.get(), "new-jitterbuffer", G_CALLBACK(&Retransmission::on_new_jitterbuffer), this,
                          G_CONNECT_AFTER);
  }
  // The RTT source: every compound RTCP packet of the partner, timed on
  // arrival (attached by tick() once webrtcbin made the session).
  RtcpFeedback::Events ev;
  ev.on_reports = [this](int64_t now_us, const std::vector<RtcpFeedback::ReportBlock>& blocks) {
    if (auto rtt = RtcpFeedback::round_trip_ms(blocks)) on_rtt(now_us, *rtt);
  };
  rtcp_ = std::make_unique<RtcpFeedback>(peer_id_, webrtc, std::move(ev));
  timer_.start(std::chrono::milliseconds(1000), [this] {
    tick();
    return true;
  });
  // The RTCP settings and the RTT source as soon as webrtcbin made the
  // session (when a description is applied), not on the first tick: for
  // up to a second of media NACKs waited for rtpsession's 5 s minimum
  // interval and no RTT sized the jitter buffer (measured, 5 % loss: the
  // settings arrived 0.55 s after DTLS).
  // Bounded (a negotiation that never completes leaves it to the tick).
  setup_poll_.start(kSetupPoll, [this, polls = 0]() mutable {
    apply_session_settings();
    if (rtcp_ && !rtcp_->attached()) rtcp_->attach();
    return (sessions_.empty() || !rtcp_ || !rtcp_->attached()) && ++polls < kSetupPolls;
  });
}

Retransmission::~Retransmission() { disconnect(); }

void Retransmission::disconnect() {
  signals_.clear();
  timer_.cancel();
  setup_poll_.cancel();
  startup_budget_.cancel();
  sessions_.clear();
  if (rtcp_) rtcp_->detach();
}

void Retransmission::enable_nack(GstWebRTCRTPTransceiver* trans, MediaKind kind) {
  if (!trans || kind != MediaKind::Video) return;
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(trans), "do-nack"))
    g_object_set(trans, "do-nack", TRUE, nullptr);
}

void Retransmission::on_new_transceiver(GstElement*, GstWebRTCRTPTransceiver* trans, gpointer) {
  // Transceivers made for an incoming offer know their kind here; ours get
  // enable_nack() from whoever made them (their kind comes with caps).
  if (!g_object_class_find_property(G_OBJECT_GET_CLASS(trans), "kind")) return;
  GstWebRTCKind kind = GST_WEBRTC_KIND_UNKNOWN;
  g_object_get(trans, "kind", &kind, nullptr);
  if (kind == GST_WEBRTC_KIND_VIDEO) enable_nack(trans, MediaKind::Video);
}

void Retransmission::set_remote(const signaling::Sdp& remote) {
  std::lock_guard lock(mutex_);
  ssrc_kind_.clear();
  pt_kind_.clear();
  video_nack_ = false;
  for (const auto& m : remote.media) {
    if (m.rejected || (m.kind != "video" && m.kind != "audio")) continue;
    const MediaKind kind = m.kind == "video" ? MediaKind::Video : MediaKind::Audio;
    for (uint32_t s : m.ssrcs) ssrc_kind_[s] = kind;
    for (const auto& c : m.codecs) {
      pt_kind_[c.payload_type] = kind;
      if (kind == MediaKind::Video && c.encoding != "RTX" && c.feedback.count("nack")) video_nack_ = true;
    }
  }
  log()->debug("peer{}: remote {} SSRCs, video NACK {}", peer_id_, ssrc_kind_.size(),
               video_nack_ ? "accepted" : "not offered");
}

std::optional<MediaKind> Retransmission::kind_of_pt(int pt) const {
  auto it = pt_kind_.find(pt);
  if (it == pt_kind_.end()) return std::nullopt;
  return it->second;
}

void Retransmission::configure(GstElement* jb, MediaKind kind) {
  const bool nack = kind == MediaKind::Video && video_nack_;
  g_object_set(jb, "do-retransmission", nack ? TRUE : FALSE, nullptr);
  // Lost packets (after the retries) become GstRTPPacketLost events: the
  // keyframe requester and Opus concealment need them.
  g_object_set(jb, "do-lost", TRUE, nullptr);
  // Ask only for gaps: guessing when the next packet is due makes a
  // request for the first packet of nearly every video frame (they come in
  // bursts, one per frame), wasted NACKs and retransmissions.
  if (nack) {
    g_object_set(jb, "rtx-next-seqnum", FALSE, nullptr);
    apply_retry_timeout(jb);
  }
  for (auto& j : jitterbuffers_) {
    if (j.element.get() != jb) continue;
    j.kind = kind;
    // At once, not on the next tick: until the probe sets `avg-rtt`, the
    // jitter buffer's default (40 ms) with the start latency (60 ms) and a
    // request ~20 ms after the gap leaves the NACK no time to wait for an
    // RTCP packet, and rtpsession drops it as expired (measured, 5 % loss:
    // every packet lost in the call's first second given up after one
    // unsent request, the first picture 0.5-1.9 s after DTLS instead of
    // 0.1 s).
    if (kind == MediaKind::Video && !j.requests_watched) watch_requests(j);
  }
  log()->debug("peer{}: {} jitter buffer: retransmission {}", peer_id_, to_string(kind), nack ? "on" : "off");
}

// Streaming thread, holding an rtpbin session's lock (webrtcbin's own handler
// ran first, under its peer connection lock): only jitter buffer properties
// here, never a call into rtpbin or webrtcbin.
void Retransmission::on_new_jitterbuffer(GstElement*, GstElement* jb, guint session, guint ssrc, gpointer data) {
  auto* self = static_cast<Retransmission*>(data);
  std::lock_guard lock(self->mutex_);
  self->jitterbuffers_.push_back({GRef<GstElement>::ref(jb), ssrc, std::nullopt});
  // The current latency (rtpbin gave it the one of the call's start; see
  // apply_latency()).
  g_object_set(jb, "latency", self->playout_latency_ms_->load(std::memory_order_relaxed), nullptr);
  auto it = self->ssrc_kind_.find(ssrc);
  if (it != self->ssrc_kind_.end()) {
    self->configure(jb, it->second);
    return;
  }
  // An SSRC the description did not announce: no NACK until its first
  // packet says what it is.
  g_object_set(jb, "do-retransmission", FALSE, nullptr);
  log()->debug("peer{}: session {} SSRC {} not in the remote description: kind from its payload type", self->peer_id_,
               session, ssrc);
  GRef<GstPad> sink = GRef<GstPad>::adopt(gst_element_get_static_pad(jb, "sink"));
  if (sink)
    gst_pad_add_probe(sink.get(), GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                      &Retransmission::on_first_packet, self, nullptr);
}

GstPadProbeReturn Retransmission::on_first_packet(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<Retransmission*>(data);
  GstBuffer* buf = nullptr;
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    if (list && gst_buffer_list_length(list) > 0) buf = gst_buffer_list_get(list, 0);
  } else {
    buf = GST_PAD_PROBE_INFO_BUFFER(info);
  }
  guint8 head[2] = {0, 0};
  if (!buf || gst_buffer_extract(buf, 0, head, 2) != 2) return GST_PAD_PROBE_OK;
  const int pt = head[1] & 0x7f;
  GstElement* jb = GST_PAD_PARENT(pad) ? GST_ELEMENT(GST_PAD_PARENT(pad)) : nullptr;
  std::lock_guard lock(self->mutex_);
  auto kind = self->kind_of_pt(pt);
  if (!kind || !jb) return GST_PAD_PROBE_REMOVE;  // not ours to repair
  self->configure(jb, *kind);
  return GST_PAD_PROBE_REMOVE;
}

void Retransmission::apply_session_settings() {
  if (!rtpbin_) return;
  for (guint id = 0; id < 2; ++id) {
    if (sessions_set_ & (1u << id)) continue;  // once: each set forces an extra RTCP pass
    GObject* s = nullptr;
    g_signal_emit_by_name(rtpbin_.get(), "get-internal-session", id, &s);  // transfer full
    auto session = GRef<GObject>::adopt(s);
    if (!session) continue;
    g_object_set(session.get(), "rtcp-min-interval", static_cast<guint64>(0), "bandwidth",
                 static_cast<double>(kStartupBandwidthBps), nullptr);
    // A new SSRC is valid at once. rtpsession's default probation (2)
    // holds a source's first packet until a second one in sequence comes:
    // on the partner's RTX SSRC that is the first retransmission, held
    // until the next loss is repaired (measured, 5 % loss: 200 ms, long
    // after the jitter buffer gave the packet up, so the first keyframe
    // was lost and the first picture waited for another). SRTP already
    // authenticates every packet; browsers validate signalled SSRCs at
    // once too.
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(session.get()), "probation"))
      g_object_set(session.get(), "probation", 0u, nullptr);
    log()->debug("peer{}: RTCP session {}: no minimum report interval, budget of a {} kbit/s call for {} s",
                 peer_id_, id, kStartupBandwidthBps / 1000, kStartupBudgetS);
    sessions_set_ |= 1u << id;
    sessions_.push_back(std::move(session));
  }
  if (!sessions_.empty() && !startup_budget_.active() && !startup_budget_done_)
    startup_budget_.start_once(std::chrono::seconds(kStartupBudgetS), [this] {
      startup_budget_done_ = true;
      // From now on the budget follows the rates rtpsession measures.
      for (auto& s : sessions_) g_object_set(s.get(), "bandwidth", 0.0, nullptr);
      log()->debug("peer{}: RTCP budget from the measured rates", peer_id_);
    });
}

void Retransmission::tick() {
  apply_session_settings();
  if (const uint64_t refused = resend_gate_->with([](auto& b) { return b.refused(); }); refused > refused_logged_) {
    log()->debug("peer{}: {} retransmission requests over the budget dropped (last second: {})", peer_id_, refused,
                 refused - refused_logged_);
    refused_logged_ = refused;
  }
  if (rtcp_ && !rtcp_->attached()) rtcp_->attach();
  // A jitter buffer whose kind was learned late gets its request probe
  // here (the probe reports each lost packet's first request, and the
  // latency makes room for its repair: on_first_request()).
  std::lock_guard lock(mutex_);
  for (auto& j : jitterbuffers_)
    if (j.kind == MediaKind::Video && !j.requests_watched) watch_requests(j);
}

void Retransmission::set_resend_rate(int64_t bps) {
  resend_gate_->with([bps](auto& b) { b.set_rate(bps); });
}

using SharedGate = std::shared_ptr<Retransmission::ResendGate>;

void Retransmission::on_element_added(GstBin*, GstBin*, GstElement* element, gpointer data) {
  if (!is_factory(element, "rtprtxsend")) return;
  auto* self = static_cast<Retransmission*>(data);
  auto src = GRef<GstPad>::adopt(gst_element_get_static_pad(element, "src"));
  if (!src) return;
  gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, &Retransmission::on_resend_request,
                    new SharedGate(self->resend_gate_), [](gpointer p) { delete static_cast<SharedGate*>(p); });
  guint packets = 0, ms = 0;
  g_object_get(element, "max-size-packets", &packets, "max-size-time", &ms, nullptr);
  log()->debug("peer{}: retransmissions within the budget ({}; history {} packets, {} ms)", self->peer_id_,
               GST_OBJECT_NAME(element), packets, ms);
}

GstPadProbeReturn Retransmission::on_resend_request(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
  if (!ev || GST_EVENT_TYPE(ev) != GST_EVENT_CUSTOM_UPSTREAM) return GST_PAD_PROBE_OK;
  const GstStructure* s = gst_event_get_structure(ev);
  if (!s || !gst_structure_has_name(s, "GstRTPRetransmissionRequest")) return GST_PAD_PROBE_OK;
  guint seqnum = 0, ssrc = 0;
  if (!gst_structure_get_uint(s, "seqnum", &seqnum) || !gst_structure_get_uint(s, "ssrc", &ssrc))
    return GST_PAD_PROBE_OK;
  if (gst_structure_has_field(s, kDuplicateField)) return GST_PAD_PROBE_OK;  // our own copy, paid for
  bool copy = false;
  const bool ok = (*static_cast<SharedGate*>(data))->with([&](auto& b) {
    const int64_t now = g_get_monotonic_time();
    if (!b.allow(now, ssrc, static_cast<uint16_t>(seqnum))) return false;
    copy = b.duplicate(now);
    return true;
  });
  if (!ok) log()->trace("retransmission of packet {} (SSRC {}) refused", seqnum, ssrc);
  if (copy) send_copy_later(pad, ev);
  return ok ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

void Retransmission::send_copy_later(GstPad* pad, GstEvent* request) {
  // The same request once more, a moment later, from the main context
  // (not from inside this pad's event handling); marked so that the
  // gate lets it through (its tokens were spent by duplicate()).
  GstStructure* st = gst_structure_copy(gst_event_get_structure(request));
  gst_structure_set(st, kDuplicateField, G_TYPE_BOOLEAN, TRUE, nullptr);
  struct Copy {
    GRef<GstPad> pad;
    GstEvent* event;
  };
  auto* c = new Copy{GRef<GstPad>::ref(pad), gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, st)};
  GSource* src = g_timeout_source_new(static_cast<guint>(congestion::RetransmissionBudget::kDuplicateDelayUs / 1000));
  g_source_set_priority(src, G_PRIORITY_HIGH);
  g_source_set_callback(
      src,
      [](gpointer d) -> gboolean {
        auto* copy = static_cast<Copy*>(d);
        gst_pad_send_event(copy->pad.get(), std::exchange(copy->event, nullptr));
        return G_SOURCE_REMOVE;
      },
      c,
      [](gpointer d) {
        auto* copy = static_cast<Copy*>(d);
        if (copy->event) gst_event_unref(copy->event);
        delete copy;
      });
  g_source_attach(src, nullptr);  // the default context: join's main loop
  g_source_unref(src);
}

int Retransmission::retry_timeout_ms(double rtt_ms) {
  return std::max(kMinRetryTimeoutMs, static_cast<int>(std::lround(rtt_ms / 2)));
}

void Retransmission::apply_retry_timeout(GstElement* jb) const {
  if (retry_timeout_ms_ > 0) g_object_set(jb, "rtx-retry-timeout", retry_timeout_ms_, nullptr);
}

void Retransmission::on_rtt(int64_t now_us, double rtt_ms) {
  rtt_ms_ = rtt_ms;
  {
    // Changes under 5 ms are noise of the latest report, not worth a
    // property set on every packet of RTCP.
    std::lock_guard lock(mutex_);
    const int retry = retry_timeout_ms(rtt_ms);
    if (std::abs(retry - retry_timeout_ms_) >= 5) {
      retry_timeout_ms_ = retry;
      // Every video jitter buffer: without retransmission the timeout
      // has no effect.
      for (auto& j : jitterbuffers_)
        if (j.kind == MediaKind::Video) apply_retry_timeout(j.element.get());
    }
  }
  resend_gate_->with([rtt_ms](auto& b) { b.set_rtt_ms(rtt_ms); });
  request_rtt_ms_->store(static_cast<unsigned>(std::lround(rtt_ms)), std::memory_order_relaxed);
  if (auto next = latency_.on_rtt(now_us, rtt_ms)) {
    log()->info("peer{}: RTT {:.0f} ms: jitter buffer latency {} ms", peer_id_, rtt_ms, *next);
    apply_latency(*next);
  }
}

void Retransmission::apply_latency(int latency_ms) {
  // Not through webrtcbin's `latency` (it was, and it hung a call): rtpbin
  // hands that to its jitter buffers holding its own lock and then each
  // session's, while a new SSRC's first packet holds a session lock and
  // waits in webrtcbin's new-jitterbuffer handler for the peer connection
  // lock, which a get-stats in progress holds while it waits for rtpbin's
  // lock: three threads, each waiting for the next. So each jitter buffer
  // is set here (each posts a LATENCY message: the pipeline recalculates),
  // and one made later takes the value in on_new_jitterbuffer(): the value
  // is stored before the list is read, both under mutex_.
  playout_latency_ms_->store(static_cast<unsigned>(latency_ms), std::memory_order_relaxed);
  {
    std::lock_guard lock(mutex_);
    for (auto& j : jitterbuffers_) g_object_set(j.element.get(), "latency", static_cast<guint>(latency_ms), nullptr);
  }
  // What webrtcbin does with its latency besides: the packets kept for
  // FEC recovery cover the jitter buffer's time, plus 50 ms (rtpbin's
  // lock only, nothing held here).
  if (!rtpbin_) return;
  for (guint id = 0; id < 2; ++id) {
    GstElement* storage = nullptr;
    g_signal_emit_by_name(rtpbin_.get(), "get-storage", id, &storage);  // transfer full
    if (!storage) continue;
    g_object_set(storage, "size-time", static_cast<guint64>(latency_ms + kStorageExtraMs) * GST_MSECOND, nullptr);
    gst_object_unref(storage);
  }
}

uint64_t Retransmission::network_loss(const std::vector<uint32_t>& ssrcs) const {
  if (!rtpbin_ || ssrcs.empty()) return 0;
  uint64_t lost = 0;
  for (guint id = 0; id < 2; ++id) {
    GObject* sp = nullptr;
    g_signal_emit_by_name(rtpbin_.get(), "get-internal-session", id, &sp);  // transfer full
    auto session = GRef<GObject>::adopt(sp);
    if (!session) continue;
    GstStructure* stats = nullptr;
    g_object_get(session.get(), "stats", &stats, nullptr);
    if (!stats) continue;
    const GValue* arr = gst_structure_get_value(stats, "source-stats");
    G_GNUC_BEGIN_IGNORE_DEPRECATIONS
    if (arr && G_VALUE_HOLDS(arr, g_value_array_get_type())) {
      auto* va = static_cast<GValueArray*>(g_value_get_boxed(arr));
      for (guint i = 0; va && i < va->n_values; ++i) {
        const GstStructure* s = gst_value_get_structure(g_value_array_get_nth(va, i));
        guint ssrc = 0;
        gboolean internal = TRUE;
        gint n = 0;
        if (!s || !gst_structure_get_uint(s, "ssrc", &ssrc) || !gst_structure_get_boolean(s, "internal", &internal) ||
            internal)
          continue;
        if (std::find(ssrcs.begin(), ssrcs.end(), ssrc) == ssrcs.end()) continue;
        // Negative with duplicates (a partner that resends on the media
        // SSRC): clamped.
        if (gst_structure_get_int(s, "packets-lost", &n) && n > 0) lost += static_cast<uint64_t>(n);
      }
    }
    G_GNUC_END_IGNORE_DEPRECATIONS
    gst_structure_free(stats);
  }
  return lost;
}

namespace {
// What a request probe shares with its Retransmission: the RTT (an atomic
// that outlives both) and a guarded way back to the main context.
struct RequestWatch {
  std::shared_ptr<std::atomic<unsigned>> rtt_ms;
  GMainContext* context;
  std::weak_ptr<void> guard;
  Retransmission* self;  // used only by closures the guard lets run
};
}  // namespace

void Retransmission::watch_requests(Jitterbuffer& jb) {
  jb.requests_watched = true;
  GRef<GstPad> sink = GRef<GstPad>::adopt(gst_element_get_static_pad(jb.element.get(), "sink"));
  if (!sink) return;
  gst_pad_add_probe(sink.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, &Retransmission::on_request,
                    new RequestWatch{request_rtt_ms_, context_, lifetime_, this},
                    [](gpointer p) { delete static_cast<RequestWatch*>(p); });
}

void Retransmission::on_first_request(int64_t now_us, int noticed_ms) {
  if (auto next = latency_.on_loss(now_us, noticed_ms)) {
    log()->info("peer{}: packets lost (one noticed {} ms after it was due): jitter buffer latency {} ms", peer_id_,
                noticed_ms, *next);
    apply_latency(*next);
  }
}

// Streaming thread (the jitter buffer's timer thread, no lock of ours).
GstPadProbeReturn Retransmission::on_request(GstPad*, GstPadProbeInfo* info, gpointer data) {
  GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
  if (!ev || GST_EVENT_TYPE(ev) != GST_EVENT_CUSTOM_UPSTREAM) return GST_PAD_PROBE_OK;
  const GstStructure* s = gst_event_get_structure(ev);
  if (!s || !gst_structure_has_name(s, "GstRTPRetransmissionRequest")) return GST_PAD_PROBE_OK;
  const auto* watch = static_cast<const RequestWatch*>(data);
  const unsigned rtt = watch->rtt_ms->load(std::memory_order_relaxed);
  guint deadline = 0, delay = 0, avg = 0, seqnum = 0, retry = 0;
  if (!gst_structure_get_uint(s, "deadline", &deadline)) return GST_PAD_PROBE_OK;
  gst_structure_get_uint(s, "delay", &delay);
  gst_structure_get_uint(s, "seqnum", &seqnum);
  gst_structure_get_uint(s, "retry", &retry);
  log()->trace("NACK packet {} (request {}, {} ms after it was due, deadline {} ms)", seqnum, retry + 1, delay,
               deadline);
  if (retry == 0) {
    const int64_t now_us = g_get_monotonic_time();
    post(watch->context, watch->guard,
         [self = watch->self, now_us, noticed = static_cast<int>(std::min(delay, 1u << 20))] {
           self->on_first_request(now_us, noticed);
         });
  }
  const unsigned want = nack_avg_rtt_ms(rtt, deadline, delay);
  if (gst_structure_get_uint(s, "avg-rtt", &avg) && avg == want) return GST_PAD_PROBE_OK;
  ev = gst_event_make_writable(ev);
  gst_structure_set(gst_event_writable_structure(ev), "avg-rtt", G_TYPE_UINT, want, nullptr);
  GST_PAD_PROBE_INFO_DATA(info) = ev;
  return GST_PAD_PROBE_OK;
}

unsigned Retransmission::nack_avg_rtt_ms(unsigned rtt_ms, unsigned deadline_ms, unsigned delay_ms) {
  // rtpsession lets the NACK wait deadline - delay - avg-rtt for an RTCP
  // packet; it must be able to wait for the next one (kNackWaitMs), or it
  // is dropped as expired before it was ever sent.
  const unsigned left = deadline_ms > delay_ms ? deadline_ms - delay_ms : 0;
  if (left <= kNackWaitMs) return 0;
  return std::min(rtt_ms, left - kNackWaitMs);
}

Retransmission::Counters Retransmission::counters() const {
  Counters c;
  c.latency_ms = static_cast<unsigned>(latency_.latency_ms());
  c.rtt_ms = rtt_ms_;
  std::vector<uint32_t> video_ssrcs;
  {
    std::lock_guard lock(mutex_);
    for (const auto& j : jitterbuffers_) {
      if (!j.kind) continue;
      auto st = jitterbuffer_stats(j.element.get());
      if (!st) continue;
      if (*j.kind == MediaKind::Video) {
        video_ssrcs.push_back(j.ssrc);
        // What the jitter buffer holds, read back from the element (not
        // what we asked for), the largest of the video ones.
        guint latency = 0;
        g_object_get(j.element.get(), "latency", &latency, nullptr);
        if (video_ssrcs.size() == 1 || latency > c.latency_ms) c.latency_ms = latency;
        c.nack_requests += struct_u64(st.get(), "rtx-count");
        c.rtx_recovered += struct_u64(st.get(), "rtx-success-count");
        c.lost_after_recovery += struct_u64(st.get(), "num-lost");
      } else {
        c.audio_nack_requests += struct_u64(st.get(), "rtx-count");
        gboolean on = FALSE;
        g_object_get(j.element.get(), "do-retransmission", &on, nullptr);
        c.audio_retransmission = c.audio_retransmission || on;
      }
    }
  }
  c.lost_before_recovery = network_loss(video_ssrcs);
  for (const auto& e : find_all(webrtc_, "rtprtxsend", true)) {
    c.rtx_requests_received += prop_uint(e.get(), "num-rtx-requests");
    c.rtx_sent += prop_uint(e.get(), "num-rtx-packets");
  }
  // Refused requests never reach rtprtxsend: they are requests all the same.
  c.rtx_refused = resend_gate_->with([](auto& b) { return b.refused(); });
  c.rtx_requests_received += c.rtx_refused;
  for (const auto& e : find_all(webrtc_, "rtprtxreceive", true)) c.rtx_received += prop_uint(e.get(), "num-rtx-packets");
  return c;
}

}  // namespace callagent::media
