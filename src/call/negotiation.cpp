#include "call/negotiation.h"

#include "call/remote_candidate_queue.h"
#include "common/logging.h"

namespace callagent::call {

namespace {
auto log() {
  static auto l = logging::get("call");
  return l;
}
}  // namespace

const char* to_string(Negotiation::State s) {
  using S = Negotiation::State;
  switch (s) {
    case S::New: return "new";
    case S::MakingOffer: return "making-offer";
    case S::OfferSent: return "offer-sent";
    case S::MakingAnswer: return "making-answer";
    case S::Stable: return "stable";
    case S::Connected: return "connected";
    case S::Failed: return "failed";
    case S::Closed: return "closed";
  }
  return "?";
}

const char* to_string(Negotiation::Event e) {
  using E = Negotiation::Event;
  switch (e) {
    case E::MakeOffer: return "make-offer";
    case E::LocalOffer: return "local-offer";
    case E::RemoteAnswer: return "remote-answer";
    case E::RemoteOffer: return "remote-offer";
    case E::LocalAnswer: return "local-answer";
    case E::Connected: return "connected";
    case E::Failed: return "failed";
    case E::Close: return "close";
  }
  return "?";
}

std::optional<Negotiation::State> Negotiation::next_state(State from, Event e) {
  using S = State;
  using E = Event;
  if (from == S::Closed) return std::nullopt;
  if (e == E::Close) return S::Closed;
  if (from == S::Failed) return std::nullopt;
  if (e == E::Failed) return S::Failed;
  switch (from) {
    case S::New:
      if (e == E::MakeOffer) return S::MakingOffer;
      if (e == E::RemoteOffer) return S::MakingAnswer;
      break;
    case S::MakingOffer:
      if (e == E::LocalOffer) return S::OfferSent;
      break;
    case S::OfferSent:
      if (e == E::RemoteAnswer) return S::Stable;
      break;
    case S::MakingAnswer:
      if (e == E::LocalAnswer) return S::Stable;
      break;
    case S::Stable:
      if (e == E::Connected) return S::Connected;
      break;
    case S::Connected:
    case S::Failed:
    case S::Closed:
      break;
  }
  return std::nullopt;
}

bool Negotiation::apply(Event e) {
  auto next = next_state(state_, e);
  if (!next) {
    log()->error("internal: peer connection {}: illegal negotiation move {} in state {} (refused)", visit_,
                 to_string(e), to_string(state_));
    return false;
  }
  log()->debug("peer connection {}: negotiation {} -> {} ({})", visit_, to_string(state_), to_string(*next),
               to_string(e));
  state_ = *next;
  return true;
}

Result<std::unique_ptr<Negotiation>> Negotiation::create(int visit, PeerFactory& peers, CallSignaling& signaling,
                                                         Listener& listener) {
  std::unique_ptr<Negotiation> n(new Negotiation(visit, signaling, listener));
  auto peer = peers.create_peer(visit, *n);
  if (!peer) return peer.error();
  n->peer_ = std::move(*peer);
  return n;
}

Negotiation::Negotiation(int visit, CallSignaling& signaling, Listener& listener)
    : visit_(visit), signaling_(signaling), listener_(listener) {}

Negotiation::~Negotiation() { peer_.reset(); }

bool Negotiation::has_remote_description() const {
  return state_ == State::MakingAnswer || state_ == State::Stable || state_ == State::Connected;
}

bool Negotiation::offer() {
  if (!apply(Event::MakeOffer)) return false;
  role_ = Role::Offerer;
  peer_->create_offer();
  return true;
}

bool Negotiation::take_offer(const SessionDescription& d, const signaling::Sdp& info) {
  if (!apply(Event::RemoteOffer)) return false;
  role_ = Role::Answerer;
  remote_ufrag_ = info.ice_ufrag;
  remote_applied_ = true;
  peer_->set_remote_description(d);
  return true;
}

bool Negotiation::take_answer(const SessionDescription& d, const signaling::Sdp& info) {
  if (!apply(Event::RemoteAnswer)) return false;
  remote_ufrag_ = info.ice_ufrag;
  remote_applied_ = true;
  offer_candidates_.clear();  // no resend after the answer
  peer_->set_remote_description(d);
  return true;
}

void Negotiation::add_remote_candidate(const IceCandidate& c) {
  if (!has_remote_description()) {
    log()->error("internal: peer connection {}: remote candidate before the partner's description (dropped)",
                 visit_);
    return;
  }
  auto ufrag = candidate_ufrag(c);
  if (!ufrag.empty() && !remote_ufrag_.empty() && ufrag != remote_ufrag_) {
    log()->debug("dropping a candidate of another ICE session (ufrag {})", ufrag);
    return;
  }
  peer_->add_remote_candidate(c);
}

bool Negotiation::send_offer_again() {
  if (state_ != State::OfferSent || !local_description_) return false;
  signaling_.send_description(*local_description_);
  for (const auto& c : offer_candidates_) signaling_.send_candidate(c);
  return true;
}

bool Negotiation::send_answer_again() {
  if (role_ != Role::Answerer || !local_description_ || (state_ != State::Stable && state_ != State::Connected))
    return false;
  signaling_.send_description(*local_description_);
  return true;
}

void Negotiation::close(const char* why) {
  if (state_ == State::Closed) return;
  log()->info("closing peer connection {}: {}", visit_, why);
  apply(Event::Close);
}

void Negotiation::on_local_description(const SessionDescription& d) {
  const bool is_offer = d.type == "offer";
  if (!is_offer && d.type != "answer") {
    log()->error("internal: peer connection {}: local description of type '{}' (dropped)", visit_, d.type);
    return;
  }
  if (!apply(is_offer ? Event::LocalOffer : Event::LocalAnswer)) return;
  local_description_ = d;
  if (auto info = signaling::parse_sdp(d.sdp)) {
    local_session_id_ = info->session_id;
    local_ufrag_ = info->ice_ufrag;
  }
  signaling_.send_description(d);
  if (is_offer)
    listener_.on_offer_sent(*this);
  else
    listener_.on_answer_sent(*this);
}

void Negotiation::on_local_candidate(const IceCandidate& candidate) {
  switch (state_) {
    case State::New:
    case State::MakingOffer:
    case State::MakingAnswer:
      // The endpoint delivers candidates after their description; one that
      // comes first would be lost at the page anyway.
      log()->error("internal: peer connection {}: local candidate before our description (dropped)", visit_);
      return;
    case State::Failed:
    case State::Closed:
      return;
    case State::OfferSent:
    case State::Stable:
    case State::Connected:
      break;
  }
  IceCandidate c = candidate;
  if (!c.username_fragment && !local_ufrag_.empty()) c.username_fragment = local_ufrag_;
  signaling_.send_candidate(c);
  local_candidates_ = true;
  if (state_ == State::OfferSent) offer_candidates_.push_back(std::move(c));
}

void Negotiation::on_peer_state(PeerState s) {
  log()->debug("peer connection {}: {}", visit_, to_string(s));
  switch (s) {
    case PeerState::Connecting:
      listener_.on_connecting(*this);
      break;
    case PeerState::Connected:
      if (state_ == State::Connected) break;  // ICE recovered by itself
      if (apply(Event::Connected)) {
        ever_connected_ = true;
        listener_.on_connected(*this);
      }
      break;
    case PeerState::Failed:
      if (apply(Event::Failed)) listener_.on_failed(*this);  // may destroy this
      break;
    case PeerState::New:
    case PeerState::Closed:
      break;
  }
}

ConnectPhase Negotiation::phase() const {
  if (ever_connected_) return ConnectPhase::Connected;
  if (!remote_applied_ || !local_description_) return ConnectPhase::Signaling;
  if (ice_connected_) return ConnectPhase::Dtls;
  if (!local_candidates_) return ConnectPhase::IceGathering;
  return ConnectPhase::IceChecks;
}

const char* to_string(ConnectPhase p) {
  switch (p) {
    case ConnectPhase::Signaling: return "signaling";
    case ConnectPhase::IceGathering: return "ice-gathering";
    case ConnectPhase::IceChecks: return "ice-checks";
    case ConnectPhase::Dtls: return "dtls";
    case ConnectPhase::Connected: return "connected";
  }
  return "?";
}

void Negotiation::on_remote_media(MediaKind kind) {
  bool& seen = kind == MediaKind::Audio ? seen_audio_ : seen_video_;
  if (seen) return;
  seen = true;
  listener_.on_first_remote_media(*this, kind);
}

void Negotiation::on_peer_error(const Error& e) {
  log()->error("peer connection {}: {}", visit_, e.message);
  listener_.on_peer_error(*this, e);
}

}  // namespace callagent::call
