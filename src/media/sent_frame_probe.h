#pragma once
// The probe on the raw video about to be encoded (after the mute painting,
// on the preset capsfilter's src pad):
//   - the --test-freeze-at hook: while paused, frames are dropped, so
//     partners see the picture stop;
//   - the --latency-probe stamp: the capture time drawn into the frame
//     (media/frame_stamp.h; a live source pushes a frame as soon as it is
//     complete, so this is the capture time).
//
// Owned by LocalSource. set_paused() from the main thread; the probe runs
// on the video streaming thread and reads only the atomic flag.

#include "media/pad_probe.h"

#include <gst/gst.h>

#include <atomic>

namespace callagent::media {

class SentFrameProbe {
 public:
  // On `raw_video`'s src pad (I420); `stamp`: draw the latency stamp.
  SentFrameProbe(GstElement* raw_video, bool stamp);
  SentFrameProbe(const SentFrameProbe&) = delete;
  SentFrameProbe& operator=(const SentFrameProbe&) = delete;

  void set_paused(bool paused) { paused_ = paused; }

 private:
  static GstPadProbeReturn on_probe(GstPad*, GstPadProbeInfo*, gpointer);

  const bool stamp_;
  std::atomic<bool> paused_{false};
  PadProbe probe_;  // last: removed before the fields it reads go
};

}  // namespace callagent::media
