#pragma once
// Freezes of received video, by the W3C webrtc-stats rule (freezeCount):
// a gap between two rendered frames of at least
//     max(3 x average frame duration, average frame duration + 150 ms)
// is a freeze. The average is over the last 30 inter-frame gaps that were
// not freezes themselves. We "render" at the decoder output (there is no
// display in most runs), so decode stalls count, network stalls too.
//
// Pure: feed it monotonic frame times in microseconds, in order.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace callagent::stats {

struct Freeze {
  int64_t start_us = 0;  // time of the last frame before the gap
  double duration_ms = 0;
};

class FreezeDetector {
 public:
  void on_frame(int64_t t_us);
  // Forget the frame history (a new peer: the gap to its first frame is
  // not a freeze). Detected freezes stay.
  void reset_stream();

  int count() const { return static_cast<int>(freezes_.size()); }
  double total_ms() const;
  const std::vector<Freeze>& freezes() const { return freezes_; }
  // The average frame duration now (0 until two frames were seen).
  double average_ms() const;

 private:
  static constexpr size_t kWindow = 30;
  int64_t last_us_ = -1;
  std::deque<double> gaps_ms_;
  double sum_ms_ = 0;
  std::vector<Freeze> freezes_;
};

}  // namespace callagent::stats
