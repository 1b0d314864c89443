#include "media/encoder.h"

#include <gst/video/video.h>

namespace callagent::media {

Result<std::unique_ptr<Encoder>> Encoder::append(ElementChain& chain, const CodecInfo& codec,
                                                 const EncoderSettings& settings) {
  auto elements = make_encoder_elements(codec, settings);
  if (!elements) return elements.error();
  for (const auto& e : *elements) chain.add(e);
  return std::unique_ptr<Encoder>(new Encoder(codec, elements->front().get()));
}

Encoder::Encoder(const CodecInfo& codec, GstElement* encoder)
    : codec_(codec),
      encoder_(encoder),
      probe_(encoder, "src",
             GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_UPSTREAM),
             &Encoder::on_probe, this) {}

void Encoder::request_keyframe() {
  if (codec_.kind != MediaKind::Video) return;
  g_autoptr(GstPad) p = gst_element_get_static_pad(encoder_, "src");
  gst_pad_send_event(p, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
}

GstPadProbeReturn Encoder::on_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<Encoder*>(data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    self->buffers_encoded_.fetch_add(1, std::memory_order_relaxed);
  } else if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_UPSTREAM) {
    if (gst_video_event_is_force_key_unit(GST_PAD_PROBE_INFO_EVENT(info)))
      self->keyframe_requests_.fetch_add(1, std::memory_order_relaxed);
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace callagent::media
