// RetransmissionBudget: the NACKed packets we resend, bounded by half the
// video target and by one copy per RTT.

#include "congestion/retransmission_budget.h"

#include <catch2/catch.hpp>

using namespace callagent::congestion;

TEST_CASE("rtx budget: a clean path's repairs all go out", "[congestion][rtx-budget]") {
  RetransmissionBudget b(2'500'000);
  b.set_rtt_ms(5);
  // 5 % of 260 packets/s, for 10 s, each asked once.
  int ok = 0;
  uint16_t seq = 0;
  for (int64_t t = 0; t < 10'000'000; t += 75'000, seq += 20) ok += b.allow(t, 1, seq);
  CHECK(ok == 134);
  CHECK(b.refused() == 0);
}

TEST_CASE("rtx budget: a flood of requests is held to half the target rate", "[congestion][rtx-budget]") {
  RetransmissionBudget b(300'000);  // a congested link's estimate
  b.set_rtt_ms(100);
  // 1200 distinct requests a second for 3 s.
  int ok = 0;
  uint16_t seq = 0;
  for (int64_t t = 0; t < 3'000'000; t += 833, ++seq) ok += b.allow(t, 7, seq);
  // 500 ms banked (8 packets) + 150 kbit/s x 3 s / 9600 bit: ~55.
  CHECK(ok >= 50);
  CHECK(ok <= 57);
  // The rate follows the estimate.
  b.set_rate(2'500'000);
  int later = 0;
  for (int64_t t = 3'000'000; t < 4'000'000; t += 833, ++seq) later += b.allow(t, 7, seq);
  CHECK(later >= 124);
  CHECK(later <= 136);
}

TEST_CASE("rtx budget: the same packet at most once per 0.4 RTT", "[congestion][rtx-budget]") {
  RetransmissionBudget b(2'500'000);
  b.set_rtt_ms(100);
  CHECK(b.allow(0, 1, 42));
  CHECK_FALSE(b.allow(30'000, 1, 42));   // crossed our first copy on the way
  CHECK(b.allow(30'000, 2, 42));         // another stream's 42
  CHECK_FALSE(b.allow(39'000, 1, 42));
  CHECK(b.allow(41'000, 1, 42));         // half an RTT later: a second copy
  b.set_rtt_ms(0);                       // no RTT yet: 20 ms
  CHECK_FALSE(b.allow(50'000, 1, 42));
  CHECK(b.allow(62'000, 1, 42));
  // The history is pruned, not kept forever, and seqnums wrap.
  for (int64_t t = 200'000; t < 5'000'000; t += 10'000) b.allow(t, 1, static_cast<uint16_t>(t / 10'000));
  CHECK(b.allow(5'100'000, 1, 42));
}

TEST_CASE("rtx budget: a second copy on a long path, not on a short or congested one", "[congestion][rtx-budget]") {
  RetransmissionBudget b(2'500'000);
  b.set_rtt_ms(20);
  REQUIRE(b.allow(0, 1, 1));
  CHECK_FALSE(b.duplicate(0));  // 20 ms: a second request comes in time
  b.set_rtt_ms(200);
  REQUIRE(b.allow(1'000, 1, 2));
  CHECK(b.duplicate(1'000));
  CHECK(b.duplicates() == 1);
  CHECK_FALSE(b.duplicate(1'000));  // one copy per allowed request
  REQUIRE(b.allow(200'000, 1, 2));  // asked again a round trip later: no copy this time
  CHECK_FALSE(b.duplicate(200'000));
  // A flood drains the bucket: below half of it no copies, the requests
  // themselves still go out while tokens last.
  int allowed = 0, copies = 0;
  for (int i = 0; i < 200; ++i) {
    if (!b.allow(210'000, 1, static_cast<uint16_t>(100 + i))) continue;
    ++allowed;
    if (b.duplicate(210'000)) ++copies;
  }
  CHECK(allowed > copies);
  CHECK(copies > 0);
  CHECK_FALSE(b.duplicate(210'000));
  // 156 kB/s of tokens: half the bucket (39 kB) back after ~0.25 s.
  REQUIRE(b.allow(610'000, 1, 7));
  CHECK(b.duplicate(610'000));
}
