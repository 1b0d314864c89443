#include "media/receive_probes.h"

#include "common/logging.h"
#include "media/frame_stamp.h"
#include "media/receive_chain.h"

#include <gst/audio/audio.h>
#include <gst/video/video.h>

#include <algorithm>
#include <optional>

namespace callagent::media {

namespace {
auto log() { return logging::get("webrtc"); }

// Marks the video decoder's src pad, which shares on_decoded with audio.
constexpr const char* kVideoPadKey = "callagent-video";
}  // namespace

ReceiveProbes::ReceiveProbes(int peer_id, const MediaOptions& options,
                             std::function<void(MediaKind)> on_first_media)
    : peer_id_(peer_id),
      options_(options),
      on_first_media_(std::move(on_first_media)),
      keyframes_(std::make_unique<KeyframeRequests>(peer_id)) {}

void ReceiveProbes::set_ssrc(MediaKind kind, uint32_t ssrc) {
  (kind == MediaKind::Video ? video_in_ssrc_ : audio_in_ssrc_) = ssrc;
}

void ReceiveProbes::attach(const ReceiveChain& chain) {
  GRef<GstPad> dsrc = GRef<GstPad>::adopt(gst_element_get_static_pad(chain.decoder(), "src"));
  if (chain.codec().kind == MediaKind::Video) {
    g_object_set_data(G_OBJECT(dsrc.get()), kVideoPadKey, GINT_TO_POINTER(1));
    gst_pad_add_probe(dsrc.get(), GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                      &ReceiveProbes::on_decoded, this, nullptr);
    GRef<GstPad> depay_src = GRef<GstPad>::adopt(gst_element_get_static_pad(chain.depayloader(), "src"));
    gst_pad_add_probe(depay_src.get(), GST_PAD_PROBE_TYPE_BUFFER,
                      +[](GstPad*, GstPadProbeInfo*, gpointer d) {
                        static_cast<ReceiveProbes*>(d)->video_frames_received_.fetch_add(1, std::memory_order_relaxed);
                        return GST_PAD_PROBE_OK;
                      },
                      this, nullptr);
    keyframes_->attach(chain.depayloader());
    return;
  }
  gst_pad_add_probe(dsrc.get(), GST_PAD_PROBE_TYPE_BUFFER, &ReceiveProbes::on_decoded, this, nullptr);
  if (options_.frame_log) {
    // The jitter buffer announces each lost packet (GstRTPPacketLost, with
    // its duration); opusdec conceals that much audio (plc=true).
    GRef<GstPad> dsink = GRef<GstPad>::adopt(gst_element_get_static_pad(chain.decoder(), "sink"));
    gst_pad_add_probe(dsink.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                      +[](GstPad*, GstPadProbeInfo* info, gpointer d) {
                        GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
                        if (GST_EVENT_TYPE(ev) != GST_EVENT_CUSTOM_DOWNSTREAM) return GST_PAD_PROBE_OK;
                        const GstStructure* st = gst_event_get_structure(ev);
                        if (!st || !gst_structure_has_name(st, "GstRTPPacketLost")) return GST_PAD_PROBE_OK;
                        GstClockTime dur = 0;
                        gst_structure_get_clock_time(st, "duration", &dur);
                        auto* self = static_cast<ReceiveProbes*>(d);
                        std::lock_guard guard(self->mutex_);
                        self->frame_log_.audio_concealed_ms += static_cast<double>(dur) / 1e6;
                        return GST_PAD_PROBE_OK;
                      },
                      this, nullptr);
  }
}

void ReceiveProbes::on_video_caps(GstEvent* ev) {
  GstCaps* caps = nullptr;
  gst_event_parse_caps(ev, &caps);
  int w = 0, h = 0;
  const GstStructure* s = gst_caps_get_structure(caps, 0);
  gst_structure_get_int(s, "width", &w);
  gst_structure_get_int(s, "height", &h);
  // One store: a reader never sees the width of one size with the height
  // of another.
  const uint64_t packed = pack_size(w, h);
  if (size_.exchange(packed) != packed) log()->info("peer{}: remote video {}x{}", peer_id_, w, h);
}

GstPadProbeReturn ReceiveProbes::on_decoded(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<ReceiveProbes*>(data);
  const bool video_pad = g_object_get_data(G_OBJECT(pad), kVideoPadKey) != nullptr;
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(ev) == GST_EVENT_CAPS && video_pad) self->on_video_caps(ev);
    return GST_PAD_PROBE_OK;
  }
  const MediaKind kind = video_pad ? MediaKind::Video : MediaKind::Audio;
  if (video_pad)
    self->video_frames_.fetch_add(1, std::memory_order_relaxed);
  else
    self->audio_buffers_.fetch_add(1, std::memory_order_relaxed);
  if (GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info)) {
    if (video_pad)
      self->log_video_frame(pad, buf);
    else
      self->log_audio_buffer(pad, buf);
  }
  auto& first = video_pad ? self->first_video_ : self->first_audio_;
  if (!first.exchange(true) && self->on_first_media_) self->on_first_media_(kind);
  return GST_PAD_PROBE_OK;
}

void ReceiveProbes::log_video_frame(GstPad* pad, GstBuffer* buf) {
  const auto& o = options_;
  if (!o.frame_log && !o.latency_stamp && !o.keep_last_frame) return;
  const int64_t now = g_get_monotonic_time();
  GUnique<GstCaps> caps((o.latency_stamp || o.keep_last_frame) ? gst_pad_get_current_caps(pad) : nullptr);
  std::optional<double> latency;
  if (o.latency_stamp && caps) {
    GstVideoInfo vinfo;
    GstVideoFrame frame;
    if (gst_video_info_from_caps(&vinfo, caps.get()) && gst_video_frame_map(&frame, &vinfo, buf, GST_MAP_READ)) {
      if (auto ms = read_stamp(&frame)) {
        const double d = static_cast<double>(g_get_real_time()) / 1000.0 - static_cast<double>(*ms);
        if (d > -1000 && d < 60000) latency = d;  // else: not our stamp, or unsynchronized clocks
      }
      gst_video_frame_unmap(&frame);
    }
  }
  std::lock_guard lock(mutex_);
  constexpr size_t kMax = 100000;  // ~1 hour at 30 fps if nobody drains
  auto bounded_push = [](auto& v, auto x) {
    if (v.size() >= kMax) v.erase(v.begin(), v.begin() + kMax / 2);
    v.push_back(x);
  };
  if (o.frame_log) {
    // In order: due times follow the PTS, and a late frame renders now.
    last_render_us_ = std::max(last_render_us_, render_time_us(pad, buf, now));
    bounded_push(frame_log_.video_render_times_us, last_render_us_);
  }
  if (latency) bounded_push(frame_log_.latency_ms, *latency);
  if (o.keep_last_frame && caps) {
    last_video_.reset(gst_buffer_ref(buf));
    last_video_caps_ = std::move(caps);
  }
}

int64_t ReceiveProbes::render_time_us(GstPad* pad, GstBuffer* buf, int64_t decoded_us) const {
  const unsigned latency_ms = playout_latency_ms_ ? playout_latency_ms_->load(std::memory_order_relaxed) : 0;
  GstElement* decoder = GST_PAD_PARENT(pad);
  if (latency_ms == 0 || !GST_BUFFER_PTS_IS_VALID(buf) || !decoder) return decoded_us;
  GRef<GstClock> clock = GRef<GstClock>::adopt(gst_element_get_clock(decoder));
  GUnique<GstEvent> seg_event(gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0));
  if (!clock || !seg_event) return decoded_us;
  const GstSegment* seg = nullptr;
  gst_event_parse_segment(seg_event.get(), &seg);
  const GstClockTime running = gst_segment_to_running_time(seg, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
  if (!GST_CLOCK_TIME_IS_VALID(running)) return decoded_us;
  const GstClockTime latency = static_cast<GstClockTime>(latency_ms) * GST_MSECOND;
  const GstClockTime due = gst_element_get_base_time(decoder) + running + latency;
  const GstClockTime now = gst_clock_get_time(clock.get());
  if (due <= now) return decoded_us;  // late: shown on arrival
  const GstClockTime wait = due - now;
  // More than the latency ahead is a timestamp we cannot place (a new
  // segment, a clock change): the decoder's time instead.
  if (wait > latency + GST_SECOND) return decoded_us;
  return decoded_us + static_cast<int64_t>(wait / 1000);
}

void ReceiveProbes::log_audio_buffer(GstPad* pad, GstBuffer* buf) {
  if (!options_.frame_log) return;
  GUnique<GstCaps> caps(gst_pad_get_current_caps(pad));
  if (!caps) return;
  GstAudioInfo ainfo;
  if (!gst_audio_info_from_caps(&ainfo, caps.get()) || GST_AUDIO_INFO_FORMAT(&ainfo) != GST_AUDIO_FORMAT_S16)
    return;
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
  std::lock_guard lock(mutex_);
  frame_log_.audio_sum_squares += sum;
  frame_log_.audio_samples += n;
}

ReceiveProbes::Counters ReceiveProbes::counters() const {
  Counters c;
  c.video_frames = video_frames_.load();
  c.audio_buffers = audio_buffers_.load();
  const uint64_t size = size_.load();
  c.video_width = static_cast<int>(static_cast<uint32_t>(size >> 32));
  c.video_height = static_cast<int>(static_cast<uint32_t>(size));
  c.video_frames_received = video_frames_received_.load();
  c.video_in_ssrc = video_in_ssrc_.load();
  c.audio_in_ssrc = audio_in_ssrc_.load();
  c.keyframe_requests = keyframes_->requests_sent();
  c.video_packets_lost = keyframes_->frames_lost();
  return c;
}

ReceiveProbes::FrameLog ReceiveProbes::take_frame_log() {
  std::lock_guard lock(mutex_);
  FrameLog out = std::exchange(frame_log_, FrameLog{});
  frame_log_.audio_concealed_ms = out.audio_concealed_ms;
  return out;
}

GUnique<GstSample> ReceiveProbes::last_video_sample() const {
  std::lock_guard lock(mutex_);
  if (!last_video_ || !last_video_caps_) return nullptr;
  return GUnique<GstSample>(gst_sample_new(last_video_.get(), last_video_caps_.get(), nullptr, nullptr));
}

}  // namespace callagent::media
