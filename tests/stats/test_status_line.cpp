#include "stats/status_line.h"

#include <catch2/catch.hpp>

using namespace callagent::stats;

namespace {
Snapshot connected() {
  Snapshot s;
  s.state = "connected";
  s.video_in.active = true;
  s.video_in.bitrate = 2.41e6;
  s.video_in.fps = 30;
  s.video_in.width = 854;
  s.video_in.height = 480;
  s.video_in.loss_pct = 0.0;
  s.video_out.active = true;
  s.video_out.bitrate = 2.5e6;
  s.video_out.fps = 30;
  s.rtt_ms = 1.0;
  s.latency = LatencySummary{};
  s.latency->median_ms = 72;
  return s;
}
}  // namespace

TEST_CASE("status line: the fields", "[stats][status]") {
  CHECK(format_status(connected()) ==
        "connected | in 2.41 Mbit/s 30 fps 854x480 loss 0.0% | out 2.50 Mbit/s 30 fps | rtt 1 ms | latency 72 ms");
  CHECK(format_status(Snapshot{}) == "-");
}

TEST_CASE("status line: fits one terminal row, whole fields dropped first", "[stats][status]") {
  const std::string full = format_status(connected());
  CHECK(fit_status(full, 200) == full);
  CHECK(fit_status(full, static_cast<int>(full.size()) + 1) == full);
  // 80 columns: at most 79 characters, the last fields go.
  CHECK(fit_status(full, 80) == "connected | in 2.41 Mbit/s 30 fps 854x480 loss 0.0% | out 2.50 Mbit/s 30 fps");
  CHECK(fit_status(full, 40) == "connected");
  // A first field wider than the terminal is cut.
  CHECK(fit_status("negotiating-and-more", 8) == "negotia");
  CHECK(fit_status("abc", 1) == "a");
}

TEST_CASE("status line: the congestion controller's block", "[stats][status][congestion]") {
  Snapshot s = connected();
  s.latency.reset();
  s.congestion = CongestionStats{};
  s.congestion->target_bps = 1'200'000;
  s.congestion->limited_by = "loss";
  s.congestion->width = 960;
  s.congestion->height = 540;
  s.congestion->fps = 30;
  s.congestion->ladder_steps = 1;
  CHECK(format_status(s) ==
        "connected | in 2.41 Mbit/s 30 fps 854x480 loss 0.0% | out 2.50 Mbit/s 30 fps"
        " | target 1.20 Mbit/s (loss) 960x540@30 steps 1 | rtt 1 ms");
}

TEST_CASE("status line: who the partner is and its codec", "[stats][status]") {
  Snapshot s = connected();
  s.latency.reset();
  s.video_in.codec = "VP8";
  s.partner_implementation = "Firefox";
  CHECK(format_status(s) == "connected | in 2.41 Mbit/s 30 fps 854x480 loss 0.0% | out 2.50 Mbit/s 30 fps | rtt 1 ms"
                             " | partner Firefox VP8");
  // The first field to go on a narrow terminal.
  CHECK(fit_status(format_status(s), 100) ==
        "connected | in 2.41 Mbit/s 30 fps 854x480 loss 0.0% | out 2.50 Mbit/s 30 fps | rtt 1 ms");
  s.partner_implementation.clear();
  CHECK(format_status(s) == "connected | in 2.41 Mbit/s 30 fps 854x480 loss 0.0% | out 2.50 Mbit/s 30 fps | rtt 1 ms"
                             " | partner VP8");
  s.video_in.active = false;
  CHECK(format_status(s) == "connected | out 2.50 Mbit/s 30 fps | rtt 1 ms");
}
