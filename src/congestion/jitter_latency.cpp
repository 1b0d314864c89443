#include "congestion/jitter_latency.h"

#include <algorithm>
#include <cmath>

namespace callagent::congestion {

JitterLatency::JitterLatency(JitterLatencyConfig config) : config_(config), latency_ms_(config.base_ms) {}

int JitterLatency::target_ms(double rtt_ms, int floor_ms, int late_ms) const {
  const double t = 2.0 * std::max(0.0, rtt_ms) + config_.margin_ms;
  // Round up to 10 ms: small RTT noise maps to the same latency.
  const int rounded = static_cast<int>(std::ceil(t / 10.0)) * 10;
  return std::clamp(std::max(rounded, floor_ms) + late_ms, floor_ms, std::max(floor_ms, config_.max_ms));
}

int JitterLatency::floor_ms(int64_t now_us) const {
  const bool lossy = last_loss_us_ && now_us - *last_loss_us_ < config_.hold_us;
  return lossy ? std::max(config_.base_ms, config_.lossy_floor_ms) : config_.base_ms;
}

int JitterLatency::lateness_ms(int64_t now_us) const {
  const bool lossy = last_loss_us_ && now_us - *last_loss_us_ < config_.hold_us;
  if (!lossy || now_us - late_us_ >= config_.hold_us) return 0;
  return (late_ms_ + 9) / 10 * 10;  // rounded up to 10 ms like the target
}

std::optional<int> JitterLatency::on_rtt(int64_t now_us, double rtt_ms) {
  if (config_.pinned || !std::isfinite(rtt_ms)) return std::nullopt;
  rtt_ms_ = rtt_ms;
  return update(now_us);
}

std::optional<int> JitterLatency::on_loss(int64_t now_us, int noticed_ms) {
  if (config_.pinned) return std::nullopt;
  last_loss_us_ = now_us;
  const int late = noticed_ms < config_.max_ms ? std::max(0, noticed_ms - config_.noticed_ms) : 0;
  if (late >= late_ms_ || now_us - late_us_ >= config_.hold_us) {
    late_ms_ = late;
    late_us_ = now_us;
  }
  return update(now_us);
}

std::optional<int> JitterLatency::update(int64_t now_us) {
  const int target = target_ms(rtt_ms_.value_or(0.0), floor_ms(now_us), lateness_ms(now_us));
  if (target >= latency_ms_) {
    last_high_us_ = now_us;
    if (target - latency_ms_ < config_.min_change_ms) return std::nullopt;
    latency_ms_ = target;
    last_step_us_ = now_us;
    return latency_ms_;
  }
  if (now_us - last_high_us_ < config_.hold_us || now_us - last_step_us_ < config_.step_us) return std::nullopt;
  const int next = std::max(target, latency_ms_ - config_.step_down_ms);
  if (latency_ms_ - next < config_.min_change_ms && next != target) return std::nullopt;
  latency_ms_ = next;
  last_step_us_ = now_us;
  return latency_ms_;
}

}  // namespace callagent::congestion
