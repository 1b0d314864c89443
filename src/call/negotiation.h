#pragma once
// Negotiation: one partner visit's offer/answer exchange over one peer
// connection. It owns that visit's Peer and receives its events (so events
// of an old peer connection die with it), sends our description and then
// our candidates through the CallSignaling, and tells its Listener (the
// Call) what happened. It knows no policy: who offers, glare and resends
// are decided by the NegotiationPolicy, timing by the Call.
//
// States (apply() is the one transition function: it logs every move and
// refuses, with an error in the log, any move the table does not hold):
//
//   New --MakeOffer--> MakingOffer --LocalOffer--> OfferSent --RemoteAnswer--> Stable
//    |                                                                           ^  |
//    +--RemoteOffer--> MakingAnswer --LocalAnswer--------------------------------+  |
//                                                                                   |
//                                                       Connected <--Connected------+
//
//   any but Failed, Closed --Failed--> Failed      (ICE/DTLS failed, or the peer broke)
//   any but Closed         --Close---> Closed      (the Call is done with it)
//
// Local candidates: the media endpoint delivers them only after our
// description, and they are sent as they come; a candidate that arrives
// before our description breaks that contract and is dropped (the page
// drops candidates that precede their description anyway). While our offer
// is unanswered its candidates are also recorded, so that the policy can
// send the whole offer again (to a page that dropped it, or to a newcomer
// for whom it was kept): a record, not a hold-back queue.
//
// Remote candidates reach a Negotiation only once it has the partner's
// description (the Call queues the earlier ones); those of another ICE
// session are dropped here.
//
// Everything runs on the main context.

#include "call/peer.h"
#include "common/result.h"
#include "signaling/sdp.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace callagent::call {

// How far a connection attempt got, in order: the offer/answer exchange,
// gathering our candidates, the ICE connectivity checks, the DTLS
// handshake. A connection that never completes failed in the last phase
// it reached (the connect budget names it: docs/report.md).
enum class ConnectPhase { Signaling, IceGathering, IceChecks, Dtls, Connected };

class Negotiation final : private PeerEvents {
 public:
  enum class State { New, MakingOffer, OfferSent, MakingAnswer, Stable, Connected, Failed, Closed };
  enum class Event { MakeOffer, LocalOffer, RemoteAnswer, RemoteOffer, LocalAnswer, Connected, Failed, Close };
  enum class Role { None, Offerer, Answerer };

  // What a Negotiation reports; the listener may destroy the Negotiation
  // from inside any of these.
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void on_offer_sent(Negotiation& n) = 0;  // the first time only
    virtual void on_answer_sent(Negotiation& n) = 0;
    virtual void on_connecting(Negotiation& n) = 0;
    virtual void on_connected(Negotiation& n) = 0;
    virtual void on_failed(Negotiation& n) = 0;
    virtual void on_first_remote_media(Negotiation& n, MediaKind kind) = 0;
    virtual void on_peer_error(Negotiation& n, const Error& e) = 0;
  };

  // Makes the visit's Peer through `peers`; an Error when it cannot.
  static Result<std::unique_ptr<Negotiation>> create(int visit, PeerFactory& peers, CallSignaling& signaling,
                                                    Listener& listener);
  ~Negotiation() override;  // tears the peer connection down
  Negotiation(const Negotiation&) = delete;
  Negotiation& operator=(const Negotiation&) = delete;

  // The transition table: the state `e` leads to from `from`, or nullopt
  // when `e` is illegal there.
  static std::optional<State> next_state(State from, Event e);

  // We offer (New only).
  bool offer();
  // Applies the partner's offer (New only); our answer follows.
  bool take_offer(const SessionDescription& d, const signaling::Sdp& info);
  // Applies the answer to our offer (OfferSent only).
  bool take_answer(const SessionDescription& d, const signaling::Sdp& info);
  // Once the partner's description is applied; other sessions' are dropped.
  void add_remote_candidate(const IceCandidate& c);
  // Our unanswered offer and its candidates again (OfferSent only).
  bool send_offer_again();
  // Our answer again (only once it was sent).
  bool send_answer_again();
  void close(const char* why);

  State state() const { return state_; }
  Role role() const { return role_; }
  int visit() const { return visit_; }
  // Whether the partner's description (offer or answer) is applied.
  bool has_remote_description() const;
  // What the partner's and our descriptions said (empty until known).
  const std::string& remote_ufrag() const { return remote_ufrag_; }
  const std::string& local_session_id() const { return local_session_id_; }
  // The phase this attempt is in (or reached before it failed or closed).
  ConnectPhase phase() const;

 private:
  Negotiation(int visit, CallSignaling& signaling, Listener& listener);
  bool apply(Event e);

  // PeerEvents
  void on_local_description(const SessionDescription& d) override;
  void on_local_candidate(const IceCandidate& c) override;
  void on_peer_state(PeerState s) override;
  void on_remote_media(MediaKind kind) override;
  void on_peer_error(const Error& e) override;
  void on_ice_connected() override { ice_connected_ = true; }

  const int visit_;
  CallSignaling& signaling_;
  Listener& listener_;
  std::unique_ptr<Peer> peer_;
  State state_ = State::New;
  Role role_ = Role::None;
  std::string remote_ufrag_;
  std::string local_ufrag_;
  std::string local_session_id_;
  std::optional<SessionDescription> local_description_;
  std::vector<IceCandidate> offer_candidates_;  // sent with our offer, for resends
  bool seen_audio_ = false;
  bool seen_video_ = false;
  bool ice_connected_ = false;
  bool remote_applied_ = false;
  bool local_candidates_ = false;  // we sent at least one
  bool ever_connected_ = false;
};

const char* to_string(Negotiation::State s);
const char* to_string(ConnectPhase p);
const char* to_string(Negotiation::Event e);

}  // namespace callagent::call
