#include "media/x11_window.h"

#include "common/logging.h"

#ifdef CALLAGENT_HAVE_X11
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#endif

namespace callagent::media {

namespace {
auto log() { return logging::get("media"); }
}  // namespace

#ifdef CALLAGENT_HAVE_X11

// A window object with its own connection to $DISPLAY, no window yet;
// nullptr (logged, naming `what` the window was for) without an X server.
std::unique_ptr<X11Window> X11Window::connect(const char* what) {
  Display* dpy = XOpenDisplay(nullptr);
  if (!dpy) {
    const char* name = XDisplayName(nullptr);
    log()->error("display: cannot open the X display '{}' for {}", name ? name : "", what);
    return nullptr;
  }
  std::unique_ptr<X11Window> w(new X11Window());
  w->display_ = dpy;
  return w;
}

std::unique_ptr<X11Window> X11Window::create_fullscreen(const std::string& title) {
  auto w = connect("a full-screen window");
  if (!w) return nullptr;
  auto* dpy = static_cast<Display*>(w->display_);
  const int screen = DefaultScreen(dpy);
  w->width_ = DisplayWidth(dpy, screen);
  w->height_ = DisplayHeight(dpy, screen);
  XSetWindowAttributes attrs{};
  attrs.background_pixel = BlackPixel(dpy, screen);
  attrs.border_pixel = BlackPixel(dpy, screen);
  w->window_ = XCreateWindow(dpy, RootWindow(dpy, screen), 0, 0, static_cast<unsigned>(w->width_),
                             static_cast<unsigned>(w->height_), 0, CopyFromParent, InputOutput,
                             CopyFromParent, CWBackPixel | CWBorderPixel, &attrs);

  // Title and class for window managers and tools (xwininfo, xdotool).
  XStoreName(dpy, w->window_, title.c_str());
  Atom utf8 = XInternAtom(dpy, "UTF8_STRING", False);
  XChangeProperty(dpy, w->window_, XInternAtom(dpy, "_NET_WM_NAME", False), utf8, 8, PropModeReplace,
                  reinterpret_cast<const unsigned char*>(title.data()), static_cast<int>(title.size()));
  XClassHint* hint = XAllocClassHint();
  if (hint) {
    std::string name = "callagent";
    hint->res_name = name.data();
    hint->res_class = name.data();
    XSetClassHint(dpy, w->window_, hint);
    XFree(hint);
  }
  // Set before mapping: an EWMH window manager maps it full screen at once.
  Atom fullscreen = XInternAtom(dpy, "_NET_WM_STATE_FULLSCREEN", False);
  XChangeProperty(dpy, w->window_, XInternAtom(dpy, "_NET_WM_STATE", False), XA_ATOM, 32, PropModeReplace,
                  reinterpret_cast<unsigned char*>(&fullscreen), 1);
  XSizeHints* size = XAllocSizeHints();
  if (size) {
    size->flags = PPosition | PSize;
    size->x = 0;
    size->y = 0;
    size->width = w->width_;
    size->height = w->height_;
    XSetWMNormalHints(dpy, w->window_, size);
    XFree(size);
  }
  XMapRaised(dpy, w->window_);
  XSync(dpy, False);
  log()->info("display: full-screen window 0x{:x} ({}x{}) on {}", w->window_, w->width_, w->height_,
              DisplayString(dpy));
  return w;
}

std::unique_ptr<X11Window> X11Window::create_corner(const std::string& title, const std::string& corner) {
  auto w = connect("the self-view");
  if (!w) return nullptr;
  auto* dpy = static_cast<Display*>(w->display_);
  const int screen = DefaultScreen(dpy);
  const int sw = DisplayWidth(dpy, screen), sh = DisplayHeight(dpy, screen);
  constexpr int kMargin = 16;
  w->width_ = sw / 4 / 2 * 2;
  w->height_ = w->width_ * 9 / 16 / 2 * 2;
  const bool right = corner.find("right") != std::string::npos;
  const bool bottom = corner.find("bottom") != std::string::npos;
  const int x = right ? sw - w->width_ - kMargin : kMargin;
  const int y = bottom ? sh - w->height_ - kMargin : kMargin;
  XSetWindowAttributes attrs{};
  attrs.background_pixel = BlackPixel(dpy, screen);
  attrs.border_pixel = WhitePixel(dpy, screen);
  attrs.override_redirect = True;
  w->window_ = XCreateWindow(dpy, RootWindow(dpy, screen), x, y, static_cast<unsigned>(w->width_),
                             static_cast<unsigned>(w->height_), 1, CopyFromParent, InputOutput, CopyFromParent,
                             CWBackPixel | CWBorderPixel | CWOverrideRedirect, &attrs);
  XStoreName(dpy, w->window_, title.c_str());
  XMapRaised(dpy, w->window_);
  XSync(dpy, False);
  log()->info("display: self-view window 0x{:x} ({}x{} at {},{})", w->window_, w->width_, w->height_, x, y);
  return w;
}

void X11Window::raise() {
  auto* dpy = static_cast<Display*>(display_);
  if (!dpy || !window_) return;
  XRaiseWindow(dpy, window_);
  XFlush(dpy);
}

X11Window::~X11Window() {
  auto* dpy = static_cast<Display*>(display_);
  if (!dpy) return;
  if (window_) XDestroyWindow(dpy, window_);
  XCloseDisplay(dpy);
}

#else

std::unique_ptr<X11Window> X11Window::create_fullscreen(const std::string&) {
  log()->warn("display: built without libX11: cannot make an X11 window full screen");
  return nullptr;
}

std::unique_ptr<X11Window> X11Window::create_corner(const std::string&, const std::string&) {
  log()->warn("display: built without libX11: no self-view");
  return nullptr;
}

void X11Window::raise() {}

X11Window::~X11Window() = default;

#endif

}  // namespace callagent::media
