#include "media/media_options.h"

#include <algorithm>
#include <fmt/format.h>

namespace callagent::media {

namespace {
Error usage(std::string msg) { return Error{ExitCode::Usage, std::move(msg)}; }
}  // namespace

std::string_view to_string(MediaKind k) { return k == MediaKind::Audio ? "audio" : "video"; }

int VideoPreset::effective_bitrate_kbps() const {
  if (bitrate_kbps > 0) return bitrate_kbps;
  // ~0.1 bit per pixel at 30 fps for 720p, a bit more for small sizes (VP8
  // needs a floor to look decent), capped at 8 Mbps for 4K60.
  int base;
  if (height >= 2160)
    base = 8000;
  else if (height >= 1080)
    base = 4500;
  else if (height >= 720)
    base = 2500;
  else if (height >= 480)
    base = 1200;
  else
    base = 800;
  double k = fps >= 60 ? 1.4 : fps <= 24 ? 0.85 : 1.0;
  return std::min(8000, static_cast<int>(base * k));
}

Result<VideoPreset> parse_video_preset(std::string_view size, int fps) {
  VideoPreset p;
  if (size == "4k" || size == "2160p")
    p.width = 3840, p.height = 2160;
  else if (size == "1080p")
    p.width = 1920, p.height = 1080;
  else if (size == "720p")
    p.width = 1280, p.height = 720;
  else if (size == "480p")
    p.width = 854, p.height = 480;
  else if (size == "360p")
    p.width = 640, p.height = 360;
  else
    return usage(fmt::format("unknown video preset '{}' (use 4k, 1080p, 720p or 480p)", size));
  if (fps != 60 && fps != 30 && fps != 24 && fps != 15)
    return usage(fmt::format("unsupported frame rate {} (use 60, 30 or 24)", fps));
  p.fps = fps;
  return p;
}

Result<AudioPreset> parse_audio_preset(std::string_view name) {
  if (name == "high") return AudioPreset{48000, 2, 128};
  if (name == "medium") return AudioPreset{44100, 2, 96};
  if (name == "low") return AudioPreset{32000, 1, 32};
  return usage(fmt::format("unknown audio preset '{}' (use high, medium or low)", name));
}

Result<SourceSpec> parse_source_spec(std::string_view spec, MediaKind kind) {
  SourceSpec s;
  std::string_view head = spec, arg;
  bool has_arg = false;
  if (auto colon = spec.find(':'); colon != std::string_view::npos) {
    head = spec.substr(0, colon);
    arg = spec.substr(colon + 1);
    has_arg = true;
  }
  using T = SourceSpec::Type;
  if (head == "none" && !has_arg) {
    s.type = T::None;
  } else if (head == "test" && !has_arg) {
    s.type = T::Test;
  } else if (head == "auto" && !has_arg) {
    s.type = T::Auto;
  } else if (head == "v4l2" && kind == MediaKind::Video) {
    s.type = T::V4l2;
    s.device = has_arg ? std::string(arg) : "/dev/video0";
  } else if (head == "alsa" && kind == MediaKind::Audio) {
    s.type = T::Alsa;
    s.device = std::string(arg);  // empty = ALSA's default device
  } else if (head == "pulse" && kind == MediaKind::Audio) {
    s.type = T::Pulse;
    s.device = std::string(arg);
  } else if (head == "file" && has_arg && !arg.empty()) {
    s.type = T::File;
    std::string_view path = arg;
    if (path.size() > 5 && path.substr(path.size() - 5) == ",loop") {
      s.loop = true;
      path.remove_suffix(5);
    }
    s.device = std::string(path);
  } else {
    return usage(fmt::format(
        "unknown {} source '{}' (use {})", to_string(kind), spec,
        kind == MediaKind::Video ? "test, v4l2[:DEVICE], file:PATH[,loop], auto or none"
                                 : "test, alsa[:DEVICE], pulse[:DEVICE], file:PATH[,loop], auto or none"));
  }
  return s;
}

std::string to_string(const SourceSpec& s) {
  using T = SourceSpec::Type;
  switch (s.type) {
    case T::None: return "none";
    case T::Test: return s.standin ? "stand-in" : "test";
    case T::Auto: return "auto";
    case T::V4l2: return "v4l2:" + s.device;
    case T::Alsa: return s.device.empty() ? "alsa" : "alsa:" + s.device;
    case T::Pulse: return s.device.empty() ? "pulse" : "pulse:" + s.device;
    case T::File: return "file:" + s.device + (s.loop ? ",loop" : "");
  }
  return "?";
}

Result<VideoCodec> parse_video_codec(std::string_view name) {
  if (name == "vp8" || name == "VP8") return VideoCodec::VP8;
  if (name == "vp9" || name == "VP9") return VideoCodec::VP9;
  if (name == "h264" || name == "H264") return VideoCodec::H264;
  return usage(fmt::format("unknown video codec '{}' (use vp8, vp9 or h264)", name));
}

std::string_view to_string(VideoCodec c) {
  switch (c) {
    case VideoCodec::VP8: return "VP8";
    case VideoCodec::VP9: return "VP9";
    case VideoCodec::H264: return "H264";
  }
  return "?";
}

Result<IceOptions::TransportPolicy> parse_ice_transport_policy(std::string_view name) {
  if (name == "all") return IceOptions::TransportPolicy::All;
  if (name == "relay") return IceOptions::TransportPolicy::Relay;
  return usage(fmt::format("--ice-transport-policy: '{}' is not all or relay", name));
}

std::string_view to_string(IceOptions::TransportPolicy p) {
  return p == IceOptions::TransportPolicy::Relay ? "relay" : "all";
}

}  // namespace callagent::media
