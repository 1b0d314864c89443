#include "callagent_config.h"
#include "cli/build_info.h"

#include <fmt/format.h>
#include <gst/gst.h>

namespace callagent::cli {

std::string version_text() {
  guint major = 0, minor = 0, micro = 0, nano = 0;
  gst_version(&major, &minor, &micro, &nano);  // needs no gst_init()
  std::string gst = fmt::format("GStreamer {}.{}.{}", major, minor, micro);
  if (major != GST_VERSION_MAJOR || minor != GST_VERSION_MINOR || micro != GST_VERSION_MICRO)
    gst += fmt::format(" (built against {}.{}.{})", GST_VERSION_MAJOR, GST_VERSION_MINOR, GST_VERSION_MICRO);
  return fmt::format("callagent {} (git {}), {}", CALLAGENT_VERSION, build_revision(), gst);
}

}  // namespace callagent::cli
