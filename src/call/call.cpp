#include "call/call.h"

#include "common/logging.h"

#include <glib.h>

namespace callagent::call {

namespace {
auto log() {
  static auto l = logging::get("call");
  return l;
}

// The ufrag a candidate belongs to: its usernameFragment, or the "ufrag X"
// attribute Chromium appends to the candidate line; empty when unknown.
std::string candidate_ufrag(const IceCandidate& c) {
  if (c.username_fragment && !c.username_fragment->empty()) return *c.username_fragment;
  const std::string key = " ufrag ";
  auto pos = c.candidate.find(key);
  if (pos == std::string::npos) return {};
  pos += key.size();
  auto end = c.candidate.find(' ', pos);
  return c.candidate.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

constexpr size_t kMaxQueuedCandidates = 256;
}  // namespace

const char* to_string(PeerState s) {
  switch (s) {
    case PeerState::New: return "new";
    case PeerState::Connecting: return "connecting";
    case PeerState::Connected: return "connected";
    case PeerState::Failed: return "failed";
    case PeerState::Closed: return "closed";
  }
  return "?";
}

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

// Forwards one peer generation's events; the Call destroys it together with
// the Peer, so late events of an old peer cannot arrive.
class Call::PeerSlot final : public PeerEvents {
 public:
  explicit PeerSlot(Call& c) : call_(c) {}
  void on_local_description(const SessionDescription& d) override { call_.peer_local_description(d); }
  void on_local_candidate(const IceCandidate& c) override { call_.peer_local_candidate(c); }
  void on_peer_state(PeerState s) override { call_.peer_state(s); }
  void on_remote_media(MediaKind k) override { call_.peer_remote_media(k); }
  void on_peer_error(const Error& e) override { call_.peer_error(e); }

  bool local_description_sent = false;
  std::vector<IceCandidate> local_candidates;  // all of them, for resends
  size_t local_candidates_sent = 0;

 private:
  Call& call_;
};

Call::Call(CallOptions options, CallSignaling& signaling, PeerFactory& peers,
           CallObserver& observer)
    : opt_(std::move(options)), signaling_(signaling), factory_(peers), observer_(observer) {}

Call::~Call() {
  peer_.reset();
  slot_.reset();
}

void Call::set_state(State s) {
  if (s == state_) return;
  bool legal = false;
  switch (state_) {
    case State::Idle: legal = s == State::Alone || s == State::Negotiating || s == State::Finished; break;
    case State::Alone: legal = s == State::Negotiating || s == State::Finished || s == State::Idle; break;
    case State::Negotiating: legal = true; break;
    case State::Connected: legal = s == State::Alone || s == State::Negotiating || s == State::Finished || s == State::Idle; break;
    case State::Finished: legal = false; break;
  }
  if (!legal) {
    log()->error("illegal call state change {} -> {} (ignored)", to_string(state_), to_string(s));
    return;
  }
  log()->debug("call state {} -> {}", to_string(state_), to_string(s));
  state_ = s;
}

void Call::start() {
  if (opt_.wait_for_partner) {
    wait_partner_timer_.start_once(*opt_.wait_for_partner, [this] {
      finish(ExitCode::NoPartner,
             "nobody joined within " + std::to_string(opt_.wait_for_partner->count() / 1000.0).substr(0, 5) +
                 " s (--wait-for-partner)");
    });
  }
}

void Call::on_signaling_connected(bool reconnected) {
  if (state_ == State::Finished) return;
  if (reconnected) {
    // The partner saw us leave and come back as a new user: our old peer
    // connection is orphaned on their side.
    drop_peer("signaling reconnected");
    partner_present_ = false;
    partner_id_.clear();
    own_id_.clear();
  }
  observer_.on_call_event(CallEvent::SignalingConnected, visit_);
  signaling_.send_join();
  if (!peer_) set_state(State::Alone);
  arm_second_peer_fallback();
}

void Call::arm_second_peer_fallback() {
  second_peer_timer_.start_once(opt_.second_peer_offer_after, [this] {
    if (state_ == State::Alone && !peer_)
      make_offer("no offer arrived after our join (we may be second in the room)");
  });
}

void Call::on_signaling_lost() {
  if (state_ == State::Finished) return;
  observer_.on_call_event(CallEvent::SignalingLost, visit_);
  second_peer_timer_.cancel();
  ready_timer_.cancel();
  // The peer connection keeps running until signaling is back, so a short
  // outage does not cut the media before it must.
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
  wait_partner_timer_.cancel();
}

void Call::on_partner_joined(const std::string& id) {
  log()->info("partner {} joined", id);
  note_partner_present();
  observer_.on_call_event(CallEvent::PartnerJoined, visit_);
  second_peer_timer_.cancel();
  reoffer_timer_.cancel();
  partner_id_ = id;
  if (peer_ && role_ == Role::Offerer && !remote_description_set_ && !pending_offer_) {
    // Our offer went out while we were alone (the second-peer fallback):
    // nobody has seen it, so the newcomer gets it, sparing a new peer
    // connection (and its DTLS certificate).
    log()->info("keeping our unanswered offer for the newcomer");
    offer_for_newcomer_ = true;
    answer_timer_.cancel();
    offer_resends_ = 0;
  } else if (peer_) {
    // A room holds two connections: a newcomer means whatever peer we had
    // belongs to someone who is gone.
    drop_peer("a new partner joined");
  }
  // We are first: offer when the partner says it is ready (its own join),
  // which a page sends once it has camera and peer connection.
  ready_timer_.start_once(opt_.partner_ready_wait, [this] {
    if (!peer_)
      make_offer("the partner did not send its join in time");
    else if (offer_for_newcomer_)
      resend_offer("the partner did not send its join in time");
  });
}

void Call::on_partner_ready() {
  note_partner_present();
  ready_timer_.cancel();
  second_peer_timer_.cancel();
  if (peer_ && role_ == Role::Offerer && !remote_description_set_ &&
      (offer_for_newcomer_ || offer_outstanding_)) {
    // A page sends its join once it has its peer connection: an offer that
    // reached it earlier was dropped there. Same offer again, no new one.
    resend_offer("the partner is ready");
    return;
  }
  if (peer_) {
    log()->debug("partner's join ignored: {} already under way",
                 offer_outstanding_ ? "our offer is" : "a negotiation is");
    return;
  }
  make_offer("the partner is ready");
}

void Call::resend_offer(const char* why) {
  offer_for_newcomer_ = false;
  if (!local_description_ || !slot_) return;  // still being made: it goes out when done
  log()->info("sending our offer again: {}", why);
  signaling_.send_description(*local_description_);
  for (const auto& c : slot_->local_candidates) signaling_.send_candidate(c);
  answer_timer_.start_once(opt_.answer_timeout, [this] { on_answer_timeout(); });
}

void Call::on_partner_left(const std::string& id) {
  log()->info("partner {} left", id.empty() ? std::string("(unknown)") : id);
  observer_.on_call_event(CallEvent::PartnerLeft, visit_);
  partner_present_ = false;
  partner_id_.clear();
  ready_timer_.cancel();
  reoffer_timer_.cancel();
  drop_peer("partner left");
  if (opt_.leave_when_alone) finish(ExitCode::Ok, "the partner left (--leave-when-alone)");
}

bool Call::new_peer() {
  ++visit_;
  slot_ = std::make_unique<PeerSlot>(*this);
  auto r = factory_.create_peer(visit_, *slot_);
  if (!r) {
    slot_.reset();
    finish(r.error().code, r.error().message);
    return false;
  }
  peer_ = std::move(*r);
  role_ = Role::None;
  offer_outstanding_ = false;
  offer_resends_ = 0;
  remote_description_set_ = false;
  remote_ufrag_.clear();
  local_ufrag_.clear();
  local_session_id_.clear();
  local_description_.reset();
  seen_audio_ = seen_video_ = false;
  set_state(State::Negotiating);
  return true;
}

void Call::drop_peer(const char* why) {
  answer_timer_.cancel();
  if (!peer_) return;
  log()->info("closing peer connection {}: {}", visit_, why);
  peer_.reset();
  slot_.reset();
  role_ = Role::None;
  offer_outstanding_ = false;
  offer_for_newcomer_ = false;
  remote_description_set_ = false;
  remote_ufrag_.clear();
  local_description_.reset();
  pending_offer_.reset();
  pending_offer_candidates_.clear();
  remote_candidates_.clear();
  if (state_ != State::Finished) set_state(State::Alone);
}

void Call::make_offer(const char* why) {
  second_peer_timer_.cancel();
  ready_timer_.cancel();
  reoffer_timer_.cancel();
  if (state_ == State::Finished) return;
  if (!peer_ && !new_peer()) return;
  log()->info("offering: {}", why);
  role_ = Role::Offerer;
  peer_->create_offer();
}

void Call::on_offer(const SessionDescription& d) {
  auto info = signaling::parse_sdp(d.sdp);
  if (!info) {
    log()->warn("ignoring an offer whose SDP has no valid origin line");
    return;
  }
  note_partner_present();
  observer_.on_call_event(CallEvent::OfferReceived, visit_);
  second_peer_timer_.cancel();
  ready_timer_.cancel();
  reoffer_timer_.cancel();

  if (peer_ && remote_description_set_ && role_ == Role::Answerer && info->ice_ufrag == remote_ufrag_) {
    // The page offers once per join it receives: same session again.
    if (local_description_ && local_description_->type == "answer") {
      log()->debug("repeated offer of the same session: sending our answer again");
      signaling_.send_description(*local_description_);
    } else {
      log()->debug("repeated offer of the same session while our answer is being made: ignored");
    }
    return;
  }
  if (peer_ && role_ == Role::Offerer && !remote_description_set_) {
    observer_.on_call_event(CallEvent::Glare, visit_);
    if (offer_outstanding_ && signaling::compare_session_ids(local_session_id_, info->session_id) < 0) {
      log()->info("glare: both offered; ours has the lower session id and wins, keeping theirs in case "
                  "no answer comes");
      pending_offer_ = d;
      return;
    }
    log()->info("glare: both offered; yielding to the partner's offer");
    auto keep = std::move(remote_candidates_);
    drop_peer("glare, answering the partner's offer");
    remote_candidates_ = std::move(keep);
    answer_offer(d, *info);
    return;
  }
  if (peer_) {
    // A new ufrag: the other side built a new peer connection (it failed,
    // reloaded, or renegotiates from scratch). Start afresh.
    auto keep = std::move(remote_candidates_);
    drop_peer("the partner sent an offer for a new session");
    remote_candidates_ = std::move(keep);
  }
  answer_offer(d, *info);
}

void Call::answer_offer(const SessionDescription& d, const signaling::Sdp& info) {
  if (!peer_ && !new_peer()) return;
  role_ = Role::Answerer;
  remote_ufrag_ = info.ice_ufrag;
  peer_->set_remote_description(d);
  remote_description_set_ = true;
  flush_remote_candidates();
}

void Call::on_answer(const SessionDescription& d) {
  if (!peer_ || !offer_outstanding_) {
    log()->debug("ignoring an answer: no offer of ours is outstanding");
    return;
  }
  auto info = signaling::parse_sdp(d.sdp);
  if (!info) {
    log()->warn("ignoring an answer whose SDP has no valid origin line");
    return;
  }
  observer_.on_call_event(CallEvent::AnswerReceived, visit_);
  offer_outstanding_ = false;
  answer_timer_.cancel();
  pending_offer_.reset();
  pending_offer_candidates_.clear();
  remote_ufrag_ = info->ice_ufrag;
  peer_->set_remote_description(d);
  remote_description_set_ = true;
  flush_remote_candidates();
}

void Call::on_remote_candidate(const IceCandidate& c) {
  note_partner_present();
  std::string ufrag = candidate_ufrag(c);
  if (pending_offer_) {
    auto pinfo = signaling::parse_sdp(pending_offer_->sdp);
    if (pinfo && !ufrag.empty() && ufrag == pinfo->ice_ufrag) {
      if (pending_offer_candidates_.size() < kMaxQueuedCandidates) pending_offer_candidates_.push_back(c);
      return;
    }
  }
  if (!peer_ || !remote_description_set_) {
    if (remote_candidates_.size() < kMaxQueuedCandidates) remote_candidates_.push_back(c);
    return;
  }
  if (!ufrag.empty() && !remote_ufrag_.empty() && ufrag != remote_ufrag_) {
    log()->debug("dropping a candidate of another session (ufrag {})", ufrag);
    return;
  }
  peer_->add_remote_candidate(c);
}

void Call::flush_remote_candidates() {
  auto queued = std::move(remote_candidates_);
  remote_candidates_.clear();
  for (auto& c : queued) {
    std::string ufrag = candidate_ufrag(c);
    if (!ufrag.empty() && !remote_ufrag_.empty() && ufrag != remote_ufrag_) continue;
    peer_->add_remote_candidate(c);
  }
}

void Call::on_answer_timeout() {
  if (!peer_ || !offer_outstanding_) return;
  if (pending_offer_) {
    log()->info("no answer to our offer: yielding to the partner's offer after all");
    SessionDescription d = *pending_offer_;
    auto cands = std::move(pending_offer_candidates_);
    drop_peer("glare resolved by timeout");
    auto info = signaling::parse_sdp(d.sdp);
    remote_candidates_ = std::move(cands);
    if (info) answer_offer(d, *info);
    return;
  }
  if (offer_resends_ < opt_.max_offer_resends && local_description_ && slot_) {
    ++offer_resends_;
    log()->info("no answer to our offer: sending it again ({}/{})", offer_resends_, opt_.max_offer_resends);
    signaling_.send_description(*local_description_);
    for (const auto& c : slot_->local_candidates) signaling_.send_candidate(c);
    answer_timer_.start_once(opt_.answer_timeout, [this] { on_answer_timeout(); });
    return;
  }
  drop_peer("our offer was never answered");
}

void Call::peer_local_description(const SessionDescription& d) {
  local_description_ = d;
  if (auto info = signaling::parse_sdp(d.sdp)) {
    local_session_id_ = info->session_id;
    local_ufrag_ = info->ice_ufrag;
  }
  signaling_.send_description(d);
  slot_->local_description_sent = true;
  if (d.type == "offer") {
    offer_outstanding_ = true;
    observer_.on_call_event(CallEvent::OfferSent, visit_);
    answer_timer_.start_once(opt_.answer_timeout, [this] { on_answer_timeout(); });
  } else {
    observer_.on_call_event(CallEvent::AnswerSent, visit_);
  }
  for (; slot_->local_candidates_sent < slot_->local_candidates.size(); ++slot_->local_candidates_sent) {
    auto& c = slot_->local_candidates[slot_->local_candidates_sent];
    if (!c.username_fragment && !local_ufrag_.empty()) c.username_fragment = local_ufrag_;
    signaling_.send_candidate(c);
  }
}

void Call::peer_local_candidate(IceCandidate c) {
  if (!c.username_fragment && !local_ufrag_.empty()) c.username_fragment = local_ufrag_;
  slot_->local_candidates.push_back(c);
  // Never before the description: the page drops such candidates.
  if (!slot_->local_description_sent) return;
  signaling_.send_candidate(c);
  slot_->local_candidates_sent = slot_->local_candidates.size();
}

void Call::peer_state(PeerState s) {
  log()->debug("peer {} state {}", visit_, to_string(s));
  switch (s) {
    case PeerState::Connecting:
      observer_.on_call_event(CallEvent::PeerConnecting, visit_);
      break;
    case PeerState::Connected:
      if (state_ != State::Connected) {
        set_state(State::Connected);
        log()->info("connected to the partner (peer connection {})", visit_);
        observer_.on_call_event(CallEvent::PeerConnected, visit_);
      }
      if (!ever_connected_) {
        ever_connected_ = true;
        if (opt_.duration) {
          duration_timer_.start_once(*opt_.duration, [this] { finish(ExitCode::Ok, "call duration reached"); });
        }
      }
      break;
    case PeerState::Failed: {
      observer_.on_call_event(CallEvent::PeerFailed, visit_);
      drop_peer("the connection failed");
      if (partner_present_) {
        // The page re-offers on failure too; give its offer a head start so
        // that we answer rather than collide.
        auto delay = opt_.reoffer_after_failure +
                     std::chrono::milliseconds(g_random_int_range(0, 500));
        reoffer_timer_.start_once(delay, [this] {
          if (!peer_ && partner_present_) make_offer("re-offering after a failed connection");
        });
      }
      break;
    }
    case PeerState::New:
    case PeerState::Closed:
      break;
  }
}

void Call::peer_remote_media(MediaKind k) {
  if (k == MediaKind::Audio && !seen_audio_) {
    seen_audio_ = true;
    observer_.on_call_event(CallEvent::FirstRemoteAudio, visit_);
  } else if (k == MediaKind::Video && !seen_video_) {
    seen_video_ = true;
    observer_.on_call_event(CallEvent::FirstRemoteVideo, visit_);
  }
}

void Call::peer_error(const Error& e) {
  log()->error("peer connection {}: {}", visit_, e.message);
  finish(e.code, e.message);
}

void Call::finish(ExitCode code, const std::string& reason) {
  if (state_ == State::Finished) return;
  log()->info("call finished: {} ({})", reason, exit_code_name(code));
  set_state(State::Finished);
  second_peer_timer_.cancel();
  ready_timer_.cancel();
  answer_timer_.cancel();
  reoffer_timer_.cancel();
  wait_partner_timer_.cancel();
  duration_timer_.cancel();
  observer_.on_call_finished(code, reason);
}

}  // namespace callagent::call
