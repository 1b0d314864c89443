#pragma once
// Call: the state machine of one participant in a room.
//
// It decides who offers, resolves glare, keeps remote candidates until their
// description is applied, replaces the peer connection when the partner
// changes or the connection fails, and ends the call (duration, partner
// gone, nobody came). It owns the current Peer (one per partner visit) and
// borrows the CallSignaling, PeerFactory and CallObserver, which must
// outlive it. Everything runs on the main context.
//
// How it interoperates with the messenger's page (PROTOCOL.md):
// - first in the room: the partner's arrival shows as a server-made join;
//   we offer when the partner says it is ready (its own, relayed, join),
//   or after `partner_ready_wait` if that never comes;
// - second: the page (or agent) already there offers on our join; if no
//   offer comes within `second_peer_offer_after` we offer ourselves (two
//   pages that joined together would both wait forever);
// - a repeated offer of the same session (same ICE ufrag: the page offers
//   once per join it receives) gets our current answer again instead of a
//   renegotiation; an offer with a new ufrag means a new peer connection on
//   the other side (page rebuilt it after a failure, or reloaded): we start
//   afresh and answer it;
// - glare (both offered): the offer with the numerically lower SDP session
//   id wins on both sides; the loser drops its offer and answers. The page
//   never yields, so if we "win" and no answer comes within
//   `answer_timeout`, we yield to the page's offer after all;
// - an offer made while we were alone (the second-peer fallback) is kept
//   and sent again to a newcomer once it is ready;
// - the partner's own join while our offer is unanswered makes us send the
//   same offer again at once (a page drops offers that arrive before its
//   peer connection exists, and its join says it has one now);
// - an unanswered offer is sent again (a newcomer page drops offers that
//   arrive before its peer connection exists), up to `max_offer_resends`.
//
// States:
//
//   Idle --signaling up--> Alone --partner seen--> Negotiating --ICE+DTLS--> Connected
//                           ^                          |                       |
//                           +-------- partner left / failed / signaling lost --+
//   any --finish()--> Finished
//
#include "call/peer.h"
#include "common/exit_code.h"
#include "common/main_context.h"
#include "signaling/protocol.h"
#include "signaling/sdp.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace callagent::call {

using namespace std::chrono_literals;

struct CallOptions {
  std::chrono::milliseconds second_peer_offer_after = 2000ms;
  std::chrono::milliseconds partner_ready_wait = 1500ms;
  std::chrono::milliseconds answer_timeout = 4000ms;
  int max_offer_resends = 3;
  std::chrono::milliseconds reoffer_after_failure = 1000ms;
  std::optional<std::chrono::milliseconds> wait_for_partner;  // fail with NoPartner
  std::optional<std::chrono::milliseconds> duration;          // from the first connection
  bool leave_when_alone = false;
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

class Call {
 public:
  enum class State { Idle, Alone, Negotiating, Connected, Finished };

  Call(CallOptions options, CallSignaling& signaling, PeerFactory& peers, CallObserver& observer);
  ~Call();
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

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
  bool has_peer() const { return peer_ != nullptr; }
  const std::string& own_id() const { return own_id_; }

 private:
  class PeerSlot;  // PeerEvents of one peer generation
  enum class Role { None, Offerer, Answerer };

  void set_state(State s);
  void on_partner_joined(const std::string& id);
  void on_partner_ready();
  void on_partner_left(const std::string& id);
  void on_offer(const SessionDescription& d);
  void on_answer(const SessionDescription& d);
  void on_remote_candidate(const IceCandidate& c);

  bool new_peer();
  void drop_peer(const char* why);
  void make_offer(const char* why);
  void answer_offer(const SessionDescription& d, const signaling::Sdp& info);
  void on_answer_timeout();
  void resend_offer(const char* why);
  void flush_remote_candidates();
  void arm_second_peer_fallback();
  void note_partner_present();

  // PeerEvents of the current generation.
  void peer_local_description(const SessionDescription& d);
  void peer_local_candidate(IceCandidate c);
  void peer_state(PeerState s);
  void peer_remote_media(MediaKind k);
  void peer_error(const Error& e);

  CallOptions opt_;
  CallSignaling& signaling_;
  PeerFactory& factory_;
  CallObserver& observer_;

  State state_ = State::Idle;
  std::string own_id_;      // learned from relayed frames
  std::string partner_id_;  // learned from a server-made join (empty if unknown)
  bool partner_present_ = false;
  int visit_ = 0;

  std::unique_ptr<PeerSlot> slot_;
  std::unique_ptr<Peer> peer_;
  Role role_ = Role::None;
  bool offer_outstanding_ = false;  // sent an offer, no answer yet
  bool offer_for_newcomer_ = false;  // an unseen offer waits for the newcomer's join
  int offer_resends_ = 0;
  bool remote_description_set_ = false;
  std::string remote_ufrag_;
  std::string local_ufrag_;
  std::string local_session_id_;
  std::optional<SessionDescription> local_description_;
  std::optional<SessionDescription> pending_offer_;  // remote offer that lost glare
  std::vector<IceCandidate> remote_candidates_;      // until the description is applied
  std::vector<IceCandidate> pending_offer_candidates_;
  bool ever_connected_ = false;
  bool seen_audio_ = false;
  bool seen_video_ = false;

  Timeout second_peer_timer_;
  Timeout ready_timer_;
  Timeout answer_timer_;
  Timeout reoffer_timer_;
  Timeout wait_partner_timer_;
  Timeout duration_timer_;
};

const char* to_string(Call::State s);

}  // namespace callagent::call
