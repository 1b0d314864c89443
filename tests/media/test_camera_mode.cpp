// Camera mode selection (media/camera_mode.h): realistic caps lists as
// v4l2src reports them in READY, no device and no plugin needed.

#include "media/camera_mode.h"

#include "gst/gst_util.h"

#include <catch2/catch.hpp>
#include <gst/gst.h>

#include <string>

using namespace callagent;
using namespace callagent::media;

namespace {

struct Caps {
  GUnique<GstCaps> owned;
  GstCaps* caps;  // borrowed from owned
  explicit Caps(const std::string& s) : owned(parse(s)), caps(owned.get()) { REQUIRE(caps); }
  static GstCaps* parse(const std::string& s) {
    static bool init = [] {
      gst_init(nullptr, nullptr);
      return true;
    }();
    (void)init;
    return gst_caps_from_string(s.c_str());
  }
};

VideoPreset preset(const char* size, int fps) { return *parse_video_preset(size, fps); }

// A Logitech C920 as v4l2src reports it (abridged to the sizes that matter;
// raw YUYV is limited by USB 2 bandwidth, MJPEG is not; H.264 from the
// camera's own encoder is ignored).
const char* kC920 =
    "video/x-raw, format=(string)YUY2, width=(int)1920, height=(int)1080, "
    "pixel-aspect-ratio=(fraction)1/1, framerate=(fraction){ 5/1 }; "
    "video/x-raw, format=(string)YUY2, width=(int)1280, height=(int)720, "
    "pixel-aspect-ratio=(fraction)1/1, framerate=(fraction){ 10/1, 15/2, 5/1 }; "
    "video/x-raw, format=(string)YUY2, width=(int)864, height=(int)480, "
    "pixel-aspect-ratio=(fraction)1/1, framerate=(fraction){ 24/1, 20/1, 15/1, 10/1, 15/2, 5/1 }; "
    "video/x-raw, format=(string)YUY2, width=(int)640, height=(int)480, "
    "pixel-aspect-ratio=(fraction)1/1, framerate=(fraction){ 30/1, 24/1, 20/1, 15/1, 10/1, 15/2, 5/1 }; "
    "video/x-raw, format=(string)YUY2, width=(int)320, height=(int)240, "
    "pixel-aspect-ratio=(fraction)1/1, framerate=(fraction){ 30/1, 24/1, 20/1, 15/1, 10/1, 15/2, 5/1 }; "
    "image/jpeg, width=(int)1920, height=(int)1080, pixel-aspect-ratio=(fraction)1/1, "
    "framerate=(fraction){ 30/1, 24/1, 20/1, 15/1, 10/1, 15/2, 5/1 }; "
    "image/jpeg, width=(int)1280, height=(int)720, pixel-aspect-ratio=(fraction)1/1, "
    "framerate=(fraction){ 30/1, 24/1, 20/1, 15/1, 10/1, 15/2, 5/1 }; "
    "image/jpeg, width=(int)864, height=(int)480, pixel-aspect-ratio=(fraction)1/1, "
    "framerate=(fraction){ 30/1, 24/1, 20/1, 15/1, 10/1, 15/2, 5/1 }; "
    "image/jpeg, width=(int)640, height=(int)480, pixel-aspect-ratio=(fraction)1/1, "
    "framerate=(fraction){ 30/1, 24/1, 20/1, 15/1, 10/1, 15/2, 5/1 }; "
    "video/x-h264, stream-format=(string)byte-stream, alignment=(string)au, width=(int)1920, "
    "height=(int)1080, pixel-aspect-ratio=(fraction)1/1, framerate=(fraction){ 30/1, 24/1 }; "
    "video/x-h264, stream-format=(string)byte-stream, alignment=(string)au, width=(int)1280, "
    "height=(int)720, pixel-aspect-ratio=(fraction)1/1, framerate=(fraction){ 30/1, 24/1 }";

CameraMode mode(CameraMode::Kind k, const char* fmt, int w, int h, int n, int d = 1) {
  CameraMode m;
  m.kind = k;
  m.format = fmt;
  m.width = w;
  m.height = h;
  m.fps_n = n;
  m.fps_d = d;
  return m;
}
constexpr auto Raw = CameraMode::Kind::Raw;
constexpr auto Jpeg = CameraMode::Kind::Jpeg;

}  // namespace

TEST_CASE("C920-like camera: MJPEG where raw is too slow, raw where it suffices", "[camera]") {
  Caps c(kC920);
  SECTION("720p30: MJPEG 1280x720@30 (raw 720p only at 10 fps)") {
    auto ch = choose_camera_mode(c.caps, preset("720p", 30));
    REQUIRE(ch);
    CHECK(ch->mode == mode(Jpeg, "", 1280, 720, 30));
    CHECK(ch->mode.meets(preset("720p", 30)));
    CHECK(ch->mode.caps_string() == "image/jpeg,width=1280,height=720,framerate=30/1");
    CHECK(ch->mode.describe() == "MJPEG 1280x720@30");
    REQUIRE(ch->best_raw);
    CHECK(ch->best_raw->describe() == "raw YUYV 640x480@30");
  }
  SECTION("1080p30: MJPEG 1920x1080@30") {
    auto ch = choose_camera_mode(c.caps, preset("1080p", 30));
    REQUIRE(ch);
    CHECK(ch->mode == mode(Jpeg, "", 1920, 1080, 30));
  }
  SECTION("1080p24: MJPEG at exactly 24, not 30") {
    auto ch = choose_camera_mode(c.caps, preset("1080p", 24));
    REQUIRE(ch);
    CHECK(ch->mode == mode(Jpeg, "", 1920, 1080, 24));
  }
  SECTION("480p (854x480) has no exact mode: the smallest that covers it, at 30 fps") {
    auto ch = choose_camera_mode(c.caps, preset("480p", 30));
    REQUIRE(ch);
    // Raw 864x480 only reaches 24 fps; MJPEG 864x480@30 covers 854x480.
    CHECK(ch->mode == mode(Jpeg, "", 864, 480, 30));
    CHECK_FALSE(ch->mode.meets(preset("480p", 30)));
  }
  SECTION("480p24: raw 864x480@24 suffices, no decoder needed") {
    auto ch = choose_camera_mode(c.caps, preset("480p", 24));
    REQUIRE(ch);
    CHECK(ch->mode == mode(Raw, "YUY2", 864, 480, 24));
    CHECK(ch->mode.caps_string() ==
          "video/x-raw,format=YUY2,width=864,height=480,framerate=24/1");
  }
  SECTION("360p30: raw 640x480@30 covers 640x360") {
    auto ch = choose_camera_mode(c.caps, preset("360p", 30));
    REQUIRE(ch);
    CHECK(ch->mode == mode(Raw, "YUY2", 640, 480, 30));
  }
  SECTION("4K30 beyond the camera: its largest fluent mode, MJPEG 1080p30") {
    auto ch = choose_camera_mode(c.caps, preset("4k", 30));
    REQUIRE(ch);
    CHECK(ch->mode == mode(Jpeg, "", 1920, 1080, 30));
    CHECK_FALSE(ch->mode.meets(preset("4k", 30)));
  }
  SECTION("1080p60 beyond the camera: the preset size at 30 beats a smaller size") {
    auto ch = choose_camera_mode(c.caps, preset("1080p", 60));
    REQUIRE(ch);
    CHECK(ch->mode == mode(Jpeg, "", 1920, 1080, 30));
  }
  SECTION("without a JPEG decoder: raw only") {
    auto ch = choose_camera_mode(c.caps, preset("720p", 30), /*allow_jpeg=*/false);
    REQUIRE(ch);
    CHECK(ch->mode == mode(Raw, "YUY2", 640, 480, 30));
  }
}

TEST_CASE("raw-only camera", "[camera]") {
  Caps c(
      "video/x-raw, format=(string)YUY2, width=(int)1280, height=(int)720, "
      "framerate=(fraction){ 10/1, 5/1 }; "
      "video/x-raw, format=(string)YUY2, width=(int)640, height=(int)480, "
      "framerate=(fraction){ 30/1, 15/1 }; "
      "video/x-raw, format=(string)YUY2, width=(int)320, height=(int)240, "
      "framerate=(fraction){ 30/1, 15/1 }");
  auto ch = choose_camera_mode(c.caps, preset("720p", 30));
  REQUIRE(ch);
  // Fluent 640x480 upscaled, rather than 720p at 10 fps.
  CHECK(ch->mode == mode(Raw, "YUY2", 640, 480, 30));
  CHECK(ch->best_raw == ch->mode);
  auto ch2 = choose_camera_mode(c.caps, preset("360p", 30));
  REQUIRE(ch2);
  CHECK(ch2->mode == mode(Raw, "YUY2", 640, 480, 30));
}

TEST_CASE("raw at the preset wins over MJPEG at the preset", "[camera]") {
  Caps c(
      "image/jpeg, width=(int)1280, height=(int)720, framerate=(fraction){ 30/1 }; "
      "video/x-raw, format=(string){ NV12, YUY2 }, width=(int)1280, height=(int)720, "
      "framerate=(fraction){ 60/1, 30/1 }");
  auto ch = choose_camera_mode(c.caps, preset("720p", 30));
  REQUIRE(ch);
  // Raw, at the preset rate (not 60), in the device's first format.
  CHECK(ch->mode == mode(Raw, "NV12", 1280, 720, 30));
  CHECK(ch->mode.describe() == "raw NV12 1280x720@30");
}

TEST_CASE("MJPEG-only camera", "[camera]") {
  Caps c(
      "image/jpeg, width=(int)1920, height=(int)1080, framerate=(fraction)30/1; "
      "image/jpeg, width=(int)1280, height=(int)720, framerate=(fraction){ 60/1, 30/1 }; "
      "image/jpeg, width=(int)640, height=(int)480, framerate=(fraction){ 60/1, 30/1 }");
  auto ch = choose_camera_mode(c.caps, preset("720p", 60));
  REQUIRE(ch);
  CHECK(ch->mode == mode(Jpeg, "", 1280, 720, 60));
  CHECK_FALSE(ch->best_raw);
  CHECK_FALSE(choose_camera_mode(c.caps, preset("720p", 60), /*allow_jpeg=*/false));
}

TEST_CASE("framerate and size ranges", "[camera]") {
  SECTION("continuous frame intervals: the preset rate inside the range") {
    Caps c(
        "video/x-raw, format=(string)YUY2, width=(int)1280, height=(int)720, "
        "framerate=(fraction)[ 1/1, 30/1 ]; "
        "image/jpeg, width=(int)1280, height=(int)720, framerate=(fraction)[ 1/1, 60/1 ]");
    auto ch = choose_camera_mode(c.caps, preset("720p", 24));
    REQUIRE(ch);
    CHECK(ch->mode == mode(Raw, "YUY2", 1280, 720, 24));
    // 60 fps only from the MJPEG range.
    auto ch60 = choose_camera_mode(c.caps, preset("720p", 60));
    REQUIRE(ch60);
    CHECK(ch60->mode == mode(Jpeg, "", 1280, 720, 60));
  }
  SECTION("stepwise sizes: the preset clamped into the range") {
    Caps c(
        "video/x-raw, format=(string)NV12, width=(int)[ 32, 1920, 2 ], "
        "height=(int)[ 32, 1080, 2 ], framerate=(fraction)[ 1/1, 30/1 ]");
    auto ch = choose_camera_mode(c.caps, preset("720p", 30));
    REQUIRE(ch);
    CHECK(ch->mode == mode(Raw, "NV12", 1280, 720, 30));
    // 4K60: the largest size at the top rate.
    auto ch4k = choose_camera_mode(c.caps, preset("4k", 60));
    REQUIRE(ch4k);
    CHECK(ch4k->mode == mode(Raw, "NV12", 1920, 1080, 30));
  }
  SECTION("29.97 counts as 30") {
    Caps c("video/x-raw, format=(string)YUY2, width=(int)1280, height=(int)720, "
           "framerate=(fraction)30000/1001; "
           "image/jpeg, width=(int)1280, height=(int)720, framerate=(fraction)30/1");
    auto ch = choose_camera_mode(c.caps, preset("720p", 30));
    REQUIRE(ch);
    CHECK(ch->mode == mode(Raw, "YUY2", 1280, 720, 30000, 1001));
    CHECK(ch->mode.describe() == "raw YUYV 1280x720@29.97");
  }
}

TEST_CASE("nothing usable: ANY, empty, H.264 only, DMABuf only", "[camera]") {
  CHECK_FALSE(choose_camera_mode(nullptr, preset("720p", 30)));
  Caps any("ANY");
  CHECK_FALSE(choose_camera_mode(any.caps, preset("720p", 30)));
  Caps empty("EMPTY");
  CHECK_FALSE(choose_camera_mode(empty.caps, preset("720p", 30)));
  Caps h264("video/x-h264, width=(int)1920, height=(int)1080, framerate=(fraction)30/1");
  CHECK_FALSE(choose_camera_mode(h264.caps, preset("720p", 30)));
  Caps dmabuf(
      "video/x-raw(memory:DMABuf), format=(string)NV12, width=(int)1280, height=(int)720, "
      "framerate=(fraction)30/1; "
      "video/x-raw, format=(string)YUY2, width=(int)640, height=(int)480, framerate=(fraction)30/1");
  auto ch = choose_camera_mode(dmabuf.caps, preset("720p", 30));
  REQUIRE(ch);
  CHECK(ch->mode == mode(Raw, "YUY2", 640, 480, 30));
}

TEST_CASE("format names", "[camera]") {
  CHECK(camera_format_name("YUY2") == "YUYV");
  CHECK(camera_format_name("NV12") == "NV12");
  CHECK(mode(Raw, "", 640, 480, 15, 2).describe() == "raw 640x480@7.5");
}

TEST_CASE("a permissive element's caps (every format, ranges): I420 at the preset", "[camera]") {
  Caps c("video/x-raw, format=(string){ AYUV64, ARGB64, AYUV, RGBx, BGRx, I420, NV12, YUY2 }, "
         "width=(int)[ 1, 2147483647 ], height=(int)[ 1, 2147483647 ], "
         "framerate=(fraction)[ 0/1, 2147483647/1 ]; "
         "video/x-bayer, format=(string){ bggr, rggb }, width=(int)[ 1, 2147483647 ], "
         "height=(int)[ 1, 2147483647 ], framerate=(fraction)[ 0/1, 2147483647/1 ]");
  auto ch = choose_camera_mode(c.caps, preset("1080p", 60));
  REQUIRE(ch);
  CHECK(ch->mode == mode(Raw, "I420", 1920, 1080, 60));
}
