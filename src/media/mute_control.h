#pragma once
// Mute of a sent track, without stopping it: the track stays alive and
// its timestamps run on, so partners see a black picture or hear silence,
// never a frozen or ended track.
//
//   video: a buffer probe paints the raw I420 frames leaving the preset
//          capsfilter black in place (they then encode to almost nothing);
//   audio: the chain's volume element, mute=true.
//
// Owned by LocalSource; the pipeline owns the elements. set() on the main
// thread; the probe (video's streaming thread) reads only the atomic flag.

#include "media/pad_probe.h"

#include <gst/gst.h>

#include <atomic>
#include <memory>

namespace callagent::media {

class MuteControl {
 public:
  // Paints the frames leaving `raw_video`'s src pad (I420) while muted.
  static std::unique_ptr<MuteControl> for_video(GstElement* raw_video);
  // Mutes through `volume` (a volume element).
  static std::unique_ptr<MuteControl> for_audio(GstElement* volume);
  MuteControl(const MuteControl&) = delete;
  MuteControl& operator=(const MuteControl&) = delete;

  // Returns whether the state changed.
  bool set(bool muted);
  bool muted() const { return muted_.load(); }

 private:
  MuteControl() = default;
  static GstPadProbeReturn on_paint_probe(GstPad*, GstPadProbeInfo*, gpointer);

  GstElement* volume_ = nullptr;  // audio; owned by the pipeline
  PadProbe paint_probe_;          // video
  std::atomic<bool> muted_{false};
};

}  // namespace callagent::media
