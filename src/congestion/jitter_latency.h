#pragma once
// JitterLatency (receiver side): how long the jitter buffers hold packets,
// from the measured round-trip time. A retransmitted packet arrives one RTT
// (plus the partner's reaction and some jitter) after the gap was noticed:
// a buffer shorter than that throws every repair away, a longer one only
// adds delay. Browsers grow their buffer the same way.
//
//   target = clamp(2 x RTT + margin, base, max)
//  - a target above the current latency applies at once (repairs start to
//    work with the next loss);
//  - a lower target applies only after `hold_us` without any higher one,
//    then in steps of at most `step_down_ms` every `step_us` (an RTT that
//    dips for a moment must not make the buffer oscillate);
//  - a pinned latency (the user chose one) never changes.
// Changes smaller than `min_change_ms` are not worth a latency
// recalculation of the pipeline and are not made.
//
// on_rtt() returns the new latency when it should change now.
// Times in microseconds, latencies in milliseconds.

#include <cstdint>
#include <optional>

namespace callagent::congestion {

struct JitterLatencyConfig {
  int base_ms = 60;    // the start and the floor
  int max_ms = 1000;
  int margin_ms = 50;
  int min_change_ms = 10;
  int64_t hold_us = 10'000'000;
  int64_t step_us = 2'000'000;
  int step_down_ms = 40;
  bool pinned = false;
};

class JitterLatency {
 public:
  explicit JitterLatency(JitterLatencyConfig config = {});

  std::optional<int> on_rtt(int64_t now_us, double rtt_ms);
  int latency_ms() const { return latency_ms_; }
  int target_ms(double rtt_ms) const;

 private:
  JitterLatencyConfig config_;
  int latency_ms_;
  int64_t last_high_us_ = 0;   // last time a target >= the current latency was seen
  int64_t last_step_us_ = 0;
};

}  // namespace callagent::congestion
