#pragma once
// JitterLatency (receiver side): how long the jitter buffers hold packets,
// from the measured round-trip time. A retransmitted packet arrives one RTT
// (plus the partner's reaction and some jitter) after the gap was noticed:
// a buffer shorter than that throws every repair away, a longer one only
// adds delay. Browsers grow their buffer the same way.
//
//   target = clamp(max(2 x RTT + margin, floor) + lateness, floor, max)
//   floor  = lossy_floor while losses were seen in the last `hold_us`
//            (on_loss()), else base
//   lateness = while losses are seen, the largest max(0, noticed -
//            noticed_ms) of them (a larger one replaces it at once, a
//            smaller one once it is hold_us old), else 0
//
// Why a floor for lossy links: a repair takes RTT + the time our NACK
// waits for an RTCP packet (~20 ms here) + the partner's reaction, and the
// jitter buffer asks again only after that much (its retry timeout). On a
// LAN 2 x RTT + 50 ms is ~60 ms: room for ONE request, and at 5 % loss each
// way one request in ten is lost or its answer is (the frame breaks, a
// keyframe is needed: a freeze). 120 ms fits three attempts (one in a
// thousand fails). Browsers do the same in effect: their buffer grows by
// what late, repaired frames need. Without loss the floor is the base.
//
// Why the lateness: the jitter buffer's deadline counts from when the
// packet was due, but the gap is seen only when a later packet arrives, and
// the first request leaves then. On a quiet machine that is ~17 ms after
// the due time (the jitter buffer's own short wait); on a busy one, a
// stalled thread on either side (the sender's, ours) makes it 50-130 ms
// (measured, 1 % loss, sanitized agents on 2 loaded cores): the 120 ms had
// room for one request or none, and one packet in ~40 lost was given up (a
// keyframe request and a freeze of 0.2-0.3 s). The target grows by what the
// losses of the hold window were noticed late beyond `noticed_ms`, so the
// three attempts fit again (on a long path too: the lateness is added to
// 2 x RTT + margin). A lateness of max_ms or more is not a delay
// but the jitter buffer's timestamps settling in the stream's first
// second (seen: 4.2-4.3 s on the first requests of most calls) and is
// ignored.
//
// How the latency moves:
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
  int noticed_ms = 20;       // how late a gap is noticed on a quiet machine
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
  // A packet was lost and asked for again, its first request made
  // `noticed_ms` after the packet was due (0: unknown): the lossy floor
  // and this lateness apply for the next hold_us. Returns the new latency
  // when it should change now.
  std::optional<int> on_loss(int64_t now_us, int noticed_ms = 0);
  int latency_ms() const { return latency_ms_; }
  int target_ms(double rtt_ms) const { return target_ms(rtt_ms, config_.base_ms, 0); }

 private:
  int target_ms(double rtt_ms, int floor_ms, int late_ms) const;
  int floor_ms(int64_t now_us) const;
  int lateness_ms(int64_t now_us) const;
  std::optional<int> update(int64_t now_us);

  JitterLatencyConfig config_;
  int latency_ms_;
  std::optional<double> rtt_ms_;
  std::optional<int64_t> last_loss_us_;
  int late_ms_ = 0;          // the largest lateness of the hold window
  int64_t late_us_ = 0;      // when it was seen
  int64_t last_high_us_ = 0;   // last time a target >= the current latency was seen
  int64_t last_step_us_ = 0;
};

}  // namespace callagent::congestion
