#pragma once
// In-process fakes around a Call: the signaling (records what is sent), the
// peers (record what they are told, and let the test play the media
// endpoint: our description, our candidates, connection states) and the
// observer, with a hand-driven clock. No GLib main loop runs.
#include "call/call.h"
#include "manual_timers.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace callagent::call::test {

using namespace std::chrono_literals;

// An SDP with what the call layer reads: session id and ICE ufrag.
inline std::string sdp(const std::string& session, const std::string& ufrag) {
  return "v=0\r\no=- " + session + " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:" +
         ufrag + "\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n";
}

// A candidate as Chromium writes it: the ufrag only in the candidate line.
inline IceCandidate cand(const std::string& ufrag, int port = 5000) {
  IceCandidate c;
  c.candidate = "candidate:1 1 udp 2113937151 127.0.0.1 " + std::to_string(port) + " typ host generation 0 ufrag " + ufrag;
  c.sdp_mid = "0";
  c.sdp_mline_index = 0;
  return c;
}

struct FakeSignaling : CallSignaling {
  int joins = 0;
  std::vector<SessionDescription> descriptions;
  std::vector<IceCandidate> candidates;
  std::vector<std::string> order;  // "join", "offer", "answer", "cand"
  bool send_join() override {
    ++joins;
    order.push_back("join");
    return true;
  }
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
  std::vector<int> visits;
  FakePeer* current = nullptr;
  PeerEvents* events = nullptr;  // of the newest peer
  std::optional<Error> fail_next;
  Result<std::unique_ptr<Peer>> create_peer(int visit, PeerEvents& ev) override;
};

struct FakePeer : Peer {
  FakeFactory& f;
  int offers = 0;
  std::vector<SessionDescription> remote;
  std::vector<IceCandidate> candidates;
  explicit FakePeer(FakeFactory& fac) : f(fac) {}
  ~FakePeer() override {
    if (f.current == this) {
      f.current = nullptr;
      f.events = nullptr;
    }
  }
  void create_offer() override { ++offers; }
  void set_remote_description(const SessionDescription& d) override { remote.push_back(d); }
  void add_remote_candidate(const IceCandidate& c) override { candidates.push_back(c); }
};

inline Result<std::unique_ptr<Peer>> FakeFactory::create_peer(int visit, PeerEvents& ev) {
  if (fail_next) {
    Error e = *fail_next;
    fail_next.reset();
    return e;
  }
  ++created;
  visits.push_back(visit);
  auto p = std::make_unique<FakePeer>(*this);
  current = p.get();
  events = &ev;
  return std::unique_ptr<Peer>(std::move(p));
}

struct FakeObserver : CallObserver {
  std::vector<CallEvent> events;
  std::optional<ExitCode> finished;
  std::string reason;
  int finishes = 0;
  void on_call_event(CallEvent e, int) override { events.push_back(e); }
  void on_call_finished(ExitCode c, const std::string& r) override {
    ++finishes;
    finished = c;
    reason = r;
  }
  bool saw(CallEvent e) const { return std::find(events.begin(), events.end(), e) != events.end(); }
  long count(CallEvent e) const { return std::count(events.begin(), events.end(), e); }
};

// Real-life timing: the clock is the test's, so waiting costs nothing.
inline CallOptions defaults() { return CallOptions{}; }

struct Fixture {
  ManualTimers clock;
  FakeSignaling sig;
  FakeFactory fac;
  FakeObserver obs;
  CallOptions opt;
  Call call;
  explicit Fixture(CallOptions o = defaults(), const MakeNegotiationPolicy& policy = {})
      : opt(o), call(o, sig, fac, obs, clock, policy) {
    call.start();
  }

  // The media endpoint of the newest peer.
  PeerEvents& endpoint() {
    REQUIRE(fac.events);
    return *fac.events;
  }
  void local(const std::string& type, const std::string& session, const std::string& ufrag) {
    endpoint().on_local_description({type, sdp(session, ufrag)});
  }
  // The partner, through the server.
  void partner_arrives() { call.on_signaling_message(signaling::JoinMsg{"r", "user_partner", true}); }
  void partner_ready() { call.on_signaling_message(signaling::JoinMsg{"r", "user_me", false}); }
  void partner_leaves() { call.on_signaling_message(signaling::LeaveMsg{"r", "user_partner"}); }
  void partner_offers(const std::string& session, const std::string& ufrag) {
    call.on_signaling_message(signaling::OfferMsg{"r", "user_me", {"offer", sdp(session, ufrag)}});
  }
  void partner_answers(const std::string& session, const std::string& ufrag) {
    call.on_signaling_message(signaling::AnswerMsg{"r", "user_me", {"answer", sdp(session, ufrag)}});
  }
  void partner_candidate(const std::string& ufrag, int port = 5000) {
    call.on_signaling_message(signaling::CandidateMsg{"r", "user_me", cand(ufrag, port)});
  }
  Negotiation::State negotiation_state() const {
    REQUIRE(call.negotiation());
    return call.negotiation()->state();
  }
};

}  // namespace callagent::call::test
