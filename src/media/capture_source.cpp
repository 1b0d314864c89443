#include "media/capture_source.h"

#include "common/logging.h"
#include "media/camera_mode.h"
#include "media/slate.h"

#include <fmt/format.h>

namespace callagent::media {

namespace {
auto log() { return logging::get("media"); }

const SourceSpec& spec_of(const MediaOptions& o, MediaKind k) {
  return k == MediaKind::Video ? o.video_source : o.audio_source;
}

GRef<GstElement> sunk(GstElement* floating) { return GRef<GstElement>::ref_sink(floating); }

std::string raw_video_caps(const VideoPreset& v) {
  return fmt::format("video/x-raw,width={},height={},framerate={}/1", v.width, v.height, v.fps);
}

// A device (camera/microphone) chosen by GstDeviceMonitor: the first of
// its class (GStreamer sorts by provider priority; pipewire/pulse first).
// `caps`/`display_name`, when given, receive the device's own caps (its real
// modes, where the element of some providers, e.g. pipewiresrc, only
// answers its template) and its name.
GRef<GstElement> default_device_element(const char* klass, GUnique<GstCaps>* caps = nullptr,
                                        std::string* display_name = nullptr) {
  g_autoptr(GstDeviceMonitor) mon = gst_device_monitor_new();
  gst_device_monitor_add_filter(mon, klass, nullptr);
  GRef<GstElement> e;
  if (!gst_device_monitor_start(mon)) return e;
  g_autolist(GstDevice) devices = gst_device_monitor_get_devices(mon);
  if (devices) {
    GstDevice* d = GST_DEVICE(devices->data);
    GCharPtr name(gst_device_get_display_name(d));
    log()->info("auto {}: using '{}'", klass, name.get());
    e = sunk(gst_device_create_element(d, nullptr));
    if (caps) caps->reset(gst_device_get_caps(d));
    if (display_name && name) *display_name = name.get();
  }
  gst_device_monitor_stop(mon);
  return e;
}

bool ghost(GstElement* bin, GstElement* inner, const char* inner_pad, const char* name) {
  g_autoptr(GstPad) target = gst_element_get_static_pad(inner, inner_pad);
  if (!target) return false;
  return gst_element_add_pad(bin, gst_ghost_pad_new(name, target));
}
}  // namespace

Result<std::unique_ptr<CaptureSource>> CaptureSource::create(GstBin* pipeline, MediaKind kind,
                                                             const MediaOptions& options) {
  std::unique_ptr<CaptureSource> s(new CaptureSource(kind, options));
  auto bin = s->make_bin();
  if (!bin) return bin.error();
  // A replacement is built while the bin it replaces is still in the
  // pipeline (LocalSource::replace_source): names are unique in a bin, so
  // every later one is numbered ("video-source-2").
  static std::atomic<unsigned> made[2]{};
  if (const unsigned n = ++made[kind == MediaKind::Video ? 0 : 1]; n > 1)
    gst_object_set_name(GST_OBJECT(bin->get()), fmt::format("{}-source-{}", to_string(kind), n).c_str());
  if (!gst_bin_add(pipeline, bin->get()))
    return Error{ExitCode::Software, fmt::format("cannot add the {} source to the pipeline", to_string(kind))};
  s->bin_ = bin->get();
  return s;
}

CaptureSource::CaptureSource(MediaKind kind, const MediaOptions& options)
    : kind_(kind), options_(options) {}

Result<GRef<GstElement>> CaptureSource::make_device_element() {
  const SourceSpec& spec = spec_of(options_, kind_);
  using T = SourceSpec::Type;
  GRef<GstElement> e;
  const std::string& sub = options_.substitute_device_element;
  if (!sub.empty() && spec.is_capture_device()) {
    if (sub.find_first_of("!= ") != std::string::npos) {
      // A gst-launch description: a bin whose ghost src pad offers what the
      // description ends with (e.g. "... ! jpegenc" for an MJPEG camera).
      GError* raw = nullptr;
      e = sunk(gst_parse_bin_from_description(sub.c_str(), TRUE, &raw));
      GErrorPtr err(raw);
      if (!e || err)
        return Error{ExitCode::Config, fmt::format("bad substitute device description '{}': {}",
                                                   sub, err ? err->message : "?")};
    } else {
      e = sunk(make_element(sub.c_str(), nullptr));
    }
    if (e) {
      set_if_exists(e.get(), "is-live", true);
      log()->info("{} source {}: device element substituted by {}", to_string(kind_),
                  to_string(spec), sub);
      device_name_ = fmt::format("{} (substitute)", spec.device.empty() ? "auto" : spec.device);
      return e;
    }
  }
  switch (spec.type) {
    case T::V4l2:
      e = sunk(make_element("v4l2src", nullptr));
      if (e) g_object_set(e.get(), "device", spec.device.c_str(), nullptr);
      device_name_ = spec.device;
      break;
    case T::Alsa:
      e = sunk(make_element("alsasrc", nullptr));
      if (e && !spec.device.empty()) g_object_set(e.get(), "device", spec.device.c_str(), nullptr);
      break;
    case T::Pulse:
      e = sunk(make_element("pulsesrc", nullptr));
      if (e && !spec.device.empty()) g_object_set(e.get(), "device", spec.device.c_str(), nullptr);
      break;
    case T::Auto:
      if (kind_ == MediaKind::Video)
        e = default_device_element("Video/Source", &device_caps_, &device_name_);
      else
        e = default_device_element("Audio/Source");
      if (!e)
        return Error{ExitCode::Unavailable,
                     fmt::format("no {} found; use --{}-source test (or none)",
                                 kind_ == MediaKind::Video ? "camera" : "microphone",
                                 to_string(kind_))};
      break;
    default: break;
  }
  if (!e)
    return Error{ExitCode::Config, fmt::format("cannot create {} source {}", to_string(kind_),
                                               to_string(spec))};
  return e;
}

Result<GRef<GstElement>> CaptureSource::make_bin() {
  const SourceSpec& spec = spec_of(options_, kind_);
  const bool test = spec.type == SourceSpec::Type::Test;
  GRef<GstElement> bin = sunk(gst_bin_new(fmt::format("{}-source", to_string(kind_)).c_str()));
  if (test && spec.standin && kind_ == MediaKind::Video) {
    // A lost camera's stand-in: the slate (media/slate.h), in the preset's
    // size and rate, so the partner reads why the picture is gone.
    GstElement* last = add_slate_source(GST_BIN(bin.get()), raw_video_caps(options_.video),
                                        slate_markup("Camera unavailable", "trying to reach it again"));
    if (!last) return Error{ExitCode::Config, "cannot build the camera's stand-in (the slate)"};
    ghost(bin.get(), last, "src", "src");
    eos_probe_ = PadProbe(bin.get(), "src", GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, &CaptureSource::on_eos_probe, this);
    return bin;
  }
  GRef<GstElement> src;
  if (test) {
    if (kind_ == MediaKind::Video) {
      src = sunk(make_element("videotestsrc", "test-video"));
      // A moving pattern, so the encoder works like it does on a camera.
      if (src) gst_util_set_object_arg(G_OBJECT(src.get()), "pattern", "smpte");
      if (src) g_object_set(src.get(), "horizontal-speed", 4, nullptr);
    } else {
      src = sunk(make_element("audiotestsrc", "test-audio"));
      if (src && spec.standin) {
        gst_util_set_object_arg(G_OBJECT(src.get()), "wave", "silence");
      } else if (src) {
        gst_util_set_object_arg(G_OBJECT(src.get()), "wave", "sine");
        g_object_set(src.get(), "freq", 440.0, "volume", 0.2, nullptr);
      }
    }
    if (src) g_object_set(src.get(), "is-live", TRUE, nullptr);
  } else {
    auto dev = make_device_element();
    if (!dev) return dev.error();
    src = std::move(*dev);
  }
  if (!src) return Error{ExitCode::Config, "cannot create the source element"};
  gst_bin_add(GST_BIN(bin.get()), src.get());
  // Ask the source for the preset directly; converters downstream handle
  // whatever it delivers instead. A camera gets the mode chosen for the
  // preset (select_camera_mode); a microphone negotiates freely.
  const bool camera = kind_ == MediaKind::Video && !test;
  GstElement* want = make_element("capsfilter", camera ? "video-device-caps" : nullptr);
  if (!want) return Error{ExitCode::Config, "cannot create the source's capsfilter"};
  const auto& v = options_.video;
  const auto& a = options_.audio;
  if (test)
    set_caps(want, kind_ == MediaKind::Video
                       ? raw_video_caps(v)
                       : fmt::format("audio/x-raw,rate={},channels={}", a.rate, a.channels));
  gst_bin_add(GST_BIN(bin.get()), want);
  gst_element_link(src.get(), want);
  GstElement* last = camera ? select_camera_mode(GST_BIN(bin.get()), src.get(), want) : want;
  ghost(bin.get(), last, "src", "src");
  // A live source never ends on purpose; a device that fails (unplugged,
  // an error) ends its stream with EOS after the error. The encoder and the
  // partners' branches must never see it: they outlive this source
  // (LocalSource puts the stand-in, then the device again, in its place).
  eos_probe_ = PadProbe(bin.get(), "src", GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, &CaptureSource::on_eos_probe, this);
  if (!test)
    caps_probe_ = PadProbe(src.get(), "src", GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                           &CaptureSource::on_caps_probe, this);
  return bin;
}

GstPadProbeReturn CaptureSource::on_eos_probe(GstPad*, GstPadProbeInfo* info, gpointer) {
  return GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

GstElement* CaptureSource::select_camera_mode(GstBin* bin, GstElement* src, GstElement* filter) {
  const std::string name = device_name_.empty() ? "(camera)" : device_name_;
  // A hardware decoder (the Raspberry Pi's, ...) when the kernel offers one.
  const char* decoder = have_factory("v4l2jpegdec") ? "v4l2jpegdec"
                        : have_factory("jpegdec")   ? "jpegdec"
                                                    : nullptr;
  GUnique<GstCaps> caps = std::move(device_caps_);
  if (!caps) {
    // READY: v4l2src opens the device and probes its modes. A failure here
    // (busy, missing) is reported by the pipeline's own start, with the
    // element's message; until then negotiate freely.
    if (gst_element_set_state(src, GST_STATE_READY) == GST_STATE_CHANGE_FAILURE) {
      gst_element_set_state(src, GST_STATE_NULL);
      log()->debug("camera {}: cannot open it to read its modes", name);
      return filter;
    }
    g_autoptr(GstPad) pad = gst_element_get_static_pad(src, "src");
    if (pad) caps.reset(gst_pad_query_caps(pad, nullptr));
  }
  auto choice = choose_camera_mode(caps.get(), options_.video, decoder != nullptr);
  if (!choice) {
    GCharPtr text(caps ? gst_caps_to_string(caps.get()) : nullptr);
    log()->warn("camera {}: no raw or MJPEG mode among its caps ({}); leaving the format to "
                "negotiation",
                name, text ? text.get() : "none");
    return filter;
  }
  set_caps(filter, choice->mode.caps_string());
  GstElement* last = filter;
  std::string how;
  if (choice->mode.kind == CameraMode::Kind::Jpeg) {
    GstElement* dec = make_element(decoder, "video-jpeg-decoder");
    if (dec) {
      gst_bin_add(bin, dec);
      gst_element_link(filter, dec);
      last = dec;
    }
    how = fmt::format(" decoded by {}", decoder);
    if (const auto& r = choice->best_raw)
      how += fmt::format(" (raw {}only up to {})",
                         r->format.empty() ? "" : camera_format_name(r->format) + " ",
                         r->size_rate());
    else
      how += " (no raw modes)";
  }
  log()->info("camera {}: {}{}", name, choice->mode.describe(), how);
  return last;
}

GstPadProbeReturn CaptureSource::on_caps_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<CaptureSource*>(data);
  GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(ev) != GST_EVENT_CAPS || self->logged_caps_.exchange(true))
    return GST_PAD_PROBE_OK;
  GstCaps* caps = nullptr;  // borrowed from the event
  gst_event_parse_caps(ev, &caps);
  GstStructure* s = gst_caps_get_structure(caps, 0);
  if (self->kind_ == MediaKind::Video) {
    // What the camera negotiated, against the preset: the one message that
    // says the picture is scaled or rate-converted, and from what.
    const auto& v = self->options_.video;
    auto got = camera_mode_of(s);
    const std::string name = self->device_name_.empty() ? "(camera)" : self->device_name_;
    if (!got) {
      log()->info("camera {} delivers {}; converting to {}x{}@{}", name, gst_structure_get_name(s),
                  v.width, v.height, v.fps);
    } else if (!got->meets(v)) {
      const bool size = got->width != v.width || got->height != v.height;
      const bool slower = !got->rate_meets(v);
      std::string what = size && slower ? "scaling and converting the frame rate"
                         : size         ? "scaling"
                                        : "converting the frame rate";
      log()->info("camera {} cannot deliver the preset {}x{}@{}: it delivers {}; {} to the preset",
                  name, v.width, v.height, v.fps, got->describe(), what);
    }
  } else {
    int rate = 0, ch = 0;
    gst_structure_get_int(s, "rate", &rate);
    gst_structure_get_int(s, "channels", &ch);
    const auto& a = self->options_.audio;
    if (rate != a.rate || ch != a.channels)
      log()->info("microphone delivers {} Hz x{}; converting to {} Hz x{}", rate, ch, a.rate,
                  a.channels);
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace callagent::media
