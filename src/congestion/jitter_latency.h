#pragma once
// JitterLatency (receiver side): how long the jitter buffers hold packets,
// from the measured round-trip time. A retransmitted packet arrives one RTT
// (plus the partner's reaction and some jitter) after the gap was noticed:
// a buffer shorter than that throws every repair away, a longer one only
// adds delay. Browsers grow their buffer the same way.
//
//   target = clamp(2 x RTT + margin, floor, max)
//   floor  = lossy_floor while losses were seen in the last `hold_us`
//            (on_loss()), else base
//
// Why a floor for lossy links: a repair takes RTT + the time our NACK
// waits for an RTCP packet (~20 ms here) + the partner's reaction, and the
// jitter buffer asks again only after that much (its retry timeout). On a
// LAN 2 x RTT + 50 ms is ~60 ms: room for ONE request, and at 5 % loss each
// way one request in ten is lost or its answer is (the frame breaks, a
// keyframe is needed: a freeze). 120 ms fits three attempts (one in a
// thousand fails). Browsers do the same in effect: their buffer grows by
// what late, repaired frames need. Without loss the floor is the base.
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
  int base_ms = 60;    // the start and the floor on a clean link
  int lossy_floor_ms = 120;  // the floor while the link loses packets
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
  // Packets were lost (and asked for again) since the last call: the lossy
  // floor applies for the next hold_us. Returns the new latency when it
  // should change now.
  std::optional<int> on_loss(int64_t now_us);
  int latency_ms() const { return latency_ms_; }
  int target_ms(double rtt_ms) const { return target_ms(rtt_ms, config_.base_ms); }

 private:
  int target_ms(double rtt_ms, int floor_ms) const;
  int floor_ms(int64_t now_us) const;
  std::optional<int> update(int64_t now_us);

  JitterLatencyConfig config_;
  int latency_ms_;
  std::optional<double> rtt_ms_;
  std::optional<int64_t> last_loss_us_;
  int64_t last_high_us_ = 0;   // last time a target >= the current latency was seen
  int64_t last_step_us_ = 0;
};

}  // namespace callagent::congestion
