// The Call against in-process fakes and a hand-driven clock: signaling up
// and down, partners coming and going, the call's own clocks, finishing,
// the one queue of early remote candidates, and the policy seam.
#include "call_fixture.h"

#include <catch2/catch.hpp>

using namespace callagent;
using namespace callagent::call;
using namespace callagent::call::test;
using NS = Negotiation::State;

TEST_CASE("second peer answers an offer; candidates that came first are applied after it") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.partner_candidate("R", 1);
  CHECK(f.fac.created == 0);  // no peer yet: the call keeps it
  f.partner_offers("5", "R");
  REQUIRE(f.fac.current);
  CHECK(f.fac.current->offers == 0);
  REQUIRE(f.fac.current->remote.size() == 1);
  REQUIRE(f.fac.current->candidates.size() == 1);
  CHECK(f.negotiation_state() == NS::MakingAnswer);
  f.partner_candidate("R", 2);
  CHECK(f.fac.current->candidates.size() == 2);
  // A candidate of another session is dropped.
  f.partner_candidate("OTHER", 3);
  CHECK(f.fac.current->candidates.size() == 2);
  f.local("answer", "6", "L");
  CHECK(f.sig.descriptions.back().type == "answer");
  CHECK(f.negotiation_state() == NS::Stable);
  CHECK(f.obs.saw(CallEvent::AnswerSent));
  // No fallback offer later.
  f.clock.advance(30s);
  CHECK(f.fac.created == 1);
  CHECK(f.fac.current->offers == 0);
}

TEST_CASE("early candidates of another session are dropped when the description comes") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.partner_candidate("OLD", 1);
  f.partner_candidate("R", 2);
  IceCandidate anonymous = cand("R", 3);
  anonymous.candidate = "candidate:1 1 udp 2113937151 127.0.0.1 3 typ host";  // says no ufrag
  f.call.on_signaling_message(signaling::CandidateMsg{"r", "user_me", anonymous});
  f.partner_offers("5", "R");
  REQUIRE(f.fac.current);
  REQUIRE(f.fac.current->candidates.size() == 2);
  CHECK(f.fac.current->candidates[0].candidate == cand("R", 2).candidate);
  CHECK(f.fac.current->candidates[1].candidate == anonymous.candidate);
}

TEST_CASE("the early candidate queue is bounded") {
  Fixture f;
  f.call.on_signaling_connected(false);
  for (int i = 0; i < 300; ++i) f.partner_candidate("R", 1000 + i);
  f.partner_offers("5", "R");
  REQUIRE(f.fac.current);
  CHECK(f.fac.current->candidates.size() == RemoteCandidateQueue::kMaxCandidates);
}

TEST_CASE("our description goes out before our candidates, which carry our ufrag") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.partner_offers("5", "R");
  f.local("answer", "6", "L");
  f.endpoint().on_local_candidate(cand("L", 1));
  IceCandidate plain = cand("x", 2);
  plain.candidate = "candidate:1 1 udp 2113937151 127.0.0.1 2 typ host";
  f.endpoint().on_local_candidate(plain);
  REQUIRE(f.sig.order == std::vector<std::string>{"join", "answer", "cand", "cand"});
  CHECK(f.sig.candidates[1].username_fragment == std::optional<std::string>("L"));
}

TEST_CASE("a local candidate before our description breaks the endpoint's contract: never sent first") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.partner_offers("5", "R");
  f.endpoint().on_local_candidate(cand("L", 1));
  CHECK(f.sig.candidates.empty());
  f.local("answer", "6", "L");
  f.endpoint().on_local_candidate(cand("L", 2));
  REQUIRE(f.sig.order == std::vector<std::string>{"join", "answer", "cand"});
  CHECK(f.sig.candidates[0].candidate == cand("L", 2).candidate);
}

TEST_CASE("partner leaves: peer dropped; a new partner gets a fresh peer") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.partner_offers("5", "R");
  f.local("answer", "6", "L");
  f.endpoint().on_peer_state(PeerState::Connected);
  CHECK(f.call.state() == Call::State::Connected);
  f.partner_leaves();
  CHECK(f.fac.current == nullptr);
  CHECK(f.call.state() == Call::State::Alone);
  CHECK(f.obs.saw(CallEvent::PartnerLeft));
  CHECK_FALSE(f.obs.finished);
  f.call.on_signaling_message(signaling::JoinMsg{"r", "user_new", true});
  f.partner_ready();
  CHECK(f.fac.created == 2);
  CHECK(f.fac.visits == std::vector<int>{1, 2});
  CHECK(f.fac.current->offers == 1);
  CHECK(f.call.visit() == 2);
}

TEST_CASE("partner leaves mid-negotiation: nothing of that negotiation goes on") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.partner_arrives();
  f.partner_ready();
  f.local("offer", "1", "L");
  f.partner_candidate("R", 1);  // waits for the answer
  f.partner_leaves();
  CHECK(f.fac.current == nullptr);
  CHECK(f.call.state() == Call::State::Alone);
  auto sent = f.sig.descriptions.size();
  f.clock.advance(60s);  // no resend, no fallback offer, no re-offer
  CHECK(f.sig.descriptions.size() == sent);
  CHECK(f.fac.created == 1);
  // A new partner's offer does not get the old partner's candidate.
  f.call.on_signaling_message(signaling::JoinMsg{"r", "user_new", true});
  f.partner_offers("7", "R");
  REQUIRE(f.fac.current);
  CHECK(f.fac.current->candidates.empty());
}

TEST_CASE("--leave-when-alone finishes when the partner leaves") {
  auto o = defaults();
  o.leave_when_alone = true;
  Fixture f(o);
  f.call.on_signaling_connected(false);
  f.partner_offers("5", "R");
  f.partner_leaves();
  REQUIRE(f.obs.finished);
  CHECK(*f.obs.finished == ExitCode::Ok);
  CHECK(f.call.state() == Call::State::Finished);
}

TEST_CASE("nobody comes within --wait-for-partner") {
  auto o = defaults();
  o.wait_for_partner = 100ms;
  o.second_peer_offer_after = 10s;
  Fixture f(o);
  f.call.on_signaling_connected(false);
  f.clock.advance(99ms);
  CHECK_FALSE(f.obs.finished);
  f.clock.advance(1ms);
  REQUIRE(f.obs.finished);
  CHECK(*f.obs.finished == ExitCode::NoPartner);
  CHECK(f.fac.created == 0);
}

TEST_CASE("a partner that shows up stops --wait-for-partner") {
  auto o = defaults();
  o.wait_for_partner = 5s;
  Fixture f(o);
  f.call.on_signaling_connected(false);
  f.clock.advance(1s);
  f.partner_candidate("R");  // any sign of a partner counts
  f.clock.advance(10s);
  CHECK_FALSE(f.obs.finished);
}

TEST_CASE("--duration counts from the first connection") {
  auto o = defaults();
  o.duration = 100ms;
  Fixture f(o);
  f.call.on_signaling_connected(false);
  f.partner_offers("5", "R");
  f.local("answer", "6", "L");
  f.clock.advance(150ms);
  CHECK_FALSE(f.obs.finished);
  f.endpoint().on_peer_state(PeerState::Connected);
  f.clock.advance(99ms);
  CHECK_FALSE(f.obs.finished);
  f.clock.advance(1ms);
  REQUIRE(f.obs.finished);
  CHECK(*f.obs.finished == ExitCode::Ok);
  CHECK(f.obs.finishes == 1);
}

TEST_CASE("a signaling reconnect drops the old peer and joins again") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.partner_offers("5", "R");
  f.call.on_signaling_lost();
  CHECK(f.fac.current != nullptr);  // media keeps going while signaling is down
  CHECK(f.call.state() == Call::State::Negotiating);
  CHECK(f.obs.saw(CallEvent::SignalingLost));
  f.call.on_signaling_connected(true);
  CHECK(f.fac.current == nullptr);
  CHECK(f.call.state() == Call::State::Alone);
  CHECK(f.sig.joins == 2);
  CHECK(f.call.own_id().empty());
}

TEST_CASE("signaling lost while alone: the second-peer fallback waits for the reconnect") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.call.on_signaling_lost();
  f.clock.advance(10s);
  CHECK(f.fac.created == 0);
  f.call.on_signaling_connected(true);
  f.clock.advance(f.opt.second_peer_offer_after);
  CHECK(f.fac.created == 1);
}

TEST_CASE("a peer that cannot be made ends the call with its error") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.fac.fail_next = Error{ExitCode::CallFailed, "no pipeline"};
  f.partner_offers("5", "R");
  REQUIRE(f.obs.finished);
  CHECK(*f.obs.finished == ExitCode::CallFailed);
  CHECK(f.obs.reason == "no pipeline");
  CHECK(f.call.state() == Call::State::Finished);
}

TEST_CASE("a peer error ends the call; finish() is idempotent and stops every timer") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.partner_arrives();
  f.partner_ready();
  f.local("offer", "1", "L");
  f.endpoint().on_peer_error(Error{ExitCode::CallFailed, "sink broke"});
  REQUIRE(f.obs.finished);
  CHECK(*f.obs.finished == ExitCode::CallFailed);
  f.call.finish(ExitCode::Ok, "again");
  CHECK(f.obs.finishes == 1);
  auto sent = f.sig.descriptions.size();
  f.clock.advance(60s);
  CHECK(f.sig.descriptions.size() == sent);
  // Nothing that arrives afterwards acts.
  f.partner_offers("9", "X");
  CHECK(f.fac.created == 1);
}

TEST_CASE("first remote audio and video are reported once per visit") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.partner_offers("5", "R");
  f.endpoint().on_remote_media(MediaKind::Video);
  f.endpoint().on_remote_media(MediaKind::Video);
  f.endpoint().on_remote_media(MediaKind::Audio);
  CHECK(f.obs.count(CallEvent::FirstRemoteVideo) == 1);
  CHECK(f.obs.count(CallEvent::FirstRemoteAudio) == 1);
  f.partner_offers("7", "R2");  // a new visit
  f.endpoint().on_remote_media(MediaKind::Video);
  CHECK(f.obs.count(CallEvent::FirstRemoteVideo) == 2);
}

namespace {
// Another signaling's policy, to show the seam: offer as soon as the
// signaling is up, nothing else.
class AlwaysOffer final : public NegotiationPolicy {
 public:
  explicit AlwaysOffer(Host& h) : host_(h) {}
  void on_signaling_connected() override { host_.offer("we always offer"); }
  void on_signaling_lost() override {}
  void on_partner_joined() override {}
  void on_partner_ready() override {}
  void on_partner_left() override {}
  void on_offer(const SessionDescription&, const signaling::Sdp&) override {}
  void on_offer_sent() override { ++offers_sent; }
  void on_answer_received() override {}
  void on_connection_failed() override {}
  void on_negotiation_closed() override {}
  void stop() override {}
  int offers_sent = 0;

 private:
  Host& host_;
};
}  // namespace

TEST_CASE("the Call runs with another negotiation policy") {
  AlwaysOffer* policy = nullptr;
  Fixture f(defaults(), [&](NegotiationPolicy::Host& h, Timers&) {
    auto p = std::make_unique<AlwaysOffer>(h);
    policy = p.get();
    return std::unique_ptr<NegotiationPolicy>(std::move(p));
  });
  f.call.on_signaling_connected(false);
  REQUIRE(f.fac.current);
  CHECK(f.fac.current->offers == 1);
  f.local("offer", "1", "L");
  CHECK(policy->offers_sent == 1);
  f.partner_answers("2", "R");
  CHECK(f.negotiation_state() == NS::Stable);
  f.endpoint().on_peer_state(PeerState::Connected);
  CHECK(f.call.state() == Call::State::Connected);
  f.clock.advance(60s);  // the messenger's timers are not there
  CHECK(f.sig.descriptions.size() == 1);
  f.partner_offers("5", "R5");  // and neither is its offer handling
  CHECK(f.fac.created == 1);
}

TEST_CASE("sdp facts the call needs and session id comparison") {
  using signaling::compare_session_ids;
  using signaling::parse_sdp;
  auto i = parse_sdp(sdp("4611731400430051336", "abcd"));
  REQUIRE(i);
  CHECK(i->session_id == "4611731400430051336");
  CHECK(i->ice_ufrag == "abcd");
  CHECK(i->has_kind("audio"));
  CHECK(i->has_kind("video"));
  CHECK_FALSE(parse_sdp("v=0\r\n"));
  CHECK_FALSE(parse_sdp("o=- x1 2 IN IP4 0.0.0.0\r\n"));
  CHECK(compare_session_ids("99", "100") < 0);
  CHECK(compare_session_ids("0100", "100") == 0);
  CHECK(compare_session_ids("18446744073709551615", "18446744073709551614") > 0);
}
