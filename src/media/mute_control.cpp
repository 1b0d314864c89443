#include "media/mute_control.h"

#include "gst/gst_util.h"

#include <gst/video/video.h>

#include <cstring>

namespace callagent::media {

std::unique_ptr<MuteControl> MuteControl::for_video(GstElement* raw_video) {
  std::unique_ptr<MuteControl> m(new MuteControl());
  m->paint_probe_ = PadProbe(raw_video, "src", GST_PAD_PROBE_TYPE_BUFFER,
                             &MuteControl::on_paint_probe, m.get());
  return m;
}

std::unique_ptr<MuteControl> MuteControl::for_audio(GstElement* volume) {
  std::unique_ptr<MuteControl> m(new MuteControl());
  m->volume_ = volume;
  return m;
}

bool MuteControl::set(bool muted) {
  if (muted_.exchange(muted) == muted) return false;
  if (volume_) g_object_set(volume_, "mute", muted ? TRUE : FALSE, nullptr);
  return true;
}

GstPadProbeReturn MuteControl::on_paint_probe(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<MuteControl*>(data);
  if (!self->muted_.load(std::memory_order_relaxed)) return GST_PAD_PROBE_OK;
  GUnique<GstCaps> caps(gst_pad_get_current_caps(pad));
  if (!caps) return GST_PAD_PROBE_OK;
  GstVideoInfo vinfo;
  if (!gst_video_info_from_caps(&vinfo, caps.get())) return GST_PAD_PROBE_OK;
  GstBuffer* buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_DATA(info) = buf;
  GstVideoFrame frame;
  if (gst_video_frame_map(&frame, &vinfo, buf, GST_MAP_WRITE)) {
    // I420 (forced by the capsfilter): Y=16, U=V=128 is black.
    for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&frame); ++p) {
      auto* d = static_cast<guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, p));
      int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, p);
      int rows = GST_VIDEO_FRAME_COMP_HEIGHT(&frame, p);
      memset(d, p == 0 ? 16 : 128, static_cast<size_t>(stride) * rows);
    }
    gst_video_frame_unmap(&frame);
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace callagent::media
