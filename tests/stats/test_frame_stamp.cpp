#include "media/frame_stamp.h"

#include <catch2/catch.hpp>

#include <random>

using namespace callagent::media;

namespace {
struct Frame {
  GstVideoInfo info;
  GstBuffer* buf;
  explicit Frame(int w, int h, GstVideoFormat f = GST_VIDEO_FORMAT_I420) {
    static bool init = [] {
      gst_init(nullptr, nullptr);
      return true;
    }();
    (void)init;
    gst_video_info_set_format(&info, f, w, h);
    buf = gst_buffer_new_allocate(nullptr, info.size, nullptr);
    GstMapInfo m;
    gst_buffer_map(buf, &m, GST_MAP_WRITE);
    std::mt19937 rng(42);
    for (size_t i = 0; i < m.size; ++i) m.data[i] = static_cast<guint8>(rng());
    gst_buffer_unmap(buf, &m);
  }
  ~Frame() { gst_buffer_unref(buf); }
  template <typename F>
  void with(GstMapFlags flags, F fn) {
    GstVideoFrame f;
    REQUIRE(gst_video_frame_map(&f, &info, buf, flags));
    fn(&f);
    gst_video_frame_unmap(&f);
  }
};
}  // namespace

TEST_CASE("frame stamp: written and read back", "[stats][stamp]") {
  for (auto fmt : {GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12}) {
    Frame f(640, 360, fmt);
    const uint64_t ms = 1715000123456ULL;
    f.with(GST_MAP_WRITE, [&](GstVideoFrame* v) { write_stamp(v, ms); });
    f.with(GST_MAP_READ, [&](GstVideoFrame* v) {
      auto r = read_stamp(v);
      REQUIRE(r);
      CHECK(*r == ms);
    });
  }
}

TEST_CASE("frame stamp: survives mild noise, refuses damage and plain pictures", "[stats][stamp]") {
  Frame f(854, 480);
  f.with(GST_MAP_READ, [&](GstVideoFrame* v) { CHECK_FALSE(read_stamp(v)); });
  f.with(GST_MAP_WRITE, [&](GstVideoFrame* v) { write_stamp(v, 123456789); });
  // Codec-like noise: +-30 on every luma pixel of the stamp.
  std::mt19937 rng(7);
  f.with(GST_MAP_WRITE, [&](GstVideoFrame* v) {
    auto* y = static_cast<guint8*>(GST_VIDEO_FRAME_COMP_DATA(v, 0));
    int s = GST_VIDEO_FRAME_COMP_STRIDE(v, 0);
    for (int r = 0; r < 64; ++r)
      for (int x = 0; x < 256; ++x) {
        int val = y[r * s + x] + static_cast<int>(rng() % 61) - 30;
        y[r * s + x] = static_cast<guint8>(std::clamp(val, 0, 255));
      }
  });
  f.with(GST_MAP_READ, [&](GstVideoFrame* v) { CHECK(read_stamp(v) == 123456789ULL); });
  // Flip one block: the CRC catches it.
  f.with(GST_MAP_WRITE, [&](GstVideoFrame* v) {
    auto* y = static_cast<guint8*>(GST_VIDEO_FRAME_COMP_DATA(v, 0));
    int s = GST_VIDEO_FRAME_COMP_STRIDE(v, 0);
    for (int r = 0; r < 16; ++r)
      for (int x = 0; x < 16; ++x) y[r * s + x] = y[r * s + x] > 128 ? 16 : 235;
  });
  f.with(GST_MAP_READ, [&](GstVideoFrame* v) { CHECK_FALSE(read_stamp(v)); });
}

TEST_CASE("frame stamp: too small or unsupported frames are left alone", "[stats][stamp]") {
  Frame small(160, 120);
  CHECK_FALSE(can_stamp(small.info));
  Frame rgb(640, 480, GST_VIDEO_FORMAT_RGB);
  CHECK_FALSE(can_stamp(rgb.info));
  CHECK(crc16_ccitt(reinterpret_cast<const uint8_t*>("123456789"), 9) == 0x29B1);
}
