#pragma once
// Limits failed login attempts per client address with a token bucket:
// each address may fail `burst` times in a row, then earns one more attempt
// every `period / burst` (10 per minute by default). Only failures spend
// tokens, so a user who types the password right is never slowed down, and
// a blocked address is refused before its guess is even checked.
//
// Bounded memory: at most `max_keys` addresses are tracked; buckets that
// have refilled completely carry no information and are dropped first.

#include "server/clock.h"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>

namespace callagent::server {

class RateLimiter {
 public:
  RateLimiter(unsigned burst, std::chrono::seconds period, std::size_t max_keys = 10000,
              Clock clock = system_clock());

  // nullopt when `key` may try now; otherwise how long until it may
  // (rounded up to whole seconds, at least 1: the Retry-After value).
  std::optional<std::chrono::seconds> retry_after(const std::string& key);
  // Spends one attempt of `key`.
  void record_failure(const std::string& key);

  std::size_t tracked() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    SteadyTime updated;
  };
  Bucket& refill(const std::string& key, SteadyTime now);
  void prune(SteadyTime now);

  double burst_;
  std::chrono::duration<double> per_token_;  // time to earn one attempt back
  std::size_t max_keys_;
  Clock clock_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace callagent::server
