#include "common/backoff.h"

#include <glib.h>

#include <algorithm>
#include <cmath>

namespace callagent {

Backoff::Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max, double jitter,
                 Random random)
    : min_(std::max(min, std::chrono::milliseconds(1))),
      max_(std::max(max, min_)),
      jitter_(std::clamp(jitter, 0.0, 1.0)),
      random_(random ? std::move(random) : Random([] { return g_random_double(); })) {}

std::chrono::milliseconds Backoff::next() {
  auto d = delay_for(attempts_, min_, max_, jitter_, random_());
  // Stop counting once capped: the count only matters up to there and must not overflow.
  if (attempts_ < 64) ++attempts_;
  return d;
}

std::chrono::milliseconds Backoff::delay_for(unsigned attempt, std::chrono::milliseconds min,
                                             std::chrono::milliseconds max, double jitter, double u) {
  double base = static_cast<double>(min.count()) * std::pow(2.0, std::min(attempt, 62u));
  base = std::min(base, static_cast<double>(max.count()));
  u = std::clamp(u, 0.0, 1.0);
  double factor = 1.0 + jitter * (2.0 * u - 1.0);
  return std::chrono::milliseconds(std::max<long long>(1, std::llround(base * factor)));
}

}  // namespace callagent
