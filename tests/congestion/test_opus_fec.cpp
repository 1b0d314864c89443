#include "congestion/opus_fec_policy.h"

#include <catch2/catch.hpp>

#include <cstdio>

using namespace callagent::congestion;

TEST_CASE("opus fec: smoothed with ~10 s time constant, capped at 20 %, 2-point steps", "[congestion][fec]") {
  OpusFecPolicy p;
  int64_t t = 0;
  std::vector<std::pair<double, int>> changes;
  auto report = [&](double loss, double seconds) {
    for (int i = 0; i < seconds; ++i, t += 1'000'000)
      if (auto v = p.on_loss_report(t, loss)) changes.emplace_back(static_cast<double>(t) / 1e6, *v);
  };
  report(0.0, 10);
  CHECK(changes.empty());
  // One bad report among clean ones moves it by 3 points at most
  // (30 % x (1 - e^-0.1) = 2.9 %), not to 20.
  report(0.30, 1);
  CHECK(p.percentage() <= 3);
  report(0.0, 1);
  CHECK(p.smoothed() < 0.03);
  const size_t spike = changes.size();
  report(0.0, 30);
  CHECK(p.percentage() == 0);
  // A lasting 10 % loss: followed within seconds, settles at 10.
  changes.clear();
  const double t0 = static_cast<double>(t) / 1e6;
  report(0.10, 40);
  REQUIRE(!changes.empty());
  CHECK(changes.front().first - t0 <= 3.0);
  CHECK(p.percentage() == 10);
  for (size_t i = 1; i < changes.size(); ++i) CHECK(changes[i].second - changes[i - 1].second >= 2);
  std::printf("opus fec: a single 30 %% report changed it %zu times; 10 %% loss: first change after %.0f s, %zu changes to %d\n",
              spike, changes.front().first - t0, changes.size(), p.percentage());
  // Heavy loss is capped at 20.
  report(0.6, 60);
  CHECK(p.percentage() == 20);
  // Clean again: falls, and reaches 0.
  report(0.0, 90);
  CHECK(p.percentage() == 0);
}
