#include "congestion/video_ladder.h"

#include <catch2/catch.hpp>

#include <cstdio>

using namespace callagent::congestion;

TEST_CASE("ladder: the rungs of a 720p30 preset", "[congestion][ladder]") {
  const auto r = VideoLadder::build(VideoFormat{1280, 720, 30});
  REQUIRE(r.size() == 6);
  CHECK(r[0].format == VideoFormat{1280, 720, 30});
  CHECK(r[1].format == VideoFormat{960, 540, 30});
  CHECK(r[2].format == VideoFormat{640, 360, 30});
  CHECK(r[3].format == VideoFormat{480, 270, 30});
  CHECK(r[4].format == VideoFormat{320, 180, 30});
  CHECK(r[5].format == VideoFormat{320, 180, 15});
  CHECK(r[0].min_bps == 900'000);
  CHECK(r[1].min_bps == 500'000);
  CHECK(r[2].min_bps == 300'000);
  CHECK(r[3].min_bps == 200'000);
  CHECK(r[5].min_bps == 0);
  CHECK(r[0].up_bps == 1'080'000);
  // Never above the preset: a 360p preset starts at 360p.
  const auto s = VideoLadder::build(VideoFormat{640, 360, 30});
  CHECK(s[0].format == VideoFormat{640, 360, 30});
  CHECK(s.size() == 4);
  // A 4:3 preset keeps its aspect ratio, 15 fps has no frame-rate rung.
  const auto q = VideoLadder::build(VideoFormat{640, 480, 15});
  CHECK(q[1].format == VideoFormat{480, 360, 15});
  CHECK(q.back().format.fps == 15);
  CHECK(q.back().min_bps == 0);
  CHECK(VideoLadder::min_bps_for(VideoFormat{640, 480, 30}) > 300'000);
  CHECK(VideoLadder::min_bps_for(VideoFormat{640, 480, 30}) < 500'000);
}

TEST_CASE("ladder: steps down and up with hysteresis, >= 5 s apart", "[congestion][ladder]") {
  VideoLadder l(VideoLadderConfig{.preset = {1280, 720, 30}});
  int64_t t = 0;
  std::vector<std::pair<double, std::string>> steps;
  auto feed = [&](int64_t bps, double seconds) {
    for (int i = 0; i < seconds * 10; ++i, t += 100'000)
      if (auto f = l.update(t, bps)) steps.emplace_back(static_cast<double>(t) / 1e6, to_string(*f));
  };
  feed(2'400'000, 10);  // plenty
  CHECK(steps.empty());
  feed(700'000, 10);    // 720p needs 900k: one step to 540p, after the 1 s hold
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].first == Approx(11.0));
  CHECK(steps[0].second == "960x540@30");
  feed(250'000, 3);     // collapses: straight to 270p, but not before 5 s after the last step
  REQUIRE(steps.size() == 2);
  CHECK(steps[1].first == Approx(21.0).margin(0.15));  // below since 20 s, hold 1 s, last step at 11 s
  CHECK(steps[1].second == "480x270@30");
  feed(100'000, 7);     // below 180p's 150k: the half-frame-rate rung
  REQUIRE(steps.size() == 3);
  CHECK(steps[2].second == "320x180@15");
  CHECK(steps[2].first - steps[1].first >= 5.0);
  // Flapping around a boundary does nothing.
  const size_t before = steps.size();
  for (int i = 0; i < 20; ++i) feed(i % 2 ? 170'000 : 190'000, 1);
  CHECK(steps.size() == before);
  // The rate returns: up, to the best rung with 20 % margin, after 3 s.
  feed(2'400'000, 20);
  REQUIRE(steps.size() == before + 1);
  CHECK(steps.back().second == "1280x720@30");
  for (size_t i = 1; i < steps.size(); ++i) CHECK(steps[i].first - steps[i - 1].first >= 5.0);
  std::printf("ladder: steps");
  for (const auto& [at, f] : steps) std::printf(" %.1fs:%s", at, f.c_str());
  std::printf("\n");
}

TEST_CASE("ladder: the start does not count as a step (a starved start steps down after the hold)",
          "[congestion][ladder]") {
  VideoLadder l(VideoLadderConfig{.preset = {1280, 720, 30}});
  // A call starting on a thin link: the estimate is under 720p's minimum
  // from the first report on.
  int64_t t = 0;
  std::optional<VideoFormat> first;
  for (; t < 5'000'000 && !first; t += 100'000) first = l.update(t, 268'000);
  REQUIRE(first);
  CHECK(*first == VideoFormat{480, 270, 30});
  CHECK(t <= 1'200'000);  // the 1 s hold, not 5 s
  // The next step still waits 5 s after that one.
  const int64_t stepped = t - 100'000;
  std::optional<VideoFormat> second;
  for (; t < 12'000'000 && !second; t += 100'000) second = l.update(t, 100'000);
  REQUIRE(second);
  CHECK(t - 100'000 - stepped >= 5'000'000);
}

TEST_CASE("ladder: a step up goes where the whole hold's rate allows, not where a moment's peak does",
          "[congestion][ladder]") {
  VideoLadder l(VideoLadderConfig{.preset = {1280, 720, 30}});
  int64_t t = 0;
  std::vector<std::string> steps;
  auto feed = [&](int64_t bps, double seconds) {
    for (int i = 0; i < seconds * 10; ++i, t += 100'000)
      if (auto f = l.update(t, bps)) steps.push_back(to_string(*f));
  };
  feed(350'000, 4);  // a thin start: down to 360p
  REQUIRE(steps.size() == 1);
  CHECK(steps[0] == "640x360@30");
  feed(700'000, 2.5);  // enough for 540p (up at 600k), not for 720p (1080k)...
  feed(1'500'000, 1);  // ...then a probe's second at 1.5 Mbit/s, as the 3 s hold ends
  REQUIRE(steps.size() == 2);
  CHECK(steps[1] == "960x540@30");
}

TEST_CASE("ladder: no step up during a probe; the hold starts again after it", "[congestion][ladder]") {
  VideoLadder l(VideoLadderConfig{.preset = {1280, 720, 30}});
  int64_t t = 0;
  std::vector<std::string> steps;
  auto feed = [&](int64_t bps, double seconds, bool may_step_up) {
    for (int i = 0; i < seconds * 10; ++i, t += 100'000)
      if (auto f = l.update(t, bps, may_step_up)) steps.push_back(to_string(*f));
  };
  feed(350'000, 6, true);  // down to 360p, and past the 5 s between steps
  REQUIRE(steps.size() == 1);
  feed(1'200'000, 10, false);  // enough for 720p, but probing all along
  CHECK(steps.size() == 1);
  // A probe in the middle of the hold restarts it.
  feed(1'200'000, 2, true);
  feed(1'200'000, 0.3, false);
  feed(1'200'000, 2.5, true);
  CHECK(steps.size() == 1);
  feed(1'200'000, 1, true);
  REQUIRE(steps.size() == 2);
  CHECK(steps[1] == "1280x720@30");
  // Down is not held.
  feed(300'000, 8, false);
  CHECK(steps.size() == 3);
}

TEST_CASE("ladder: the encoder gets 0.65 of its rate for 1 s after a step up, not after a step down",
          "[congestion][ladder]") {
  VideoLadder l(VideoLadderConfig{.preset = {1280, 720, 30}});
  int64_t t = 0;
  CHECK(l.rate_factor(t) == 1.0);
  auto feed_until_step = [&](int64_t bps) {
    for (int i = 0; i < 200; ++i, t += 100'000)
      if (l.update(t, bps)) return true;
    return false;
  };
  REQUIRE(feed_until_step(350'000));  // down to 360p
  CHECK(l.rate_factor(t) == 1.0);
  REQUIRE(feed_until_step(1'200'000));  // up to 720p
  CHECK(l.current().height == 720);
  CHECK(l.rate_factor(t) == Approx(0.65));
  CHECK(l.rate_factor(t + 900'000) == Approx(0.65));
  CHECK(l.rate_factor(t + 1'000'000) == 1.0);
}

TEST_CASE("ladder: an encoder that drops frames at its rung steps down, and the rung's entry rises",
          "[congestion][ladder]") {
  VideoLadderConfig c;
  c.preset = {1280, 720, 30};
  VideoLadder l(c);
  // 1.05 Mbit/s: above 720p's minimum (900k), so the rate alone keeps 720p.
  int64_t t = 0;
  for (; t < 10'000'000; t += 1'000'000) {
    CHECK_FALSE(l.update(t, 1'050'000));
    CHECK_FALSE(l.on_encoder(t, 30, 23, 1'050'000));  // holds it (a few drops)
  }
  // A detailed picture: 20 of 30 frames made.
  std::optional<VideoFormat> down;
  int64_t starved_at = t;
  for (; !down && t < 20'000'000; t += 1'000'000) {
    CHECK_FALSE(l.update(t, 1'050'000));
    down = l.on_encoder(t, 30, 20, 1'050'000);
  }
  REQUIRE(down);
  CHECK(down->height == 540);
  CHECK(t - 1'000'000 - starved_at == 2'000'000);
  // 720p's entry is now 1.5 x 1.05 Mbit/s: 1.4 Mbit/s (above the table's
  // 1.08) does not bring it back...
  CHECK(l.rungs().front().up_bps == 1'575'000);
  for (; t < 60'000'000; t += 1'000'000) CHECK_FALSE(l.update(t, 1'400'000));
  // ...until 60 s after the step down.
  std::optional<VideoFormat> up;
  for (; !up && t < 80'000'000; t += 1'000'000) up = l.update(t, 1'400'000);
  REQUIRE(up);
  CHECK(up->height == 720);
  CHECK(t - 1'000'000 >= 60'000'000 + starved_at);
}

TEST_CASE("ladder: a source slower than the preset is not a starved encoder", "[congestion][ladder]") {
  VideoLadderConfig c;
  c.preset = {1280, 720, 30};
  VideoLadder l(c);
  for (int64_t t = 0; t < 20'000'000; t += 1'000'000) {
    CHECK_FALSE(l.update(t, 2'000'000));
    CHECK_FALSE(l.on_encoder(t, 15, 15, 2'000'000));  // a 15 fps camera
    CHECK_FALSE(l.on_encoder(t, 2, 0, 2'000'000));    // a stalled source
  }
  CHECK(l.current().height == 720);
}
