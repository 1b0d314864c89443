#pragma once
// A top-level X11 window that covers the screen, for the video sinks that
// draw into a window they are given (GstVideoOverlay) but cannot go full
// screen by themselves (ximagesink, xvimagesink: they open a window of the
// video's size). Without a window manager (a kiosk's bare X server, Xvfb)
// its position and size alone make it cover the screen; a window manager is
// asked for the same with _NET_WM_STATE_FULLSCREEN.
//
// The window has its own connection to the X server, used only when it is
// created and destroyed; the sink draws through its own connection. Whoever
// owns it destroys it only after the sink is in NULL (no longer drawing).
// Built without libX11 (no CALLAGENT_HAVE_X11), create() says so and fails.

#include <memory>
#include <string>

namespace callagent::media {

class X11Window {
 public:
  // On $DISPLAY's default screen, mapped, black, titled `title`. nullptr
  // (logged) when the display cannot be opened.
  static std::unique_ptr<X11Window> create_fullscreen(const std::string& title);
  // A small window in a corner of the screen ("top-left", "top-right",
  // "bottom-left", "bottom-right"), a quarter of the screen's width, 16:9,
  // 16 px from the edges, above the others: override-redirect (a window
  // manager neither moves nor decorates it). raise() puts it back on top
  // after another window was mapped over it.
  static std::unique_ptr<X11Window> create_corner(const std::string& title, const std::string& corner);
  void raise();
  ~X11Window();
  X11Window(const X11Window&) = delete;
  X11Window& operator=(const X11Window&) = delete;

  unsigned long handle() const { return window_; }  // the XID, for gst_video_overlay_set_window_handle
  int width() const { return width_; }
  int height() const { return height_; }

 private:
  X11Window() = default;
  static std::unique_ptr<X11Window> connect(const char* what);
  void* display_ = nullptr;  // Display*, kept out of this header (Xlib's macros)
  unsigned long window_ = 0;
  int width_ = 0;
  int height_ = 0;
};

}  // namespace callagent::media
