#pragma once
// KeyframeResponder (sender side): when to force a keyframe for PLI/FIR.
// A keyframe costs several times a normal frame; a receiver that re-asks
// while the first one is still on its way, or several losses in a row,
// must not turn into a burst of keyframes that congests the link further.
//
//  - at most one keyframe per 300 ms (the answer to a request is
//    immediate when the last keyframe is older);
//  - a request inside that interval is remembered (one pending, however
//    many arrive: they coalesce) and answered when the interval ends;
//  - a keyframe the encoder makes on its own (start, a caps change of the
//    video ladder) counts too and satisfies a pending request.
//
// on_request()/poll() return true when the adapter should send the encoder
// a force-key-unit event now; next_due_us() is for a one-shot timer.
// Times in microseconds.

#include <cstdint>
#include <optional>

namespace callagent::congestion {

class KeyframeResponder {
 public:
  explicit KeyframeResponder(int64_t min_interval_us = 300'000) : min_interval_us_(min_interval_us) {}

  // A PLI or FIR arrived.
  bool on_request(int64_t now_us);
  // The encoder produced a keyframe for another reason.
  void on_keyframe_sent(int64_t now_us);
  // True when a pending request is due now.
  bool poll(int64_t now_us);
  std::optional<int64_t> next_due_us() const;

  bool pending() const { return pending_; }
  int requests() const { return requests_; }
  int forced() const { return forced_; }

 private:
  bool due(int64_t now_us) const { return !last_us_ || now_us - *last_us_ >= min_interval_us_; }
  int64_t min_interval_us_;
  std::optional<int64_t> last_us_;
  bool pending_ = false;
  int requests_ = 0, forced_ = 0;
};

}  // namespace callagent::congestion
