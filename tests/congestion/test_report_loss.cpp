// ReportLoss: receiver reports' loss over >= 20 packets, duplicates and
// counter resets.
#include "congestion/report_loss.h"

#include <catch2/catch.hpp>

using callagent::congestion::ReportLoss;

TEST_CASE("report loss: a fraction per >= 20 expected packets, from the cumulative counters",
          "[congestion][report-loss]") {
  ReportLoss r;
  CHECK_FALSE(r.on_report(1000, 0));  // the first block is the base
  // Reports every 4 packets, one of them lost in the first: a per-block
  // fraction would read 25 % then 0 %; over 20 packets it is 5 %.
  CHECK_FALSE(r.on_report(1004, 1));
  CHECK_FALSE(r.on_report(1004, 1));  // the same block again (another compound packet)
  CHECK_FALSE(r.on_report(1008, 1));
  CHECK_FALSE(r.on_report(1012, 1));
  CHECK_FALSE(r.on_report(1016, 1));
  const auto f = r.on_report(1020, 1);
  REQUIRE(f);
  CHECK(*f == Approx(0.05));
  // The next window starts there: 20 more, none lost.
  CHECK_FALSE(r.on_report(1030, 1));
  const auto g = r.on_report(1040, 1);
  REQUIRE(g);
  CHECK(*g == 0.0);
  // Duplicates that make the cumulative count fall are no negative loss;
  // more lost than expected is capped.
  const auto h = r.on_report(1060, 0);
  REQUIRE(h);
  CHECK(*h == 0.0);
  const auto k = r.on_report(1080, 100);
  REQUIRE(k);
  CHECK(*k == 1.0);
}

TEST_CASE("report loss: a counter that goes back starts again; the 32-bit wrap is no reset",
          "[congestion][report-loss]") {
  ReportLoss r;
  CHECK_FALSE(r.on_report(5000, 10));
  CHECK_FALSE(r.on_report(100, 0));   // went back: the new base
  const auto f = r.on_report(140, 4);
  REQUIRE(f);
  CHECK(*f == Approx(0.1));
  ReportLoss w;
  CHECK_FALSE(w.on_report(0xFFFFFFF0u, 0));
  const auto x = w.on_report(0x00000010u, 16);  // 32 packets later, across the wrap
  REQUIRE(x);
  CHECK(*x == Approx(0.5));
}
