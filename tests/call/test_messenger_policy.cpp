// The messenger page's negotiation policy, through a Call with in-process
// fakes and a hand-driven clock: who offers and when, resends, the offer
// kept for a newcomer, glare both ways and a page that never yields,
// repeated and new-session offers, re-offering after a failure.
#include "call_fixture.h"

#include <catch2/catch.hpp>

using namespace callagent;
using namespace callagent::call;
using namespace callagent::call::test;
using NS = Negotiation::State;

TEST_CASE("first peer offers when the partner's own join arrives, description before candidates") {
  Fixture f;
  f.call.on_signaling_connected(false);
  CHECK(f.sig.joins == 1);
  f.partner_arrives();
  CHECK(f.obs.saw(CallEvent::PartnerJoined));
  CHECK(f.fac.created == 0);  // waits for the partner to be ready
  f.partner_ready();
  REQUIRE(f.fac.current);
  CHECK(f.fac.current->offers == 1);
  CHECK(f.call.own_id() == "user_me");
  CHECK(f.negotiation_state() == NS::MakingOffer);
  f.local("offer", "111", "L");
  f.endpoint().on_local_candidate(cand("L"));
  REQUIRE(f.sig.order == std::vector<std::string>{"join", "offer", "cand"});
  CHECK(f.sig.candidates[0].username_fragment == std::optional<std::string>("L"));
  CHECK(f.negotiation_state() == NS::OfferSent);
  // The partner's join while our offer is pending: the same offer again
  // (a page drops offers that come before its peer connection), no new one.
  f.partner_ready();
  CHECK(f.fac.created == 1);
  CHECK(f.fac.current->offers == 1);
  REQUIRE(f.sig.descriptions.size() == 2);
  CHECK(f.sig.descriptions[1].sdp == f.sig.descriptions[0].sdp);
  CHECK(f.sig.candidates.size() == 2);
  f.partner_answers("222", "R");
  REQUIRE(f.fac.current->remote.size() == 1);
  CHECK(f.negotiation_state() == NS::Stable);
  f.endpoint().on_peer_state(PeerState::Connecting);
  CHECK(f.obs.saw(CallEvent::PeerConnecting));
  f.endpoint().on_peer_state(PeerState::Connected);
  CHECK(f.call.state() == Call::State::Connected);
  CHECK(f.negotiation_state() == NS::Connected);
  CHECK(f.obs.count(CallEvent::PeerConnected) == 1);
}

TEST_CASE("first peer offers anyway when the partner never sends its join") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.partner_arrives();
  f.clock.advance(f.opt.partner_ready_wait - 1ms);
  CHECK(f.fac.created == 0);
  f.clock.advance(1ms);
  REQUIRE(f.fac.current);
  CHECK(f.fac.current->offers == 1);
}

TEST_CASE("second peer offers itself when no offer comes") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.clock.advance(f.opt.second_peer_offer_after - 1ms);
  CHECK(f.fac.created == 0);
  f.clock.advance(1ms);
  REQUIRE(f.fac.current);
  CHECK(f.fac.current->offers == 1);
  CHECK(f.call.state() == Call::State::Negotiating);
}

TEST_CASE("an offer made while alone is kept and sent to the newcomer") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.clock.advance(f.opt.second_peer_offer_after);
  REQUIRE(f.fac.current);
  f.local("offer", "1", "L");
  f.endpoint().on_local_candidate(cand("L"));
  CHECK(f.sig.descriptions.size() == 1);
  f.partner_arrives();
  CHECK(f.fac.created == 1);  // no new peer connection
  f.partner_ready();
  REQUIRE(f.sig.descriptions.size() == 2);
  CHECK(f.sig.descriptions[1].type == "offer");
  CHECK(f.sig.candidates.size() == 2);
  f.partner_answers("2", "R");
  CHECK(f.fac.current->remote.size() == 1);
}

TEST_CASE("an offer kept for a newcomer goes to it when its join never comes") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.clock.advance(f.opt.second_peer_offer_after);
  f.local("offer", "1", "L");
  f.partner_arrives();
  f.clock.advance(f.opt.partner_ready_wait);
  CHECK(f.fac.created == 1);
  REQUIRE(f.sig.descriptions.size() == 2);
  CHECK(f.sig.descriptions[1].sdp == f.sig.descriptions[0].sdp);
}

TEST_CASE("an offer still being made when the newcomer is ready goes out once it is made") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.clock.advance(f.opt.second_peer_offer_after);
  f.partner_arrives();
  f.partner_ready();
  CHECK(f.sig.descriptions.empty());
  f.local("offer", "1", "L");
  CHECK(f.sig.descriptions.size() == 1);
  CHECK(f.fac.created == 1);
}

TEST_CASE("an unanswered offer is sent again with its candidates, then given up") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.partner_ready();
  f.local("offer", "1", "L");
  f.endpoint().on_local_candidate(cand("L"));
  for (int i = 1; i <= f.opt.max_offer_resends; ++i) {
    f.clock.advance(f.opt.answer_timeout - 1ms);
    CHECK(f.sig.descriptions.size() == size_t(i));
    f.clock.advance(1ms);
    CHECK(f.sig.descriptions.size() == size_t(i + 1));
    CHECK(f.sig.candidates.size() == size_t(i + 1));
  }
  CHECK(f.fac.current);
  f.clock.advance(f.opt.answer_timeout);
  CHECK(f.fac.current == nullptr);
  CHECK(f.call.state() == Call::State::Alone);
  CHECK(f.sig.descriptions.size() == size_t(1 + f.opt.max_offer_resends));
}

TEST_CASE("glare: the lower session id wins") {
  SECTION("ours is lower: we keep our offer and ignore theirs") {
    Fixture f;
    f.call.on_signaling_connected(false);
    f.partner_ready();
    f.local("offer", "100", "L");
    f.partner_offers("900", "R");
    f.partner_candidate("R", 1);  // the losing offer's: waits in the call's queue
    CHECK(f.obs.saw(CallEvent::Glare));
    CHECK(f.fac.created == 1);
    CHECK(f.fac.current->remote.empty());
    CHECK(f.fac.current->candidates.empty());
    f.partner_answers("901", "R2");
    REQUIRE(f.fac.current->remote.size() == 1);
    CHECK(f.fac.current->remote[0].type == "answer");
    CHECK(f.fac.current->candidates.empty());  // the losing offer's candidate is dropped
    f.partner_candidate("R2", 2);
    REQUIRE(f.fac.current->candidates.size() == 1);
    CHECK(f.fac.current->candidates[0].candidate == cand("R2", 2).candidate);
    f.clock.advance(60s);  // no yield after the answer came
    CHECK(f.fac.created == 1);
  }
  SECTION("theirs is lower: we drop ours and answer, with the candidates that came first") {
    Fixture f;
    f.call.on_signaling_connected(false);
    f.partner_ready();
    f.local("offer", "900", "L");
    f.partner_candidate("R", 1);
    f.partner_offers("100", "R");
    CHECK(f.obs.saw(CallEvent::Glare));
    CHECK(f.fac.created == 2);
    REQUIRE(f.fac.current->remote.size() == 1);
    CHECK(f.fac.current->remote[0].type == "offer");
    CHECK(f.fac.current->candidates.size() == 1);
    CHECK(f.negotiation_state() == NS::MakingAnswer);
    // The answer to the offer we dropped finds no offer of ours.
    f.partner_answers("901", "R9");
    CHECK(f.fac.current->remote.size() == 1);
  }
  SECTION("ours is still being made: we yield") {
    Fixture f;
    f.call.on_signaling_connected(false);
    f.partner_ready();
    f.partner_offers("900", "R");
    CHECK(f.obs.saw(CallEvent::Glare));
    CHECK(f.fac.created == 2);
    CHECK(f.negotiation_state() == NS::MakingAnswer);
  }
  SECTION("ours wins but no answer comes (a page never yields): we yield") {
    Fixture f;
    f.call.on_signaling_connected(false);
    f.partner_ready();
    f.local("offer", "100", "L");
    f.partner_offers("900", "R");
    f.partner_candidate("R");
    f.clock.advance(f.opt.answer_timeout - 1ms);
    CHECK(f.fac.created == 1);
    f.clock.advance(1ms);
    CHECK(f.fac.created == 2);
    REQUIRE(f.fac.current->remote.size() == 1);
    CHECK(f.fac.current->remote[0].sdp == sdp("900", "R"));
    CHECK(f.fac.current->candidates.size() == 1);
    f.local("answer", "101", "L2");
    CHECK(f.sig.descriptions.back().type == "answer");
    // Our old offer is not sent again.
    f.clock.advance(60s);
    CHECK(f.sig.descriptions.size() == 2);
  }
  SECTION("a page that never yields and repeats its offer") {
    Fixture f;
    f.call.on_signaling_connected(false);
    f.partner_ready();
    f.local("offer", "100", "L");
    f.partner_offers("900", "R");
    f.partner_offers("900", "R");  // its offer again: still glare, still ours wins
    CHECK(f.obs.count(CallEvent::Glare) == 2);
    CHECK(f.fac.created == 1);
    f.clock.advance(f.opt.answer_timeout);
    CHECK(f.fac.created == 2);
    CHECK(f.fac.current->remote.size() == 1);
  }
}

TEST_CASE("a repeated offer of the same session gets the same answer again") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.partner_offers("5", "R");
  f.partner_offers("5", "R");  // while our answer is being made: nothing to repeat yet
  CHECK(f.sig.descriptions.empty());
  f.local("answer", "6", "L");
  f.partner_offers("5", "R");
  CHECK(f.fac.created == 1);
  CHECK(f.fac.current->remote.size() == 1);
  REQUIRE(f.sig.descriptions.size() == 2);
  CHECK(f.sig.descriptions[1].sdp == f.sig.descriptions[0].sdp);
  // An offer of a new session (the page rebuilt its connection) starts afresh.
  f.partner_offers("7", "R2");
  CHECK(f.fac.created == 2);
  REQUIRE(f.fac.current->remote.size() == 1);
}

TEST_CASE("a new-ufrag offer while connected starts a new visit") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.partner_offers("5", "R");
  f.local("answer", "6", "L");
  f.endpoint().on_peer_state(PeerState::Connected);
  REQUIRE(f.call.state() == Call::State::Connected);
  f.partner_offers("5", "R2");
  CHECK(f.call.state() == Call::State::Negotiating);
  CHECK(f.call.visit() == 2);
  CHECK(f.negotiation_state() == NS::MakingAnswer);
  f.partner_candidate("R", 1);  // the old session's
  f.partner_candidate("R2", 2);
  REQUIRE(f.fac.current->candidates.size() == 1);
  CHECK(f.fac.current->candidates[0].candidate == cand("R2", 2).candidate);
}

TEST_CASE("an offer after our offer was answered is a new session") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.partner_ready();
  f.local("offer", "1", "L");
  f.partner_answers("2", "R");
  f.partner_offers("3", "R");
  CHECK(f.fac.created == 2);
  CHECK(f.negotiation_state() == NS::MakingAnswer);
}

TEST_CASE("a failed connection is replaced and re-offered") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.partner_offers("5", "R");
  f.local("answer", "6", "L");
  f.endpoint().on_peer_state(PeerState::Failed);
  CHECK(f.obs.saw(CallEvent::PeerFailed));
  CHECK(f.fac.current == nullptr);
  CHECK(f.call.state() == Call::State::Alone);
  f.clock.advance(f.opt.reoffer_after_failure - 1ms);
  CHECK(f.fac.created == 1);
  f.clock.advance(500ms + 1ms);  // at most the jitter later
  REQUIRE(f.fac.current);
  CHECK(f.fac.current->offers == 1);
  CHECK(f.fac.created == 2);
}

TEST_CASE("after a failure the page's own new offer comes first: we answer it, no collision") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.partner_offers("5", "R");
  f.local("answer", "6", "L");
  f.endpoint().on_peer_state(PeerState::Failed);
  f.partner_offers("8", "R3");
  CHECK(f.fac.created == 2);
  f.clock.advance(60s);
  CHECK(f.fac.created == 2);
  CHECK(f.fac.current->offers == 0);
  CHECK_FALSE(f.obs.saw(CallEvent::Glare));
}

TEST_CASE("a newcomer replaces whatever peer connection we had") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.partner_offers("5", "R");
  f.local("answer", "6", "L");
  f.partner_arrives();  // the old partner went away unseen
  CHECK(f.fac.current == nullptr);
  CHECK(f.call.state() == Call::State::Alone);
  f.partner_ready();
  CHECK(f.fac.created == 2);
  CHECK(f.fac.current->offers == 1);
}
