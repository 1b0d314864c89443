#pragma once
// The sink of `--display` for one partner's video, configured to show it:
// not waiting for preroll (it joins a playing pipeline), full screen when
// asked — through the sink's own "fullscreen" property where it has one
// (waylandsink, ...), else, for the X11 sinks (ximagesink, xvimagesink,
// also as autovideosink's choice), through a screen-sized X11Window handed
// to the sink (GstVideoOverlay); videoscale in front of ximagesink then
// scales to that window (ximagesink asks for its window's size),
// xvimagesink scales by itself. Without full screen, the X11 sinks open a
// window of the video's size, titled with the application name.
//
// Owned by the PeerConnection: made when it is built (main thread), shown
// and sink() added to its bin when the video pad comes (pad-added); both
// hold a reference to the element. The window goes with this object, which
// the owner destroys only after the sink is in NULL. One window per partner:
// it closes with the partner's peer connection.

#include "common/gref.h"
#include "media/x11_window.h"

#include <gst/gst.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace callagent::media {

class VideoDisplay {
 public:
  // `spec`: "auto" (autovideosink) or an element factory name. Opens the
  // output (READY), so that autovideosink's search for a sink that works —
  // seconds on a busy machine — happens here, on the main thread, and not
  // in pad-added while packets wait. nullptr (logged) when the sink cannot
  // be made or opened.
  static std::unique_ptr<VideoDisplay> create(const std::string& spec, bool fullscreen);
  ~VideoDisplay();
  VideoDisplay(const VideoDisplay&) = delete;
  VideoDisplay& operator=(const VideoDisplay&) = delete;

  // When the video comes (any thread): the full-screen window, if one is
  // needed, titled `title`. Call before the sink leaves READY.
  void show(const std::string& title);

  // The element, to add to a bin (which takes its own reference).
  GstElement* sink() const { return sink_.get(); }
  // What shows the video, e.g. "autovideosink (ximagesink), full screen 1280x720".
  const std::string& description() const { return description_; }

  // Frames the drawing sink rendered and dropped (too late: QoS) since it
  // started; nullopt for a sink without GstBaseSink's "stats".
  struct Counts {
    uint64_t rendered = 0;
    uint64_t dropped = 0;
  };
  std::optional<Counts> counts() const;
  // Logs them (before the sink goes to NULL, which resets them).
  void log_counts(std::string_view who) const;

 private:
  VideoDisplay() = default;
  bool fullscreen_ = false;
  GRef<GstElement> sink_;
  GRef<GstElement> target_;  // the sink that draws (sink_ or its child)
  std::unique_ptr<X11Window> window_;
  std::string description_;
};

}  // namespace callagent::media
