#include "media/transport_feedback.h"

#include "common/gref.h"
#include "common/logging.h"

#include <gst/rtp/rtp.h>

#include <algorithm>
#include <mutex>
#include <string_view>
#include <utility>

namespace callagent::media {

namespace {
auto log() { return logging::get("webrtc"); }

constexpr guint64 kFeedbackIntervalNs = 100 * GST_MSECOND;  // libwebrtc's
constexpr int kRtpFixedHeaderBytes = 12;

// The packets of an RTPTWCCPackets structure: a GValueArray in GStreamer
// 1.22 (a deprecated GLib type, hence the pragma), a list in case a later
// version switches.
std::vector<const GstStructure*> packet_structures(const GstStructure* s) {
  std::vector<const GstStructure*> out;
  const GValue* v = gst_structure_get_value(s, "packets");
  if (!v) return out;
  auto add = [&out](const GValue* item) {
    if (item && GST_VALUE_HOLDS_STRUCTURE(item)) out.push_back(gst_value_get_structure(item));
  };
  if (GST_VALUE_HOLDS_LIST(v) || GST_VALUE_HOLDS_ARRAY(v)) {
    const bool list = GST_VALUE_HOLDS_LIST(v);
    const guint n = list ? gst_value_list_get_size(v) : gst_value_array_get_size(v);
    for (guint i = 0; i < n; ++i) add(list ? gst_value_list_get_value(v, i) : gst_value_array_get_value(v, i));
    return out;
  }
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  if (G_VALUE_HOLDS(v, g_value_array_get_type())) {
    if (auto* arr = static_cast<GValueArray*>(g_value_get_boxed(v)))
      for (guint i = 0; i < arr->n_values; ++i) add(&arr->values[i]);
  }
  G_GNUC_END_IGNORE_DEPRECATIONS
  return out;
}

bool is_twcc_feedback(GstRTCPPacket* p) {
  return gst_rtcp_packet_get_type(p) == GST_RTCP_TYPE_RTPFB &&
         gst_rtcp_packet_fb_get_type(p) == GST_RTCP_RTPFB_TYPE_TWCC;
}
}  // namespace

// ---- conversion -------------------------------------------------------------

int64_t TransportFeedback::RemoteClock::unwrap(uint64_t remote_ns) {
  int64_t t = static_cast<int64_t>(remote_ns) + offset_;
  if (newest_) {
    if (t < *newest_ - kWrapNs / 2) {
      offset_ += kWrapNs;  // the reference time wrapped
      t += kWrapNs;
    } else if (t > *newest_ + kWrapNs / 2) {
      t -= kWrapNs;  // a late report from before the last wrap
    }
  }
  newest_ = newest_ ? std::max(*newest_, t) : t;
  return t;
}

TransportFeedback::Converted TransportFeedback::convert(const GstStructure* s, RemoteClock& clock) {
  Converted c;
  if (!s || !gst_structure_has_name(s, "RTPTWCCPackets")) return c;
  for (const GstStructure* p : packet_structures(s)) {
    ++c.reported;
    gboolean lost = FALSE;
    guint64 local_ts = GST_CLOCK_TIME_NONE, remote_ts = GST_CLOCK_TIME_NONE;
    guint size = 0;
    gst_structure_get_boolean(p, "lost", &lost);
    gst_structure_get_uint64(p, "local-ts", &local_ts);
    gst_structure_get_uint64(p, "remote-ts", &remote_ts);
    gst_structure_get_uint(p, "size", &size);
    if (lost || !GST_CLOCK_TIME_IS_VALID(remote_ts)) {
      lost = TRUE;
      ++c.lost;
    }
    if (!GST_CLOCK_TIME_IS_VALID(local_ts)) {
      ++c.unmatched;
      continue;
    }
    congestion::PacketResult r;
    r.send_us = static_cast<int64_t>(local_ts / 1000);
    if (!lost) r.arrival_us = clock.unwrap(remote_ts) / 1000;
    r.size_bytes = static_cast<int>(size) + kRtpFixedHeaderBytes;
    c.packets.push_back(r);
  }
  return c;
}

// ---- shared state -----------------------------------------------------------

// What the probes and signal handlers (streaming threads, webrtcbin's
// threads) share with the object. Each probe and handler holds a
// reference, so none outlives it; `owner` is only used inside a post()
// guarded by the owner's lifetime.
struct TransportFeedback::Shared {
  int peer_id = 0;
  GMainContext* ctx = nullptr;
  std::weak_ptr<void> guard;
  TransportFeedback* owner = nullptr;
  std::atomic<uint64_t> messages{0}, reported{0}, lost{0}, sent{0};
  std::mutex mu;  // clock: one RTCP thread per session, but bundle or not is webrtcbin's choice
  RemoteClock clock;
};

namespace {
using SharedPtr = std::shared_ptr<void>;

gpointer hold(const std::shared_ptr<void>& s) { return new SharedPtr(s); }
void release(gpointer data, GClosure* = nullptr) { delete static_cast<SharedPtr*>(data); }
void release_notify(gpointer data) { delete static_cast<SharedPtr*>(data); }
}  // namespace

// A signal handler holding a reference to the shared state; disconnected
// (and the reference dropped) when destroyed.
struct TransportFeedback::Handler {
  Handler(gpointer instance, const char* signal, GCallback cb, const std::shared_ptr<Shared>& shared)
      : instance_(g_object_ref(instance)),
        id_(g_signal_connect_data(instance, signal, cb, hold(shared), &release, GConnectFlags(0))) {}
  ~Handler() {
    if (!instance_) return;
    if (id_ && g_signal_handler_is_connected(instance_, id_)) g_signal_handler_disconnect(instance_, id_);
    g_object_unref(instance_);
  }
  Handler(Handler&& o) noexcept : instance_(std::exchange(o.instance_, nullptr)), id_(std::exchange(o.id_, 0)) {}
  Handler& operator=(Handler&&) = delete;
  Handler(const Handler&) = delete;

  gpointer instance_;
  gulong id_;
};

// ---- the hooks ----------------------------------------------------------------

struct TransportFeedbackHooks {
  using Shared = TransportFeedback::Shared;

  static Shared& shared_of(gpointer data) { return *static_cast<Shared*>(static_cast<SharedPtr*>(data)->get()); }

  // request-aux-sender (a webrtcbin thread, once per transport): a
  // floating identity for webrtcbin to put in front of the session.
  static GstElement* on_request_aux_sender(GstElement*, GObject*, gpointer data) {
    auto& sh = shared_of(data);
    GstElement* id = gst_element_factory_make("identity", nullptr);
    if (!id) {
      log()->warn("peer{}: no identity element: no TWCC feedback from the partner", sh.peer_id);
      return nullptr;
    }
    auto src = GRef<GstPad>::adopt(gst_element_get_static_pad(id, "src"));
    gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, &on_upstream_event,
                      hold(*static_cast<SharedPtr*>(data)), &release_notify);
    log()->debug("peer{}: TWCC feedback reader in front of the RTP session", sh.peer_id);
    return id;
  }

  // rtpbin's pad-added: the session's RTCP output appears when webrtcbin
  // sets the transport up; the session is its ghost target's element.
  static void on_rtpbin_pad(GstElement*, GstPad* pad, gpointer data) {
    auto& sh = shared_of(data);
    GCharPtr name(gst_pad_get_name(pad));
    if (!g_str_has_prefix(name.get(), "send_rtcp_src") || !GST_IS_GHOST_PAD(pad)) return;
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, &on_rtcp_out, hold(*static_cast<SharedPtr*>(data)),
                      &release_notify);
    auto target = GRef<GstPad>::adopt(gst_ghost_pad_get_target(GST_GHOST_PAD(pad)));
    auto session_element = GRef<GstElement>::adopt(target ? gst_pad_get_parent_element(target.get()) : nullptr);
    GObject* sp = nullptr;
    if (session_element &&
        g_object_class_find_property(G_OBJECT_GET_CLASS(session_element.get()), "internal-session"))
      g_object_get(session_element.get(), "internal-session", &sp, nullptr);  // transfer full
    auto session = GRef<GObject>::adopt(sp);
    if (session && g_object_class_find_property(G_OBJECT_GET_CLASS(session.get()), "twcc-feedback-interval")) {
      g_object_set(session.get(), "twcc-feedback-interval", kFeedbackIntervalNs, nullptr);
      log()->debug("peer{}: TWCC feedback every {} ms ({})", sh.peer_id, kFeedbackIntervalNs / GST_MSECOND,
                   name.get());
    } else {
      log()->warn("peer{}: cannot set the TWCC feedback interval ({}): feedback at every marker bit",
                  sh.peer_id, name.get());
    }
  }

  // The session's upstream events, at our aux sender's src pad (the RTCP
  // thread).
  static GstPadProbeReturn on_upstream_event(GstPad*, GstPadProbeInfo* info, gpointer data) {
    GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
    if (!ev || GST_EVENT_TYPE(ev) != GST_EVENT_CUSTOM_UPSTREAM) return GST_PAD_PROBE_OK;
    const GstStructure* s = gst_event_get_structure(ev);
    if (!s || !gst_structure_has_name(s, "RTPTWCCPackets")) return GST_PAD_PROBE_OK;
    auto& sh = shared_of(data);
    const int64_t now_us = g_get_monotonic_time();
    TransportFeedback::Converted c;
    {
      std::lock_guard lock(sh.mu);
      c = TransportFeedback::convert(s, sh.clock);
    }
    sh.messages.fetch_add(1, std::memory_order_relaxed);
    sh.reported.fetch_add(c.reported, std::memory_order_relaxed);
    sh.lost.fetch_add(c.lost, std::memory_order_relaxed);
    if (!c.packets.empty()) {
      TransportFeedback* owner = sh.owner;
      post(sh.ctx, sh.guard, [owner, now_us, packets = std::move(c.packets)]() mutable {
        owner->deliver(now_us, std::move(packets));
      });
    }
    // Ours alone: it would travel on through the payloaders into the
    // shared encoder's tee.
    return GST_PAD_PROBE_DROP;
  }

  // What the session sends (RTCP compound packets): count the TWCC feedback.
  static GstPadProbeReturn on_rtcp_out(GstPad*, GstPadProbeInfo* info, gpointer data) {
    GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
    GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
    if (!buf || !gst_rtcp_buffer_map(buf, GST_MAP_READ, &rtcp)) return GST_PAD_PROBE_OK;
    uint64_t n = 0;
    GstRTCPPacket p;
    for (gboolean more = gst_rtcp_buffer_get_first_packet(&rtcp, &p); more; more = gst_rtcp_packet_move_to_next(&p))
      if (is_twcc_feedback(&p)) ++n;
    gst_rtcp_buffer_unmap(&rtcp);
    if (n) shared_of(data).sent.fetch_add(n, std::memory_order_relaxed);
    return GST_PAD_PROBE_OK;
  }
};

// ---- the object ---------------------------------------------------------------

TransportFeedback::TransportFeedback(int peer_id, Callback cb)
    : peer_id_(peer_id), cb_(std::move(cb)), shared_(std::make_shared<Shared>()) {}

TransportFeedback::~TransportFeedback() = default;

std::unique_ptr<TransportFeedback> TransportFeedback::attach(int peer_id, GstElement* webrtcbin, Callback cb) {
  auto rtpbin =
      GRef<GstElement>::adopt(GST_IS_BIN(webrtcbin) ? gst_bin_get_by_name(GST_BIN(webrtcbin), "rtpbin") : nullptr);
  if (!rtpbin) {
    log()->warn("peer{}: webrtcbin has no rtpbin: no TWCC feedback", peer_id);
    return nullptr;
  }
  std::unique_ptr<TransportFeedback> tf(new TransportFeedback(peer_id, std::move(cb)));
  Shared& sh = *tf->shared_;
  sh.peer_id = peer_id;
  sh.ctx = thread_default_context();
  sh.guard = tf->lifetime_;
  sh.owner = tf.get();
  tf->handlers_.emplace_back(webrtcbin, "request-aux-sender",
                             G_CALLBACK(&TransportFeedbackHooks::on_request_aux_sender), tf->shared_);
  tf->handlers_.emplace_back(rtpbin.get(), "pad-added", G_CALLBACK(&TransportFeedbackHooks::on_rtpbin_pad),
                             tf->shared_);
  return tf;
}

uint64_t TransportFeedback::feedback_messages() const { return shared_->messages.load(std::memory_order_relaxed); }
uint64_t TransportFeedback::packets_reported() const { return shared_->reported.load(std::memory_order_relaxed); }
uint64_t TransportFeedback::packets_lost() const { return shared_->lost.load(std::memory_order_relaxed); }
uint64_t TransportFeedback::feedback_sent() const { return shared_->sent.load(std::memory_order_relaxed); }

void TransportFeedback::deliver(int64_t now_us, std::vector<congestion::PacketResult> packets) {
  ++window_messages_;
  window_packets_ += packets.size();
  int64_t newest_send = 0;
  for (const auto& p : packets) {
    if (!p.arrival_us) ++window_lost_;
    newest_send = std::max(newest_send, p.send_us);
  }
  // How long after sending our newest packet its feedback was here: the
  // sanity check of the send-time clock (tens of ms, not seconds).
  if (newest_send > 0) window_max_age_us_ = std::max(window_max_age_us_, now_us - newest_send);
  if (window_start_us_ == 0) window_start_us_ = now_us;
  if (now_us - window_start_us_ >= 1'000'000) {
    log()->debug("peer{}: TWCC feedback in {:.1f} s: {} messages, {} packets ({} lost), newest packet reported "
                 "after <= {} ms; total {} messages, {} packets, {} lost; {} feedback sent",
                 peer_id_, static_cast<double>(now_us - window_start_us_) / 1e6, window_messages_, window_packets_,
                 window_lost_, window_max_age_us_ / 1000, feedback_messages(), packets_reported(), packets_lost(),
                 feedback_sent());
    window_start_us_ = now_us;
    window_messages_ = window_packets_ = window_lost_ = 0;
    window_max_age_us_ = 0;
  }
  if (cb_) cb_(now_us, std::move(packets));
}

}  // namespace callagent::media
