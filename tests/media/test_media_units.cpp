// Parsing and helpers of src/media that need no running pipeline.

#include "media/plugin_check.h"
#include "media/recorder.h"
#include "media/sdp_info.h"
#include "media_test_util.h"

using namespace callagent;
using namespace callagent::media;

TEST_CASE("presets parse", "[media][units]") {
  auto v = parse_video_preset("4k", 60);
  REQUIRE(v.ok());
  CHECK(v->width == 3840);
  CHECK(v->height == 2160);
  CHECK(v->effective_bitrate_kbps() == 8000);
  CHECK(parse_video_preset("480p", 30)->width == 854);
  CHECK(parse_video_preset("720p", 24)->effective_bitrate_kbps() < 2500);
  CHECK_FALSE(parse_video_preset("999p", 30).ok());
  CHECK(parse_video_preset("1080p", 25).error().code == ExitCode::Usage);
  auto a = parse_audio_preset("low");
  REQUIRE(a.ok());
  CHECK(a->rate == 32000);
  CHECK(a->channels == 1);
  CHECK_FALSE(parse_audio_preset("loud").ok());
}

TEST_CASE("source specs parse", "[media][units]") {
  using T = SourceSpec::Type;
  CHECK(parse_source_spec("test", MediaKind::Video)->type == T::Test);
  CHECK(parse_source_spec("none", MediaKind::Audio)->type == T::None);
  auto v = parse_source_spec("v4l2", MediaKind::Video);
  CHECK(v->device == "/dev/video0");
  CHECK(parse_source_spec("v4l2:/dev/video2", MediaKind::Video)->device == "/dev/video2");
  CHECK_FALSE(parse_source_spec("v4l2", MediaKind::Audio).ok());
  CHECK_FALSE(parse_source_spec("alsa", MediaKind::Video).ok());
  auto al = parse_source_spec("alsa:hw:1,0", MediaKind::Audio);
  CHECK(al->type == T::Alsa);
  CHECK(al->device == "hw:1,0");
  auto f = parse_source_spec("file:/tmp/a b.mkv,loop", MediaKind::Video);
  CHECK(f->type == T::File);
  CHECK(f->device == "/tmp/a b.mkv");
  CHECK(f->loop);
  CHECK_FALSE(parse_source_spec("file:", MediaKind::Video).ok());
  auto bad = parse_source_spec("camera", MediaKind::Video);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("test") != std::string::npos);
}

TEST_CASE("browser candidates are reduced to what libnice parses", "[media][units]") {
  CHECK(sanitize_candidate("candidate:842163049 1 udp 2113937151 127.0.0.1 46022 typ host "
                           "generation 0 ufrag X network-id 1 network-cost 50") ==
        "candidate:842163049 1 udp 2113937151 127.0.0.1 46022 typ host");
  CHECK(sanitize_candidate("candidate:1 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active "
                           "generation 0") ==
        "candidate:1 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active");
  CHECK(sanitize_candidate("candidate:2 1 udp 1 1.2.3.4 5 typ srflx raddr 0.0.0.0 rport 0") ==
        "candidate:2 1 udp 1 1.2.3.4 5 typ srflx raddr 0.0.0.0 rport 0");
  CHECK(sanitize_candidate("").empty());
  CHECK(sanitize_candidate("garbage").empty());
  CHECK(candidate_address("candidate:1 1 udp 2 127.0.0.1 5000 typ host") == "127.0.0.1");
}

TEST_CASE("missing plugins name their Debian package", "[media][units]") {
  test::init_gst();
  auto st = check_elements({{"queue", "libgstreamer1.0-0"},
                            {"no-such-element-xyz", "gstreamer1.0-plugins-bad"}});
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == ExitCode::Config);
  CHECK(st.error().message.find("no-such-element-xyz (install gstreamer1.0-plugins-bad)") !=
        std::string::npos);
  MediaOptions o;
  o.output.record_path = "/tmp/x.mkv";
  o.output.rtmp_url = "rtmp://127.0.0.1/live/x";
  CHECK(check_plugins(o).ok());  // this machine has everything
}

TEST_CASE("a camera source requires jpegdec (gstreamer1.0-plugins-good)", "[media][units]") {
  auto has = [](const MediaOptions& o, const std::string& f) {
    for (const auto& e : required_elements(o))
      if (e.factory == f) return e.package == "gstreamer1.0-plugins-good";
    return false;
  };
  MediaOptions o;
  CHECK_FALSE(has(o, "jpegdec"));  // test sources
  o.video_source = *parse_source_spec("v4l2:/dev/video0", MediaKind::Video);
  CHECK(has(o, "jpegdec"));
  o.video_source = *parse_source_spec("auto", MediaKind::Video);
  CHECK(has(o, "jpegdec"));
  o.video_source.type = SourceSpec::Type::None;
  o.audio_source = *parse_source_spec("alsa", MediaKind::Audio);
  CHECK_FALSE(has(o, "jpegdec"));
}

TEST_CASE("recorder: caps after a resolution change keep the first caps' other fields",
          "[media][units]") {
  test::init_gst();
  auto str = [](GstCaps* c) {
    GCharPtr s(gst_caps_to_string(c));
    gst_caps_unref(c);
    return std::string(s.get());
  };
  GUnique<GstCaps> first(gst_caps_from_string(
      "video/x-h264, stream-format=(string)avc3, alignment=(string)au, level=(string)2.1, "
      "profile=(string)constrained-baseline, width=(int)320, height=(int)180, "
      "framerate=(fraction)30/1, colorimetry=(string)bt601"));
  GUnique<GstCaps> next(gst_caps_from_string(
      "video/x-h264, stream-format=(string)avc3, alignment=(string)au, level=(string)3.1, "
      "profile=(string)constrained-baseline, width=(int)1280, height=(int)720, "
      "framerate=(fraction)30/1, colorimetry=(string)bt709"));
  CHECK(str(Recorder::continued_caps(first.get(), next.get())) ==
        "video/x-h264, stream-format=(string)avc3, alignment=(string)au, level=(string)3.1, "
        "profile=(string)constrained-baseline, width=(int)1280, height=(int)720, "
        "framerate=(fraction)30/1, colorimetry=(string)bt601");
  GUnique<GstCaps> vp8a(gst_caps_from_string(
      "video/x-vp8, framerate=(fraction)0/1, height=(int)180, width=(int)320, profile=(string)0"));
  GUnique<GstCaps> vp8b(gst_caps_from_string(
      "video/x-vp8, framerate=(fraction)0/1, height=(int)720, width=(int)1280"));
  CHECK(str(Recorder::continued_caps(vp8a.get(), vp8b.get())) ==
        "video/x-vp8, framerate=(fraction)0/1, height=(int)720, width=(int)1280");
}

TEST_CASE("a named display sink is checked at start-up", "[media][units]") {
  test::init_gst();
  MediaOptions o;
  o.output.video_sink = "ximagesink";
  auto has = [](const std::vector<RequiredElement>& r, const std::string& f, const std::string& pkg) {
    for (const auto& e : r)
      if (e.factory == f && e.package == pkg) return true;
    return false;
  };
  CHECK(has(required_elements(o), "ximagesink", "gstreamer1.0-x"));
  o.output.video_sink = "no-such-sink-xyz";
  auto st = check_plugins(o);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("no-such-sink-xyz") != std::string::npos);
  o.output.video_sink = "auto";
  CHECK(has(required_elements(o), "autovideosink", "gstreamer1.0-plugins-good"));
}
