#pragma once
// The live source bin of a LocalSource: a test pattern/tone or a capture
// device, with a ghost "src" pad, added to the pipeline:
//
//   test:    videotestsrc/audiotestsrc -> capsfilter(preset)
//   camera:  device -> capsfilter "video-device-caps" (the camera mode chosen
//            for the preset, media/camera_mode.h) -> (JPEG decoder, for MJPEG)
//   microphone: device -> capsfilter (free: converters downstream adapt)
//
// Owns the choice of the device element: v4l2src/alsasrc/pulsesrc for a
// named device, the first device GstDeviceMonitor lists for "auto", or the
// substitute element of the tests (MediaOptions::substitute_device_element).
// Logs once what the device negotiated when it differs from the preset.
//
// The pipeline owns the bin; this object lives as long as the LocalSource.
// Built on the main thread; the caps probe on the device's pad runs on its
// streaming thread and reads only fields written before the pipeline starts.

#include "common/result.h"
#include "gst/gst_util.h"
#include "media/media_options.h"
#include "media/pad_probe.h"

#include <gst/gst.h>

#include <atomic>
#include <memory>
#include <string>

namespace callagent::media {

class CaptureSource {
 public:
  // For a Test, V4l2, Alsa, Pulse or Auto source of `kind` in `options`.
  static Result<std::unique_ptr<CaptureSource>> create(GstBin* pipeline, MediaKind kind,
                                                       const MediaOptions& options);
  CaptureSource(const CaptureSource&) = delete;
  CaptureSource& operator=(const CaptureSource&) = delete;

  // The source bin (owned by the pipeline), to link to the chain.
  GstElement* bin() const { return bin_; }

 private:
  CaptureSource(MediaKind kind, const MediaOptions& options);
  Result<GRef<GstElement>> make_bin();
  Result<GRef<GstElement>> make_device_element();
  // Brings a camera element to READY, reads its modes (or the device
  // monitor's caps), sets the mode chosen for the preset on `filter` and
  // appends a JPEG decoder for MJPEG. Returns the bin's last element.
  GstElement* select_camera_mode(GstBin* bin, GstElement* src, GstElement* filter);
  static GstPadProbeReturn on_caps_probe(GstPad*, GstPadProbeInfo*, gpointer);
  static GstPadProbeReturn on_eos_probe(GstPad*, GstPadProbeInfo*, gpointer);

  MediaKind kind_;
  MediaOptions options_;
  GstElement* bin_ = nullptr;  // owned by the pipeline
  // Camera only: its name for logs (read by on_caps_probe) and the device
  // monitor's caps (auto). Written before the pipeline runs.
  std::string device_name_;
  GUnique<GstCaps> device_caps_;
  std::atomic<bool> logged_caps_{false};
  PadProbe caps_probe_;
  PadProbe eos_probe_;  // on the bin's src pad
};

}  // namespace callagent::media
