#include "congestion/delay_based_estimator.h"

#include <algorithm>

namespace callagent::congestion {

DelayBasedEstimator::DelayBasedEstimator(double start_bps, double min_bps, double max_bps)
    : aimd_(start_bps, min_bps, max_bps) {}

void DelayBasedEstimator::add_acked(int64_t arrival_us, int size_bytes) {
  if (!acked_.empty() && arrival_us < acked_.back().arrival_us) arrival_us = acked_.back().arrival_us;
  acked_.push_back(Acked{arrival_us, size_bytes});
  acked_bytes_ += size_bytes;
  while (!acked_.empty() && acked_.front().arrival_us < arrival_us - kAckedWindowUs) {
    acked_bytes_ -= acked_.front().bytes;
    acked_.pop_front();
  }
}

void DelayBasedEstimator::add_delay(int64_t now_us, int64_t delay_us) {
  if (base_.empty() || now_us - base_.back().first >= kBaseDelayBucketUs)
    base_.emplace_back(now_us, delay_us);
  else
    base_.back().second = std::min(base_.back().second, delay_us);
  while (now_us - base_.front().first > kBaseDelayWindowUs) base_.pop_front();
}

std::optional<int64_t> DelayBasedEstimator::base_delay_us() const {
  if (base_.empty()) return std::nullopt;
  int64_t m = base_.front().second;
  for (const auto& b : base_) m = std::min(m, b.second);
  return m;
}

DelayBasedEstimator::Update DelayBasedEstimator::on_feedback(int64_t now_us, std::span<const PacketResult> packets) {
  Update u;
  for (const auto& p : packets) {
    if (!p.arrival_us) {
      ++u.lost;
      continue;
    }
    ++u.received;
    detector_.on_packet(p.send_us, *p.arrival_us);
    add_acked(*p.arrival_us, p.size_bytes);
    add_delay(now_us, *p.arrival_us - p.send_us);
  }
  if (acked_.size() >= 2) {
    // Over the window once it is full; before that over what we have (the
    // first packet's bytes arrived "before" the span, so leave them out).
    const int64_t span = acked_.back().arrival_us - acked_.front().arrival_us;
    if (span >= kAckedWindowUs / 5) {
      const int64_t bytes = span >= kAckedWindowUs - 1000 ? acked_bytes_ : acked_bytes_ - acked_.front().bytes;
      acked_bps_ = static_cast<double>(bytes) * 8.0 / (static_cast<double>(std::max(span, int64_t{1})) / 1e6);
    }
  }
  u.usage = detector_.state();
  if (u.received > 0) {
    const double before = aimd_.rate_bps();
    if (u.usage == BandwidthUsage::Overusing) {
      if (aimd_.time_to_reduce_further(now_us, acked_bps_)) aimd_.update(now_us, u.usage, acked_bps_);
    } else {
      aimd_.update(now_us, u.usage, acked_bps_);
    }
    u.decreased = aimd_.rate_bps() < before && u.usage == BandwidthUsage::Overusing;
  }
  u.rate_bps = aimd_.rate_bps();
  return u;
}

}  // namespace callagent::congestion
