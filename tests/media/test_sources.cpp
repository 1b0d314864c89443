// Local sources: the device paths (v4l2, ALSA) build and run, with the
// device element swapped for a test source only where no device exists;
// file sources loop or end.

#include "media_test_util.h"

#include <unistd.h>

using namespace callagent;
using namespace callagent::media;
using namespace callagent::media::test;
using namespace std::chrono_literals;

TEST_CASE("v4l2 and ALSA source chains build and encode", "[media][sources]") {
  TestContext tc;
  EngineListener l;
  MediaOptions o = loopback_options();
  o.video_source = *parse_source_spec("v4l2:/dev/video0", MediaKind::Video);
  o.audio_source = *parse_source_spec("alsa", MediaKind::Audio);
  o.audio_processing = true;  // webrtcdsp in the chain, as for a real microphone
  const bool have_camera = access("/dev/video0", R_OK) == 0;
  const bool have_sound = access("/dev/snd/pcmC0D0c", R_OK) == 0;
  if (!have_camera || !have_sound) {
    // Both swapped together: the option covers every device element.
    o.substitute_device_element = "videotestsrc";
    WARN("no camera/sound card here: device elements replaced by test sources");
  }
  if (!o.substitute_device_element.empty()) {
    // One factory for both kinds: use two engines.
    MediaOptions ov = o, oa = o;
    ov.audio_source.type = SourceSpec::Type::None;
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
    return;
  }
  auto e = MediaEngine::create(o, &l);
  REQUIRE(e.ok());
  REQUIRE(tc.run_until([&] {
    return (*e)->counters().video_frames_encoded > 15 && (*e)->counters().audio_buffers_encoded > 15;
  }, 10s));
  CHECK(l.errors.empty());
}

TEST_CASE("auto source without devices fails naming --video-source test", "[media][sources]") {
  TestContext tc;
  if (access("/dev/video0", F_OK) == 0) {
    WARN("a camera exists here; skipping the no-camera message check");
    return;
  }
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
