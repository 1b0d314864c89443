#include "media/pad_probe.h"

#include <utility>

namespace callagent::media {

PadProbe::PadProbe(GstElement* element, const char* pad_name, GstPadProbeType mask,
                   GstPadProbeCallback callback, gpointer user_data)
    : pad_(GRef<GstPad>::adopt(gst_element_get_static_pad(element, pad_name))) {
  if (pad_) id_ = gst_pad_add_probe(pad_.get(), mask, callback, user_data, nullptr);
}

PadProbe::PadProbe(PadProbe&& o) noexcept
    : pad_(std::move(o.pad_)), id_(std::exchange(o.id_, 0)) {}

PadProbe& PadProbe::operator=(PadProbe&& o) noexcept {
  if (this != &o) {
    reset();
    pad_ = std::move(o.pad_);
    id_ = std::exchange(o.id_, 0);
  }
  return *this;
}

void PadProbe::reset() {
  if (pad_ && id_) gst_pad_remove_probe(pad_.get(), id_);
  id_ = 0;
  pad_.reset();
}

}  // namespace callagent::media
