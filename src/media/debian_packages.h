#pragma once
// The Debian packages that install the GStreamer elements we use, named in
// the error of a missing element (plugin_check.h, codec.h).

namespace callagent::media::debian {

inline constexpr const char* kCore = "libgstreamer1.0-0";
inline constexpr const char* kBase = "gstreamer1.0-plugins-base";
inline constexpr const char* kGood = "gstreamer1.0-plugins-good";
inline constexpr const char* kBad = "gstreamer1.0-plugins-bad";
inline constexpr const char* kUgly = "gstreamer1.0-plugins-ugly";
inline constexpr const char* kLibav = "gstreamer1.0-libav";
inline constexpr const char* kNice = "gstreamer1.0-nice";
inline constexpr const char* kPulse = "gstreamer1.0-pulseaudio";
inline constexpr const char* kAlsa = "gstreamer1.0-alsa";

}  // namespace callagent::media::debian
