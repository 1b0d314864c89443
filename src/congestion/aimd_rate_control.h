#pragma once
// AimdRateControl: the delay-based rate (bit/s) from the detector's verdict
// and the rate the receiver actually got (the acknowledged rate).
//
//   state diagram:     Hold --normal--> Increase
//                      any --overusing--> Decrease --(applied)--> Hold
//                      any --underusing--> Hold   (a queue draining: wait)
//
//  - A loss-based cut (on_loss_cut) learns the capacity the same way.
//  - Decrease: rate = 0.85 x acknowledged rate (never an increase; if the
//    acknowledged rate is above the current rate, 0.85 x the link capacity
//    estimate). The acknowledged rate feeds the link capacity estimate (an
//    average with alpha 0.05 and a variance, in kbit/s; deviation clamped to
//    [0.4, 2.5]). Another decrease waits one RTT (10-200 ms) unless the
//    receive rate fell under half the estimate.
//  - Increase far from the known capacity (none known, or the acknowledged
//    rate went past capacity + 3 deviations: the link changed): x1.08 per
//    second (at least +1 kbit/s). Near it: additive, about one packet per
//    response time (RTT + 100 ms), at least 4 kbit/s per second.
//  - The rate never rises above 1.5 x acknowledged + 10 kbit/s: we cannot
//    claim bandwidth we never used.
// Constants as in libwebrtc's AIMD rate control (what browsers do).
//
// Units: bit/s, microseconds, RTT in ms. Pure: time is passed in.

#include "congestion/trendline_detector.h"

#include <cstdint>
#include <optional>

namespace callagent::congestion {

class AimdRateControl {
 public:
  enum class State { Hold, Increase, Decrease };

  AimdRateControl(double start_bps, double min_bps, double max_bps);

  // Applies one verdict; returns the new rate.
  double update(int64_t now_us, BandwidthUsage usage, std::optional<double> acked_bps);
  // Whether an overuse now should cut again (see above).
  bool time_to_reduce_further(int64_t now_us, std::optional<double> acked_bps) const;
  // Sets the rate (a probe result, the start rate).
  void set_estimate(int64_t now_us, double bps);
  // The loss-based rule cut the target to `bps` (> 10 % lost on the wire):
  // a drop-tail queue that overflows is congestion even when its delay
  // stopped growing (it is full), so the acknowledged rate is a capacity
  // sample as at an overuse, and the rate comes down to the cut.
  void on_loss_cut(int64_t now_us, double bps, std::optional<double> acked_bps);
  void set_rtt_ms(double rtt_ms) { rtt_ms_ = rtt_ms; }
  void set_bounds(double min_bps, double max_bps);

  double rate_bps() const { return rate_; }
  State state() const { return state_; }
  bool capacity_known() const { return capacity_kbps_.has_value(); }
  // The link capacity learned from the acknowledged rates at overuse, bit/s.
  std::optional<double> capacity_bps() const {
    return capacity_kbps_ ? std::optional<double>(*capacity_kbps_ * 1000.0) : std::nullopt;
  }
  // How often the capacity estimate was dropped because the link got faster.
  int capacity_resets() const { return capacity_resets_; }

  static constexpr double kBeta = 0.85;
  static constexpr double kMultiplicativePerSecond = 1.08;
  static constexpr double kCapacityAlpha = 0.05;

 private:
  double multiplicative_increase(int64_t now_us) const;
  double additive_increase(int64_t now_us) const;
  void capacity_update(double acked_bps);
  double capacity_upper_kbps() const;
  double capacity_lower_kbps() const;

  double rate_, min_, max_;
  State state_ = State::Hold;
  int64_t last_change_us_ = -1;
  double rtt_ms_ = 200;
  std::optional<double> capacity_kbps_;
  double capacity_var_ = 0.4;
  int capacity_resets_ = 0;
};

}  // namespace callagent::congestion
