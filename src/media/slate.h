#pragma once
// The slate: a still picture that says what is going on, where a live
// picture is missing. A dark background, a title and a line of detail in
// the middle (Pango markup, escaped here), the time of day top right (the
// bottom right is where a self-view usually sits):
//
//   videotestsrc (solid colour, live) -> capsfilter -> textoverlay -> clockoverlay
//
// Two users:
//  - the room terminal's screen while no partner's video is shown (nobody
//    in the room, a partner connecting, the server unreachable): a Slate,
//    its own small pipeline drawing through a VideoDisplay (the same sink,
//    full-screen window and title the partner's video gets). The call
//    session owns it, sets its text from the call's state and destroys it
//    when the partner's first frame is decoded (the partner's window takes
//    the screen); it comes back when the partner goes.
//  - what is sent while the camera is gone (unplugged, reset): the
//    stand-in source of a lost camera is a slate bin (add_slate_source) in
//    the send chain, so the partner reads "camera unavailable" rather than
//    a black picture it cannot tell from a camera in the dark. Muting the
//    video still sends black frames, as the messenger's page does when its
//    camera is turned off.
//
// The slate redraws 5 times a second: text changes show within 0.2 s, the
// clock within a minute, at a cost of a few milliseconds of CPU a second.
//
// Main thread only (the elements' own threads draw).

#include "common/gref.h"
#include "media/video_display.h"

#include <gst/gst.h>

#include <memory>
#include <string>

namespace callagent::media {

// "Room lobby" / "waiting for someone to join" as the overlay's markup:
// both escaped, the title larger.
std::string slate_markup(const std::string& title, const std::string& detail);

// Adds the slate's elements to `bin`, producing `caps` (raw video with a
// size and frame rate), linked in a row; returns the last one (its "src"
// pad is the slate's output) or nullptr when an element is missing.
// `text` receives the textoverlay (borrowed: the bin owns it).
GstElement* add_slate_source(GstBin* bin, const std::string& caps, const std::string& markup,
                             GstElement** text = nullptr);

class Slate {
 public:
  static constexpr int kFps = 5;
  // A slate of `width` x `height` on the display `sink_spec` (as --video-sink:
  // "auto" or a factory), full screen when asked and possible, playing at
  // once. nullptr (logged) when the display cannot be opened here.
  static std::unique_ptr<Slate> create(const std::string& sink_spec, bool fullscreen, int width, int height,
                                       const std::string& title, const std::string& detail);
  ~Slate();
  Slate(const Slate&) = delete;
  Slate& operator=(const Slate&) = delete;

  void set_text(const std::string& title, const std::string& detail);
  // False once the display failed (its window closed, an error): the owner
  // drops it (and may make another).
  bool ok() const { return ok_; }
  const std::string& description() const { return display_->description(); }

 private:
  Slate() = default;
  static gboolean on_bus(GstBus*, GstMessage* msg, gpointer self);

  std::unique_ptr<VideoDisplay> display_;
  GRef<GstElement> pipeline_;
  GstElement* text_ = nullptr;  // owned by the pipeline
  std::string markup_;
  guint bus_watch_ = 0;
  bool ok_ = true;
};

}  // namespace callagent::media
