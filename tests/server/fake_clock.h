#pragma once
// A clock the test moves by hand, for SessionStore and RateLimiter.

#include "server/clock.h"

#include <memory>

namespace callagent::server::test {

class FakeClock {
 public:
  Clock clock() const {
    auto t = now_;
    return [t] { return *t; };
  }
  template <typename D>
  void advance(D d) {
    *now_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(d);
  }

 private:
  std::shared_ptr<SteadyTime> now_ = std::make_shared<SteadyTime>(std::chrono::hours(1000));
};

}  // namespace callagent::server::test
