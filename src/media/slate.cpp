#include "media/slate.h"

#include "common/logging.h"
#include "gst/gst_util.h"

#include <fmt/format.h>

#include <utility>

namespace callagent::media {

namespace {
auto log() { return logging::get("media"); }

// Dark blue-grey (ARGB): text reads well on it, and it is plainly not a
// camera picture nor a black screen.
constexpr guint kBackground = 0xff1f2a36;

std::string escaped(const std::string& s) {
  GCharPtr e(g_markup_escape_text(s.c_str(), static_cast<gssize>(s.size())));
  return e ? e.get() : std::string();
}
}  // namespace

std::string slate_markup(const std::string& title, const std::string& detail) {
  std::string m = fmt::format("<span size=\"x-large\" weight=\"bold\">{}</span>", escaped(title));
  if (!detail.empty()) m += "\n<span size=\"small\">" + escaped(detail) + "</span>";
  return m;
}

GstElement* add_slate_source(GstBin* bin, const std::string& caps, const std::string& markup, GstElement** text) {
  GstElement* src = make_element("videotestsrc", nullptr);
  GstElement* filter = make_element("capsfilter", nullptr);
  if (!src || !filter) {
    if (src) gst_object_unref(gst_object_ref_sink(src));
    if (filter) gst_object_unref(gst_object_ref_sink(filter));
    return nullptr;
  }
  gst_util_set_object_arg(G_OBJECT(src), "pattern", "solid-color");
  g_object_set(src, "foreground-color", kBackground, "is-live", TRUE, nullptr);
  set_caps(filter, caps);
  gst_bin_add_many(bin, src, filter, nullptr);
  if (!gst_element_link(src, filter)) return nullptr;
  GstElement* last = filter;
  // The words need the pango plugin (gst-plugins-base): without it the
  // slate is the plain background (said once).
  GstElement* overlay = have_factory("textoverlay") ? make_element("textoverlay", nullptr) : nullptr;
  if (overlay) {
    // auto-resize (the default) scales the font with the picture.
    g_object_set(overlay, "text", markup.c_str(), "font-desc", "Sans 20", "shaded-background", FALSE,
                 "draw-shadow", FALSE, nullptr);
    gst_util_set_object_arg(G_OBJECT(overlay), "line-alignment", "center");
    gst_util_set_object_arg(G_OBJECT(overlay), "halignment", "center");
    gst_util_set_object_arg(G_OBJECT(overlay), "valignment", "center");
    gst_bin_add(bin, overlay);
    if (!gst_element_link(last, overlay)) return nullptr;
    last = overlay;
    if (text) *text = overlay;
  } else {
    static bool said = false;
    if (!std::exchange(said, true))
      log()->warn("slate: no textoverlay (gstreamer1.0-plugins-base's pango plugin): the slate has no words");
  }
  if (GstElement* clock = have_factory("clockoverlay") ? make_element("clockoverlay", nullptr) : nullptr) {
    g_object_set(clock, "time-format", "%H:%M", "font-desc", "Sans 14", "shaded-background", FALSE,
                 "draw-shadow", FALSE, nullptr);
    gst_util_set_object_arg(G_OBJECT(clock), "halignment", "right");
    gst_util_set_object_arg(G_OBJECT(clock), "valignment", "top");
    gst_bin_add(bin, clock);
    if (!gst_element_link(last, clock)) return nullptr;
    last = clock;
  }
  return last;
}

std::unique_ptr<Slate> Slate::create(const std::string& sink_spec, bool fullscreen, int width, int height,
                                     const std::string& title, const std::string& detail) {
  std::unique_ptr<Slate> s(new Slate());
  s->display_ = VideoDisplay::create(sink_spec, fullscreen);
  if (!s->display_) return nullptr;  // logged
  s->pipeline_ = GRef<GstElement>::ref_sink(gst_pipeline_new("slate"));
  GstBin* bin = GST_BIN(s->pipeline_.get());
  s->markup_ = slate_markup(title, detail);
  GstElement* last = add_slate_source(
      bin, fmt::format("video/x-raw,width={},height={},framerate={}/1", width, height, kFps), s->markup_, &s->text_);
  GstElement* convert = make_element("videoconvert", nullptr);
  GstElement* scale = make_element("videoscale", nullptr);
  if (!last || !convert || !scale) {
    log()->error("slate: cannot build its pipeline (videotestsrc, videoconvert, videoscale)");
    return nullptr;
  }
  gst_bin_add_many(bin, convert, scale, s->display_->sink(), nullptr);
  if (!link_many({last, convert, scale, s->display_->sink()})) {
    log()->error("slate: cannot link its pipeline to {}", s->display_->description());
    return nullptr;
  }
  GRef<GstBus> bus = GRef<GstBus>::adopt(gst_element_get_bus(s->pipeline_.get()));
  s->bus_watch_ = gst_bus_add_watch(bus.get(), &Slate::on_bus, s.get());
  s->display_->show("callagent");
  if (gst_element_set_state(s->pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    log()->error("slate: {} would not start", s->display_->description());
    return nullptr;
  }
  log()->info("slate on {}: {} / {}", s->display_->description(), title, detail);
  return s;
}

void Slate::set_text(const std::string& title, const std::string& detail) {
  std::string m = slate_markup(title, detail);
  if (m == markup_) return;
  markup_ = std::move(m);
  if (text_) g_object_set(text_, "text", markup_.c_str(), nullptr);
  log()->info("slate: {} / {}", title, detail);
}

gboolean Slate::on_bus(GstBus*, GstMessage* msg, gpointer data) {
  auto* self = static_cast<Slate*>(data);
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR && self->ok_) {
    GError* raw = nullptr;
    gst_message_parse_error(msg, &raw, nullptr);
    GErrorPtr err(raw);
    log()->warn("slate: {} ({}): no slate from now on", err ? err->message : "display error",
                GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)));
    self->ok_ = false;
  }
  return G_SOURCE_CONTINUE;
}

Slate::~Slate() {
  if (bus_watch_) g_source_remove(bus_watch_);
  if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  pipeline_.reset();
  display_.reset();  // its window after the sink stopped drawing into it
}

}  // namespace callagent::media
