#include "congestion/rate_allocator.h"

#include <algorithm>
#include <cstdlib>

namespace callagent::congestion {

RateAllocator::RateAllocator(RateAllocatorConfig config) : config_(config) {}

RateAllocator::Decision RateAllocator::update(int64_t now_us, int64_t target_bps, bool now) {
  Decision d;
  const auto& c = config_;
  // Audio: whole steps, within its bounds.
  const double raw_audio = static_cast<double>(target_bps) * c.audio_share;
  const auto stepped = [&](double v) {
    const int64_t s = static_cast<int64_t>(v) / c.audio_step_bps * c.audio_step_bps;
    return std::clamp(s, c.audio_min_bps, c.audio_max_bps);
  };
  if (first_) {
    applied_.audio_bps = stepped(raw_audio);
    d.audio_changed = true;
  } else if (std::abs(raw_audio - static_cast<double>(applied_.audio_bps)) >= static_cast<double>(c.audio_step_bps)) {
    const int64_t a = stepped(raw_audio);
    if (a != applied_.audio_bps) {
      applied_.audio_bps = a;
      d.audio_changed = true;
    }
  }
  // Video: the rest.
  const int64_t wanted = std::clamp(target_bps - applied_.audio_bps, c.video_min_bps, std::max(c.video_min_bps, c.video_max_bps));
  d.video_wanted_bps = wanted;
  const double cur = static_cast<double>(applied_.video_bps);
  const double w = static_cast<double>(wanted);
  const int64_t since = now_us - last_video_change_us_;
  bool apply = first_;
  if (!apply && w <= cur * (1 - c.video_down)) apply = true;
  if (!apply && w >= cur * (1 + c.video_up) && (since >= c.up_interval_us || now)) apply = true;
  if (!apply && w >= cur * (1 + c.video_up_slow) && since >= c.up_slow_interval_us) apply = true;
  // A bound moved under us (set_video_max): follow it.
  if (!apply && (applied_.video_bps > c.video_max_bps || applied_.video_bps < c.video_min_bps) && wanted != applied_.video_bps)
    apply = true;
  if (apply && wanted != applied_.video_bps) {
    applied_.video_bps = wanted;
    last_video_change_us_ = now_us;
    d.video_changed = true;
  } else if (first_) {
    last_video_change_us_ = now_us;
  }
  first_ = false;
  d.applied = applied_;
  return d;
}

}  // namespace callagent::congestion
