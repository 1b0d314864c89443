// The transition tables of Call and Negotiation, and that illegal moves
// are refused in practice, not only on paper.
#include "call_fixture.h"

#include <catch2/catch.hpp>

using namespace callagent;
using namespace callagent::call;
using namespace callagent::call::test;

namespace {
using NS = Negotiation::State;
using NE = Negotiation::Event;
const NS kAllStates[] = {NS::New,    NS::MakingOffer, NS::OfferSent, NS::MakingAnswer,
                         NS::Stable, NS::Connected,   NS::Failed,    NS::Closed};
const NE kAllEvents[] = {NE::MakeOffer,   NE::LocalOffer, NE::RemoteAnswer, NE::RemoteOffer,
                         NE::LocalAnswer, NE::Connected,  NE::Failed,       NE::Close};
}  // namespace

TEST_CASE("Negotiation: the offerer's and the answerer's paths") {
  CHECK(Negotiation::next_state(NS::New, NE::MakeOffer) == NS::MakingOffer);
  CHECK(Negotiation::next_state(NS::MakingOffer, NE::LocalOffer) == NS::OfferSent);
  CHECK(Negotiation::next_state(NS::OfferSent, NE::RemoteAnswer) == NS::Stable);
  CHECK(Negotiation::next_state(NS::New, NE::RemoteOffer) == NS::MakingAnswer);
  CHECK(Negotiation::next_state(NS::MakingAnswer, NE::LocalAnswer) == NS::Stable);
  CHECK(Negotiation::next_state(NS::Stable, NE::Connected) == NS::Connected);
}

TEST_CASE("Negotiation: failure from any live state, close from any state but closed") {
  for (NS s : kAllStates) {
    INFO(to_string(s));
    bool live = s != NS::Failed && s != NS::Closed;
    CHECK(Negotiation::next_state(s, NE::Failed) == (live ? std::optional<NS>(NS::Failed) : std::nullopt));
    CHECK(Negotiation::next_state(s, NE::Close) == (s == NS::Closed ? std::nullopt : std::optional<NS>(NS::Closed)));
  }
}

TEST_CASE("Negotiation: everything else is illegal") {
  // The table holds exactly the moves above: 6 on the paths, 6 failures,
  // 7 closes.
  int legal = 0;
  for (NS s : kAllStates)
    for (NE e : kAllEvents)
      if (Negotiation::next_state(s, e)) ++legal;
  CHECK(legal == 6 + 6 + 7);
  CHECK_FALSE(Negotiation::next_state(NS::New, NE::LocalOffer));       // an offer we never asked for
  CHECK_FALSE(Negotiation::next_state(NS::MakingOffer, NE::LocalAnswer));
  CHECK_FALSE(Negotiation::next_state(NS::OfferSent, NE::LocalAnswer));  // an answer to nothing
  CHECK_FALSE(Negotiation::next_state(NS::MakingOffer, NE::RemoteAnswer));
  CHECK_FALSE(Negotiation::next_state(NS::OfferSent, NE::RemoteOffer));  // glare is the policy's, not a move
  CHECK_FALSE(Negotiation::next_state(NS::MakingAnswer, NE::Connected));  // connected before our answer
  CHECK_FALSE(Negotiation::next_state(NS::OfferSent, NE::Connected));
  CHECK_FALSE(Negotiation::next_state(NS::Stable, NE::MakeOffer));        // no renegotiation in place
  CHECK_FALSE(Negotiation::next_state(NS::Failed, NE::Connected));
  CHECK_FALSE(Negotiation::next_state(NS::Closed, NE::Close));
}

TEST_CASE("Call: the main path and the ways back") {
  using S = Call::State;
  CHECK(Call::is_legal_transition(S::Idle, S::Alone));
  CHECK(Call::is_legal_transition(S::Alone, S::Negotiating));
  CHECK(Call::is_legal_transition(S::Negotiating, S::Connected));
  CHECK(Call::is_legal_transition(S::Negotiating, S::Alone));
  CHECK(Call::is_legal_transition(S::Connected, S::Alone));
  CHECK(Call::is_legal_transition(S::Connected, S::Negotiating));
  for (S s : {S::Idle, S::Alone, S::Negotiating, S::Connected}) CHECK(Call::is_legal_transition(s, S::Finished));
}

TEST_CASE("Call: Finished is final, and shortcuts are illegal") {
  using S = Call::State;
  for (S to : {S::Idle, S::Alone, S::Negotiating, S::Connected, S::Finished})
    CHECK_FALSE(Call::is_legal_transition(S::Finished, to));
  CHECK_FALSE(Call::is_legal_transition(S::Idle, S::Negotiating));  // not before the signaling is up
  CHECK_FALSE(Call::is_legal_transition(S::Idle, S::Connected));
  CHECK_FALSE(Call::is_legal_transition(S::Alone, S::Connected));  // a connection needs a negotiation
  CHECK_FALSE(Call::is_legal_transition(S::Alone, S::Idle));
  CHECK_FALSE(Call::is_legal_transition(S::Connected, S::Idle));
  CHECK_FALSE(Call::is_legal_transition(S::Negotiating, S::Idle));
}

TEST_CASE("illegal moves are refused in practice") {
  Fixture f;
  f.call.on_signaling_connected(false);
  SECTION("a peer that says connected before our answer: not connected") {
    f.partner_offers("5", "R");
    f.endpoint().on_peer_state(PeerState::Connected);
    CHECK(f.negotiation_state() == NS::MakingAnswer);
    CHECK(f.call.state() == Call::State::Negotiating);
    CHECK_FALSE(f.obs.saw(CallEvent::PeerConnected));
  }
  SECTION("an answer from our peer while we make an offer: not sent") {
    f.partner_ready();
    f.local("answer", "1", "L");
    CHECK(f.sig.descriptions.empty());
    CHECK(f.negotiation_state() == NS::MakingOffer);
    f.local("offer", "1", "L");  // the right one still goes
    CHECK(f.sig.descriptions.size() == 1);
  }
  SECTION("a second local offer: not sent") {
    f.partner_ready();
    f.local("offer", "1", "L");
    f.local("offer", "2", "L");
    CHECK(f.sig.descriptions.size() == 1);
    CHECK(f.obs.count(CallEvent::OfferSent) == 1);
  }
  SECTION("an answer when we made no offer: ignored") {
    f.partner_offers("5", "R");
    f.partner_answers("6", "R");
    CHECK(f.fac.current->remote.size() == 1);
    CHECK_FALSE(f.obs.saw(CallEvent::AnswerReceived));
  }
  SECTION("a description without an origin line: ignored") {
    f.call.on_signaling_message(signaling::OfferMsg{"r", "user_me", {"offer", "v=0\r\n"}});
    CHECK(f.fac.created == 0);
    CHECK_FALSE(f.obs.saw(CallEvent::OfferReceived));
  }
  SECTION("the call's state stays Finished") {
    f.call.finish(ExitCode::Ok, "done");
    f.call.on_signaling_connected(true);
    f.partner_offers("5", "R");
    CHECK(f.call.state() == Call::State::Finished);
    CHECK(f.fac.created == 0);
  }
}
