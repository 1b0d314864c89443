#include "media/snapshot_writer.h"

#include "gst/gst_util.h"

#include <gst/video/video.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace callagent::media {

Status write_png(GstSample* sample, const std::string& path) {
  if (!sample) return Error{ExitCode::NoInput, "no remote video frame to write"};
  GUnique<GstCaps> png_caps(gst_caps_new_empty_simple("image/png"));
  GError* e = nullptr;
  GUnique<GstSample> png(gst_video_convert_sample(sample, png_caps.get(), 5 * GST_SECOND, &e));
  GErrorPtr err(e);
  if (!png)
    return Error{ExitCode::Software,
                 std::string("cannot convert the frame to PNG: ") + (err ? err->message : "conversion failed")};
  GstBuffer* buf = gst_sample_get_buffer(png.get());
  GstMapInfo map;
  Status st = Ok{};
  if (!buf || !gst_buffer_map(buf, &map, GST_MAP_READ)) {
    st = Error{ExitCode::Software, "empty PNG"};
  } else {
    const std::string tmp = path + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) {
      st = Error{ExitCode::CantCreate, fmt::format("cannot create '{}': {}", path, std::strerror(errno))};
    } else {
      bool ok = std::fwrite(map.data, 1, map.size, f) == map.size;
      ok &= std::fclose(f) == 0;
      ok &= std::rename(tmp.c_str(), path.c_str()) == 0;
      if (!ok) st = Error{ExitCode::IoErr, fmt::format("cannot write '{}'", path)};
    }
    gst_buffer_unmap(buf, &map);
  }
  return st;
}

}  // namespace callagent::media
