#pragma once
// Call: one participant in a room, from joining to finishing.
//
// It keeps what any signaling has: the connection to the server going up
// and down, partners arriving and leaving, one partner visit (a Negotiation
// over its own Peer) at a time, the queue of the partner's candidates that
// have no peer connection to go to yet (see RemoteCandidateQueue), and the
// call's clocks: --wait-for-partner, --connect-timeout (the connect
// budget, below), --duration (from the first connection),
// --leave-when-alone, finishing. Who offers, glare, resends and
// repeated offers are the NegotiationPolicy's (MessengerPolicy unless told
// otherwise), which acts through the Call.
//
// It owns the current Negotiation and the policy, and borrows the
// CallSignaling, PeerFactory, CallObserver and Timers, which must outlive
// it. Everything runs on the main context.
//
// States (set_state() is the one transition function: it logs every move
// and refuses, with an error in the log, any move is_legal_transition()
// does not allow):
//
//   Idle --signaling up--> Alone --negotiation starts--> Negotiating --peer connected--> Connected
//                           ^ ^                              |   ^                           |
//                           | +----- negotiation closed -----+   +---- a new negotiation ----+
//                           +---------------------- negotiation closed ----------------------+
//   Idle, Alone, Negotiating, Connected --finish()--> Finished
//
// A negotiation is closed when the partner leaves, a new partner arrives,
// the connection fails, our offer is never answered, or the signaling
// reconnects (the partner then sees us as someone new). A new negotiation
// replaces the current one when the partner offers a new ICE session or
// wins glare. Losing the signaling connection alone changes no state: the
// media keeps flowing until it is back.
//
// The connect budget (--connect-timeout): one clock runs while a partner is
// present and we are not connected to it: from the partner's arrival (or
// the failure of an established connection) to a connection, across every
// retry the policy makes in between. When it runs out the call finishes
// with CallFailed, naming the furthest phase any attempt reached
// (ConnectPhase: signaling, ICE gathering, ICE checks, DTLS) and the number
// of attempts (connect_failure()). It stops when the partner leaves. No
// budget (a kiosk): the policy retries for ever, with a growing delay.

#include "call/negotiation.h"
#include "call/negotiation_policy.h"
#include "call/peer.h"
#include "call/remote_candidate_queue.h"
#include "call/timers.h"
#include "common/exit_code.h"
#include "signaling/protocol.h"
#include "signaling/sdp.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace callagent::call {

using namespace std::chrono_literals;

struct CallOptions {
  // The messenger policy's timing (MessengerPolicy::Options).
  std::chrono::milliseconds second_peer_offer_after = 2000ms;
  std::chrono::milliseconds partner_ready_wait = 1500ms;
  std::chrono::milliseconds answer_timeout = 4000ms;
  int max_offer_resends = 3;
  std::chrono::milliseconds reoffer_after_failure = 1000ms;
  // The call's.
  std::optional<std::chrono::milliseconds> wait_for_partner;  // fail with NoPartner
  std::optional<std::chrono::milliseconds> duration;          // from the first connection
  bool leave_when_alone = false;
  // The connect budget (see above); nullopt: retry for ever. (`join`'s
  // --connect-timeout defaults to 30 s.)
  std::optional<std::chrono::milliseconds> connect_timeout;
  // The policy's delay before re-offering after failures grows from
  // reoffer_after_failure up to this (Backoff).
  std::chrono::milliseconds reoffer_backoff_max = 30000ms;
};

// Why the connect budget ran out (Call::connect_failure()).
struct ConnectFailure {
  ConnectPhase phase = ConnectPhase::Signaling;  // the furthest any attempt got
  std::chrono::milliseconds budget{0};
  int attempts = 0;  // peer connections tried within the budget
};

enum class CallEvent {
  SignalingConnected,
  SignalingLost,
  PartnerJoined,
  PartnerLeft,
  OfferSent,
  OfferReceived,
  AnswerSent,
  AnswerReceived,
  Glare,
  PeerConnecting,
  PeerConnected,
  PeerFailed,
  FirstRemoteAudio,
  FirstRemoteVideo,
};
const char* to_string(CallEvent e);

class CallObserver {
 public:
  virtual ~CallObserver() = default;
  // `visit` is the partner visit the event belongs to (0 when none).
  virtual void on_call_event(CallEvent e, int visit) = 0;
  // The call is over; the owner stops media and signaling and exits with
  // `code`. Called once.
  virtual void on_call_finished(ExitCode code, const std::string& reason) = 0;
};

class Call final : private Negotiation::Listener, private NegotiationPolicy::Host {
 public:
  enum class State { Idle, Alone, Negotiating, Connected, Finished };

  // Real timers on the main context, the messenger's policy.
  Call(CallOptions options, CallSignaling& signaling, PeerFactory& peers, CallObserver& observer);
  // Borrowed timers; `make_policy` empty: the messenger's policy.
  Call(CallOptions options, CallSignaling& signaling, PeerFactory& peers, CallObserver& observer, Timers& timers,
       const MakeNegotiationPolicy& make_policy = {});
  ~Call() override;
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  static bool is_legal_transition(State from, State to);

  // Starts the call's clocks (wait-for-partner). Signaling may connect later.
  void start();

  // From the signaling client.
  void on_signaling_connected(bool reconnected);
  void on_signaling_message(const signaling::ServerMessage& m);
  void on_signaling_lost();

  // Ends the call (signal, duration, error). Idempotent.
  void finish(ExitCode code, const std::string& reason);

  State state() const { return state_; }
  int visit() const { return visit_; }
  bool has_peer() const { return negotiation_ != nullptr; }
  // The current partner visit's negotiation, or nullptr.
  const Negotiation* negotiation() const { return negotiation_.get(); }
  const std::string& own_id() const { return own_id_; }
  // The partner's user id (empty when the server never named it to us) and
  // whether someone else is in the room now.
  const std::string& partner_id() const { return partner_id_; }
  bool partner_in_room() const { return partner_present_; }
  // Set when the call finished because the connect budget ran out.
  const std::optional<ConnectFailure>& connect_failure() const { return connect_failure_; }

 private:
  Call(CallOptions options, CallSignaling& signaling, PeerFactory& peers, CallObserver& observer,
       std::unique_ptr<Timers> owned, Timers* borrowed, const MakeNegotiationPolicy& make_policy);

  void set_state(State s);
  void on_partner_joined(const std::string& id);
  void on_partner_ready();
  void on_partner_left(const std::string& id);
  void on_offer(const SessionDescription& d);
  void on_answer(const SessionDescription& d);
  void on_remote_candidate(const IceCandidate& c);
  void note_partner_present();
  bool start_negotiation();
  void flush_remote_candidates();
  void arm_connect_budget();
  void note_phase(const Negotiation& n);
  void on_connect_budget_spent();

  // NegotiationPolicy::Host
  Negotiation* current_negotiation() override { return negotiation_.get(); }
  bool partner_present() const override { return partner_present_; }
  void offer(const char* why) override;
  void answer(const SessionDescription& offer, const signaling::Sdp& info, const char* why) override;
  void close_negotiation(const char* why) override;
  void note_glare() override;

  // Negotiation::Listener
  void on_offer_sent(Negotiation& n) override;
  void on_answer_sent(Negotiation& n) override;
  void on_connecting(Negotiation& n) override;
  void on_connected(Negotiation& n) override;
  void on_failed(Negotiation& n) override;
  void on_first_remote_media(Negotiation& n, MediaKind kind) override;
  void on_peer_error(Negotiation& n, const Error& e) override;

  CallOptions opt_;
  CallSignaling& signaling_;
  PeerFactory& factory_;
  CallObserver& observer_;
  std::unique_ptr<Timers> owned_timers_;
  Timers& timers_;

  State state_ = State::Idle;
  std::string own_id_;      // learned from relayed frames
  std::string partner_id_;  // learned from a server-made join (empty if unknown)
  bool partner_present_ = false;
  bool ever_connected_ = false;
  int visit_ = 0;

  std::unique_ptr<Negotiation> negotiation_;
  RemoteCandidateQueue remote_candidates_;
  std::unique_ptr<NegotiationPolicy> policy_;
  std::unique_ptr<Timer> wait_partner_timer_;
  std::unique_ptr<Timer> duration_timer_;
  std::unique_ptr<Timer> connect_timer_;
  // Of the running connect budget.
  int budget_attempts_ = 0;
  ConnectPhase furthest_phase_ = ConnectPhase::Signaling;
  std::optional<ConnectFailure> connect_failure_;
};

const char* to_string(Call::State s);

}  // namespace callagent::call
