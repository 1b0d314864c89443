#include "congestion/trendline_detector.h"

#include <algorithm>
#include <cmath>

namespace callagent::congestion {

const char* to_string(BandwidthUsage u) {
  switch (u) {
    case BandwidthUsage::Normal: return "normal";
    case BandwidthUsage::Underusing: return "underusing";
    case BandwidthUsage::Overusing: return "overusing";
  }
  return "?";
}

bool TrendlineDetector::belongs_to_burst(int64_t send_us, int64_t arrival_us) const {
  const int64_t arrival_delta = arrival_us - cur_.last_arrival;
  const int64_t send_delta = send_us - cur_.last_send;
  if (send_delta == 0) return true;
  const int64_t propagation_delta = arrival_delta - send_delta;
  return propagation_delta < 0 && arrival_delta <= kBurstDeltaUs &&
         arrival_us - cur_.first_arrival < kMaxBurstUs;
}

void TrendlineDetector::on_packet(int64_t send_us, int64_t arrival_us) {
  if (cur_.empty()) {
    cur_ = Group{send_us, send_us, arrival_us, arrival_us};
    return;
  }
  if (send_us < cur_.first_send) return;  // reordered: older than the current group
  if (send_us - cur_.first_send <= kGroupLengthUs || belongs_to_burst(send_us, arrival_us)) {
    cur_.last_send = std::max(cur_.last_send, send_us);
    cur_.last_arrival = std::max(cur_.last_arrival, arrival_us);
    return;
  }
  // The current group is complete.
  if (!prev_.empty()) {
    const int64_t send_delta = cur_.last_send - prev_.last_send;
    const int64_t arrival_delta = cur_.last_arrival - prev_.last_arrival;
    if (arrival_delta >= 0 && send_delta > 0)
      on_group_delta(static_cast<double>(send_delta) / 1000.0, static_cast<double>(arrival_delta) / 1000.0,
                     cur_.last_arrival);
  }
  prev_ = cur_;
  cur_ = Group{send_us, send_us, arrival_us, arrival_us};
}

void TrendlineDetector::on_group_delta(double send_delta_ms, double arrival_delta_ms, int64_t arrival_us) {
  const double delta = arrival_delta_ms - send_delta_ms;
  num_deltas_ = std::min(num_deltas_ + 1, 1000);
  if (first_arrival_us_ < 0) first_arrival_us_ = arrival_us;
  accumulated_ += delta;
  smoothed_ = kSmoothing * smoothed_ + (1 - kSmoothing) * accumulated_;
  hist_.push_back(Point{static_cast<double>(arrival_us - first_arrival_us_) / 1000.0, smoothed_});
  if (hist_.size() > kWindow) hist_.pop_front();
  double trend = prev_trend_;
  if (hist_.size() == kWindow) {
    double sx = 0, sy = 0;
    for (const auto& p : hist_) {
      sx += p.x;
      sy += p.y;
    }
    const double mx = sx / static_cast<double>(hist_.size()), my = sy / static_cast<double>(hist_.size());
    double num = 0, den = 0;
    for (const auto& p : hist_) {
      num += (p.x - mx) * (p.y - my);
      den += (p.x - mx) * (p.x - mx);
    }
    if (den != 0) trend = num / den;
  }
  detect(trend, send_delta_ms, arrival_us);
}

void TrendlineDetector::detect(double trend, double send_delta_ms, int64_t arrival_us) {
  if (num_deltas_ < 2) {
    state_ = BandwidthUsage::Normal;
    return;
  }
  const double modified = std::min(num_deltas_, kMinDeltas) * trend * kGain;
  prev_modified_ = modified;
  if (modified > threshold_) {
    if (time_over_using_ < 0)
      time_over_using_ = send_delta_ms / 2;  // assume the overuse began half a delta ago
    else
      time_over_using_ += send_delta_ms;
    ++overuse_counter_;
    if (time_over_using_ > kOverusingTimeMs && overuse_counter_ > 1 && trend >= prev_trend_) {
      time_over_using_ = 0;
      overuse_counter_ = 0;
      state_ = BandwidthUsage::Overusing;
    }
  } else if (modified < -threshold_) {
    time_over_using_ = -1;
    overuse_counter_ = 0;
    state_ = BandwidthUsage::Underusing;
  } else {
    time_over_using_ = -1;
    overuse_counter_ = 0;
    state_ = BandwidthUsage::Normal;
  }
  prev_trend_ = trend;
  update_threshold(modified, arrival_us);
}

void TrendlineDetector::update_threshold(double modified, int64_t arrival_us) {
  if (last_threshold_update_us_ < 0) last_threshold_update_us_ = arrival_us;
  const double abs_m = std::fabs(modified);
  if (abs_m > threshold_ + kMaxAdaptOffset) {
    // A sudden spike (a route change, a hiccup): do not let it drag the bar.
    last_threshold_update_us_ = arrival_us;
    return;
  }
  const double k = abs_m < threshold_ ? kDown : kUp;
  const double dt_ms = std::min(static_cast<double>(arrival_us - last_threshold_update_us_) / 1000.0, 100.0);
  threshold_ += k * (abs_m - threshold_) * dt_ms;
  threshold_ = std::clamp(threshold_, 6.0, 600.0);
  last_threshold_update_us_ = arrival_us;
}

}  // namespace callagent::congestion
