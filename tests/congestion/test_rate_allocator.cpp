#include "congestion/rate_allocator.h"

#include <catch2/catch.hpp>

#include <cstdio>

using namespace callagent::congestion;

TEST_CASE("allocator: audio first, within 32-64 kbit/s, the rest to video", "[congestion][allocator]") {
  RateAllocator a;
  auto d = a.update(0, 300'000);
  CHECK(d.audio_changed);
  CHECK(d.video_changed);
  CHECK(d.applied.audio_bps == 32'000);
  CHECK(d.applied.video_bps == 268'000);
  RateAllocator big;
  d = big.update(0, 2'500'000);
  CHECK(d.applied.audio_bps == 64'000);
  CHECK(d.applied.video_bps == 2'436'000);
  // Starved: audio keeps its minimum, video its floor.
  RateAllocator tiny;
  d = tiny.update(0, 60'000);
  CHECK(d.applied.audio_bps == 32'000);
  CHECK(d.applied.video_bps == 50'000);
  // Never above the video maximum.
  RateAllocator capped(RateAllocatorConfig{.video_max_bps = 1'000'000});
  CHECK(capped.update(0, 5'000'000).applied.video_bps == 1'000'000);
}

TEST_CASE("allocator: hysteresis on the encoder targets", "[congestion][allocator]") {
  RateAllocator a;
  int64_t t = 0;
  a.update(t, 1'000'000);
  const int64_t v0 = a.applied().video_bps;  // 1'000'000 - 64'000 (10 % = 100k, capped)
  CHECK(v0 == 936'000);
  // Small moves on every report: nothing changes.
  int changes = 0;
  for (int i = 0; i < 50; ++i) {
    const int64_t target = 1'000'000 + (i % 2 ? 20'000 : -20'000);
    changes += a.update(t += 200'000, target).video_changed;
  }
  CHECK(changes == 0);
  // A drop of 10 % applies at once.
  auto d = a.update(t += 100'000, 900'000);
  CHECK(d.video_changed);
  CHECK(d.applied.video_bps == 836'000);
  // A rise of 15 % right after: waits for 1 s since the change.
  d = a.update(t += 100'000, 1'030'000);
  CHECK_FALSE(d.video_changed);
  d = a.update(t += 1'000'000, 1'030'000);
  CHECK(d.video_changed);
  CHECK(d.applied.video_bps == 966'000);
  // A probe's rise right after a change: at once.
  d = a.update(t += 100'000, 900'000);
  CHECK(d.video_changed);
  d = a.update(t += 100'000, 1'350'000, true);
  CHECK(d.video_changed);
  CHECK(d.applied.video_bps == 1'286'000);
  d = a.update(t += 1'000'000, 1'030'000);  // the probe ends: a decrease, at once
  CHECK(d.video_changed);
  // A rise of 4 %: only after 5 s.
  d = a.update(t += 1'000'000, 1'070'000);
  CHECK_FALSE(d.video_changed);
  d = a.update(t += 4'000'000, 1'070'000);
  CHECK(d.video_changed);
  // Audio: moves in 8 kbit/s steps with a dead band.
  RateAllocator b;
  b.update(0, 400'000);
  CHECK(b.applied().audio_bps == 40'000);
  CHECK_FALSE(b.update(1'000'000, 350'000).audio_changed);  // 35k wanted: less than a step away
  auto e = b.update(2'000'000, 320'000);                    // 32k: a whole step
  CHECK(e.audio_changed);
  CHECK(e.applied.audio_bps == 32'000);
}

TEST_CASE("allocator: a ramp 0.3 -> 2.5 Mbit/s changes the video target a bounded number of times", "[congestion][allocator]") {
  RateAllocator a;
  int video = 0, audio = 0;
  double target = 300'000;
  int64_t t = 0;
  // 8 %/s, a report every 100 ms, for 30 s.
  for (int i = 0; i < 300; ++i, t += 100'000) {
    target = std::min(2.5e6, target * std::pow(1.08, 0.1));
    const auto d = a.update(t, static_cast<int64_t>(target));
    video += d.video_changed;
    audio += d.audio_changed;
  }
  std::printf("allocator: 30 s ramp 0.3->2.5 Mbit/s in 300 reports: %d video changes, %d audio changes\n", video,
              audio);
  CHECK(video <= 30);
  CHECK(audio <= 6);
  CHECK(a.applied().video_bps >= 2'436'000 * 0.97);
}
