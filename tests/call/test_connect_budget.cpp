// The connect budget (--connect-timeout) and the retries without one,
// against in-process fakes and a hand-driven clock: the budget spans every
// retry from the partner's arrival, names the furthest phase reached, stops
// with a connection or the partner's departure, starts again when an
// established connection fails; without a budget the re-offers back off.
#include "call_fixture.h"

#include <catch2/catch.hpp>

using namespace callagent;
using namespace callagent::call;
using namespace callagent::call::test;

namespace {

CallOptions with_budget(std::chrono::milliseconds b) {
  CallOptions o;
  o.connect_timeout = b;
  return o;
}

// We offer to a partner that has arrived; attempt `n` reaches `phase`.
void attempt(Fixture& f, ConnectPhase phase, int n) {
  REQUIRE(f.fac.current);
  REQUIRE(f.fac.current->offers == 1);
  const std::string id = std::to_string(n);
  f.local("offer", std::to_string(1000 + n), "L" + id);
  if (phase == ConnectPhase::Signaling) return;
  f.partner_answers(std::to_string(2000 + n), "R" + id);
  if (phase == ConnectPhase::IceGathering) return;
  f.endpoint().on_local_candidate(cand("L" + id));
  if (phase == ConnectPhase::IceChecks) return;
  f.endpoint().on_ice_connected();
}

void fail(Fixture& f) { f.endpoint().on_peer_state(PeerState::Failed); }

}  // namespace

TEST_CASE("the connect budget spans the retries and names the phase that never completed") {
  Fixture f(with_budget(8s));
  f.call.on_signaling_connected(false);
  f.partner_arrives();
  f.partner_ready();
  attempt(f, ConnectPhase::IceChecks, 1);
  f.clock.advance(3s);
  fail(f);
  CHECK_FALSE(f.obs.finished);
  // The policy retries within the budget: a new peer connection.
  f.clock.advance(2s);
  CHECK(f.fac.created == 2);
  attempt(f, ConnectPhase::IceChecks, 2);
  f.clock.advance(2900ms);  // 7.9 s after the partner came
  CHECK_FALSE(f.obs.finished);
  f.clock.advance(100ms);
  REQUIRE(f.obs.finished);
  CHECK(*f.obs.finished == ExitCode::CallFailed);
  CHECK(f.obs.reason.find("--connect-timeout") != std::string::npos);
  CHECK(f.obs.reason.find("ICE checks") != std::string::npos);
  REQUIRE(f.call.connect_failure());
  CHECK(f.call.connect_failure()->phase == ConnectPhase::IceChecks);
  CHECK(f.call.connect_failure()->attempts == 2);
  CHECK(f.call.connect_failure()->budget == 8s);
  CHECK(f.call.state() == Call::State::Finished);
}

TEST_CASE("the phase is the furthest any attempt reached") {
  struct Case {
    ConnectPhase reached;
    const char* name;
  };
  for (auto c : {Case{ConnectPhase::Signaling, "signaling"}, Case{ConnectPhase::IceGathering, "ice-gathering"},
                 Case{ConnectPhase::IceChecks, "ice-checks"}, Case{ConnectPhase::Dtls, "dtls"}}) {
    CAPTURE(c.name);
    Fixture f(with_budget(8s));
    f.call.on_signaling_connected(false);
    f.partner_arrives();
    f.partner_ready();
    attempt(f, c.reached, 1);
    if (c.reached != ConnectPhase::Signaling) {
      // A second attempt that gets less far does not hide the first one's.
      f.clock.advance(1s);
      fail(f);
      f.clock.advance(2s);
      REQUIRE(f.fac.created == 2);
      f.local("offer", "1002", "L2");
    }
    f.clock.advance(8s);
    REQUIRE(f.call.connect_failure());
    CHECK(f.call.connect_failure()->phase == c.reached);
    CHECK(std::string(to_string(f.call.connect_failure()->phase)) == c.name);
  }
}

TEST_CASE("a connection within the budget stops it; a failure after it starts a new one") {
  Fixture f(with_budget(8s));
  f.call.on_signaling_connected(false);
  f.partner_arrives();
  f.partner_ready();
  attempt(f, ConnectPhase::Dtls, 1);
  f.clock.advance(5s);
  f.endpoint().on_peer_state(PeerState::Connected);
  f.clock.advance(60s);
  CHECK_FALSE(f.obs.finished);
  // The connection is lost: the partner gets a new budget of its own.
  fail(f);
  f.clock.advance(7900ms);
  CHECK_FALSE(f.obs.finished);
  f.clock.advance(200ms);
  REQUIRE(f.obs.finished);
  CHECK(*f.obs.finished == ExitCode::CallFailed);
}

TEST_CASE("the partner leaving stops the budget; the next partner gets a whole one") {
  Fixture f(with_budget(8s));
  f.call.on_signaling_connected(false);
  f.partner_arrives();
  f.partner_ready();
  attempt(f, ConnectPhase::IceChecks, 1);
  f.clock.advance(6s);
  f.partner_leaves();
  f.clock.advance(60s);
  CHECK_FALSE(f.obs.finished);
  f.partner_arrives();
  f.partner_ready();
  f.clock.advance(7900ms);
  CHECK_FALSE(f.obs.finished);
  f.clock.advance(200ms);
  REQUIRE(f.obs.finished);
  CHECK(f.call.connect_failure()->attempts == 1);
}

TEST_CASE("without a budget the call retries for ever, backing off, and starts over after a connection") {
  Fixture f;  // connect_timeout: none
  f.call.on_signaling_connected(false);
  f.partner_arrives();
  f.partner_ready();
  // The delay before each re-offer: 1 s doubling to 30 s, plus up to 0.5 s.
  auto next_retry = [&]() {
    int before = f.fac.created;
    fail(f);
    auto t0 = f.clock.now();
    while (f.fac.created == before) {
      f.clock.advance(50ms);
      REQUIRE(f.clock.now() - t0 < 40s);
    }
    return f.clock.now() - t0;
  };
  std::vector<std::chrono::milliseconds> base{1s, 2s, 4s, 8s, 16s, 30s, 30s, 30s};
  for (auto b : base) {
    attempt(f, ConnectPhase::IceChecks, f.fac.created);
    auto d = next_retry();
    CHECK(d >= b);
    CHECK(d <= b + 550ms);
  }
  CHECK_FALSE(f.obs.finished);
  // A connection resets the delay.
  attempt(f, ConnectPhase::Dtls, 99);
  f.endpoint().on_peer_state(PeerState::Connected);
  auto d = next_retry();
  CHECK(d <= 1550ms);
}
