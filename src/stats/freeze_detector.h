#pragma once
// Freezes of received video, by the W3C webrtc-stats rule (freezeCount):
// a gap between two rendered frames of at least
//     max(3 x average frame duration, average frame duration + 150 ms)
// is a freeze. The average is over the last 30 inter-frame gaps that were
// not freezes themselves. A frame "renders" when a synchronized display
// would show it (media::ReceiveProbes: the decoder's output, or later, at
// its timestamp plus the jitter buffer's latency), whether or not a
// display is attached: decode stalls count, network stalls too, but a
// repair that came within the latency does not.
//
// A stream that stops is a freeze too, though no frame ends it: finish(t)
// at the end of the call closes the open gap (last frame -> t) if it passes
// the rule. When frames were expected (expect_frames(t), e.g. at the
// connection) and none ever came, the whole time from then to the end is
// one freeze. Both need the gap to be >= 1 s at the end (kEndGraceMs): the
// end of a call is known only roughly (the partner hangs up, its last
// frames and our teardown race), and a sub-second tail is no dead stream.
// A late first frame is setup time (setup.first_video), not a freeze.
//
// Pure: feed it monotonic frame times in microseconds, in order.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace callagent::stats {

struct Freeze {
  int64_t start_us = 0;  // time of the last frame before the gap (or when frames were expected)
  double duration_ms = 0;
};

class FreezeDetector {
 public:
  void on_frame(int64_t t_us);
  // Frames are due from t_us on (a connection). Ignored while a stream is
  // flowing (its stops are gaps); otherwise the latest call counts.
  void expect_frames(int64_t t_us);
  // The end of the call at t_us: a gap still open since the last frame (or
  // since expect_frames() with no frame) becomes a freeze if it passes the
  // rule and kEndGraceMs. Idempotent; a frame after it starts a new stream.
  void finish(int64_t t_us);
  // Forget the frame history (a new peer: the gap to its first frame is
  // not a freeze). Detected freezes stay, and so does an expectation set
  // since the last frame: the new peer's connection may well be reported
  // before the caller notices the peer changed.
  void reset_stream();

  int count() const { return static_cast<int>(freezes_.size()); }
  double total_ms() const;
  const std::vector<Freeze>& freezes() const { return freezes_; }
  // The average frame duration now (0 until two frames were seen).
  double average_ms() const;
  // The gap open at now_us if it already counts as a freeze (live status;
  // not yet in freezes()).
  std::optional<Freeze> open_freeze(int64_t now_us) const;

  static constexpr double kEndGraceMs = 1000.0;

 private:
  static constexpr size_t kWindow = 30;
  static constexpr size_t kMinGaps = 5;
  double threshold_ms() const;
  int64_t last_us_ = -1;
  int64_t expect_us_ = -1;
  std::deque<double> gaps_ms_;
  double sum_ms_ = 0;
  std::vector<Freeze> freezes_;
};

}  // namespace callagent::stats
