#include "congestion/aimd_rate_control.h"

#include <algorithm>
#include <cmath>

namespace callagent::congestion {

AimdRateControl::AimdRateControl(double start_bps, double min_bps, double max_bps)
    : rate_(std::clamp(start_bps, min_bps, max_bps)), min_(min_bps), max_(max_bps) {}

void AimdRateControl::set_bounds(double min_bps, double max_bps) {
  min_ = min_bps;
  max_ = std::max(min_bps, max_bps);
  rate_ = std::clamp(rate_, min_, max_);
}

void AimdRateControl::set_estimate(int64_t now_us, double bps) {
  rate_ = std::clamp(bps, min_, max_);
  last_change_us_ = now_us;
}

void AimdRateControl::on_loss_cut(int64_t now_us, double bps, std::optional<double> acked_bps) {
  if (acked_bps) {
    if (capacity_kbps_ && *acked_bps / 1000.0 < capacity_lower_kbps()) {
      capacity_kbps_.reset();
      capacity_var_ = 0.4;
    }
    capacity_update(*acked_bps);
  }
  if (bps < rate_) rate_ = std::clamp(bps, min_, max_);
  state_ = State::Hold;
  last_change_us_ = now_us;
}

double AimdRateControl::capacity_upper_kbps() const {
  return *capacity_kbps_ + 3 * std::sqrt(capacity_var_ * *capacity_kbps_);
}
double AimdRateControl::capacity_lower_kbps() const {
  return *capacity_kbps_ - 3 * std::sqrt(capacity_var_ * *capacity_kbps_);
}

void AimdRateControl::capacity_update(double acked_bps) {
  const double sample = acked_bps / 1000.0;
  if (!capacity_kbps_)
    capacity_kbps_ = sample;
  else
    capacity_kbps_ = (1 - kCapacityAlpha) * *capacity_kbps_ + kCapacityAlpha * sample;
  const double norm = std::max(*capacity_kbps_, 1.0);
  const double err = *capacity_kbps_ - sample;
  capacity_var_ = (1 - kCapacityAlpha) * capacity_var_ + kCapacityAlpha * err * err / norm;
  capacity_var_ = std::clamp(capacity_var_, 0.4, 2.5);
}

bool AimdRateControl::time_to_reduce_further(int64_t now_us, std::optional<double> acked_bps) const {
  const double interval_ms = std::clamp(rtt_ms_, 10.0, 200.0);
  if (last_change_us_ < 0 || static_cast<double>(now_us - last_change_us_) / 1000.0 >= interval_ms) return true;
  return acked_bps && *acked_bps < 0.5 * rate_;
}

double AimdRateControl::multiplicative_increase(int64_t now_us) const {
  double alpha = kMultiplicativePerSecond;
  if (last_change_us_ >= 0) {
    const double dt_s = std::min(static_cast<double>(now_us - last_change_us_) / 1e6, 1.0);
    alpha = std::pow(alpha, std::max(dt_s, 0.0));
  }
  return std::max(rate_ * (alpha - 1.0), 1000.0);
}

double AimdRateControl::additive_increase(int64_t now_us) const {
  if (last_change_us_ < 0) return 0;
  // One packet's worth of rate per response time, for a 30 fps stream.
  const double frame_bits = rate_ / 30.0;
  const double packets_per_frame = std::ceil(frame_bits / (1200.0 * 8.0));
  const double packet_bits = frame_bits / packets_per_frame;
  const double response_s = (rtt_ms_ + 100.0) / 1000.0;
  const double per_second = std::max(4000.0, packet_bits / response_s);
  return per_second * static_cast<double>(now_us - last_change_us_) / 1e6;
}

double AimdRateControl::update(int64_t now_us, BandwidthUsage usage, std::optional<double> acked_bps) {
  switch (usage) {
    case BandwidthUsage::Normal:
      if (state_ == State::Hold) {
        state_ = State::Increase;
        last_change_us_ = now_us;
      }
      break;
    case BandwidthUsage::Overusing:
      if (state_ != State::Decrease) state_ = State::Decrease;
      break;
    case BandwidthUsage::Underusing: state_ = State::Hold; break;
  }
  double next = rate_;
  switch (state_) {
    case State::Hold: break;
    case State::Increase: {
      if (acked_bps && capacity_kbps_ && *acked_bps / 1000.0 > capacity_upper_kbps()) {
        capacity_kbps_.reset();
        capacity_var_ = 0.4;
        ++capacity_resets_;
      }
      const double limit = acked_bps ? 1.5 * *acked_bps + 10'000 : max_;
      if (rate_ < limit) {
        const double inc = capacity_kbps_ ? additive_increase(now_us) : multiplicative_increase(now_us);
        next = std::min(rate_ + inc, limit);
      }
      last_change_us_ = now_us;
      break;
    }
    case State::Decrease: {
      if (acked_bps) {
        double cut = kBeta * *acked_bps;
        if (cut > rate_ && capacity_kbps_) cut = kBeta * *capacity_kbps_ * 1000.0;
        if (cut < rate_) next = cut;
        if (capacity_kbps_ && *acked_bps / 1000.0 < capacity_lower_kbps()) {
          capacity_kbps_.reset();  // the link got slower: learn it again
          capacity_var_ = 0.4;
        }
        capacity_update(*acked_bps);
      } else {
        next = kBeta * rate_;  // nothing acknowledged yet: cut the rate itself
      }
      state_ = State::Hold;
      last_change_us_ = now_us;
      break;
    }
  }
  rate_ = std::clamp(next, min_, max_);
  return rate_;
}

}  // namespace callagent::congestion
