#include "server/rate_limiter.h"

#include "fake_clock.h"

#include <catch2/catch.hpp>

using namespace callagent::server;
using namespace std::chrono_literals;

TEST_CASE("an address may fail `burst` times, then must wait", "[ratelimit]") {
  test::FakeClock clock;
  RateLimiter r(10, 60s, 100, clock.clock());
  for (int i = 0; i < 10; ++i) {
    INFO("attempt " << i);
    CHECK_FALSE(r.retry_after("1.2.3.4"));
    r.record_failure("1.2.3.4");
  }
  auto wait = r.retry_after("1.2.3.4");
  REQUIRE(wait);
  CHECK(*wait == 6s);  // one attempt earned back every 60 s / 10
  clock.advance(5s);
  REQUIRE(r.retry_after("1.2.3.4"));
  CHECK(*r.retry_after("1.2.3.4") == 1s);
  clock.advance(1s);
  CHECK_FALSE(r.retry_after("1.2.3.4"));
  r.record_failure("1.2.3.4");
  CHECK(r.retry_after("1.2.3.4"));
}

TEST_CASE("addresses are limited independently", "[ratelimit]") {
  test::FakeClock clock;
  RateLimiter r(2, 60s, 100, clock.clock());
  r.record_failure("a");
  r.record_failure("a");
  CHECK(r.retry_after("a"));
  CHECK_FALSE(r.retry_after("b"));
}

TEST_CASE("a full minute refills the whole burst", "[ratelimit]") {
  test::FakeClock clock;
  RateLimiter r(3, 60s, 100, clock.clock());
  for (int i = 0; i < 3; ++i) r.record_failure("a");
  clock.advance(10min);
  for (int i = 0; i < 3; ++i) {
    CHECK_FALSE(r.retry_after("a"));
    r.record_failure("a");
  }
  CHECK(r.retry_after("a"));
}

TEST_CASE("tracked addresses are bounded", "[ratelimit]") {
  test::FakeClock clock;
  RateLimiter r(1, 60s, 4, clock.clock());
  for (int i = 0; i < 20; ++i) r.record_failure("addr" + std::to_string(i));
  CHECK(r.tracked() <= 4);
  CHECK(r.retry_after("addr19"));  // the newest offender is still blocked
}

TEST_CASE("addresses that never failed are not tracked", "[ratelimit]") {
  RateLimiter r(10, 60s);
  CHECK_FALSE(r.retry_after("x"));
  CHECK(r.tracked() == 0);
}
