#pragma once
// --self-view: the local video in a small window in a corner of the screen,
// over the slate and the partner's video, as the messenger's page shows its
// own camera. A branch of the local video's raw tee (after the preset's
// size and the mute: what is sent, black when the camera is muted):
//
//   video-raw-tee -> queue (leaky, 2 frames) -> videoscale -> videoconvert -> ximagesink
//
// drawn into an override-redirect X11 window of a quarter of the screen's
// width (X11Window::create_corner), which raise() puts back on top when a
// partner's window or the slate was mapped over it. A separate window, not
// a compositor in the partner's display path: the partner's frames reach
// their sink as before (its counts, its latency), and the self-view lives
// as long as the run, whoever is on screen. The queue's own thread and its
// leak keep a slow X server from ever holding up the encoder.
//
// Owned by the MediaEngine; its elements are the pipeline's, which goes to
// NULL before this object (and its window) is destroyed. Main thread.

#include "media/x11_window.h"

#include <gst/gst.h>

#include <memory>
#include <string>

namespace callagent::media {

class SelfView {
 public:
  // `corner` as --self-view takes it. nullptr (logged) when the X display
  // or ximagesink is not there: the call goes on without it.
  static std::unique_ptr<SelfView> create(GstBin* pipeline, GstElement* raw_tee, const std::string& corner);
  void raise();

 private:
  SelfView() = default;
  std::unique_ptr<X11Window> window_;
};

}  // namespace callagent::media
