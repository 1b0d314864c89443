// Reconnect backoff (src/common/backoff.h): deterministic with an injected RNG.
#include "common/backoff.h"

#include <catch2/catch.hpp>

#include <vector>

using namespace callagent;
using std::chrono::milliseconds;

TEST_CASE("without jitter (u = 0.5) the delay doubles from min and is capped at max") {
  Backoff b(milliseconds(500), milliseconds(30'000), 0.2, [] { return 0.5; });
  std::vector<long> got;
  for (int i = 0; i < 10; ++i) got.push_back(static_cast<long>(b.next().count()));
  std::vector<long> want{500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000};
  CHECK(got == want);
  CHECK(b.attempts() == 10);
}

TEST_CASE("jitter stays within +-20 %") {
  CHECK(Backoff::delay_for(0, milliseconds(500), milliseconds(30'000), 0.2, 0.0) == milliseconds(400));
  CHECK(Backoff::delay_for(0, milliseconds(500), milliseconds(30'000), 0.2, 0.999999) == milliseconds(600));
  CHECK(Backoff::delay_for(3, milliseconds(500), milliseconds(30'000), 0.2, 0.25) == milliseconds(3600));
  CHECK(Backoff::delay_for(20, milliseconds(500), milliseconds(30'000), 0.2, 0.0) == milliseconds(24'000));
  CHECK(Backoff::delay_for(20, milliseconds(500), milliseconds(30'000), 0.2, 0.999999) == milliseconds(36'000));
}

TEST_CASE("the injected random source drives the jitter, one draw per attempt") {
  std::vector<double> draws{0.0, 1.0, 0.5};
  size_t i = 0;
  Backoff b(milliseconds(1000), milliseconds(60'000), 0.2, [&] { return draws[i++ % draws.size()]; });
  CHECK(b.next() == milliseconds(800));   // 1000 * 0.8
  CHECK(b.next() == milliseconds(2400));  // 2000 * 1.2
  CHECK(b.next() == milliseconds(4000));  // 4000 * 1.0
  CHECK(i == 3);
}

TEST_CASE("reset starts again from min") {
  Backoff b(milliseconds(500), milliseconds(30'000), 0.0, [] { return 0.3; });
  b.next();
  b.next();
  b.next();
  b.reset();
  CHECK(b.attempts() == 0);
  CHECK(b.next() == milliseconds(500));
}

TEST_CASE("huge attempt counts neither overflow nor exceed the cap") {
  CHECK(Backoff::delay_for(1000, milliseconds(500), milliseconds(30'000), 0.0, 0.5) == milliseconds(30'000));
  Backoff b(milliseconds(500), milliseconds(30'000), 0.0, [] { return 0.5; });
  for (int i = 0; i < 200; ++i) b.next();
  CHECK(b.next() == milliseconds(30'000));
}

TEST_CASE("out-of-range parameters are clamped") {
  // A random source outside [0,1) and max < min.
  Backoff b(milliseconds(500), milliseconds(100), 0.2, [] { return 7.0; });
  CHECK(b.next() == milliseconds(600));  // max raised to min; u clamped to 1
}
