#pragma once
// Which of a camera's modes to ask for, given the video preset.
//
// A UVC camera offers raw YUYV only at low resolution / low frame rate (USB 2
// bandwidth) and MJPEG (image/jpeg) up to 1080p30; some offer H.264 too.
// Left alone, v4l2src negotiates the first raw mode the converters accept,
// which is often 1280x720@10 or 640x480@30. choose_camera_mode() reads the
// caps the device element reports in READY and picks, in this order:
//   1. raw at the preset size with at least the preset frame rate;
//   2. MJPEG at the preset size with at least the preset frame rate (decoded
//      by the caller: v4l2jpegdec when present, else jpegdec);
//   3. else the nearest mode (see the ranking in camera_mode.cpp): a fluent
//      frame rate first, then the size (exact, else the smallest that covers
//      the preset, else the largest below it), then raw before MJPEG.
// The chain after the source scales/rate-converts whatever was chosen to the
// preset, as for any source.
//
// Pure logic over GstCaps (core GStreamer only, no device, no plugin): unit
// tested in tests/media/test_camera_mode.cpp with real cameras' caps lists.

#include "media/media_options.h"

#include <gst/gst.h>

#include <optional>
#include <string>

namespace callagent::media {

struct CameraMode {
  enum class Kind { Raw, Jpeg };
  Kind kind = Kind::Raw;
  std::string format;  // raw: GStreamer format name ("YUY2", "NV12"); empty for jpeg
  int width = 0;
  int height = 0;
  int fps_n = 0;
  int fps_d = 1;

  double fps() const { return fps_d ? static_cast<double>(fps_n) / fps_d : 0.0; }
  // Caps for the device's capsfilter:
  // "image/jpeg,width=1280,height=720,framerate=30/1".
  std::string caps_string() const;
  // "1280x720@30", "640x480@7.5".
  std::string size_rate() const;
  // For logs: "MJPEG 1280x720@30", "raw YUYV 640x480@30", "raw NV12 1920x1080@29.97".
  std::string describe() const;
  // At least the preset's frame rate (29.97 counts as 30).
  bool rate_meets(const VideoPreset& preset) const;
  // Exactly the preset's size, at least its frame rate.
  bool meets(const VideoPreset& preset) const;
  bool operator==(const CameraMode&) const = default;
};

struct CameraChoice {
  CameraMode mode;
  // The best raw mode by the same ranking (for the log: why MJPEG), if the
  // camera has raw modes at all.
  std::optional<CameraMode> best_raw;
};

// `caps`: what the device's src pad answers to a caps query (any mix of
// fixed values, lists and ranges; structures other than video/x-raw in
// system memory and image/jpeg are ignored). `allow_jpeg`: false when no
// JPEG decoder exists. nullopt when nothing usable is offered (ANY, empty,
// only H.264...): the caller then leaves negotiation to the converters.
std::optional<CameraChoice> choose_camera_mode(const GstCaps* caps, const VideoPreset& preset,
                                               bool allow_jpeg = true);

// The mode described by fixed caps (what a camera negotiated); nullopt for
// anything but video/x-raw and image/jpeg.
std::optional<CameraMode> camera_mode_of(const GstStructure* fixed);

// "YUY2" -> "YUYV" (the V4L2 name users know from v4l2-ctl); others as is.
std::string camera_format_name(const std::string& gst_format);

}  // namespace callagent::media
