#include "stats/freeze_detector.h"

#include <algorithm>

namespace callagent::stats {

double FreezeDetector::average_ms() const {
  return gaps_ms_.empty() ? 0 : sum_ms_ / static_cast<double>(gaps_ms_.size());
}

double FreezeDetector::total_ms() const {
  double t = 0;
  for (const auto& f : freezes_) t += f.duration_ms;
  return t;
}

double FreezeDetector::threshold_ms() const {
  const double avg = average_ms();
  return std::max(3 * avg, avg + 150.0);
}

void FreezeDetector::reset_stream() {
  last_us_ = -1;
  gaps_ms_.clear();
  sum_ms_ = 0;
}

void FreezeDetector::expect_frames(int64_t t_us) {
  if (last_us_ >= 0) return;
  expect_us_ = t_us;
}

std::optional<Freeze> FreezeDetector::open_freeze(int64_t now_us) const {
  if (last_us_ >= 0) {
    const double gap = static_cast<double>(now_us - last_us_) / 1000.0;
    if (gaps_ms_.size() >= kMinGaps && gap >= threshold_ms()) return Freeze{last_us_, gap};
    return std::nullopt;
  }
  if (expect_us_ >= 0) {
    const double gap = static_cast<double>(now_us - expect_us_) / 1000.0;
    if (gap >= kEndGraceMs) return Freeze{expect_us_, gap};
  }
  return std::nullopt;
}

void FreezeDetector::finish(int64_t t_us) {
  if (last_us_ >= 0) {
    const double gap = static_cast<double>(t_us - last_us_) / 1000.0;
    // With fewer than a few gaps there is no average: the rule's 150 ms
    // and the end grace decide.
    if (gap >= std::max(threshold_ms(), kEndGraceMs)) freezes_.push_back(Freeze{last_us_, gap});
  } else if (expect_us_ >= 0) {
    const double gap = static_cast<double>(t_us - expect_us_) / 1000.0;
    if (gap >= kEndGraceMs) freezes_.push_back(Freeze{expect_us_, gap});
  }
  reset_stream();
  expect_us_ = -1;
}

void FreezeDetector::on_frame(int64_t t_us) {
  expect_us_ = -1;
  if (last_us_ < 0 || t_us < last_us_) {
    last_us_ = t_us;
    return;
  }
  const double gap = static_cast<double>(t_us - last_us_) / 1000.0;
  // A few frames are needed before "average" means anything: the first
  // frames after a keyframe wait arrive irregularly.
  if (gaps_ms_.size() >= kMinGaps) {
    if (gap >= threshold_ms()) {
      freezes_.push_back(Freeze{last_us_, gap});
      last_us_ = t_us;
      return;  // a freeze does not enter the average
    }
  }
  gaps_ms_.push_back(gap);
  sum_ms_ += gap;
  if (gaps_ms_.size() > kWindow) {
    sum_ms_ -= gaps_ms_.front();
    gaps_ms_.pop_front();
  }
  last_us_ = t_us;
}

}  // namespace callagent::stats
