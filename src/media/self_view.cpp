#include "media/self_view.h"

#include "common/logging.h"
#include "gst/gst_util.h"

#include <gst/video/videooverlay.h>

namespace callagent::media {

namespace {
auto log() { return logging::get("media"); }
}  // namespace

std::unique_ptr<SelfView> SelfView::create(GstBin* pipeline, GstElement* raw_tee, const std::string& corner) {
  if (!raw_tee) return nullptr;
  if (!have_factory("ximagesink")) {
    log()->warn("self-view: needs ximagesink (gstreamer1.0-x); none shown");
    return nullptr;
  }
  std::unique_ptr<SelfView> v(new SelfView());
  v->window_ = X11Window::create_corner("callagent self-view", corner);  // logged when no X server
  if (!v->window_) return nullptr;
  GstElement* queue = make_element("queue", "self-view-queue");
  GstElement* scale = make_element("videoscale", "self-view-scale");
  GstElement* convert = make_element("videoconvert", "self-view-convert");
  GstElement* sink = make_element("ximagesink", "self-view-sink");
  if (!queue || !scale || !convert || !sink) {
    for (GstElement* e : {queue, scale, convert, sink})
      if (e) gst_object_unref(gst_object_ref_sink(e));
    return nullptr;  // make_element logged which
  }
  g_object_set(queue, "leaky", 2 /* downstream: drop the oldest */, "max-size-buffers", 2u, "max-size-time",
               static_cast<guint64>(0), "max-size-bytes", 0u, nullptr);
  // Shown as it comes: no clock wait, no preroll, no QoS drops.
  g_object_set(sink, "sync", FALSE, "async", FALSE, "qos", FALSE, "force-aspect-ratio", TRUE, nullptr);
  gst_video_overlay_set_window_handle(GST_VIDEO_OVERLAY(sink), v->window_->handle());
  gst_bin_add_many(pipeline, queue, scale, convert, sink, nullptr);
  if (!gst_element_link(raw_tee, queue) || !link_many({queue, scale, convert, sink})) {
    log()->error("self-view: cannot link its branch; none shown");
    // Out of the pipeline before the window goes (still in NULL: nothing drew).
    gst_bin_remove_many(pipeline, queue, scale, convert, sink, nullptr);
    return nullptr;
  }
  // Built before the pipeline starts (MediaEngine::build): its start
  // brings these up. (A sink taken to READY and back to NULL here would
  // forget the window it was given and open one of its own.)
  log()->info("self-view: the local video {}x{} in the {} corner", v->window_->width(), v->window_->height(), corner);
  return v;
}

void SelfView::raise() {
  if (window_) window_->raise();
}

}  // namespace callagent::media
