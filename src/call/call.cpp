#include "call/call.h"

#include "call/main_loop_timers.h"
#include "call/messenger_policy.h"
#include "common/logging.h"

#include <fmt/format.h>

namespace callagent::call {

namespace {
auto log() {
  static auto l = logging::get("call");
  return l;
}

MessengerPolicy::Options messenger_options(const CallOptions& o) {
  MessengerPolicy::Options m;
  m.second_peer_offer_after = o.second_peer_offer_after;
  m.partner_ready_wait = o.partner_ready_wait;
  m.answer_timeout = o.answer_timeout;
  m.max_offer_resends = o.max_offer_resends;
  m.reoffer_after_failure = o.reoffer_after_failure;
  m.reoffer_backoff_max = o.reoffer_backoff_max;
  return m;
}
}  // namespace

const char* to_string(CallEvent e) {
  switch (e) {
    case CallEvent::SignalingConnected: return "signaling-connected";
    case CallEvent::SignalingLost: return "signaling-lost";
    case CallEvent::PartnerJoined: return "partner-joined";
    case CallEvent::PartnerLeft: return "partner-left";
    case CallEvent::OfferSent: return "offer-sent";
    case CallEvent::OfferReceived: return "offer-received";
    case CallEvent::AnswerSent: return "answer-sent";
    case CallEvent::AnswerReceived: return "answer-received";
    case CallEvent::Glare: return "glare";
    case CallEvent::PeerConnecting: return "peer-connecting";
    case CallEvent::PeerConnected: return "peer-connected";
    case CallEvent::PeerFailed: return "peer-failed";
    case CallEvent::FirstRemoteAudio: return "first-remote-audio";
    case CallEvent::FirstRemoteVideo: return "first-remote-video";
  }
  return "?";
}

const char* to_string(Call::State s) {
  switch (s) {
    case Call::State::Idle: return "idle";
    case Call::State::Alone: return "alone";
    case Call::State::Negotiating: return "negotiating";
    case Call::State::Connected: return "connected";
    case Call::State::Finished: return "finished";
  }
  return "?";
}

bool Call::is_legal_transition(State from, State to) {
  using S = State;
  switch (from) {
    case S::Idle: return to == S::Alone || to == S::Finished;
    case S::Alone: return to == S::Negotiating || to == S::Finished;
    case S::Negotiating: return to == S::Connected || to == S::Alone || to == S::Finished;
    case S::Connected: return to == S::Negotiating || to == S::Alone || to == S::Finished;
    case S::Finished: return false;
  }
  return false;
}

Call::Call(CallOptions options, CallSignaling& signaling, PeerFactory& peers, CallObserver& observer)
    : Call(std::move(options), signaling, peers, observer, std::make_unique<MainLoopTimers>(), nullptr, {}) {}

Call::Call(CallOptions options, CallSignaling& signaling, PeerFactory& peers, CallObserver& observer,
           Timers& timers, const MakeNegotiationPolicy& make_policy)
    : Call(std::move(options), signaling, peers, observer, nullptr, &timers, make_policy) {}

Call::Call(CallOptions options, CallSignaling& signaling, PeerFactory& peers, CallObserver& observer,
           std::unique_ptr<Timers> owned, Timers* borrowed, const MakeNegotiationPolicy& make_policy)
    : opt_(std::move(options)),
      signaling_(signaling),
      factory_(peers),
      observer_(observer),
      owned_timers_(std::move(owned)),
      timers_(borrowed ? *borrowed : *owned_timers_),
      wait_partner_timer_(timers_.make_timer()),
      duration_timer_(timers_.make_timer()),
      connect_timer_(timers_.make_timer()) {
  NegotiationPolicy::Host& host = *this;
  policy_ = make_policy ? make_policy(host, timers_)
                        : std::make_unique<MessengerPolicy>(messenger_options(opt_), host, timers_);
}

Call::~Call() {
  // The peer connection goes first: its teardown may still report events.
  negotiation_.reset();
}

void Call::set_state(State s) {
  if (s == state_) return;
  if (!is_legal_transition(state_, s)) {
    log()->error("internal: illegal call state change {} -> {} (refused)", to_string(state_), to_string(s));
    return;
  }
  log()->debug("call state {} -> {}", to_string(state_), to_string(s));
  state_ = s;
}

void Call::start() {
  if (!opt_.wait_for_partner) return;
  wait_partner_timer_->start_once(*opt_.wait_for_partner, [this] {
    finish(ExitCode::NoPartner, "nobody joined within " +
                                    std::to_string(opt_.wait_for_partner->count() / 1000.0).substr(0, 5) +
                                    " s (--wait-for-partner)");
  });
}

void Call::on_signaling_connected(bool reconnected) {
  if (state_ == State::Finished) return;
  if (reconnected) {
    // The partner saw us leave and come back as a new user: our old peer
    // connection is orphaned on their side.
    close_negotiation("signaling reconnected");
    partner_present_ = false;
    connect_timer_->cancel();
    partner_id_.clear();
    own_id_.clear();
  }
  observer_.on_call_event(CallEvent::SignalingConnected, visit_);
  signaling_.send_join();
  if (!negotiation_) set_state(State::Alone);
  policy_->on_signaling_connected();
}

void Call::on_signaling_lost() {
  if (state_ == State::Finished) return;
  observer_.on_call_event(CallEvent::SignalingLost, visit_);
  // The peer connection keeps running until signaling is back, so a short
  // outage does not cut the media before it must.
  policy_->on_signaling_lost();
}

void Call::on_signaling_message(const signaling::ServerMessage& m) {
  if (state_ == State::Finished) return;
  std::visit(
      [this](const auto& msg) {
        using T = std::decay_t<decltype(msg)>;
        if constexpr (std::is_same_v<T, signaling::JoinMsg>) {
          if (msg.server_made) {
            on_partner_joined(msg.user);
          } else {
            if (!msg.user.empty()) own_id_ = msg.user;
            on_partner_ready();
          }
        } else if constexpr (std::is_same_v<T, signaling::LeaveMsg>) {
          on_partner_left(msg.user);
        } else if constexpr (std::is_same_v<T, signaling::OfferMsg>) {
          if (!msg.user.empty()) own_id_ = msg.user;
          on_offer(msg.description);
        } else if constexpr (std::is_same_v<T, signaling::AnswerMsg>) {
          if (!msg.user.empty()) own_id_ = msg.user;
          on_answer(msg.description);
        } else if constexpr (std::is_same_v<T, signaling::CandidateMsg>) {
          on_remote_candidate(msg.candidate);
        }
      },
      m);
}

void Call::note_partner_present() {
  if (!partner_present_) log()->debug("partner present");
  partner_present_ = true;
  wait_partner_timer_->cancel();
  if (state_ != State::Connected) arm_connect_budget();
}

void Call::arm_connect_budget() {
  if (!opt_.connect_timeout || state_ == State::Finished || !partner_present_ || connect_timer_->active()) return;
  budget_attempts_ = negotiation_ ? 1 : 0;
  furthest_phase_ = ConnectPhase::Signaling;
  log()->debug("connect budget: {} ms", opt_.connect_timeout->count());
  connect_timer_->start_once(*opt_.connect_timeout, [this] { on_connect_budget_spent(); });
}

void Call::note_phase(const Negotiation& n) {
  auto p = n.phase();
  if (p != ConnectPhase::Connected && p > furthest_phase_) furthest_phase_ = p;
}

void Call::on_connect_budget_spent() {
  if (negotiation_) note_phase(*negotiation_);
  ConnectFailure f{furthest_phase_, *opt_.connect_timeout, budget_attempts_};
  connect_failure_ = f;
  static constexpr const char* kPhaseText[] = {"the offer/answer exchange", "ICE gathering", "ICE checks",
                                               "DTLS", "connected"};
  finish(ExitCode::CallFailed,
         fmt::format("could not connect to the partner within {} s (--connect-timeout): failed in {} ({}) "
                     "after {} attempt(s)",
                     f.budget.count() / 1000.0, kPhaseText[static_cast<int>(f.phase)], to_string(f.phase),
                     f.attempts));
}

void Call::on_partner_joined(const std::string& id) {
  log()->info("partner {} joined", id);
  note_partner_present();
  observer_.on_call_event(CallEvent::PartnerJoined, visit_);
  partner_id_ = id;
  // The server announces a connection before relaying anything from it:
  // whatever candidates wait here are not the newcomer's.
  remote_candidates_.clear();
  policy_->on_partner_joined();
}

void Call::on_partner_ready() {
  note_partner_present();
  policy_->on_partner_ready();
}

void Call::on_partner_left(const std::string& id) {
  log()->info("partner {} left", id.empty() ? std::string("(unknown)") : id);
  observer_.on_call_event(CallEvent::PartnerLeft, visit_);
  partner_present_ = false;
  partner_id_.clear();
  connect_timer_->cancel();
  policy_->on_partner_left();
  close_negotiation("partner left");
  if (opt_.leave_when_alone) finish(ExitCode::Ok, "the partner left (--leave-when-alone)");
}

void Call::on_offer(const SessionDescription& d) {
  auto info = signaling::parse_sdp(d.sdp);
  if (!info) {
    log()->warn("ignoring an offer whose SDP has no valid origin line");
    return;
  }
  note_partner_present();
  observer_.on_call_event(CallEvent::OfferReceived, visit_);
  policy_->on_offer(d, *info);
}

void Call::on_answer(const SessionDescription& d) {
  if (!negotiation_ || negotiation_->state() != Negotiation::State::OfferSent) {
    log()->debug("ignoring an answer: no offer of ours is outstanding");
    return;
  }
  auto info = signaling::parse_sdp(d.sdp);
  if (!info) {
    log()->warn("ignoring an answer whose SDP has no valid origin line");
    return;
  }
  observer_.on_call_event(CallEvent::AnswerReceived, visit_);
  policy_->on_answer_received();
  if (negotiation_->take_answer(d, *info)) flush_remote_candidates();
}

void Call::on_remote_candidate(const IceCandidate& c) {
  note_partner_present();
  if (negotiation_ && negotiation_->has_remote_description())
    negotiation_->add_remote_candidate(c);
  else
    remote_candidates_.push(c);
}

void Call::flush_remote_candidates() {
  for (const auto& c : remote_candidates_.take(negotiation_->remote_ufrag())) negotiation_->add_remote_candidate(c);
}

bool Call::start_negotiation() {
  ++visit_;
  auto n = Negotiation::create(visit_, factory_, signaling_, *this);
  if (!n) {
    finish(n.error().code, n.error().message);
    return false;
  }
  negotiation_ = std::move(*n);
  if (connect_timer_->active()) ++budget_attempts_;
  set_state(State::Negotiating);
  return true;
}

// ---- NegotiationPolicy::Host ---------------------------------------------

void Call::offer(const char* why) {
  if (state_ == State::Finished) return;
  if (negotiation_) {
    log()->error("internal: asked to offer ({}) while peer connection {} is under way (refused)", why, visit_);
    return;
  }
  if (!start_negotiation()) return;
  log()->info("offering: {}", why);
  negotiation_->offer();
}

void Call::answer(const SessionDescription& offer, const signaling::Sdp& info, const char* why) {
  if (state_ == State::Finished) return;
  if (negotiation_) {
    // Not close_negotiation(): the queued candidates may be this offer's.
    note_phase(*negotiation_);
    negotiation_->close(why);
    negotiation_.reset();
    policy_->on_negotiation_closed();
  }
  if (!start_negotiation()) return;
  if (negotiation_->take_offer(offer, info)) flush_remote_candidates();
}

void Call::close_negotiation(const char* why) {
  if (!negotiation_) return;
  note_phase(*negotiation_);
  negotiation_->close(why);
  negotiation_.reset();
  remote_candidates_.clear();
  policy_->on_negotiation_closed();
  if (state_ != State::Finished) set_state(State::Alone);
}

void Call::note_glare() { observer_.on_call_event(CallEvent::Glare, visit_); }

// ---- Negotiation::Listener -----------------------------------------------

void Call::on_offer_sent(Negotiation&) {
  observer_.on_call_event(CallEvent::OfferSent, visit_);
  policy_->on_offer_sent();
}

void Call::on_answer_sent(Negotiation&) { observer_.on_call_event(CallEvent::AnswerSent, visit_); }

void Call::on_connecting(Negotiation&) { observer_.on_call_event(CallEvent::PeerConnecting, visit_); }

void Call::on_connected(Negotiation& n) {
  set_state(State::Connected);
  log()->info("connected to the partner (peer connection {})", n.visit());
  observer_.on_call_event(CallEvent::PeerConnected, visit_);
  connect_timer_->cancel();
  policy_->on_connected();
  if (!ever_connected_) {
    ever_connected_ = true;
    if (opt_.duration)
      duration_timer_->start_once(*opt_.duration, [this] { finish(ExitCode::Ok, "call duration reached"); });
  }
}

void Call::on_failed(Negotiation&) {
  observer_.on_call_event(CallEvent::PeerFailed, visit_);
  close_negotiation("the connection failed");  // destroys the caller's Negotiation
  arm_connect_budget();  // a new budget if the connection had been up
  policy_->on_connection_failed();
}

void Call::on_first_remote_media(Negotiation&, MediaKind kind) {
  observer_.on_call_event(kind == MediaKind::Audio ? CallEvent::FirstRemoteAudio : CallEvent::FirstRemoteVideo,
                          visit_);
}

void Call::on_peer_error(Negotiation&, const Error& e) { finish(e.code, e.message); }

void Call::finish(ExitCode code, const std::string& reason) {
  if (state_ == State::Finished) return;
  log()->info("call finished: {} ({})", reason, exit_code_name(code));
  set_state(State::Finished);
  policy_->stop();
  wait_partner_timer_->cancel();
  duration_timer_->cancel();
  connect_timer_->cancel();
  observer_.on_call_finished(code, reason);
}

}  // namespace callagent::call
