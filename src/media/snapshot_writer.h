#pragma once
// Writes a decoded video frame (a GstSample with caps) as PNG
// (--snapshot). Uses gst_video_convert_sample (videoconvert + pngenc in a
// private pipeline), synchronously, on the calling thread.

#include "common/result.h"

#include <gst/gst.h>

#include <string>

namespace callagent::media {

Status write_png(GstSample* sample, const std::string& path);

}  // namespace callagent::media
