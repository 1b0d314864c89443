#include "congestion/opus_fec_policy.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace callagent::congestion {

std::optional<int> OpusFecPolicy::on_loss_report(int64_t now_us, double fraction_lost) {
  const double x = std::clamp(fraction_lost, 0.0, 1.0);
  const double dt_s = last_us_ ? std::max(0.0, static_cast<double>(now_us - *last_us_) / 1e6) : 1.0;
  last_us_ = now_us;
  const double w = 1.0 - std::exp(-dt_s / config_.time_constant_s);
  smoothed_ += w * (x - smoothed_);
  const int p = static_cast<int>(std::lround(std::min(smoothed_, config_.cap) * 100.0));
  if (p == percentage_) return std::nullopt;
  const int cap = static_cast<int>(std::lround(config_.cap * 100.0));
  if (std::abs(p - percentage_) >= config_.min_change_points || p == 0 || p == cap) {
    percentage_ = p;
    return p;
  }
  return std::nullopt;
}

}  // namespace callagent::congestion
