#include "media/sent_frame_probe.h"

#include "gst/gst_util.h"
#include "media/frame_stamp.h"

#include <gst/video/video.h>

namespace callagent::media {

SentFrameProbe::SentFrameProbe(GstElement* raw_video, bool stamp)
    : stamp_(stamp),
      probe_(raw_video, "src", GST_PAD_PROBE_TYPE_BUFFER, &SentFrameProbe::on_probe, this) {}

GstPadProbeReturn SentFrameProbe::on_probe(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<SentFrameProbe*>(data);
  if (self->paused_.load(std::memory_order_relaxed)) return GST_PAD_PROBE_DROP;
  if (!self->stamp_) return GST_PAD_PROBE_OK;
  GUnique<GstCaps> caps(gst_pad_get_current_caps(pad));
  if (!caps) return GST_PAD_PROBE_OK;
  GstVideoInfo vinfo;
  if (!gst_video_info_from_caps(&vinfo, caps.get()) || !can_stamp(vinfo)) return GST_PAD_PROBE_OK;
  GstBuffer* buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_DATA(info) = buf;
  GstVideoFrame frame;
  if (gst_video_frame_map(&frame, &vinfo, buf, GST_MAP_WRITE)) {
    write_stamp(&frame, static_cast<uint64_t>(g_get_real_time() / 1000));
    gst_video_frame_unmap(&frame);
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace callagent::media
