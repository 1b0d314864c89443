#pragma once
// OpusFecPolicy: the `packet-loss-percentage` to give opusenc (with
// inband-fec on), from the loss the peer reports on our audio stream.
//
//  - smoothed loss: an exponential average with a 10 s time constant
//    (weight 1 - exp(-dt / 10 s) per report, dt = time since the previous
//    report; the first report counts as 1 s), so one bad report does not
//    double the audio rate and a lasting loss is followed within seconds;
//  - capped at 20 %: beyond that in-band FEC cannot keep up anyway and
//    only costs bits (libwebrtc uses the same time constant and cap);
//  - the integer percentage changes only when it moves by >= 2 points, or
//    reaches 0 (the path is clean again: stop paying for FEC) or the cap.
//    Each setting makes opusenc re-plan its bit budget.
//
// Input: fraction lost 0..1 per RTCP report (remote-inbound-rtp of the
// audio SSRC), with the time it arrived (microseconds). Output: 0..20.

#include <cstdint>
#include <optional>

namespace callagent::congestion {

struct OpusFecConfig {
  double time_constant_s = 10.0;
  double cap = 0.20;
  int min_change_points = 2;
};

class OpusFecPolicy {
 public:
  explicit OpusFecPolicy(OpusFecConfig config = {}) : config_(config) {}

  // Returns the new percentage when opusenc should be changed.
  std::optional<int> on_loss_report(int64_t now_us, double fraction_lost);

  int percentage() const { return percentage_; }
  double smoothed() const { return smoothed_; }

 private:
  OpusFecConfig config_;
  double smoothed_ = 0;
  std::optional<int64_t> last_us_;
  int percentage_ = 0;  // opusenc's default
};

}  // namespace callagent::congestion
