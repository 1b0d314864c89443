#include "media/local_source.h"

#include "common/logging.h"
#include "common/main_context.h"
#include "gst/gst_util.h"
#include "media/audio_playback.h"
#include "media/camera_mode.h"
#include "media/frame_stamp.h"

#include <gst/video/video.h>

#include <fmt/format.h>

#include <cstring>

namespace callagent::media {

namespace {
auto log() { return logging::get("media"); }

GstClockTime running_time_now(GstElement* e) {
  GstClock* clock = gst_element_get_clock(e);
  if (!clock) return 0;
  GstClockTime now = gst_clock_get_time(clock);
  gst_object_unref(clock);
  GstClockTime base = gst_element_get_base_time(e);
  return now > base ? now - base : 0;
}

bool ghost(GstElement* bin, GstElement* inner, const char* inner_pad, const char* name) {
  GstPad* target = gst_element_get_static_pad(inner, inner_pad);
  if (!target) return false;
  GstPad* g = gst_ghost_pad_new(name, target);
  gst_object_unref(target);
  return gst_element_add_pad(bin, g);
}

// A device (camera/microphone) chosen by GstDeviceMonitor: the first of
// its class (GStreamer sorts by provider priority; pipewire/pulse first).
// `caps`/`display_name`, when given, receive the device's own caps (its real
// modes, where the element of some providers, e.g. pipewiresrc, only
// answers its template) and its name.
GstElement* default_device_element(const char* klass, GUnique<GstCaps>* caps = nullptr,
                                   std::string* display_name = nullptr) {
  GstDeviceMonitor* mon = gst_device_monitor_new();
  gst_device_monitor_add_filter(mon, klass, nullptr);
  GstElement* e = nullptr;
  if (gst_device_monitor_start(mon)) {
    GList* devices = gst_device_monitor_get_devices(mon);
    if (devices) {
      GstDevice* d = GST_DEVICE(devices->data);
      GCharPtr name(gst_device_get_display_name(d));
      log()->info("auto {}: using '{}'", klass, name.get());
      e = gst_device_create_element(d, nullptr);
      if (caps) caps->reset(gst_device_get_caps(d));
      if (display_name && name) *display_name = name.get();
    }
    g_list_free_full(devices, gst_object_unref);
    gst_device_monitor_stop(mon);
  }
  gst_object_unref(mon);
  return e;
}
}  // namespace

Result<std::unique_ptr<LocalSource>> LocalSource::create(GstBin* pipeline, MediaKind kind,
                                                         const MediaOptions& options,
                                                         Events events, std::string echo_probe) {
  std::unique_ptr<LocalSource> s(
      new LocalSource(pipeline, kind, options, std::move(events), std::move(echo_probe)));
  if (auto st = s->build(); !st) return st.error();
  return s;
}

LocalSource::LocalSource(GstBin* pipeline, MediaKind kind, const MediaOptions& options,
                         Events events, std::string echo_probe)
    : pipeline_(pipeline),
      kind_(kind),
      options_(options),
      events_(std::move(events)),
      echo_probe_(std::move(echo_probe)),
      ctx_(thread_default_context()) {}

LocalSource::~LocalSource() = default;  // the elements belong to the pipeline

static const SourceSpec& spec_of(const MediaOptions& o, MediaKind k) {
  return k == MediaKind::Video ? o.video_source : o.audio_source;
}

Result<GstElement*> LocalSource::make_device_element() {
  const SourceSpec& spec = spec_of(options_, kind_);
  using T = SourceSpec::Type;
  GstElement* e = nullptr;
  const std::string& sub = options_.substitute_device_element;
  if (!sub.empty() && spec.is_capture_device()) {
    if (sub.find_first_of("!= ") != std::string::npos) {
      // A gst-launch description: a bin whose ghost src pad offers what the
      // description ends with (e.g. "... ! jpegenc" for an MJPEG camera).
      GError* raw = nullptr;
      e = gst_parse_bin_from_description(sub.c_str(), TRUE, &raw);
      GErrorPtr err(raw);
      if (!e || err) {
        if (e) gst_object_unref(gst_object_ref_sink(e));
        return Error{ExitCode::Config, fmt::format("bad substitute device description '{}': {}",
                                                   sub, err ? err->message : "?")};
      }
    } else {
      e = make_element(sub.c_str(), nullptr);
    }
    if (e) {
      set_if_exists(e, "is-live", true);
      log()->info("{} source {}: device element substituted by {}", to_string(kind_),
                  to_string(spec), sub);
      device_name_ = fmt::format("{} (substitute)", spec.device.empty() ? "auto" : spec.device);
      return e;
    }
  }
  switch (spec.type) {
    case T::V4l2:
      e = make_element("v4l2src", nullptr);
      if (e) g_object_set(e, "device", spec.device.c_str(), nullptr);
      device_name_ = spec.device;
      break;
    case T::Alsa:
      e = make_element("alsasrc", nullptr);
      if (e && !spec.device.empty()) g_object_set(e, "device", spec.device.c_str(), nullptr);
      break;
    case T::Pulse:
      e = make_element("pulsesrc", nullptr);
      if (e && !spec.device.empty()) g_object_set(e, "device", spec.device.c_str(), nullptr);
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

Result<GstElement*> LocalSource::make_source_bin() {
  const SourceSpec& spec = spec_of(options_, kind_);
  if (spec.type == SourceSpec::Type::File) return make_file_bin();

  GstElement* bin = gst_bin_new(fmt::format("{}-source", to_string(kind_)).c_str());
  GstElement* src = nullptr;
  if (spec.type == SourceSpec::Type::Test) {
    if (kind_ == MediaKind::Video) {
      src = make_element("videotestsrc", "test-video");
      // A moving pattern, so the encoder works like it does on a camera.
      if (src) gst_util_set_object_arg(G_OBJECT(src), "pattern", "smpte");
      if (src) g_object_set(src, "horizontal-speed", 4, nullptr);
    } else {
      src = make_element("audiotestsrc", "test-audio");
      if (src) {
        gst_util_set_object_arg(G_OBJECT(src), "wave", "sine");
        g_object_set(src, "freq", 440.0, "volume", 0.2, nullptr);
      }
    }
    if (src) g_object_set(src, "is-live", TRUE, nullptr);
  } else {
    auto dev = make_device_element();
    if (!dev) {
      gst_object_unref(gst_object_ref_sink(bin));
      return dev.error();
    }
    src = *dev;
  }
  if (!src) {
    gst_object_unref(gst_object_ref_sink(bin));
    return Error{ExitCode::Config, "cannot create the source element"};
  }
  gst_bin_add(GST_BIN(bin), src);
  // Ask the source for the preset directly; converters downstream handle
  // whatever it delivers instead. A camera gets the mode chosen for the
  // preset (select_camera_mode); a microphone negotiates freely.
  const bool camera = kind_ == MediaKind::Video && spec.type != SourceSpec::Type::Test;
  GstElement* want = make_element("capsfilter", camera ? "video-device-caps" : nullptr);
  const auto& v = options_.video;
  const auto& a = options_.audio;
  if (spec.type == SourceSpec::Type::Test)
    set_caps(want, kind_ == MediaKind::Video
                       ? fmt::format("video/x-raw,width={},height={},framerate={}/1", v.width,
                                     v.height, v.fps)
                       : fmt::format("audio/x-raw,rate={},channels={}", a.rate, a.channels));
  gst_bin_add(GST_BIN(bin), want);
  gst_element_link(src, want);
  GstElement* last = camera ? select_camera_mode(GST_BIN(bin), src, want) : want;
  ghost(bin, last, "src", "src");
  if (spec.type != SourceSpec::Type::Test) {
    GstPad* p = gst_element_get_static_pad(src, "src");
    if (p) {
      gst_pad_add_probe(p, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, &LocalSource::on_source_caps_probe,
                        this, nullptr);
      gst_object_unref(p);
    }
  }
  return bin;
}

GstElement* LocalSource::select_camera_mode(GstBin* bin, GstElement* src, GstElement* filter) {
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
    GstPad* pad = gst_element_get_static_pad(src, "src");
    if (pad) {
      caps.reset(gst_pad_query_caps(pad, nullptr));
      gst_object_unref(pad);
    }
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

Result<GstElement*> LocalSource::make_file_bin() {
  const SourceSpec& spec = spec_of(options_, kind_);
  if (!g_file_test(spec.device.c_str(), G_FILE_TEST_IS_REGULAR))
    return Error{ExitCode::NoInput, fmt::format("{} source file '{}' does not exist or is not a "
                                                "regular file",
                                                to_string(kind_), spec.device)};
  GErrorPtr err;
  GError* raw = nullptr;
  GCharPtr uri(gst_filename_to_uri(spec.device.c_str(), &raw));
  err.reset(raw);
  if (!uri) return Error{ExitCode::NoInput, fmt::format("bad file name '{}'", spec.device)};

  ++file_generation_;
  GstElement* bin =
      gst_bin_new(fmt::format("{}-file-{}", to_string(kind_), file_generation_).c_str());
  GstElement* dec = make_element("uridecodebin", nullptr);
  GstElement* conv = make_element(kind_ == MediaKind::Video ? "videoconvert" : "audioconvert");
  // A file is not live: clocksync paces it to the pipeline clock, else it
  // would be pushed into webrtcbin as fast as it decodes.
  GstElement* sync = make_element("clocksync", nullptr);
  if (!dec || !conv || !sync) {
    gst_object_unref(gst_object_ref_sink(bin));
    return Error{ExitCode::Config, "cannot create uridecodebin/clocksync"};
  }
  GstCaps* caps =
      gst_caps_from_string(kind_ == MediaKind::Video ? "video/x-raw(ANY)" : "audio/x-raw(ANY)");
  g_object_set(dec, "uri", uri.get(), "caps", caps, "expose-all-streams", FALSE, nullptr);
  gst_caps_unref(caps);
  gst_bin_add_many(GST_BIN(bin), dec, conv, sync, nullptr);
  gst_element_link(conv, sync);
  ghost(bin, sync, "src", "src");

  // Decode only our kind: skip decoders of the other kind.
  g_signal_connect(dec, "autoplug-select",
                   G_CALLBACK(+[](GstElement*, GstPad*, GstCaps*, GstElementFactory* f,
                                  gpointer data) -> int {
                     auto kind = static_cast<MediaKind>(GPOINTER_TO_INT(data));
                     const char* klass =
                         gst_element_factory_get_metadata(f, GST_ELEMENT_METADATA_KLASS);
                     bool decoder = klass && strstr(klass, "Decoder");
                     bool video = klass && (strstr(klass, "Video") || strstr(klass, "Image"));
                     bool audio = klass && strstr(klass, "Audio");
                     if (decoder && ((kind == MediaKind::Audio && video && !audio) ||
                                     (kind == MediaKind::Video && audio && !video)))
                       return 2;  // GST_AUTOPLUG_SELECT_SKIP
                     return 0;    // GST_AUTOPLUG_SELECT_TRY
                   }),
                   GINT_TO_POINTER(static_cast<int>(kind_)));
  // pad-added runs on a streaming thread; it only links inside this bin.
  GstClockTime offset = running_time_now(GST_ELEMENT(pipeline_));
  struct Ctx {
    GstElement* bin;
    GstElement* conv;
    GstClockTime offset;
    MediaKind kind;
  };
  auto* pctx = new Ctx{bin, conv, offset, kind_};
  g_signal_connect_data(
      dec, "pad-added",
      G_CALLBACK(+[](GstElement*, GstPad* pad, gpointer data) {
        auto* c = static_cast<Ctx*>(data);
        GstCaps* pc = gst_pad_get_current_caps(pad);
        if (!pc) pc = gst_pad_query_caps(pad, nullptr);
        const GstStructure* st = pc && !gst_caps_is_empty(pc) && !gst_caps_is_any(pc)
                                     ? gst_caps_get_structure(pc, 0)
                                     : nullptr;
        bool ours = st && gst_structure_has_name(st, c->kind == MediaKind::Video ? "video/x-raw"
                                                                                : "audio/x-raw");
        if (pc) gst_caps_unref(pc);
        g_autoptr(GstPad) sink = gst_element_get_static_pad(c->conv, "sink");
        if (ours && !gst_pad_is_linked(sink)) {
          gst_pad_set_offset(pad, static_cast<gint64>(c->offset));
          if (gst_pad_link(pad, sink) != GST_PAD_LINK_OK)
            logging::get("media")->error("cannot link the decoded file stream");
          return;
        }
        // Another stream (or a second one of our kind): consumed here.
        GstElement* drop = gst_element_factory_make("fakesink", nullptr);
        g_object_set(drop, "sync", FALSE, "async", FALSE, nullptr);
        gst_bin_add(GST_BIN(c->bin), drop);
        gst_element_sync_state_with_parent(drop);
        g_autoptr(GstPad) dsink = gst_element_get_static_pad(drop, "sink");
        gst_pad_link(pad, dsink);
      }),
      pctx, +[](gpointer data, GClosure*) { delete static_cast<Ctx*>(data); }, GConnectFlags(0));

  GstPad* out = gst_element_get_static_pad(bin, "src");
  gst_pad_add_probe(out, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, &LocalSource::on_file_output_probe,
                    this, nullptr);
  gst_object_unref(out);
  eos_posted_ = false;
  return bin;
}

GstPadProbeReturn LocalSource::on_file_output_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<LocalSource*>(data);
  GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(ev) != GST_EVENT_EOS) return GST_PAD_PROBE_OK;
  // The encoder and the peers must never see EOS: they outlive the file.
  if (!self->eos_posted_.exchange(true))
    post(self->ctx_, self->lifetime_, [self] { self->on_file_eos(); });
  return GST_PAD_PROBE_DROP;
}

void LocalSource::on_file_eos() {
  const SourceSpec& spec = spec_of(options_, kind_);
  if (spec.loop) {
    log()->info("{} file reached its end, looping", to_string(kind_));
    restart_file();
    return;
  }
  log()->info("{} file reached its end", to_string(kind_));
  if (events_.on_eos) events_.on_eos(kind_);
}

void LocalSource::restart_file() {
  GstElement* old = source_bin_;
  GstPad* out = gst_element_get_static_pad(old, "src");
  GstPad* peer = gst_pad_get_peer(out);
  if (peer) {
    gst_pad_unlink(out, peer);
    gst_object_unref(peer);
  }
  gst_object_unref(out);
  if (gst_element_set_state(old, GST_STATE_NULL) == GST_STATE_CHANGE_FAILURE)
    log()->warn("{} file: the finished decoder did not stop cleanly", to_string(kind_));
  gst_bin_remove(pipeline_, old);
  auto bin = make_file_bin();
  if (!bin) {
    log()->error("cannot restart the {} file: {}", to_string(kind_), bin.error().message);
    if (events_.on_eos) events_.on_eos(kind_);
    return;
  }
  source_bin_ = *bin;
  gst_bin_add(pipeline_, source_bin_);
  if (!gst_element_link(source_bin_, chain_input_))
    log()->error("cannot link the reopened {} file", to_string(kind_));
  gst_element_sync_state_with_parent(source_bin_);
}

GstPadProbeReturn LocalSource::on_source_caps_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<LocalSource*>(data);
  GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(ev) != GST_EVENT_CAPS || self->logged_caps_.exchange(true))
    return GST_PAD_PROBE_OK;
  GstCaps* caps = nullptr;
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

GstPadProbeReturn LocalSource::on_mute_probe(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<LocalSource*>(data);
  if (!self->muted_.load(std::memory_order_relaxed)) return GST_PAD_PROBE_OK;
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (!caps) return GST_PAD_PROBE_OK;
  GstVideoInfo vinfo;
  bool ok = gst_video_info_from_caps(&vinfo, caps);
  gst_caps_unref(caps);
  if (!ok) return GST_PAD_PROBE_OK;
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

// After the mute probe on the preset capsfilter: the test-only pause, then
// the latency stamp (the capture time: a live source pushes a frame as soon
// as it is complete).
GstPadProbeReturn LocalSource::on_stamp_probe(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<LocalSource*>(data);
  if (self->paused_.load(std::memory_order_relaxed)) return GST_PAD_PROBE_DROP;
  if (!self->options_.latency_stamp) return GST_PAD_PROBE_OK;
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (!caps) return GST_PAD_PROBE_OK;
  GstVideoInfo vinfo;
  bool ok = gst_video_info_from_caps(&vinfo, caps);
  gst_caps_unref(caps);
  if (!ok || !can_stamp(vinfo)) return GST_PAD_PROBE_OK;
  GstBuffer* buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_DATA(info) = buf;
  GstVideoFrame frame;
  if (gst_video_frame_map(&frame, &vinfo, buf, GST_MAP_WRITE)) {
    write_stamp(&frame, static_cast<uint64_t>(g_get_real_time() / 1000));
    gst_video_frame_unmap(&frame);
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn LocalSource::on_encoder_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<LocalSource*>(data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    self->buffers_encoded_.fetch_add(1, std::memory_order_relaxed);
  } else if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_UPSTREAM) {
    if (gst_video_event_is_force_key_unit(GST_PAD_PROBE_INFO_EVENT(info)))
      self->keyframe_requests_.fetch_add(1, std::memory_order_relaxed);
  }
  return GST_PAD_PROBE_OK;
}

namespace {
GstElement* make_video_encoder(const MediaOptions& o, std::string& encoding_name,
                               std::vector<GstElement*>& after) {
  const int kbps = o.video.effective_bitrate_kbps();
  GstElement* enc = nullptr;
  switch (o.codec) {
    case VideoCodec::VP8:
    case VideoCodec::VP9:
      encoding_name = o.codec == VideoCodec::VP8 ? "VP8" : "VP9";
      enc = make_element(o.codec == VideoCodec::VP8 ? "vp8enc" : "vp9enc", "video-encoder");
      if (!enc) return nullptr;
      // MEASURED.md: threads=2 made vp8enc spin; a positive cpu-used adapts
      // the speed to wall-clock time. Keyframes come on request (PLI/FIR,
      // new peers), with a long safety interval.
      g_object_set(enc, "deadline", G_GINT64_CONSTANT(1), "cpu-used", 16, "threads", 1,
                   "keyframe-max-dist", 3000, "target-bitrate", kbps * 1000, "lag-in-frames", 0,
                   nullptr);
      gst_util_set_object_arg(G_OBJECT(enc), "end-usage", "cbr");
      gst_util_set_object_arg(G_OBJECT(enc), "error-resilient", "default");
      break;
    case VideoCodec::H264: {
      encoding_name = "H264";
      GstElementFactory* hw = gst_element_factory_find("v4l2h264enc");
      if (hw) {
        gst_object_unref(hw);
        enc = make_element("v4l2h264enc", "video-encoder");
        if (enc) {
          GstStructure* ctrls = gst_structure_new("controls", "video_bitrate", G_TYPE_INT,
                                                  kbps * 1000, "h264_i_frame_period", G_TYPE_INT,
                                                  3000, nullptr);
          g_object_set(enc, "extra-controls", ctrls, nullptr);
          gst_structure_free(ctrls);
        }
      }
      if (!enc) {
        enc = make_element("x264enc", "video-encoder");
        if (!enc) return nullptr;
        gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", "ultrafast");
        gst_util_set_object_arg(G_OBJECT(enc), "tune", "zerolatency");
        g_object_set(enc, "bitrate", kbps, "key-int-max", 3000, "threads", 1, nullptr);
      }
      GstElement* cf = make_element("capsfilter", "video-encoder-caps");
      set_caps(cf, "video/x-h264,profile=constrained-baseline,stream-format=byte-stream");
      GstElement* parse = make_element("h264parse", nullptr);
      after.push_back(cf);
      after.push_back(parse);
      break;
    }
  }
  return enc;
}
}  // namespace

Status LocalSource::build() {
  auto src = make_source_bin();
  if (!src) return src.error();
  source_bin_ = *src;
  gst_bin_add(pipeline_, source_bin_);

  std::vector<GstElement*> chain;
  const std::string k(to_string(kind_));
  auto add = [&](const char* factory, const std::string& name = {}) {
    GstElement* e = make_element(factory, name.empty() ? nullptr : name.c_str());
    if (e) {
      gst_bin_add(pipeline_, e);
      chain.push_back(e);
    }
    return e;
  };
  bool ok = true;
  GstElement* mute_point = nullptr;
  if (kind_ == MediaKind::Video) {
    const auto& v = options_.video;
    ok &= add("videoconvert", "video-convert") != nullptr;
    ok &= add("videoscale", "video-scale") != nullptr;
    ok &= add("videorate", "video-rate") != nullptr;
    GstElement* cf = add("capsfilter", "video-preset");
    if (cf)
      set_caps(cf, fmt::format("video/x-raw,format=I420,width={},height={},framerate={}/1,"
                               "pixel-aspect-ratio=1/1",
                               v.width, v.height, v.fps));
    mute_point = cf;
    if (options_.test_send_delay_ms > 0) {
      // Holds frames until this much is queued: a constant extra delay
      // after the stamp (test only).
      GstElement* hold = add("queue", "test-send-delay");
      if (hold) {
        const guint64 d = static_cast<guint64>(options_.test_send_delay_ms) * GST_MSECOND;
        g_object_set(hold, "min-threshold-time", d, "max-size-time", d + GST_SECOND, "max-size-buffers", 0u,
                     "max-size-bytes", 0u, nullptr);
        log()->warn("test hook: sent video delayed by {} ms", options_.test_send_delay_ms);
      }
    }
    std::vector<GstElement*> after;
    encoder_ = make_video_encoder(options_, encoding_name_, after);
    if (encoder_) {
      gst_bin_add(pipeline_, encoder_);
      chain.push_back(encoder_);
      for (auto* e : after) {
        if (!e) continue;
        gst_bin_add(pipeline_, e);
        chain.push_back(e);
      }
    }
    ok &= encoder_ != nullptr && cf != nullptr;
  } else {
    const auto& a = options_.audio;
    const SourceSpec& spec = spec_of(options_, kind_);
    ok &= add("audioconvert", "audio-convert") != nullptr;
    ok &= add("audioresample", "audio-resample") != nullptr;
    GstElement* cf = add("capsfilter", "audio-preset");
    if (cf) set_caps(cf, fmt::format("audio/x-raw,rate={},channels={}", a.rate, a.channels));
    const bool processing = spec.is_capture_device() && options_.audio_processing;
    const bool echo_cancel = processing && options_.echo_cancel && !echo_probe_.empty();
    if (!spec.is_capture_device())
      log()->info("echo cancellation off: the audio source ({}) is not a microphone",
                  to_string(spec));
    else if (!options_.audio_processing)
      log()->info("echo cancellation off: audio processing is off (--no-audio-processing)");
    else if (!options_.echo_cancel)
      log()->info("echo cancellation off: --no-echo-cancel");
    else if (!echo_cancel)
      log()->info("echo cancellation off: no audio playback (--display/--audio-sink not set)");
    else
      log()->info("echo cancellation on: against the playback seen by {}", echo_probe_);
    if (processing) {
      // webrtcdsp takes S16LE at 8/16/32/48 kHz; with echo cancellation at
      // the probe's rate (it fails the stream on a mismatch), else 32 kHz
      // stays 32 kHz (the "low" preset) to save a resampling.
      const int dsp_rate = echo_cancel || a.rate != 32000 ? kEchoProbeRate : 32000;
      ok &= add("audioconvert") != nullptr;
      ok &= add("audioresample") != nullptr;
      GstElement* dcf = add("capsfilter");
      if (dcf)
        set_caps(dcf, fmt::format("audio/x-raw,format=S16LE,rate={},channels={}", dsp_rate,
                                  a.channels));
      GstElement* dsp = add("webrtcdsp", "audio-dsp");
      if (dsp) {
        g_object_set(dsp, "echo-cancel", echo_cancel ? TRUE : FALSE, "noise-suppression", TRUE,
                     "gain-control", TRUE, "high-pass-filter", TRUE, nullptr);
        if (echo_cancel) {
          // Must be set before PAUSED: the dsp acquires the probe when it
          // starts (the engine built the playback path first).
          //
          // delay-agnostic: the dsp estimates the speaker -> microphone delay
          // from the signals instead of aligning the probe's and the
          // microphone's timestamps with the pipeline's latency figures. On
          // a kiosk the speaker and the microphone are often different
          // devices (HDMI screen + USB microphone) whose real delays (a TV
          // adds 50-150 ms) and clock drift no latency query knows.
          // Measured with the playback looped back into the microphone
          // in-process (tests/media/test_echo.cpp, "[aec]"): delay-agnostic
          // took 13-40 dB of echo off after 3 s, often all of it; the
          // timestamp-aligned mode took nothing off.
          // extended-filter: a longer echo tail and a filter that copes
          // with a delay that moves (rooms, drift); the configuration the
          // delay-agnostic mode was made for (it is also the default).
          g_object_set(dsp, "probe", echo_probe_.c_str(), "delay-agnostic", TRUE,
                       "extended-filter", TRUE, nullptr);
        }
      }
      ok &= dsp != nullptr;
      ok &= add("audioconvert") != nullptr;
      ok &= add("audioresample") != nullptr;
    }
    GstElement* ocf = add("capsfilter", "audio-opus-rate");
    if (ocf) set_caps(ocf, fmt::format("audio/x-raw,rate=48000,channels={}", a.channels));
    volume_ = add("volume", "audio-mute");
    encoder_ = add("opusenc", "audio-encoder");
    if (encoder_) {
      g_object_set(encoder_, "bitrate", a.bitrate_kbps * 1000, "inband-fec", TRUE,
                   "packet-loss-percentage", 5, nullptr);
      gst_util_set_object_arg(G_OBJECT(encoder_), "audio-type",
                              spec.is_capture_device() ? "voice" : "generic");
    }
    encoding_name_ = "OPUS";
    ok &= encoder_ != nullptr && volume_ != nullptr;
  }
  tee_ = add("tee", k + "-tee");
  if (tee_) g_object_set(tee_, "allow-not-linked", TRUE, nullptr);
  ok &= tee_ != nullptr;
  if (!ok) return Error{ExitCode::Config, fmt::format("cannot build the {} chain", k)};

  chain_input_ = chain.front();
  if (!gst_element_link(source_bin_, chain_input_))
    return Error{ExitCode::Config, fmt::format("cannot link the {} source", k)};
  for (size_t i = 1; i < chain.size(); ++i) {
    if (!gst_element_link(chain[i - 1], chain[i]))
      return Error{ExitCode::Config,
                   fmt::format("cannot link {} to {}", GST_ELEMENT_NAME(chain[i - 1]),
                               GST_ELEMENT_NAME(chain[i]))};
  }
  if (mute_point) {
    GstPad* p = gst_element_get_static_pad(mute_point, "src");
    gst_pad_add_probe(p, GST_PAD_PROBE_TYPE_BUFFER, &LocalSource::on_mute_probe, this, nullptr);
    gst_pad_add_probe(p, GST_PAD_PROBE_TYPE_BUFFER, &LocalSource::on_stamp_probe, this, nullptr);
    gst_object_unref(p);
  }
  GstPad* ep = gst_element_get_static_pad(encoder_, "src");
  gst_pad_add_probe(ep, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_UPSTREAM),
                    &LocalSource::on_encoder_probe, this, nullptr);
  gst_object_unref(ep);
  return Ok{};
}

std::string LocalSource::rtp_caps() const {
  if (kind_ == MediaKind::Audio)
    // "/2": RFC 7587 names Opus opus/48000/2 in SDP; a browser rejects an
    // offered "OPUS/48000" m-line (port 0) and webrtcbin then never
    // connects the bundle.
    return "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,encoding-params=(string)2";
  if (encoding_name_ == "H264")
    // packetization-mode=1 (FU-A, what rtph264pay sends): browsers and our
    // own answer side only take that variant.
    return "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,"
           "packetization-mode=(string)1";
  return fmt::format("application/x-rtp,media=video,encoding-name={},clock-rate=90000",
                     encoding_name_);
}

const char* LocalSource::payloader_factory() const {
  if (kind_ == MediaKind::Audio) return "rtpopuspay";
  if (encoding_name_ == "VP9") return "rtpvp9pay";
  if (encoding_name_ == "H264") return "rtph264pay";
  return "rtpvp8pay";
}

void LocalSource::set_muted(bool muted) {
  if (muted_.exchange(muted) == muted) return;
  log()->info("{} {}", to_string(kind_), muted ? "muted" : "unmuted");
  if (volume_) g_object_set(volume_, "mute", muted ? TRUE : FALSE, nullptr);
  if (kind_ == MediaKind::Video && !muted) request_keyframe();
}

void LocalSource::request_keyframe() {
  if (kind_ != MediaKind::Video || !encoder_) return;
  GstPad* p = gst_element_get_static_pad(encoder_, "src");
  gst_pad_send_event(p, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
  gst_object_unref(p);
}

}  // namespace callagent::media
