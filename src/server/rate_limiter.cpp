#include "server/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace callagent::server {

RateLimiter::RateLimiter(unsigned burst, std::chrono::seconds period, std::size_t max_keys,
                         Clock clock)
    : burst_(std::max(1u, burst)),
      per_token_(std::chrono::duration<double>(period) / burst_),
      max_keys_(std::max<std::size_t>(1, max_keys)),
      clock_(std::move(clock)) {}

RateLimiter::Bucket& RateLimiter::refill(const std::string& key, SteadyTime now) {
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!inserted && now > b.updated) {
    double earned = std::chrono::duration<double>(now - b.updated) / per_token_;
    b.tokens = std::min(burst_, b.tokens + earned);
    b.updated = now;
  }
  return b;
}

std::optional<std::chrono::seconds> RateLimiter::retry_after(const std::string& key) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) return std::nullopt;  // never failed: don't track it
  SteadyTime now = clock_();
  Bucket& b = refill(key, now);
  if (b.tokens >= 1.0) return std::nullopt;
  double wait = (1.0 - b.tokens) * per_token_.count();
  return std::chrono::seconds(std::max<long long>(1, static_cast<long long>(std::ceil(wait))));
}

void RateLimiter::record_failure(const std::string& key) {
  SteadyTime now = clock_();
  if (!buckets_.count(key) && buckets_.size() >= max_keys_) prune(now);
  Bucket& b = refill(key, now);
  b.tokens = std::max(0.0, b.tokens - 1.0);
}

void RateLimiter::prune(SteadyTime now) {
  std::erase_if(buckets_, [&](const auto& kv) {
    double earned = std::chrono::duration<double>(now - kv.second.updated) / per_token_;
    return kv.second.tokens + earned >= burst_;
  });
  // Still full of active offenders: forget the one idle the longest.
  while (buckets_.size() >= max_keys_) {
    auto oldest = std::min_element(buckets_.begin(), buckets_.end(), [](const auto& a, const auto& b) {
      return a.second.updated < b.second.updated;
    });
    buckets_.erase(oldest);
  }
}

}  // namespace callagent::server
