#include "media/keyframe_requests.h"

#include "common/logging.h"

#include <gst/video/video.h>

namespace callagent::media {

namespace {
auto log() { return logging::get("webrtc"); }
}  // namespace

KeyframeRequests::KeyframeRequests(int peer_id) : peer_id_(peer_id) {
  // 50 ms: well inside the requester's 250 ms retry, and a PLI goes out at
  // most that long after the loss was known.
  timer_.start(std::chrono::milliseconds(50), [this] {
    poll();
    return true;
  });
}

KeyframeRequests::~KeyframeRequests() { timer_.cancel(); }

void KeyframeRequests::attach(GstElement* depayloader) {
  GRef<GstPad> sink = GRef<GstPad>::adopt(gst_element_get_static_pad(depayloader, "sink"));
  GRef<GstPad> src = GRef<GstPad>::adopt(gst_element_get_static_pad(depayloader, "src"));
  if (!sink || !src) return;
  gst_pad_add_probe(sink.get(),
                    GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
                                    GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                    &KeyframeRequests::on_sink, this, nullptr);
  gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_BUFFER, &KeyframeRequests::on_src, this, nullptr);
  gst_pad_add_probe(sink.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, &KeyframeRequests::on_upstream, this, nullptr);
  std::lock_guard lock(mutex_);
  depay_sink_ = std::move(sink);
}

GstPadProbeReturn KeyframeRequests::on_sink(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<KeyframeRequests*>(data);
  const int64_t now = g_get_monotonic_time();
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(ev) != GST_EVENT_CUSTOM_DOWNSTREAM) return GST_PAD_PROBE_OK;
    const GstStructure* st = gst_event_get_structure(ev);
    if (!st || !gst_structure_has_name(st, "GstRTPPacketLost")) return GST_PAD_PROBE_OK;
    self->lost_.fetch_add(1, std::memory_order_relaxed);
    guint seqnum = 0, retry = 0;
    gst_structure_get_uint(st, "seqnum", &seqnum);
    gst_structure_get_uint(st, "retry", &retry);
    log()->debug("peer{}: video packet {} given up after {} retransmission requests", self->peer_id_, seqnum, retry);
    std::lock_guard lock(self->mutex_);
    self->requester_.on_frame_lost(now);
    return GST_PAD_PROBE_OK;
  }
  std::lock_guard lock(self->mutex_);
  self->requester_.on_packet(now);
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn KeyframeRequests::on_src(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<KeyframeRequests*>(data);
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  const bool key = buf && !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
  std::lock_guard lock(self->mutex_);
  self->requester_.on_decodable_frame(g_get_monotonic_time(), key);
  return GST_PAD_PROBE_OK;
}

// Upstream events leaving the depayloader's sink pad: its own keyframe
// requests (all-headers, count 0) are absorbed; ours (no all-headers) pass.
GstPadProbeReturn KeyframeRequests::on_upstream(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<KeyframeRequests*>(data);
  GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
  if (!ev || !gst_video_event_is_force_key_unit(ev)) return GST_PAD_PROBE_OK;
  gboolean all_headers = FALSE;
  if (!gst_video_event_parse_upstream_force_key_unit(ev, nullptr, &all_headers, nullptr) || !all_headers)
    return GST_PAD_PROBE_OK;
  self->depay_requests_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(self->mutex_);
  self->requester_.on_frame_lost(g_get_monotonic_time());
  return GST_PAD_PROBE_DROP;
}

bool KeyframeRequests::request_now() {
  std::lock_guard lock(mutex_);
  if (!depay_sink_) return false;
  requester_.on_frame_lost(g_get_monotonic_time());
  return true;
}

void KeyframeRequests::poll() {
  GRef<GstPad> pad;
  {
    std::lock_guard lock(mutex_);
    if (latency_ms_) requester_.set_playout_latency_ms(latency_ms_->load(std::memory_order_relaxed));
    if (!depay_sink_ || !requester_.poll(g_get_monotonic_time())) return;
    pad = GRef<GstPad>::ref(depay_sink_.get());
  }
  const uint64_t n = sent_.fetch_add(1) + 1;
  log()->debug("peer{}: video cannot be repaired: asking for a keyframe (PLI {})", peer_id_, n);
  // Outside the lock: the event travels up through the jitter buffer.
  gst_pad_push_event(pad.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, FALSE,
                                                                             static_cast<guint>(n)));
}

}  // namespace callagent::media
