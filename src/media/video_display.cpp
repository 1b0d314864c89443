#include "media/video_display.h"

#include "common/logging.h"
#include "gst/gst_util.h"

#include <fmt/format.h>
#include <gst/video/videooverlay.h>

namespace callagent::media {

namespace {
auto log() { return logging::get("media"); }

bool has_property(GstElement* e, const char* name) {
  return g_object_class_find_property(G_OBJECT_GET_CLASS(e), name) != nullptr;
}

std::string factory_name(GstElement* e) {
  GstElementFactory* f = gst_element_get_factory(e);
  return f ? GST_OBJECT_NAME(f) : G_OBJECT_TYPE_NAME(e);
}

// The sinks whose GstVideoOverlay window handle is an X11 window id.
bool takes_x11_window(const std::string& factory) {
  return factory == "ximagesink" || factory == "xvimagesink";
}

// The element that really draws: the sink itself, or the one autovideosink
// (any bin) picked; nullptr when a bin holds no sink.
GstElement* drawing_sink(GstElement* sink) {
  if (!GST_IS_BIN(sink)) return sink;
  GstElement* found = nullptr;
  GstIterator* it = gst_bin_iterate_sinks(GST_BIN(sink));
  GValue v = G_VALUE_INIT;
  while (!found && gst_iterator_next(it, &v) == GST_ITERATOR_OK) {
    found = GST_ELEMENT(g_value_get_object(&v));  // borrowed: the bin keeps it
    g_value_reset(&v);
  }
  g_value_unset(&v);
  gst_iterator_free(it);
  return found;
}
}  // namespace

std::unique_ptr<VideoDisplay> VideoDisplay::create(const std::string& spec, bool fullscreen) {
  const std::string factory = spec == "auto" ? "autovideosink" : spec;
  std::unique_ptr<VideoDisplay> d(new VideoDisplay());
  d->fullscreen_ = fullscreen;
  d->sink_ = GRef<GstElement>::ref_sink(make_element(factory.c_str(), "video-display"));
  if (!d->sink_) return nullptr;  // ours; the bin takes another
  // Opening the output now (READY) turns "no display here" into an error
  // the caller can handle, and autovideosink makes its real sink then,
  // trying each candidate until one opens: configure the one it kept.
  if (gst_element_set_state(d->sink_.get(), GST_STATE_READY) == GST_STATE_CHANGE_FAILURE) {
    const char* display = g_getenv("DISPLAY");
    log()->error("display: {} cannot open its output here (DISPLAY={})", factory, display ? display : "unset");
    gst_element_set_state(d->sink_.get(), GST_STATE_NULL);
    return nullptr;
  }
  GstElement* target = drawing_sink(d->sink_.get());
  if (!target) {
    log()->error("display: {} holds no sink", factory);
    gst_element_set_state(d->sink_.get(), GST_STATE_NULL);
    return nullptr;
  }
  d->target_ = GRef<GstElement>::ref(target);
  d->description_ = factory;
  if (target != d->sink_.get()) {
    d->description_ = fmt::format("{} ({})", factory, factory_name(target));
    log()->info("display: {} chose {}", factory, factory_name(target));
  }
  // Added to a playing pipeline: must not wait for preroll (a sink that waits for preroll there never prerolls: the pipeline is PLAYING already).
  set_if_exists(d->sink_.get(), "async", false);
  if (target != d->sink_.get()) set_if_exists(target, "async", false);

  if (fullscreen) {
    if (GstElement* e = has_property(d->sink_.get(), "fullscreen") ? d->sink_.get()
                        : has_property(target, "fullscreen") ? target : nullptr) {
      g_object_set(e, "fullscreen", TRUE, nullptr);
      d->description_ += ", full screen";
    } else if (!takes_x11_window(factory_name(target)) || !GST_IS_VIDEO_OVERLAY(target)) {
      log()->warn("display: {} cannot be made full screen; it shows the video as it does",
                  factory_name(target));
    }
  } else if (takes_x11_window(factory_name(target))) {
    d->description_ += ", in a window of the video's size";
  }
  return d;
}

void VideoDisplay::show(const std::string& title) {
  if (!fullscreen_ || window_ || !takes_x11_window(factory_name(target_.get())) || !GST_IS_VIDEO_OVERLAY(target_.get()))
    return;
  window_ = X11Window::create_fullscreen(title);
  if (window_) {
    gst_video_overlay_set_window_handle(GST_VIDEO_OVERLAY(target_.get()), window_->handle());
    description_ += fmt::format(", full screen {}x{}", window_->width(), window_->height());
  } else {
    description_ += ", in a window of the video's size (no full-screen window)";
  }
}

std::optional<VideoDisplay::Counts> VideoDisplay::counts() const {
  if (!target_.get() || !has_property(target_.get(), "stats")) return std::nullopt;
  GstStructure* st = nullptr;
  g_object_get(target_.get(), "stats", &st, nullptr);
  if (!st) return std::nullopt;
  Counts c;
  guint64 v = 0;
  if (gst_structure_get_uint64(st, "rendered", &v)) c.rendered = v;
  if (gst_structure_get_uint64(st, "dropped", &v)) c.dropped = v;
  gst_structure_free(st);
  return c;
}

void VideoDisplay::log_counts(std::string_view who) const {
  if (auto c = counts(); c && (c->rendered || c->dropped))
    log()->info("{}display: {} frames shown, {} dropped as late", who, c->rendered, c->dropped);
}

VideoDisplay::~VideoDisplay() {
  target_.reset();
  if (sink_) {
    // Normally in NULL already with the bin that owns it; alone (never
    // added) it must go to NULL before its last reference goes.
    if (!GST_OBJECT_PARENT(sink_.get())) gst_element_set_state(sink_.get(), GST_STATE_NULL);
    sink_.reset();
  }
  window_.reset();  // after the sink stopped drawing into it
}

}  // namespace callagent::media
