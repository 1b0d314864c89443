// The call state machine against in-process fakes of signaling and peers:
// who offers, glare, early candidates, repeated offers, partners coming and
// going. Timers are real GLib timers with short settings.
#include "call/call.h"

#include <catch2/catch.hpp>

#include <glib.h>

#include <chrono>
#include <functional>

using namespace callagent;
using namespace callagent::call;
using namespace std::chrono_literals;
using signaling::AnswerMsg;
using signaling::CandidateMsg;
using signaling::JoinMsg;
using signaling::LeaveMsg;
using signaling::OfferMsg;

namespace {

std::string sdp(const std::string& session, const std::string& ufrag) {
  return "v=0\r\no=- " + session + " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:" +
         ufrag + "\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n";
}

struct FakeSignaling : CallSignaling {
  int joins = 0;
  std::vector<SessionDescription> descriptions;
  std::vector<IceCandidate> candidates;
  std::vector<std::string> order;  // "offer", "answer", "cand"
  bool send_join() override { ++joins; order.push_back("join"); return true; }
  bool send_description(const SessionDescription& d) override {
    descriptions.push_back(d);
    order.push_back(d.type);
    return true;
  }
  bool send_candidate(const IceCandidate& c) override {
    candidates.push_back(c);
    order.push_back("cand");
    return true;
  }
};

struct FakePeer;
struct FakeFactory : PeerFactory {
  int created = 0;
  FakePeer* current = nullptr;
  PeerEvents* events = nullptr;
  Result<std::unique_ptr<Peer>> create_peer(int visit, PeerEvents& ev) override;
};

struct FakePeer : Peer {
  FakeFactory& f;
  int offers = 0;
  std::vector<SessionDescription> remote;
  std::vector<IceCandidate> candidates;
  explicit FakePeer(FakeFactory& fac) : f(fac) {}
  ~FakePeer() override {
    if (f.current == this) f.current = nullptr;
  }
  void create_offer() override { ++offers; }
  void set_remote_description(const SessionDescription& d) override { remote.push_back(d); }
  void add_remote_candidate(const IceCandidate& c) override { candidates.push_back(c); }
};

Result<std::unique_ptr<Peer>> FakeFactory::create_peer(int, PeerEvents& ev) {
  ++created;
  auto p = std::make_unique<FakePeer>(*this);
  current = p.get();
  events = &ev;
  return std::unique_ptr<Peer>(std::move(p));
}

struct FakeObserver : CallObserver {
  std::vector<CallEvent> events;
  std::optional<ExitCode> finished;
  std::string reason;
  void on_call_event(CallEvent e, int) override { events.push_back(e); }
  void on_call_finished(ExitCode c, const std::string& r) override {
    finished = c;
    reason = r;
  }
  bool saw(CallEvent e) const { return std::find(events.begin(), events.end(), e) != events.end(); }
};

// Runs the default main context until pred() or the timeout.
bool run_until(std::function<bool()> pred, std::chrono::milliseconds timeout = 3000ms) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    g_main_context_iteration(nullptr, FALSE);
    g_usleep(1000);
  }
  return true;
}
void run_for(std::chrono::milliseconds d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
    g_main_context_iteration(nullptr, FALSE);
    g_usleep(1000);
  }
}

CallOptions fast() {
  CallOptions o;
  o.second_peer_offer_after = 200ms;
  o.partner_ready_wait = 150ms;
  o.answer_timeout = 200ms;
  o.max_offer_resends = 2;
  o.reoffer_after_failure = 50ms;
  return o;
}

IceCandidate cand(const std::string& ufrag, int port = 5000) {
  IceCandidate c;
  c.candidate = "candidate:1 1 udp 2113937151 127.0.0.1 " + std::to_string(port) + " typ host generation 0 ufrag " + ufrag;
  c.sdp_mid = "0";
  c.sdp_mline_index = 0;
  return c;
}

struct Fixture {
  FakeSignaling sig;
  FakeFactory fac;
  FakeObserver obs;
  Call call;
  explicit Fixture(CallOptions o = fast()) : call(o, sig, fac, obs) { call.start(); }
};

}  // namespace

TEST_CASE("first peer offers when the partner's own join arrives, description before candidates") {
  Fixture f;
  f.call.on_signaling_connected(false);
  CHECK(f.sig.joins == 1);
  f.call.on_signaling_message(JoinMsg{"r", "user_partner", true});
  CHECK(f.fac.created == 0);  // waits for the partner to be ready
  f.call.on_signaling_message(JoinMsg{"r", "user_me", false});
  REQUIRE(f.fac.current);
  CHECK(f.fac.current->offers == 1);
  CHECK(f.call.own_id() == "user_me");
  // A candidate before the description is held back.
  f.fac.events->on_local_candidate(cand("L"));
  CHECK(f.sig.candidates.empty());
  f.fac.events->on_local_description({"offer", sdp("111", "L")});
  REQUIRE(f.sig.order.size() == 3);
  CHECK(f.sig.order[1] == "offer");
  CHECK(f.sig.order[2] == "cand");
  CHECK(f.sig.candidates[0].username_fragment == std::optional<std::string>("L"));
  // The partner's join while our offer is pending: the same offer again
  // (a page drops offers that come before its peer connection), no new one.
  f.call.on_signaling_message(JoinMsg{"r", "user_me", false});
  CHECK(f.fac.created == 1);
  CHECK(f.fac.current->offers == 1);
  REQUIRE(f.sig.descriptions.size() == 2);
  CHECK(f.sig.descriptions[1].sdp == f.sig.descriptions[0].sdp);
  f.call.on_signaling_message(AnswerMsg{"r", "user_me", {"answer", sdp("222", "R")}});
  REQUIRE(f.fac.current->remote.size() == 1);
  f.fac.events->on_peer_state(PeerState::Connected);
  CHECK(f.call.state() == Call::State::Connected);
}

TEST_CASE("first peer offers anyway when the partner never sends its join") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.call.on_signaling_message(JoinMsg{"r", "user_partner", true});
  REQUIRE(run_until([&] { return f.fac.current && f.fac.current->offers == 1; }));
}

TEST_CASE("second peer answers an offer; candidates that came first are applied after it") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.call.on_signaling_message(CandidateMsg{"r", "user_me", cand("R", 1)});
  f.call.on_signaling_message(OfferMsg{"r", "user_me", {"offer", sdp("5", "R")}});
  REQUIRE(f.fac.current);
  CHECK(f.fac.current->offers == 0);
  REQUIRE(f.fac.current->remote.size() == 1);
  REQUIRE(f.fac.current->candidates.size() == 1);
  f.call.on_signaling_message(CandidateMsg{"r", "user_me", cand("R", 2)});
  CHECK(f.fac.current->candidates.size() == 2);
  // A candidate of another session is dropped.
  f.call.on_signaling_message(CandidateMsg{"r", "user_me", cand("OTHER", 3)});
  CHECK(f.fac.current->candidates.size() == 2);
  f.fac.events->on_local_description({"answer", sdp("6", "L")});
  CHECK(f.sig.descriptions.back().type == "answer");
  // No fallback offer later.
  run_for(300ms);
  CHECK(f.fac.created == 1);
  CHECK(f.fac.current->offers == 0);
}

TEST_CASE("second peer offers itself when no offer comes") {
  Fixture f;
  f.call.on_signaling_connected(false);
  REQUIRE(run_until([&] { return f.fac.current && f.fac.current->offers == 1; }));
}

TEST_CASE("an offer made while alone is kept and sent to the newcomer") {
  Fixture f;
  f.call.on_signaling_connected(false);
  REQUIRE(run_until([&] { return f.fac.current && f.fac.current->offers == 1; }));
  f.fac.events->on_local_description({"offer", sdp("1", "L")});
  f.fac.events->on_local_candidate(cand("L"));
  CHECK(f.sig.descriptions.size() == 1);
  f.call.on_signaling_message(JoinMsg{"r", "user_new", true});
  CHECK(f.fac.created == 1);  // no new peer connection
  f.call.on_signaling_message(JoinMsg{"r", "user_me", false});
  REQUIRE(f.sig.descriptions.size() == 2);
  CHECK(f.sig.descriptions[1].type == "offer");
  CHECK(f.sig.candidates.size() == 2);
  f.call.on_signaling_message(AnswerMsg{"r", "user_me", {"answer", sdp("2", "R")}});
  CHECK(f.fac.current->remote.size() == 1);
}

TEST_CASE("a repeated offer of the same session gets the same answer again") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.call.on_signaling_message(OfferMsg{"r", "u", {"offer", sdp("5", "R")}});
  f.fac.events->on_local_description({"answer", sdp("6", "L")});
  f.call.on_signaling_message(OfferMsg{"r", "u", {"offer", sdp("5", "R")}});
  CHECK(f.fac.created == 1);
  REQUIRE(f.sig.descriptions.size() == 2);
  CHECK(f.sig.descriptions[1].sdp == f.sig.descriptions[0].sdp);
  // An offer of a new session (the page rebuilt its connection) starts afresh.
  f.call.on_signaling_message(OfferMsg{"r", "u", {"offer", sdp("7", "R2")}});
  CHECK(f.fac.created == 2);
  REQUIRE(f.fac.current->remote.size() == 1);
}

TEST_CASE("glare: the lower session id wins") {
  SECTION("ours is lower: we keep our offer and ignore theirs") {
    Fixture f;
    f.call.on_signaling_connected(false);
    f.call.on_signaling_message(JoinMsg{"r", "user_me", false});
    f.fac.events->on_local_description({"offer", sdp("100", "L")});
    f.call.on_signaling_message(OfferMsg{"r", "u", {"offer", sdp("900", "R")}});
    CHECK(f.obs.saw(CallEvent::Glare));
    CHECK(f.fac.created == 1);
    CHECK(f.fac.current->remote.empty());
    f.call.on_signaling_message(AnswerMsg{"r", "u", {"answer", sdp("901", "R2")}});
    CHECK(f.fac.current->remote.size() == 1);
    run_for(300ms);  // no yield after the answer came
    CHECK(f.fac.created == 1);
  }
  SECTION("theirs is lower: we drop ours and answer") {
    Fixture f;
    f.call.on_signaling_connected(false);
    f.call.on_signaling_message(JoinMsg{"r", "user_me", false});
    f.fac.events->on_local_description({"offer", sdp("900", "L")});
    f.call.on_signaling_message(OfferMsg{"r", "u", {"offer", sdp("100", "R")}});
    CHECK(f.fac.created == 2);
    REQUIRE(f.fac.current->remote.size() == 1);
    CHECK(f.fac.current->remote[0].type == "offer");
  }
  SECTION("ours wins but no answer comes (a page never yields): we yield") {
    Fixture f;
    f.call.on_signaling_connected(false);
    f.call.on_signaling_message(JoinMsg{"r", "user_me", false});
    f.fac.events->on_local_description({"offer", sdp("100", "L")});
    f.call.on_signaling_message(OfferMsg{"r", "u", {"offer", sdp("900", "R")}});
    f.call.on_signaling_message(CandidateMsg{"r", "u", cand("R")});
    REQUIRE(run_until([&] { return f.fac.created == 2; }));
    REQUIRE(f.fac.current->remote.size() == 1);
    CHECK(f.fac.current->remote[0].sdp == sdp("900", "R"));
    CHECK(f.fac.current->candidates.size() == 1);
  }
}

TEST_CASE("an unanswered offer is sent again with its candidates, then given up") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.call.on_signaling_message(JoinMsg{"r", "user_me", false});
  f.fac.events->on_local_description({"offer", sdp("1", "L")});
  f.fac.events->on_local_candidate(cand("L"));
  REQUIRE(run_until([&] { return f.sig.descriptions.size() == 3; }));
  CHECK(f.sig.candidates.size() == 3);
  REQUIRE(run_until([&] { return f.fac.current == nullptr; }));
  CHECK(f.call.state() == Call::State::Alone);
}

TEST_CASE("partner leaves: peer dropped; a new partner gets a fresh peer") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.call.on_signaling_message(OfferMsg{"r", "u", {"offer", sdp("5", "R")}});
  f.fac.events->on_peer_state(PeerState::Connected);
  f.call.on_signaling_message(LeaveMsg{"r", "user_partner"});
  CHECK(f.fac.current == nullptr);
  CHECK(f.call.state() == Call::State::Alone);
  CHECK_FALSE(f.obs.finished);
  f.call.on_signaling_message(JoinMsg{"r", "user_new", true});
  f.call.on_signaling_message(JoinMsg{"r", "user_me", false});
  CHECK(f.fac.created == 2);
  CHECK(f.fac.current->offers == 1);
}

TEST_CASE("--leave-when-alone finishes when the partner leaves") {
  auto o = fast();
  o.leave_when_alone = true;
  Fixture f(o);
  f.call.on_signaling_connected(false);
  f.call.on_signaling_message(OfferMsg{"r", "u", {"offer", sdp("5", "R")}});
  f.call.on_signaling_message(LeaveMsg{"r", "user_partner"});
  REQUIRE(f.obs.finished);
  CHECK(*f.obs.finished == ExitCode::Ok);
}

TEST_CASE("a failed connection is replaced and re-offered") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.call.on_signaling_message(OfferMsg{"r", "u", {"offer", sdp("5", "R")}});
  f.fac.events->on_peer_state(PeerState::Failed);
  CHECK(f.fac.current == nullptr);
  REQUIRE(run_until([&] { return f.fac.current && f.fac.current->offers == 1; }));
  CHECK(f.fac.created == 2);
}

TEST_CASE("nobody comes within --wait-for-partner") {
  auto o = fast();
  o.wait_for_partner = 100ms;
  o.second_peer_offer_after = 10s;
  Fixture f(o);
  f.call.on_signaling_connected(false);
  REQUIRE(run_until([&] { return f.obs.finished.has_value(); }));
  CHECK(*f.obs.finished == ExitCode::NoPartner);
}

TEST_CASE("--duration counts from the first connection") {
  auto o = fast();
  o.duration = 100ms;
  Fixture f(o);
  f.call.on_signaling_connected(false);
  f.call.on_signaling_message(OfferMsg{"r", "u", {"offer", sdp("5", "R")}});
  run_for(150ms);
  CHECK_FALSE(f.obs.finished);
  f.fac.events->on_peer_state(PeerState::Connected);
  REQUIRE(run_until([&] { return f.obs.finished.has_value(); }));
  CHECK(*f.obs.finished == ExitCode::Ok);
}

TEST_CASE("a signaling reconnect drops the old peer and joins again") {
  Fixture f;
  f.call.on_signaling_connected(false);
  f.call.on_signaling_message(OfferMsg{"r", "u", {"offer", sdp("5", "R")}});
  f.call.on_signaling_lost();
  CHECK(f.fac.current != nullptr);  // media keeps going while signaling is down
  f.call.on_signaling_connected(true);
  CHECK(f.fac.current == nullptr);
  CHECK(f.sig.joins == 2);
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
