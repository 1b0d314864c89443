#include "congestion/jitter_latency.h"

#include <catch2/catch.hpp>

using namespace callagent::congestion;

TEST_CASE("jitter latency: 2 RTT + 50 ms, raised at once, floor and cap", "[congestion][jitter]") {
  JitterLatency j;
  CHECK(j.latency_ms() == 60);
  // A LAN: the floor stays.
  CHECK_FALSE(j.on_rtt(0, 1.0));
  CHECK(j.latency_ms() == 60);
  // 200 ms RTT: 450 ms at the first sample.
  CHECK(j.on_rtt(1'000'000, 200.0).value_or(0) == 450);
  // Noise that rounds to the same 10 ms changes nothing.
  CHECK_FALSE(j.on_rtt(2'000'000, 198.0));
  // The cap.
  CHECK(j.on_rtt(3'000'000, 900.0).value_or(0) == 1000);
  CHECK(j.target_ms(-5) == 60);
}

TEST_CASE("jitter latency: lowered only after 10 s, in 40 ms steps every 2 s", "[congestion][jitter]") {
  JitterLatency j;
  REQUIRE(j.on_rtt(0, 200.0).value_or(0) == 450);
  // The RTT falls to 1 ms: nothing for 10 s.
  for (int64_t t = 1'000'000; t < 10'000'000; t += 1'000'000) CHECK_FALSE(j.on_rtt(t, 1.0));
  CHECK(j.on_rtt(10'000'000, 1.0).value_or(0) == 410);
  CHECK_FALSE(j.on_rtt(11'000'000, 1.0));
  CHECK(j.on_rtt(12'000'000, 1.0).value_or(0) == 370);
  // A high sample again: at once up, and the hold starts over.
  CHECK(j.on_rtt(13'000'000, 200.0).value_or(0) == 450);
  CHECK_FALSE(j.on_rtt(20'000'000, 1.0));
  // Down to the floor eventually, never below.
  int last = 450;
  for (int64_t t = 23'000'000; t < 60'000'000; t += 1'000'000)
    if (auto v = j.on_rtt(t, 1.0)) last = *v;
  CHECK(last == 60);
  CHECK(j.latency_ms() == 60);
}

TEST_CASE("jitter latency: a pinned latency never moves", "[congestion][jitter]") {
  JitterLatencyConfig c;
  c.base_ms = 120;
  c.pinned = true;
  JitterLatency j(c);
  CHECK_FALSE(j.on_rtt(0, 300.0));
  CHECK(j.latency_ms() == 120);
}

TEST_CASE("jitter latency: 120 ms while the link loses packets, back to the base 10 s after", "[congestion][jitter]") {
  JitterLatency j;
  REQUIRE_FALSE(j.on_rtt(0, 1.0));
  REQUIRE(j.latency_ms() == 60);
  // A loss: room for three repair attempts at once.
  CHECK(j.on_loss(1'000'000).value_or(0) == 120);
  CHECK_FALSE(j.on_loss(2'000'000));
  // The floor holds for 10 s after the last loss (the RTT alone would say
  // 60), then the latency comes down as after a high RTT: 10 s later, in
  // 40 ms steps every 2 s.
  for (int64_t t = 3'000'000; t < 21'000'000; t += 1'000'000) CHECK_FALSE(j.on_rtt(t, 1.0));
  CHECK(j.on_rtt(21'000'000, 1.0).value_or(0) == 80);
  CHECK_FALSE(j.on_rtt(22'000'000, 1.0));
  CHECK(j.on_rtt(23'000'000, 1.0).value_or(0) == 60);
  // A long path keeps its 2 x RTT + 50 ms: the floor is only a floor.
  CHECK(j.on_rtt(24'000'000, 200.0).value_or(0) == 450);
  CHECK_FALSE(j.on_loss(25'000'000));
  CHECK(j.latency_ms() == 450);
}

TEST_CASE("jitter latency: a pinned latency ignores losses too", "[congestion][jitter]") {
  JitterLatencyConfig c;
  c.pinned = true;
  JitterLatency j(c);
  CHECK_FALSE(j.on_loss(0));
  CHECK(j.latency_ms() == 60);
}

TEST_CASE("jitter latency: a loss noticed late makes room for its repair", "[congestion][jitter]") {
  JitterLatency j;
  REQUIRE_FALSE(j.on_rtt(0, 1.0));
  // Noticed in the usual ~20 ms: the lossy floor alone.
  CHECK(j.on_loss(1'000'000, 17).value_or(0) == 120);
  // Noticed 72 ms after it was due (a stalled thread): 52 ms more, rounded
  // up to 10, at once.
  CHECK(j.on_loss(2'000'000, 72).value_or(0) == 180);
  // Smaller lateness within the hold changes nothing.
  CHECK_FALSE(j.on_loss(3'000'000, 30));
  CHECK(j.latency_ms() == 180);
  // The timestamps' settling at a stream's start (seconds "late") is ignored.
  CHECK_FALSE(j.on_loss(4'000'000, 4289));
  CHECK(j.latency_ms() == 180);
  // A long path: the lateness adds to 2 x RTT + 50 ms.
  CHECK(j.on_rtt(5'000'000, 200.0).value_or(0) == 510);
  // Once the late sample is hold_us old, the next loss's lateness replaces
  // it; the latency comes down as after a high RTT.
  CHECK_FALSE(j.on_loss(12'500'000, 20));
  CHECK_FALSE(j.on_rtt(13'000'000, 1.0));
  int last = 510;
  for (int64_t t = 14'000'000; t < 60'000'000; t += 1'000'000) {
    if (t < 22'000'000) j.on_loss(t, 20);  // still lossy, not late
    if (auto v = j.on_rtt(t, 1.0)) last = *v;
  }
  CHECK(last == 60);
}

TEST_CASE("jitter latency: lateness never goes past the cap", "[congestion][jitter]") {
  JitterLatency j;
  REQUIRE(j.on_rtt(0, 400.0).value_or(0) == 850);
  CHECK(j.on_loss(1'000'000, 900).value_or(0) == 1000);
}
