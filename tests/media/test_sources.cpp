// Local sources: the device paths (v4l2, ALSA) build and run, with the
// device element swapped for a test source only where no device exists;
// file sources loop or end.

#include "media_test_util.h"

#include <unistd.h>

using namespace callagent;
using namespace callagent::media;
using namespace callagent::media::test;
using namespace std::chrono_literals;

// The device chains (v4l2 and ALSA, with webrtcdsp as for a real
// microphone) built with the device element swapped for a test source: the
// chain code runs on every machine. A real camera and sound card are the
// next case, which needs them.
TEST_CASE("v4l2 and ALSA source chains build and encode (device element swapped)", "[media][sources]") {
  TestContext tc;
  EngineListener l;
  MediaOptions o = loopback_options();
  o.video_source = *parse_source_spec("v4l2:/dev/video0", MediaKind::Video);
  o.audio_source = *parse_source_spec("alsa", MediaKind::Audio);
  o.audio_processing = true;
  // One factory for both kinds: use two engines.
  MediaOptions ov = o, oa = o;
  ov.audio_source.type = SourceSpec::Type::None;
  ov.substitute_device_element = "videotestsrc";
  oa.video_source.type = SourceSpec::Type::None;
  oa.substitute_device_element = "audiotestsrc";
  auto ev = MediaEngine::create(ov, &l);
  REQUIRE(ev.ok());
  auto ea = MediaEngine::create(oa, &l);
  REQUIRE(ea.ok());
  REQUIRE(tc.run_until([&] {
    return (*ev)->counters().video_frames_encoded > 15 && (*ea)->counters().audio_buffers_encoded > 15;
  }, 10s));
  CHECK(l.errors.empty());
}

TEST_CASE("a real camera and sound card encode", "[media][sources-devices]") {
  TestContext tc;
  if (access("/dev/video0", R_OK) != 0 || access("/dev/snd/pcmC0D0c", R_OK) != 0)
    CALLAGENT_SKIP("no readable camera (/dev/video0) and sound card (/dev/snd/pcmC0D0c) here");
  EngineListener l;
  MediaOptions o = loopback_options();
  o.video_source = *parse_source_spec("v4l2:/dev/video0", MediaKind::Video);
  o.audio_source = *parse_source_spec("alsa", MediaKind::Audio);
  o.audio_processing = true;
  auto e = MediaEngine::create(o, &l);
  REQUIRE(e.ok());
  REQUIRE(tc.run_until([&] {
    return (*e)->counters().video_frames_encoded > 15 && (*e)->counters().audio_buffers_encoded > 15;
  }, 10s));
  CHECK(l.errors.empty());
}

TEST_CASE("every audio preset encodes a test tone (no audio processing)", "[media][sources]") {
  // Without webrtcdsp's resampler in the chain, the preset's rate must
  // still reach Opus' 48 kHz.
  TestContext tc;
  for (const char* preset : {"high", "medium", "low"}) {
    INFO(preset);
    EngineListener l;
    MediaOptions o = loopback_options();
    o.video_source.type = SourceSpec::Type::None;
    o.audio = *parse_audio_preset(preset);
    auto e = MediaEngine::create(o, &l);
    INFO((e.ok() ? std::string() : e.error().message));
    REQUIRE(e.ok());
    REQUIRE(tc.run_until([&] { return (*e)->counters().audio_buffers_encoded > 15; }, 10s));
    CHECK(l.errors.empty());
  }
}

TEST_CASE("auto source without devices fails naming --video-source test", "[media][sources-no-camera]") {
  TestContext tc;
  if (access("/dev/video0", F_OK) == 0)
    CALLAGENT_SKIP("a camera exists here (/dev/video0): the no-camera message cannot be checked");
  EngineListener l;
  MediaOptions o = loopback_options();
  o.video_source.type = SourceSpec::Type::Auto;
  auto e = MediaEngine::create(o, &l);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().message.find("--video-source test") != std::string::npos);
}

TEST_CASE("file sources: loop restarts, no loop ends with an event", "[media][sources]") {
  TestContext tc;
  TempDir dir;
  const std::string file = dir.file("clip.webm");
  // A 1.5 s clip, small.
  int rc = std::system(("gst-launch-1.0 -q videotestsrc num-buffers=45 ! "
                        "video/x-raw,width=320,height=240,framerate=30/1 ! vp8enc deadline=1 ! "
                        "m.video_0 audiotestsrc num-buffers=70 samplesperbuffer=1024 ! opusenc ! "
                        "m.audio_0 webmmux name=m ! filesink location=" + file + " >/dev/null 2>&1").c_str());
  REQUIRE(rc == 0);

  SECTION("loop") {
    EngineListener l;
    MediaOptions o = loopback_options();
    o.video_source = *parse_source_spec("file:" + file + ",loop", MediaKind::Video);
    o.audio_source = *parse_source_spec("file:" + file + ",loop", MediaKind::Audio);
    auto e = MediaEngine::create(o, &l);
    REQUIRE(e.ok());
    // 3.5 s of a 1.5 s clip: encoded past the end, no EOS event, and paced
    // (not decoded as fast as possible).
    tc.run_for(3500ms);
    auto c = (*e)->counters();
    CHECK(l.eos.empty());
    CHECK(l.errors.empty());
    // Past the 1.5 s clip's end (45 frames / 75 Opus packets), with room for
    // a busy machine, and not decoded as fast as possible.
    CHECK(c.video_frames_encoded > 60);
    CHECK(c.video_frames_encoded < 130);
    CHECK(c.audio_buffers_encoded > 60);
  }
  SECTION("no loop") {
    EngineListener l;
    MediaOptions o = loopback_options();
    o.video_source = *parse_source_spec("file:" + file, MediaKind::Video);
    o.audio_source.type = SourceSpec::Type::Test;
    auto e = MediaEngine::create(o, &l);
    REQUIRE(e.ok());
    REQUIRE(tc.run_until([&] { return !l.eos.empty(); }, 6s));
    CHECK(l.eos.front() == MediaKind::Video);
    CHECK(l.errors.empty());
  }
  SECTION("missing file") {
    EngineListener l;
    MediaOptions o = loopback_options();
    o.video_source = *parse_source_spec("file:" + dir.file("nope.mkv"), MediaKind::Video);
    auto e = MediaEngine::create(o, &l);
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().code == ExitCode::NoInput);
  }
}

// ---- cameras that deliver MJPEG ----------------------------------------------

namespace {

GRef<GstElement> find_element(MediaEngine& e, const char* name) {
  // Recursive; transfer full.
  return GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(e.pipeline()), name));
}

std::string caps_of_filter(MediaEngine& e, const char* name) {
  GRef<GstElement> f = find_element(e, name);
  if (!f) return {};
  GstCaps* raw = nullptr;
  g_object_get(f.get(), "caps", &raw, nullptr);
  GUnique<GstCaps> c(raw);
  if (!c) return {};
  GCharPtr s(gst_caps_to_string(c.get()));
  return s.get();
}

// Buffers that left an element's src pad.
struct BufferCounter {
  std::atomic<uint64_t> n{0};
  void attach(GstElement* e) {
    g_autoptr(GstPad) p = gst_element_get_static_pad(e, "src");
    REQUIRE(p);
    gst_pad_add_probe(p, GST_PAD_PROBE_TYPE_BUFFER,
                      +[](GstPad*, GstPadProbeInfo*, gpointer d) {
                        static_cast<BufferCounter*>(d)->n.fetch_add(1);
                        return GST_PAD_PROBE_OK;
                      },
                      this, nullptr);
  }
};

std::pair<int, int> encoder_input_size(MediaEngine& e) {
  GRef<GstElement> enc = find_element(e, "video-encoder");
  REQUIRE(enc);
  g_autoptr(GstPad) p = gst_element_get_static_pad(enc.get(), "sink");
  GUnique<GstCaps> c(gst_pad_get_current_caps(p));
  int w = 0, h = 0;
  if (c) {
    gst_structure_get_int(gst_caps_get_structure(c.get(), 0), "width", &w);
    gst_structure_get_int(gst_caps_get_structure(c.get(), 0), "height", &h);
  }
  return {w, h};
}

MediaOptions camera_options(const std::string& substitute) {
  MediaOptions o = loopback_options();
  o.video = *parse_video_preset("720p", 30);
  o.video_source = *parse_source_spec("v4l2:/dev/video0", MediaKind::Video);
  o.audio_source.type = SourceSpec::Type::None;
  o.substitute_device_element = substitute;
  return o;
}

// A test camera like a UVC webcam: its src pad answers a caps query with raw
// YUYV at 640x480@30 / 1280x720@10 and MJPEG at 1280x720@30 (a union no
// single GStreamer element offers), and produces MJPEG 1280x720@30, the one
// mode that fits a 720p30 preset.
struct UnionCam {
  GstBin parent;
};
struct UnionCamClass {
  GstBinClass parent_class;
};
G_DEFINE_TYPE(UnionCam, union_cam, GST_TYPE_BIN)

constexpr const char* kUnionCamCaps =
    "video/x-raw, format=(string)YUY2, width=(int)640, height=(int)480, framerate=(fraction)30/1; "
    "video/x-raw, format=(string)YUY2, width=(int)1280, height=(int)720, framerate=(fraction)10/1; "
    "image/jpeg, width=(int)1280, height=(int)720, framerate=(fraction)30/1";

GstPadQueryFunction g_ghost_query = nullptr;  // the ghost pad's own

gboolean union_cam_query(GstPad* pad, GstObject* parent, GstQuery* q) {
  if (GST_QUERY_TYPE(q) != GST_QUERY_CAPS) return g_ghost_query(pad, parent, q);
  GstCaps* filter = nullptr;
  gst_query_parse_caps(q, &filter);
  GUnique<GstCaps> all(gst_caps_from_string(kUnionCamCaps));
  if (filter) all.reset(gst_caps_intersect_full(filter, all.get(), GST_CAPS_INTERSECT_FIRST));
  gst_query_set_caps_result(q, all.get());
  return TRUE;
}

void union_cam_init(UnionCam* self) {
  GstElement* src = gst_element_factory_make("videotestsrc", nullptr);
  GstElement* cf = gst_element_factory_make("capsfilter", nullptr);
  GstElement* enc = gst_element_factory_make("jpegenc", nullptr);
  g_object_set(src, "is-live", TRUE, nullptr);
  GUnique<GstCaps> c(gst_caps_from_string("video/x-raw,width=1280,height=720,framerate=30/1"));
  g_object_set(cf, "caps", c.get(), nullptr);
  gst_bin_add_many(GST_BIN(self), src, cf, enc, nullptr);
  gst_element_link_many(src, cf, enc, nullptr);
  g_autoptr(GstPad) target = gst_element_get_static_pad(enc, "src");
  GstPad* g = gst_ghost_pad_new("src", target);  // floating: the element takes it
  g_ghost_query = GST_PAD_QUERYFUNC(g);
  gst_pad_set_query_function(g, union_cam_query);
  gst_element_add_pad(GST_ELEMENT(self), g);
}

void union_cam_class_init(UnionCamClass*) {}

}  // namespace

TEST_CASE("an MJPEG-only camera is decoded and encoded at the preset", "[media][sources]") {
  TestContext tc;
  EngineListener l;
  LogCapture logs("media");
  {
    MediaOptions o = camera_options(
        "videotestsrc is-live=true pattern=ball ! video/x-raw,width=1280,height=720,framerate=30/1 "
        "! jpegenc");
    auto e = MediaEngine::create(o, &l);
    REQUIRE(e.ok());
    // The device capsfilter asks for the MJPEG mode; a JPEG decoder follows.
    CHECK(caps_of_filter(**e, "video-device-caps") ==
          "image/jpeg, width=(int)1280, height=(int)720, framerate=(fraction)30/1");
    GRef<GstElement> dec = find_element(**e, "video-jpeg-decoder");
    REQUIRE(dec);
    BufferCounter decoded;
    decoded.attach(dec.get());
    REQUIRE(tc.run_until([&] { return (*e)->counters().video_frames_encoded > 30; }, 10s));
    CHECK(decoded.n.load() > 20);  // videorate may duplicate a late frame: not equal
    CHECK(encoder_input_size(**e) == std::make_pair(1280, 720));
    CHECK(l.errors.empty());
  }
  CHECK_FALSE(logs.find("MJPEG 1280x720@30 decoded by").empty());
  CHECK(logs.find("(no raw modes)").size() > 0);
  // The mode is the preset: no "cannot deliver" line.
  CHECK(logs.find("cannot deliver").empty());
}

TEST_CASE("a camera offering slow raw and fluent MJPEG: MJPEG chosen", "[media][sources]") {
  TestContext tc;
  gst_element_register(nullptr, "callagent-test-union-cam", GST_RANK_NONE, union_cam_get_type());
  EngineListener l;
  LogCapture logs("media");
  {
    auto e = MediaEngine::create(camera_options("callagent-test-union-cam"), &l);
    REQUIRE(e.ok());
    CHECK(caps_of_filter(**e, "video-device-caps") ==
          "image/jpeg, width=(int)1280, height=(int)720, framerate=(fraction)30/1");
    REQUIRE(tc.run_until([&] { return (*e)->counters().video_frames_encoded > 30; }, 10s));
    CHECK(encoder_input_size(**e) == std::make_pair(1280, 720));
    CHECK(l.errors.empty());
  }
  std::string line = logs.find("camera /dev/video0 (substitute): MJPEG");
  INFO(line);
  CHECK(line.find("MJPEG 1280x720@30 decoded by ") != std::string::npos);
  CHECK(line.find("(raw YUYV only up to 640x480@30)") != std::string::npos);
}

TEST_CASE("a camera below the preset: scaled, and the log says so", "[media][sources]") {
  TestContext tc;
  EngineListener l;
  LogCapture logs("media");
  {
    MediaOptions o = camera_options(
        "videotestsrc is-live=true ! capsfilter "
        "caps=\"video/x-raw,format=YUY2,width=640,height=480,framerate=30/1\"");
    auto e = MediaEngine::create(o, &l);
    INFO((e.ok() ? std::string() : e.error().message));
    REQUIRE(e.ok());
    CHECK(caps_of_filter(**e, "video-device-caps") ==
          "video/x-raw, format=(string)YUY2, width=(int)640, height=(int)480, "
          "framerate=(fraction)30/1");
    CHECK_FALSE(find_element(**e, "video-jpeg-decoder"));
    REQUIRE(tc.run_until([&] { return (*e)->counters().video_frames_encoded > 15; }, 10s));
    CHECK(encoder_input_size(**e) == std::make_pair(1280, 720));
    CHECK(l.errors.empty());
  }
  CHECK_FALSE(logs.find("raw YUYV 640x480@30").empty());
  CHECK_FALSE(logs.find("cannot deliver the preset 1280x720@30: it delivers raw YUYV 640x480@30; "
                        "scaling to the preset").empty());
}

TEST_CASE("a camera that cannot be opened fails with the device's own error", "[media][sources]") {
  TestContext tc;
  EngineListener l;
  MediaOptions o = loopback_options();
  o.video_source = *parse_source_spec("v4l2:/dev/callagent-no-such-camera", MediaKind::Video);
  o.audio_source.type = SourceSpec::Type::None;
  auto e = MediaEngine::create(o, &l);
  REQUIRE_FALSE(e.ok());
  INFO(e.error().message);
  CHECK(e.error().message.find("v4l2src") != std::string::npos);
  CHECK(e.error().message.find("callagent-no-such-camera") != std::string::npos);
  CHECK(e.error().code == ExitCode::NoInput);
}
