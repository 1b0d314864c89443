#include "media/encoder.h"

#include <gst/video/video.h>

#include <algorithm>

namespace callagent::media {

namespace {
// libvpx's rate control for a thin, congestion-controlled link. vp8enc's
// defaults are a 6 s client buffer (4 s initial, 5 s optimal) and no cap on
// keyframes: made for files, they let CBR overshoot a cut target for
// seconds and make the first keyframe after a caps change (a ladder step
// re-creates the encoder) tens of kB. Nothing paces our send path, so a
// frame leaves in one burst: on a 2 Mbit/s link with a 100 ms drop-tail
// queue (25 kB, shared with the other direction) such a keyframe loses its
// tail, the receiver asks for another, and the picture freezes for seconds
// (measured: docs/measurements.md, "Sender on a thin link"). So, as
// libwebrtc does for VP8: a 1 s buffer (0.6 s optimal), overshoot 15 %;
// but 0.25 s initial, not libwebrtc's 0.5 s: the encoder may spend what
// its buffer starts with above the target before it drops a frame (down
// to 30 % of optimal), and every ladder step re-creates it. A detailed
// picture that a 1 Mbit/s target cannot hold at 720p then went out at
// 1.6 Mbit/s for the step's second, and on a shared 2 Mbit/s cap that
// filled the queue and lost 10-15 % of the next second's packets
// (libwebrtc's pacer and frame dropper absorb this; we have neither).
// With 0.25 s the excess is ~70 ms of the target. And keyframes at most
// 3 x an average frame
// (`max-intra-bitrate`, % of the per-frame budget; libwebrtc allows more
// because its pacer spreads a keyframe, webrtcsink uses 250).
// And frame dropping, as libwebrtc enables it for real-time VP8
// (`dropframe-threshold` 30: a frame is skipped while the buffer is below
// 30 % of its optimal level). Without it CBR has a floor: at the highest
// quantizer a detailed 720p picture still takes what it takes, and a cut
// target changed nothing (measured on a 2 Mbit/s cap with the test
// pattern: 2.1-2.5 Mbit/s sent for 4 s against a 0.1-0.9 Mbit/s target,
// until the ladder's smaller picture came; the link drowned meanwhile).
// With it the rate follows the target within frames, at a lower frame rate
// until the ladder steps down.
void configure_vpx_rate_control(GstElement* enc) {
  GObjectClass* klass = G_OBJECT_GET_CLASS(enc);
  for (const char* p : {"buffer-size", "buffer-initial-size", "buffer-optimal-size", "max-intra-bitrate",
                        "overshoot", "dropframe-threshold"})
    if (!g_object_class_find_property(klass, p)) return;  // not libvpx
  g_object_set(enc, "buffer-size", 1000, "buffer-initial-size", 250, "buffer-optimal-size", 600,
               "max-intra-bitrate", 300, "overshoot", 15, "dropframe-threshold", 30, nullptr);
}
}  // namespace

Result<std::unique_ptr<Encoder>> Encoder::append(ElementChain& chain, const CodecInfo& codec,
                                                 const EncoderSettings& settings) {
  auto elements = make_encoder_elements(codec, settings);
  if (!elements) return elements.error();
  for (const auto& e : *elements) chain.add(e);
  if (codec.codec == Codec::VP8 || codec.codec == Codec::VP9) configure_vpx_rate_control(elements->front().get());
  return std::unique_ptr<Encoder>(
      new Encoder(codec, elements->front().get(), int64_t{settings.bitrate_kbps} * 1000));
}

// Set around a force-key-unit event that we send ourselves (our own
// requests, and a deferred one answered from the buffer probe): the
// upstream probe then lets it pass. Per thread: the probe runs in the
// thread that sends the event, and the main thread and a streaming
// thread may both be sending one.
static thread_local bool t_forcing = false;

Encoder::Encoder(const CodecInfo& codec, GstElement* encoder, int64_t bitrate_bps)
    : codec_(codec),
      encoder_(encoder),
      bitrate_bps_(bitrate_bps),
      probe_(encoder, "src",
             GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_UPSTREAM),
             &Encoder::on_probe, this),
      in_probe_(encoder, "sink", GST_PAD_PROBE_TYPE_BUFFER,
                [](GstPad*, GstPadProbeInfo*, gpointer data) {
                  static_cast<Encoder*>(data)->buffers_in_.fetch_add(1, std::memory_order_relaxed);
                  return GST_PAD_PROBE_OK;
                },
                this) {}

void Encoder::request_keyframe() {
  if (codec_.kind != MediaKind::Video) return;
  {
    std::lock_guard lock(responder_mutex_);
    responder_.on_keyframe_sent(g_get_monotonic_time());  // the interval starts now
  }
  keyframes_forced_.fetch_add(1, std::memory_order_relaxed);
  g_autoptr(GstPad) p = gst_element_get_static_pad(encoder_, "src");
  t_forcing = true;  // past our own probe's limit
  gst_pad_send_event(p, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
  t_forcing = false;
}

bool Encoder::set_bitrate(int64_t bps) {
  if (bps <= 0) return false;
  // The property names of the factory actually used (the codec table may
  // have picked a hardware encoder).
  GObjectClass* klass = G_OBJECT_GET_CLASS(encoder_);
  const int value = static_cast<int>(std::min<int64_t>(bps, G_MAXINT));
  if (codec_.codec == Codec::VP8 || codec_.codec == Codec::VP9 || codec_.codec == Codec::Opus) {
    if (!g_object_class_find_property(klass, codec_.codec == Codec::Opus ? "bitrate" : "target-bitrate"))
      return false;
    g_object_set(encoder_, codec_.codec == Codec::Opus ? "bitrate" : "target-bitrate", value, nullptr);
  } else if (codec_.codec == Codec::H264 && g_object_class_find_property(klass, "key-int-max")) {
    // x264enc: kbit/s (uint).
    g_object_set(encoder_, "bitrate", static_cast<guint>(std::max<int64_t>(1, bps / 1000)), nullptr);
  } else {
    return false;
  }
  bitrate_bps_ = bps;
  return true;
}

bool Encoder::set_packet_loss_percentage(int percent) {
  if (codec_.codec != Codec::Opus) return false;
  g_object_set(encoder_, "packet-loss-percentage", std::clamp(percent, 0, 100), nullptr);
  return true;
}

// Keyframe requests (PLI/FIR from every partner, a new peer) go through
// the responder: one keyframe per 300 ms, a request inside that interval is
// dropped here and answered, once, by a request of our own when it ends.
GstPadProbeReturn Encoder::on_probe(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<Encoder*>(data);
  const int64_t now = g_get_monotonic_time();
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    self->buffers_encoded_.fetch_add(1, std::memory_order_relaxed);
    if (self->codec_.kind != MediaKind::Video) return GST_PAD_PROBE_OK;
    GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
    bool force = false;
    {
      std::lock_guard lock(self->responder_mutex_);
      if (buf && !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT))
        self->responder_.on_keyframe_sent(now);
      else
        force = self->responder_.poll(now);
    }
    if (force) {
      self->keyframes_forced_.fetch_add(1, std::memory_order_relaxed);
      t_forcing = true;
      gst_pad_send_event(pad, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
      t_forcing = false;
    }
  } else if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_UPSTREAM) {
    if (!gst_video_event_is_force_key_unit(GST_PAD_PROBE_INFO_EVENT(info)) || t_forcing)
      return GST_PAD_PROBE_OK;
    self->keyframe_requests_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(self->responder_mutex_);
    if (!self->responder_.on_request(now)) return GST_PAD_PROBE_DROP;
    self->keyframes_forced_.fetch_add(1, std::memory_order_relaxed);
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace callagent::media
