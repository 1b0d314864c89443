#include "stats/freeze_detector.h"
#include "stats/metrics.h"
#include "stats/stats_collector.h"

#include <catch2/catch.hpp>

using namespace callagent::stats;

TEST_CASE("freezes: steady 30 fps has none, a 2 s gap is one", "[stats][freeze]") {
  FreezeDetector d;
  int64_t t = 0;
  for (int i = 0; i < 90; ++i, t += 33'333) d.on_frame(t);
  CHECK(d.count() == 0);
  CHECK(d.average_ms() == Approx(33.333).epsilon(0.01));
  t += 2'000'000;
  d.on_frame(t);
  for (int i = 0; i < 30; ++i) d.on_frame(t += 33'333);
  REQUIRE(d.count() == 1);
  CHECK(d.freezes()[0].duration_ms == Approx(2033.3).epsilon(0.01));
  CHECK(d.total_ms() == Approx(2033.3).epsilon(0.01));
}

TEST_CASE("freezes: the W3C threshold max(3 x avg, avg + 150 ms)", "[stats][freeze]") {
  FreezeDetector d;
  int64_t t = 0;
  for (int i = 0; i < 40; ++i) d.on_frame(t += 33'333);
  // avg 33 ms: threshold 183 ms.
  d.on_frame(t += 170'000);
  CHECK(d.count() == 0);
  for (int i = 0; i < 40; ++i) d.on_frame(t += 33'333);
  d.on_frame(t += 200'000);
  CHECK(d.count() == 1);
  // 10 fps: avg 100 ms, threshold 300 ms.
  FreezeDetector slow;
  t = 0;
  for (int i = 0; i < 40; ++i) slow.on_frame(t += 100'000);
  slow.on_frame(t += 280'000);
  CHECK(slow.count() == 0);
  slow.on_frame(t += 350'000);  // the 280 ms gap raised the average to 106 ms: threshold 318 ms
  CHECK(slow.count() == 1);
}

TEST_CASE("freezes: the first frames and a new stream are not freezes", "[stats][freeze]") {
  FreezeDetector d;
  d.on_frame(0);
  d.on_frame(900'000);  // keyframe wait at the start
  CHECK(d.count() == 0);
  for (int64_t t = 1'000'000; t < 2'000'000; t += 33'333) d.on_frame(t);
  d.reset_stream();
  d.on_frame(9'000'000);
  d.on_frame(9'033'333);
  CHECK(d.count() == 0);
}

TEST_CASE("freezes: a stream that stops is one freeze up to the end of the call", "[stats][freeze]") {
  FreezeDetector d;
  int64_t t = 0;
  for (int i = 0; i < 90; ++i) d.on_frame(t += 33'333);
  const int64_t last = t;
  // Still frozen 5 s later (live view), not yet counted.
  auto open = d.open_freeze(last + 5'000'000);
  REQUIRE(open);
  CHECK(open->start_us == last);
  CHECK(open->duration_ms == Approx(5000));
  CHECK_FALSE(d.open_freeze(last + 100'000));  // under the 183 ms threshold
  CHECK(d.count() == 0);
  d.finish(last + 10'000'000);
  REQUIRE(d.count() == 1);
  CHECK(d.freezes()[0].start_us == last);
  CHECK(d.freezes()[0].duration_ms == Approx(10000));
  d.finish(last + 20'000'000);  // idempotent
  CHECK(d.count() == 1);
}

TEST_CASE("freezes: a stream that stops and resumes counts up to the next frame", "[stats][freeze]") {
  FreezeDetector d;
  int64_t t = 0;
  for (int i = 0; i < 90; ++i) d.on_frame(t += 33'333);
  d.on_frame(t += 7'000'000);
  for (int i = 0; i < 30; ++i) d.on_frame(t += 33'333);
  d.finish(t + 20'000);
  REQUIRE(d.count() == 1);
  CHECK(d.freezes()[0].duration_ms == Approx(7000));
}

TEST_CASE("freezes: no frame at all after the connection is one freeze to the end", "[stats][freeze]") {
  FreezeDetector d;
  d.expect_frames(1'000'000);
  d.expect_frames(2'000'000);  // a reconnection: the latest counts
  d.reset_stream();            // the caller noticed the new peer after its connection
  REQUIRE(d.open_freeze(4'000'000));
  d.finish(32'000'000);
  REQUIRE(d.count() == 1);
  CHECK(d.freezes()[0].start_us == 2'000'000);
  CHECK(d.freezes()[0].duration_ms == Approx(30000));
  CHECK(d.total_ms() == Approx(30000));
  // A flowing stream ignores a late expectation.
  FreezeDetector f;
  for (int64_t x = 0; x < 3'000'000; x += 33'333) f.on_frame(x);
  f.expect_frames(2'000'000);
  f.finish(3'000'000);
  CHECK(f.count() == 0);
  // Nothing expected, nothing seen: no freeze.
  FreezeDetector idle;
  idle.finish(10'000'000);
  CHECK(idle.count() == 0);
}

TEST_CASE("freezes: the end of a healthy call, a late first frame and a new peer are no freezes", "[stats][freeze]") {
  // The call ends 400 ms after the last frame (the partner hung up).
  FreezeDetector d;
  d.expect_frames(0);
  int64_t t = 1'500'000;  // first frame 1.5 s after the connection: setup time
  for (int i = 0; i < 90; ++i) d.on_frame(t += 33'333);
  d.finish(t + 400'000);
  CHECK(d.count() == 0);
  // A connection that ends within the grace with no frame.
  FreezeDetector quick;
  quick.expect_frames(0);
  quick.finish(800'000);
  CHECK(quick.count() == 0);
  // A peer that leaves: reset_stream() forgets its stream and expectation.
  FreezeDetector p;
  p.expect_frames(0);
  for (int64_t x = 100'000; x < 3'000'000; x += 33'333) p.on_frame(x);
  p.reset_stream();
  p.expect_frames(20'000'000);
  p.on_frame(20'300'000);
  for (int64_t x = 20'300'000; x < 25'000'000; x += 33'333) p.on_frame(x);
  p.finish(25'000'000);
  CHECK(p.count() == 0);
  // Only one frame and then nothing: a dead stream too (no average yet).
  FreezeDetector one;
  one.expect_frames(0);
  one.on_frame(500'000);
  one.finish(10'500'000);
  REQUIRE(one.count() == 1);
  CHECK(one.freezes()[0].duration_ms == Approx(10000));
}

TEST_CASE("percentiles interpolate", "[stats][metrics]") {
  CHECK(percentile({}, 50) == 0);
  CHECK(percentile({5}, 95) == 5);
  CHECK(percentile({1, 2, 3, 4}, 50) == Approx(2.5));
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  CHECK(percentile(v, 95) == Approx(95.05));
  CHECK(percentile(v, 100) == 100);
}

TEST_CASE("summary: counters add up over partner visits (a new peer restarts them)", "[stats][metrics]") {
  CallData d;
  d.warmup_s = 2.0;
  d.timeline = {{"dtls_connected", 1000}};  // warm-up ends at 3 s
  // Peer 1 for t = 1..5 (100 frames a second), alone at t = 6, then peer 2
  // for t = 7..9 (its counter starts again at 0).
  auto add = [&](double t, int peer, uint64_t frames) {
    Snapshot s;
    s.t = t;
    s.interval = 1;
    s.peer = peer;
    s.video_in.active = true;
    s.video_in.frames_decoded = frames;
    d.series.push_back(s);
  };
  for (int i = 1; i <= 5; ++i) add(i, 1, static_cast<uint64_t>(i * 100));
  add(6, 0, 0);  // no peer: the counter reads 0 (a segment adding nothing)
  for (int i = 7; i <= 9; ++i) add(i, 2, static_cast<uint64_t>((i - 6) * 100));
  auto sum = summarize(d);
  const auto& f = sum["video.in.frames_decoded"];
  REQUIRE(f.total);
  REQUIRE(f.after_warmup);
  CHECK(*f.total == 500 + 300);
  CHECK(*f.after_warmup == (500 - 300) + 300);
  // A counter that drops within one peer id (a restart we could not see)
  // also starts a new segment.
  CallData d2;
  for (int i = 1; i <= 4; ++i) {
    Snapshot s;
    s.t = i;
    s.peer = 1;
    s.video_in.active = true;
    s.video_in.frames_decoded = static_cast<uint64_t>(i <= 2 ? i * 10 : (i - 2) * 7);
    d2.series.push_back(s);
  }
  CHECK(*summarize(d2)["video.in.frames_decoded"].total == 20 + 14);
}

TEST_CASE("summary: gauges after the warm-up, counters, freezes, latency, setup", "[stats][metrics]") {
  CallData d;
  d.warmup_s = 2.0;
  d.timeline = {{"login", 40}, {"ws_open", 60}, {"dtls_connected", 1000}, {"first_video", 1300}};
  // Intervals of 1 s ending at t = 1..8; warm-up ends at 3 s.
  for (int i = 1; i <= 8; ++i) {
    Snapshot s;
    s.t = i;
    s.interval = 1;
    s.video_in.active = i >= 2;
    s.video_in.fps = i <= 3 ? 5 : 30 - (i == 8 ? 6 : 0);
    s.video_in.height = 480;
    s.video_in.width = 854;
    s.video_in.packets = static_cast<uint64_t>(i * 100);
    s.video_in.packets_lost = i >= 6 ? 4 : 1;
    s.rtt_ms = i * 1.0;
    d.series.push_back(s);
  }
  d.freezes = {{1'500'000, 500}, {5'000'000, 2000}};
  for (int i = 0; i < 100; ++i) d.latency.emplace_back(i < 50 ? 1.0 : 4.0, i < 50 ? 500.0 : 60.0 + i % 10);
  auto sum = summarize(d);
  REQUIRE(warmup_end(d));
  CHECK(*warmup_end(d) == Approx(3.0));
  const auto& fps = sum["video.in.fps"];
  CHECK(fps.n == 5);  // intervals 4..8
  CHECK(*fps.min == 24);
  CHECK(*fps.max == 30);
  CHECK(*fps.avg == Approx((30 * 4 + 24) / 5.0));
  CHECK(*fps.last == 24);
  CHECK(*sum["video.in.height"].get(Aggregate::Min) == 480);
  CHECK(*sum["video.in.packets_lost"].total == 4);
  CHECK(*sum["video.in.packets_lost"].after_warmup == 3);
  CHECK(*sum["video.in.packets"].after_warmup == 500);
  CHECK(*sum["video.in.freezes"].total == 2);
  CHECK(*sum["video.in.freezes"].after_warmup == 1);
  CHECK(*sum["video.in.freeze_time"].after_warmup == 2000);
  CHECK(sum["latency.video.median"].n == 50);
  CHECK(*sum["latency.video.max"].value == 69);
  CHECK(*sum["latency.video.min"].value == 60);
  CHECK(*sum["setup.first_video"].value == 1300);
  CHECK(*sum["setup.login"].value == 40);
  CHECK_FALSE(sum["setup.first_audio"].value);
  CHECK(*sum["rtt"].avg == Approx(6.0));
  CHECK_FALSE(sum["audio.in.bitrate"].avg);  // never active
}

TEST_CASE("summary: a call that never connected has no data after the warm-up", "[stats][metrics]") {
  CallData d;
  d.timeline = {{"login", 40}};
  Snapshot s;
  s.t = 1;
  s.interval = 1;
  d.series.push_back(s);
  auto sum = summarize(d);
  CHECK_FALSE(warmup_end(d));
  CHECK_FALSE(sum["video.in.fps"].avg);
  CHECK_FALSE(sum["video.in.freezes"].after_warmup);
  CHECK(*sum["setup.login"].value == 40);
}

TEST_CASE("summary: a video stream that never started is a freeze after the warm-up", "[stats][metrics]") {
  CallData d;
  d.warmup_s = 2.0;
  d.timeline = {{"login", 40}, {"dtls_connected", 1000}};  // no first_video
  for (int i = 1; i <= 8; ++i) {
    Snapshot s;
    s.t = i;
    s.interval = 1;
    d.series.push_back(s);
  }
  // What FreezeDetector::expect_frames(1 s) + finish(8 s) make of it.
  d.freezes = {{1'000'000, 7000}};
  auto sum = summarize(d);
  REQUIRE(warmup_end(d));
  REQUIRE(sum["video.in.freezes"].after_warmup);
  CHECK(*sum["video.in.freezes"].after_warmup == 1);
  CHECK(*sum["video.in.freezes"].total == 1);
  // Only the frozen time after the warm-up (3 s .. 8 s).
  CHECK(*sum["video.in.freeze_time"].after_warmup == Approx(5000));
  CHECK(*sum["video.in.freeze_time"].total == Approx(7000));
}

TEST_CASE("a long run's series is thinned, counters stay exact", "[stats][series]") {
  // Two partner visits: peer 1 for 1000 intervals, peer 2 for the rest.
  CallData d;
  d.warmup_s = 0;
  d.timeline.push_back(TimelineEvent{"dtls_connected", 0});
  for (size_t i = 0; i < callagent::stats::StatsCollector::kMaxSeries; ++i) {
    Snapshot s;
    s.t = static_cast<double>(i + 1);
    s.interval = 1;
    s.peer = i < 1000 ? 1 : 2;
    const uint64_t n = i < 1000 ? i + 1 : i - 999;  // cumulative within each peer
    s.video_in.active = true;
    s.video_in.frames_decoded = 30 * n;
    s.video_in.fps = (i % 2) ? 20 : 30;
    d.series.push_back(s);
  }
  const auto before = summarize(d);
  callagent::stats::StatsCollector::thin_series(d.series);
  CHECK(d.series.size() < callagent::stats::StatsCollector::kMaxSeries / 2 + 8);
  CHECK(d.series.front().t == 1);
  CHECK(d.series.back().t == static_cast<double>(callagent::stats::StatsCollector::kMaxSeries));
  // Each visit's last interval is kept: totals are unchanged.
  const auto after = summarize(d);
  REQUIRE(before.at("video.in.frames_decoded").total);
  CHECK(*after.at("video.in.frames_decoded").total == *before.at("video.in.frames_decoded").total);
  CHECK(*after.at("video.in.frames_decoded").total == 30.0 * 4096);
}

TEST_CASE("summary: ICE path words, repair ratio, congestion targets", "[stats][metrics]") {
  CallData d;
  d.warmup_s = 2.0;
  d.timeline = {{"dtls_connected", 1000}};  // warm-up ends at 3 s
  for (int i = 1; i <= 6; ++i) {
    Snapshot s;
    s.t = i;
    s.interval = 1;
    s.peer = 1;
    s.video_in.active = true;
    s.video_in.packets = static_cast<uint64_t>(i * 1000);
    s.recovery.lost_after_recovery = static_cast<uint64_t>(i * 2);
    s.recovery.nack_requests = static_cast<uint64_t>(i * 50);
    s.twcc.feedback_received = static_cast<uint64_t>(i * 10);
    if (i >= 2) {
      // The path: host first, then (from t = 4) the relay.
      CandidatePair p;
      p.local_type = i >= 4 ? "relay" : "host";
      p.remote_type = "host";
      p.protocol = "udp";
      if (i >= 4) p.relay_protocol = "tls";
      s.pair = p;
    }
    if (i >= 3) {
      CongestionStats c;
      c.target_bps = 1'000'000 + i * 100'000;
      c.video_bps = 900'000 + i * 100'000;
      c.audio_bps = 64'000;
      c.limited_by = i == 6 ? "max" : "loss";
      c.fec_percentage = i == 3 ? -1 : 5;
      s.congestion = c;
    }
    d.series.push_back(s);
  }
  auto sum = summarize(d);
  CHECK(sum["ice.local_type"].text == std::optional<std::string>("relay"));
  CHECK(sum["ice.local_type"].n == 5);
  CHECK(sum["ice.remote_type"].text == std::optional<std::string>("host"));
  CHECK(sum["ice.protocol"].text == std::optional<std::string>("udp"));
  CHECK(sum["ice.relay_protocol"].text == std::optional<std::string>("tls"));
  CHECK(sum["congestion.limited_by"].text == std::optional<std::string>("max"));
  // After the warm-up (t = 3 -> 6): 6 lost after repair of 3000 received.
  REQUIRE(sum["video.in.lost_after_repair"].after_warmup);
  CHECK(*sum["video.in.lost_after_repair"].after_warmup == 6);
  REQUIRE(sum["video.in.lost_after_repair_pct"].after_warmup);
  CHECK(*sum["video.in.lost_after_repair_pct"].after_warmup == Approx(100.0 * 6 / 3006));
  CHECK(*sum["video.in.lost_after_repair_pct"].total == Approx(100.0 * 12 / 6012));
  CHECK(*sum["video.in.nack_sent"].after_warmup == 150);
  CHECK(*sum["recovery.nack_requests"].after_warmup == 150);
  CHECK(*sum["twcc.feedback_received"].after_warmup == 30);
  // Gauges: intervals that began after the warm-up (t = 4, 5, 6).
  CHECK(*sum["video.out.target_bitrate"].min == 1'300'000);
  CHECK(*sum["video.out.target_bitrate"].last == 1'500'000);
  CHECK(*sum["congestion.target_bitrate"].max == 1'600'000);
  CHECK(*sum["audio.out.target_bitrate"].avg == 64'000);
  CHECK(*sum["audio.out.fec_percentage"].last == 5);
  CHECK_FALSE(sum["congestion.remb"].avg);

  // No path known, nothing received: no data (an expectation on it fails).
  CallData empty;
  auto none = summarize(empty);
  CHECK_FALSE(none["ice.local_type"].text);
  CHECK_FALSE(none["video.in.lost_after_repair_pct"].total);
}
