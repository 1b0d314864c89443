// join's command line: CLI11 registration (src/cli/join_options.h) and the
// translation into call::SessionOptions (src/cli/join_session_options.h).
#include "cli/join_options.h"
#include "cli/join_session_options.h"

#include <CLI/CLI.hpp>

#include <catch2/catch.hpp>

#include <functional>

using namespace callagent;
using namespace callagent::cli;
using namespace std::chrono_literals;

namespace {

// Parses a command line (without the program name) into fresh options.
JoinOptions parse(const std::string& line) {
  CLI::App app{"test"};
  JoinOptions o;
  add_join_options(app, o);
  app.parse(line, false);
  return o;
}

JoinOptions with_room() {
  JoinOptions o;
  o.room = "http://127.0.0.1:8080/room/abc";
  return o;
}

Error error_of(const JoinOptions& o) {
  auto r = to_session_options(o);
  REQUIRE_FALSE(r);
  return r.error();
}

}  // namespace

TEST_CASE("join options: CLI11 fills JoinOptions", "[cli][options]") {
  auto o = parse(
      "http://h/room/r --no-reconnect --video-source test --audio-source none --video 720p --fps 24 "
      "--video-bitrate 900 --no-echo-cancel --mute-video --no-stun --turn turn://u:p@t:3478 "
      "--ice-ip 127.0.0.1 --ice-ip ::1 --jitter-buffer 100 --display --no-fullscreen --record a.mkv "
      "--expect video.in.fps>=20 --expect audio.in.bitrate>=8k --warm-up 1s --no-status "
      "--test-freeze-at 3s:2s --duration 30s --leave-when-alone");
  CHECK(o.room == "http://h/room/r");
  CHECK_FALSE(o.reconnect);
  CHECK(o.video_source == "test");
  CHECK(o.audio_source == "none");
  CHECK(o.video_preset == "720p");
  CHECK(o.fps == 24);
  CHECK(o.video_bitrate == 900);
  CHECK_FALSE(o.audio_bitrate);
  CHECK(o.audio_processing);
  CHECK_FALSE(o.echo_cancel);
  CHECK(o.mute_video);
  CHECK(o.no_stun);
  CHECK(o.turn == std::vector<std::string>{"turn://u:p@t:3478"});
  CHECK(o.ice_ips == std::vector<std::string>{"127.0.0.1", "::1"});
  CHECK(o.jitter_ms == 100);
  CHECK(o.display);
  CHECK_FALSE(o.fullscreen);
  CHECK(o.record == "a.mkv");
  CHECK(o.expect.size() == 2);
  CHECK(o.warmup == "1s");
  CHECK_FALSE(o.status);
  CHECK(o.test_freeze == "3s:2s");
  CHECK(o.duration == "30s");
  CHECK(o.leave_when_alone);
}

TEST_CASE("join options: CLI11 range checks", "[cli][options]") {
  CHECK_THROWS_AS(parse("r --video-bitrate 10"), CLI::ValidationError);
  CHECK_THROWS_AS(parse("r --audio-bitrate 600"), CLI::ValidationError);
  CHECK_THROWS_AS(parse("r --jitter-buffer 6000"), CLI::ValidationError);
  CHECK_THROWS_AS(parse("r --congestion-control maybe"), CLI::ValidationError);
}

TEST_CASE("join options: --congestion-control", "[cli][options]") {
  CHECK(parse("r").congestion_control == "on");
  auto off = to_session_options(parse("http://h/room/r --congestion-control off"));
  REQUIRE(off);
  CHECK_FALSE(off->media.congestion_control);
  auto on = to_session_options(parse("http://h/room/r --congestion-control on"));
  REQUIRE(on);
  CHECK(on->media.congestion_control);
}

TEST_CASE("join options: defaults translate to the documented call", "[cli][options]") {
  auto r = to_session_options(with_room());
  REQUIRE(r);
  const auto& s = *r;
  CHECK(s.signaling.base_url == "http://127.0.0.1:8080");
  CHECK(s.signaling.room_id == "abc");
  CHECK(s.signaling.reconnect);
  CHECK(s.media.video_source.type == media::SourceSpec::Type::Auto);
  CHECK(s.media.video.height == 1080);
  CHECK(s.media.video.fps == 30);
  CHECK(s.media.codec == media::VideoCodec::VP8);
  CHECK(s.media.ice.stun_url == "stun://stun.l.google.com:19302");
  CHECK(s.media.output.video_sink.empty());
  CHECK(s.media.output.audio_sink.empty());
  CHECK(s.media.latency_ms == 60);
  CHECK(s.media.congestion_control);
  CHECK(s.media.frame_log);  // stats every 1s need the frame log
  CHECK(s.stats.interval == 1000ms);
  CHECK(s.stats.warmup_s == Approx(2.0));
  CHECK_FALSE(s.call.duration);
  CHECK_FALSE(s.call.wait_for_partner);
  CHECK_FALSE(s.test_freeze);
}

TEST_CASE("join options: values reach the session options", "[cli][options]") {
  auto o = with_room();
  o.video_source = "file:/tmp/v.webm";
  o.audio_source = "test";
  o.loop = true;
  o.video_preset = "720p";
  o.video_bitrate = 900;
  o.audio_bitrate = 32;
  o.stun = "stun:example.org:3478";
  o.turn = {"turn://u:p@t:3478"};
  o.ice_ips = {"127.0.0.1"};
  o.display = true;
  o.video_sink = "kmssink";
  o.rtmp = "rtmps://live.example/app/key";
  o.stats_interval = "0";
  o.warmup = "500ms";
  o.snapshot = "last.png";
  o.snapshot_every = "10s";
  o.test_send_delay = "40ms";
  o.test_freeze = "3s:1.5s";
  o.duration = "1m";
  o.wait_for_partner = "20s";
  o.leave_when_alone = true;
  o.conn.ca_file = "ca.pem";
  o.conn.insecure = true;
  o.reconnect = false;
  o.mute_audio = true;
  auto r = to_session_options(o);
  REQUIRE(r);
  const auto& s = *r;
  CHECK(s.media.video_source.type == media::SourceSpec::Type::File);
  CHECK(s.media.video_source.loop);
  CHECK(s.media.audio_source.loop);
  CHECK(s.media.video.height == 720);
  CHECK(s.media.video.bitrate_kbps == 900);
  CHECK(s.media.audio.bitrate_kbps == 32);
  CHECK(s.media.ice.stun_url == "stun://example.org:3478");
  CHECK(s.media.ice.turn_urls == o.turn);
  CHECK(s.media.ice.local_addresses == o.ice_ips);
  CHECK(s.media.output.video_sink == "kmssink");
  CHECK(s.media.output.audio_sink == "auto");
  CHECK(s.media.output.rtmp_url == o.rtmp);
  CHECK(s.stats.interval == 0ms);
  CHECK_FALSE(s.media.frame_log);
  CHECK(s.stats.warmup_s == Approx(0.5));
  CHECK(s.media.keep_last_frame);
  CHECK(s.snapshot_every == 10s);
  CHECK(s.media.test_send_delay_ms == 40);
  REQUIRE(s.test_freeze);
  CHECK(s.test_freeze->first == 3s);
  CHECK(s.test_freeze->second == 1500ms);
  CHECK(s.call.duration == 60s);
  CHECK(s.call.wait_for_partner == 20s);
  CHECK(s.call.leave_when_alone);
  CHECK(s.signaling.ca_file == "ca.pem");
  CHECK(s.signaling.insecure);
  CHECK_FALSE(s.signaling.reconnect);
  CHECK(s.mute_audio);
  CHECK_FALSE(s.mute_video);
}

TEST_CASE("join options: --no-stun and STUN URL forms", "[cli][options]") {
  auto o = with_room();
  o.no_stun = true;
  CHECK(to_session_options(o)->media.ice.stun_url.empty());
  CHECK(gst_stun_url("stun:h:1") == "stun://h:1");
  CHECK(gst_stun_url("stun://h:1") == "stun://h:1");
}

TEST_CASE("join options: --ice-transport-policy", "[cli][options]") {
  auto o = with_room();
  CHECK(to_session_options(o)->media.ice.transport_policy == media::IceOptions::TransportPolicy::All);
  o.ice_transport_policy = "relay";
  o.turn = {"turns://u:p@t:5349"};
  CHECK(to_session_options(o)->media.ice.transport_policy == media::IceOptions::TransportPolicy::Relay);
  CHECK(media::to_string(media::IceOptions::TransportPolicy::Relay) == "relay");
}

TEST_CASE("join options: bad values are usage errors naming the option", "[cli][options]") {
  struct Case {
    std::function<void(JoinOptions&)> set;
    const char* says;
  };
  const Case cases[] = {
      {[](JoinOptions& o) { o.record = "out.mp4"; }, "--record"},
      {[](JoinOptions& o) { o.record = ".mkv"; }, "--record"},
      {[](JoinOptions& o) { o.rtmp = "http://x/app/key"; }, "--rtmp"},
      {[](JoinOptions& o) { o.stats_interval = "20ms"; }, "--stats-interval"},
      {[](JoinOptions& o) { o.stats_interval = "often"; }, "--stats-interval"},
      {[](JoinOptions& o) { o.warmup = "-1s"; }, "--warm-up"},
      {[](JoinOptions& o) { o.snapshot = "x.jpg"; }, "--snapshot"},
      {[](JoinOptions& o) { o.snapshot_every = "10s"; }, "--snapshot-every needs --snapshot"},
      {[](JoinOptions& o) {
         o.snapshot = "a.png";
         o.snapshot_every = "50ms";
       },
       "--snapshot-every"},
      {[](JoinOptions& o) { o.test_freeze = "3s"; }, "--test-freeze-at"},
      {[](JoinOptions& o) { o.test_freeze = "3s:x"; }, "--test-freeze-at"},
      {[](JoinOptions& o) { o.test_send_delay = "soon"; }, "--test-send-delay"},
      {[](JoinOptions& o) { o.duration = "forever"; }, "--duration"},
      {[](JoinOptions& o) { o.wait_for_partner = "1y"; }, "--wait-for-partner"},
      {[](JoinOptions& o) { o.ice_transport_policy = "none"; }, "--ice-transport-policy"},
      {[](JoinOptions& o) { o.ice_transport_policy = "relay"; }, "--ice-transport-policy relay needs a --turn"},
      {[](JoinOptions& o) {
         o.room.clear();
         o.create = true;
       },
       "--create needs --server"},
      {[](JoinOptions& o) { o.self_view = "bottom-right"; }, "--self-view needs --display"},
      {[](JoinOptions& o) {
         o.self_view = "top-left";
         o.display = true;
         o.video_source = "none";
       },
       "--self-view: there is no local video"},
  };
  for (const auto& c : cases) {
    auto o = with_room();
    c.set(o);
    auto e = error_of(o);
    INFO(e.message);
    CHECK(e.code == ExitCode::Usage);
    CHECK(e.message.find(c.says) != std::string::npos);
  }
  auto o = with_room();
  o.video_preset = "2k";
  CHECK(error_of(o).code == ExitCode::Usage);
  o = with_room();
  o.room = "ftp://h/room/x";
  CHECK(error_of(o).code == ExitCode::Usage);
}
