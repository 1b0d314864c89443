#pragma once
// TrendlineDetector: is the bottleneck queue growing? Fed with the send and
// arrival time of each packet the receiver acknowledged (transport-wide
// congestion control feedback), it answers Normal / Overusing / Underusing.
//
// Algorithm (the delay-gradient detector of Google Congestion Control):
//  1. Packets are grouped by send time: a group spans at most 5 ms of send
//     time (one video frame leaves as one burst). A packet that arrives less
//     than 5 ms after the previous one and "earlier than its send spacing"
//     (a queue draining as a burst) joins the current group, as long as the
//     group's arrivals span under 100 ms.
//  2. For consecutive groups, d = arrival delta - send delta (ms): > 0 when
//     the queue grew between them. The accumulated d is smoothed
//     (s = 0.9 s + 0.1 acc) and the last 20 (arrival time, s) points are
//     fitted by least squares: the slope is the delay trend (ms per ms).
//  3. modified = min(deltas seen, 60) x slope x 4 is compared with an
//     adaptive threshold g (start 12.5, kept in [6, 600]): above g for more
//     than 10 ms of send time, on at least two groups, with a slope not
//     falling -> Overusing; below -g -> Underusing; else Normal.
//  4. g follows |modified|: g += k (|modified| - g) dt_ms (dt <= 100 ms),
//     k = 0.039 when |modified| < g (falls fast), 0.0087 above (rises
//     slowly); outliers beyond g + 15 are not followed. So a queue that
//     keeps growing is caught, while a noisy path (Wi-Fi, a loaded host)
//     raises the bar instead of flagging everything.
// The constants are those of libwebrtc's trendline estimator and overuse
// detector, which browsers run against us.
//
// Times in microseconds: send times on the sender's clock, arrival times on
// the receiver's (only differences are used). Pure: no clock of its own.

#include <cstddef>
#include <cstdint>
#include <deque>

namespace callagent::congestion {

enum class BandwidthUsage { Normal, Underusing, Overusing };
const char* to_string(BandwidthUsage u);

class TrendlineDetector {
 public:
  // One acknowledged packet, in feedback order. Packets sent before the
  // current group (reordered) are ignored.
  void on_packet(int64_t send_us, int64_t arrival_us);

  BandwidthUsage state() const { return state_; }
  double trend() const { return prev_trend_; }          // ms of delay per ms
  double modified_trend() const { return prev_modified_; }
  double threshold() const { return threshold_; }

  static constexpr int64_t kGroupLengthUs = 5'000;
  static constexpr int64_t kBurstDeltaUs = 5'000;
  static constexpr int64_t kMaxBurstUs = 100'000;
  static constexpr size_t kWindow = 20;
  static constexpr double kSmoothing = 0.9;
  static constexpr double kGain = 4.0;
  static constexpr int kMinDeltas = 60;
  static constexpr double kInitialThreshold = 12.5;
  static constexpr double kOverusingTimeMs = 10.0;
  static constexpr double kUp = 0.0087, kDown = 0.039;
  static constexpr double kMaxAdaptOffset = 15.0;

 private:
  struct Group {
    int64_t first_send = -1, last_send = -1;
    int64_t first_arrival = -1, last_arrival = -1;
    bool empty() const { return first_send < 0; }
  };
  bool belongs_to_burst(int64_t send_us, int64_t arrival_us) const;
  void on_group_delta(double send_delta_ms, double arrival_delta_ms, int64_t arrival_us);
  void detect(double trend, double send_delta_ms, int64_t arrival_us);
  void update_threshold(double modified, int64_t arrival_us);

  Group cur_, prev_;
  // trendline
  int num_deltas_ = 0;
  int64_t first_arrival_us_ = -1;
  double accumulated_ = 0, smoothed_ = 0;
  struct Point { double x, y; };
  std::deque<Point> hist_;
  // detector
  double threshold_ = kInitialThreshold;
  int64_t last_threshold_update_us_ = -1;
  double time_over_using_ = -1;
  int overuse_counter_ = 0;
  double prev_trend_ = 0, prev_modified_ = 0;
  BandwidthUsage state_ = BandwidthUsage::Normal;
};

}  // namespace callagent::congestion
