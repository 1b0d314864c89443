#pragma once
// Cameras and microphones as GstDeviceMonitor sees them: a snapshot for
// `callagent devices` (list_devices), and DeviceWatch, which tells a
// running call when one is plugged in (a lost camera is tried again at once:
// LocalSource::device_added).

#include "common/gref.h"

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace callagent::media {

struct DeviceInfo {
  std::string kind;          // "camera" or "microphone"
  std::string name;          // display name
  std::string device_class;  // "Video/Source", "Audio/Source"
  std::string path;          // device path / ALSA or PulseAudio name, "" if unknown
  std::string source_spec;   // what to pass to --video-source/--audio-source, "" if none fits
  std::string caps_summary;  // "video/x-raw 640x480@30, image/jpeg 1920x1080@30, ..."
};

// Lists the devices (gst_init() must have run). Never fails: no devices is an
// empty list.
std::vector<DeviceInfo> list_devices();

// Devices plugged in while the process runs: `on_added(video)` on `ctx`
// for each camera (true) or microphone (false) that appears. Some
// providers also announce what is there when the monitor starts; a
// listener must take an announcement as "maybe worth a try", not as new.
class DeviceWatch {
 public:
  // nullptr when no monitor can start (no provider: logged at debug).
  static std::unique_ptr<DeviceWatch> start(GMainContext* ctx, std::function<void(bool video)> on_added);
  ~DeviceWatch();
  DeviceWatch(const DeviceWatch&) = delete;
  DeviceWatch& operator=(const DeviceWatch&) = delete;

 private:
  DeviceWatch() = default;
  static gboolean on_message(GstBus*, GstMessage* msg, gpointer self);
  GRef<GstDeviceMonitor> monitor_;
  GUnique<GSource> watch_;
  std::function<void(bool)> on_added_;
};

}  // namespace callagent::media
