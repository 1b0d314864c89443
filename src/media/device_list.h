#pragma once
// Cameras and microphones as GstDeviceMonitor sees them, for
// `callagent devices`. A snapshot; no monitoring.

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

}  // namespace callagent::media
