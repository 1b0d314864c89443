#pragma once
// A pad probe that is removed when its handle goes: the probe's user data
// (usually the object holding the handle) cannot be reached after that
// object is gone, e.g. when a looping file source replaces its bin.
//
// The callback runs on the pad's streaming thread. Destroy the handle on
// the main thread once the pad no longer streams (pipeline or element in
// NULL), or accept that a probe already running finishes first.

#include "common/gref.h"

#include <gst/gst.h>

namespace callagent::media {

class PadProbe {
 public:
  PadProbe() = default;
  // Probes `element`'s static pad `pad_name`; an empty handle when the
  // element has no such pad.
  PadProbe(GstElement* element, const char* pad_name, GstPadProbeType mask,
           GstPadProbeCallback callback, gpointer user_data);
  ~PadProbe() { reset(); }
  PadProbe(PadProbe&& o) noexcept;
  PadProbe& operator=(PadProbe&& o) noexcept;
  PadProbe(const PadProbe&) = delete;
  PadProbe& operator=(const PadProbe&) = delete;

  void reset();
  explicit operator bool() const { return id_ != 0; }
  GstPad* pad() const { return pad_.get(); }

 private:
  GRef<GstPad> pad_;
  gulong id_ = 0;
};

}  // namespace callagent::media
