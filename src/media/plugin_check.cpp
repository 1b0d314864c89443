#include "media/plugin_check.h"

#include "gst/gst_util.h"
#include "media/debian_packages.h"
#include "media/codec.h"

#include <gst/gst.h>

#include <fmt/format.h>

namespace callagent::media {

using namespace debian;

std::vector<RequiredElement> required_elements(const MediaOptions& o) {
  std::vector<RequiredElement> r = {
      {"webrtcbin", kBad},        {"nicesrc", kNice},         {"nicesink", kNice},
      {"dtlssrtpenc", kBad},      {"srtpenc", kBad},          {"rtpbin", kGood},
      {"queue", kCore},           {"tee", kCore},             {"fakesink", kCore},
      {"capsfilter", kCore},      {"videoconvert", kBase},    {"videoscale", kBase},
      {"videorate", kBase},       {"audioconvert", kBase},    {"audioresample", kBase},
      {"volume", kBase},
  };
  // Codecs (media/codec.h): Opus and VP8 are always received; the chosen
  // video codec is sent. Where a codec has a hardware encoder, the software
  // one must exist all the same (the fallback).
  auto need = [&](const Factory& f) { r.push_back({f.name, f.package}); };
  const CodecInfo& opus = opus_codec();
  const CodecInfo& vp8 = codec_info(Codec::VP8);
  for (const Factory& f : {opus.encoder, opus.decoder, opus.payloader, opus.depayloader,
                           vp8.decoder, vp8.depayloader})
    need(f);
  const CodecInfo& sent = codec_info(o.codec);
  need(sent.encoder);
  if (sent.parser) need(sent.parser);
  need(sent.payloader);
  using T = SourceSpec::Type;
  auto source = [&](const SourceSpec& s, MediaKind kind) {
    switch (s.type) {
      case T::Test:
        r.push_back(kind == MediaKind::Video ? RequiredElement{"videotestsrc", kBase}
                                             : RequiredElement{"audiotestsrc", kBase});
        break;
      case T::V4l2: r.push_back({"v4l2src", kGood}); break;
      case T::Alsa: r.push_back({"alsasrc", kAlsa}); break;
      case T::Pulse: r.push_back({"pulsesrc", kPulse}); break;
      case T::File:
        r.push_back({"uridecodebin", kBase});
        r.push_back({"clocksync", kCore});
        break;
      case T::Auto:
      case T::None: break;
    }
    // Cameras deliver 720p/1080p as MJPEG (CaptureSource::select_camera_mode);
    // v4l2jpegdec is used instead where the kernel has one, jpegdec is the
    // fallback that must exist.
    if (kind == MediaKind::Video && s.is_capture_device()) r.push_back({"jpegdec", kGood});
    if (kind == MediaKind::Audio && s.is_capture_device() && o.audio_processing)
      r.push_back({"webrtcdsp", kBad});
  };
  source(o.video_source, MediaKind::Video);
  source(o.audio_source, MediaKind::Audio);
  if (!o.output.record_path.empty()) {
    r.push_back({"matroskamux", kGood});
    r.push_back({"filesink", kCore});
    r.push_back({"opusparse", kBad});
  }
  if (!o.output.rtmp_url.empty()) {
    r.push_back({"x264enc", kUgly});
    r.push_back({"flvmux", kGood});
    r.push_back({"rtmp2sink", kBad});
    if (!have_factory("fdkaacenc") && !have_factory("voaacenc")) r.push_back({"avenc_aac", kLibav});
  }
  if (!o.output.audio_sink.empty()) {
    // The shared playback path (AudioPlayback).
    r.push_back({"audiomixer", kBase});
    r.push_back({"webrtcechoprobe", kBad});
  }
  if (o.output.video_sink == "auto") {
    r.push_back({"autovideosink", kGood});
  } else if (!o.output.video_sink.empty()) {
    const auto& v = o.output.video_sink;
    const char* pkg = v == "ximagesink" || v == "xvimagesink" ? "gstreamer1.0-x"
                      : v == "kmssink" || v == "waylandsink" || v == "fbdevsink" || v == "fakevideosink" ? kBad
                      : v == "glimagesink" ? "gstreamer1.0-gl"
                      : v == "fakesink" ? kCore
                      : "the package that provides it";
    r.push_back({v, pkg});
  }
  if (o.output.audio_sink == "auto") r.push_back({"autoaudiosink", kGood});
  return r;
}

Status check_elements(const std::vector<RequiredElement>& elements) {
  std::string missing;
  for (const auto& e : elements) {
    if (have_factory(e.factory.c_str())) continue;
    if (missing.find(" " + e.factory + " ") != std::string::npos) continue;
    missing += fmt::format("{}{} (install {})", missing.empty() ? "" : ", ", e.factory, e.package);
  }
  if (missing.empty()) return Ok{};
  return Error{ExitCode::Config, "missing GStreamer elements: " + missing};
}

Status check_plugins(const MediaOptions& options) { return check_elements(required_elements(options)); }

}  // namespace callagent::media
