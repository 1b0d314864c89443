#include "call/messenger_policy.h"

#include "common/logging.h"

#include <glib.h>

#include <algorithm>

namespace callagent::call {

namespace {
auto log() {
  static auto l = logging::get("call");
  return l;
}
using Role = Negotiation::Role;
using NState = Negotiation::State;
}  // namespace

MessengerPolicy::MessengerPolicy(Options options, Host& host, Timers& timers)
    : opt_(options),
      host_(host),
      second_peer_timer_(timers.make_timer()),
      ready_timer_(timers.make_timer()),
      answer_timer_(timers.make_timer()),
      reoffer_timer_(timers.make_timer()),
      reoffer_backoff_(opt_.reoffer_after_failure, std::max(opt_.reoffer_after_failure, opt_.reoffer_backoff_max),
                       0.0) {}

bool MessengerPolicy::our_offer_unanswered() {
  auto* n = host_.current_negotiation();
  return n && n->role() == Role::Offerer && !n->has_remote_description();
}

void MessengerPolicy::on_signaling_connected() {
  second_peer_timer_->start_once(opt_.second_peer_offer_after, [this] {
    if (!host_.current_negotiation()) make_offer("no offer arrived after our join (we may be second in the room)");
  });
}

void MessengerPolicy::on_signaling_lost() {
  second_peer_timer_->cancel();
  ready_timer_->cancel();
}

void MessengerPolicy::on_partner_joined() {
  second_peer_timer_->cancel();
  reoffer_timer_->cancel();
  if (our_offer_unanswered() && !offer_.rival) {
    // Our offer went out while we were alone (the second-peer fallback):
    // nobody has seen it, so the newcomer gets it, sparing a new peer
    // connection (and its DTLS certificate).
    log()->info("keeping our unanswered offer for the newcomer");
    offer_.kept_for_newcomer = true;
    offer_.resends = 0;
    answer_timer_->cancel();
  } else if (host_.current_negotiation()) {
    // A room holds two connections: a newcomer means whatever peer
    // connection we had belongs to someone who is gone.
    host_.close_negotiation("a new partner joined");
  }
  // We are first: offer when the partner says it is ready (its own join).
  ready_timer_->start_once(opt_.partner_ready_wait, [this] {
    if (!host_.current_negotiation())
      make_offer("the partner did not send its join in time");
    else if (offer_.kept_for_newcomer)
      send_offer_again("the partner did not send its join in time");
  });
}

void MessengerPolicy::on_partner_ready() {
  ready_timer_->cancel();
  second_peer_timer_->cancel();
  auto* n = host_.current_negotiation();
  if (our_offer_unanswered() && (offer_.kept_for_newcomer || n->state() == NState::OfferSent)) {
    // A page sends its join once it has its peer connection: an offer that
    // reached it earlier was dropped there. Same offer again, no new one.
    send_offer_again("the partner is ready");
    return;
  }
  if (n) {
    log()->debug("partner's join ignored: a negotiation is under way ({})", to_string(n->state()));
    return;
  }
  make_offer("the partner is ready");
}

void MessengerPolicy::on_partner_left() {
  ready_timer_->cancel();
  reoffer_timer_->cancel();
  reoffer_backoff_.reset();
}

void MessengerPolicy::make_offer(const char* why) {
  second_peer_timer_->cancel();
  ready_timer_->cancel();
  reoffer_timer_->cancel();
  host_.offer(why);
}

void MessengerPolicy::send_offer_again(const char* why) {
  offer_.kept_for_newcomer = false;
  auto* n = host_.current_negotiation();
  if (!n || n->state() != NState::OfferSent) return;  // still being made: it goes out when done
  log()->info("sending our offer again: {}", why);
  n->send_offer_again();
  arm_answer_timer();
}

void MessengerPolicy::arm_answer_timer() {
  answer_timer_->start_once(opt_.answer_timeout, [this] { on_answer_timeout(); });
}

void MessengerPolicy::on_offer(const SessionDescription& d, const signaling::Sdp& info) {
  second_peer_timer_->cancel();
  ready_timer_->cancel();
  reoffer_timer_->cancel();
  auto* n = host_.current_negotiation();
  if (n && n->role() == Role::Answerer && n->has_remote_description() && info.ice_ufrag == n->remote_ufrag()) {
    // The page offers once per join it receives: the same session again.
    if (n->send_answer_again())
      log()->debug("repeated offer of the same ICE session: sent our answer again");
    else
      log()->debug("repeated offer of the same ICE session while our answer is being made: ignored");
    return;
  }
  if (our_offer_unanswered()) {
    host_.note_glare();
    if (n->state() == NState::OfferSent &&
        signaling::compare_session_ids(n->local_session_id(), info.session_id) < 0) {
      log()->info("glare: both offered; ours has the lower session id and wins, keeping theirs in case "
                  "no answer comes");
      offer_.rival.emplace(d, info);
      return;
    }
    log()->info("glare: both offered; yielding to the partner's offer");
    host_.answer(d, info, "glare, answering the partner's offer");
    return;
  }
  // With a negotiation under way this is a new ICE session: the partner
  // built a new peer connection (it failed, reloaded or starts over).
  host_.answer(d, info, "the partner sent an offer for a new session");
}

void MessengerPolicy::on_offer_sent() { arm_answer_timer(); }

void MessengerPolicy::on_answer_received() {
  answer_timer_->cancel();
  offer_ = {};
}

void MessengerPolicy::on_answer_timeout() {
  auto* n = host_.current_negotiation();
  if (!n || n->state() != NState::OfferSent) return;
  if (offer_.rival) {
    log()->info("no answer to our offer: yielding to the partner's offer after all");
    auto [d, info] = std::move(*offer_.rival);
    offer_.rival.reset();
    host_.answer(d, info, "glare resolved by timeout");
    return;
  }
  if (offer_.resends < opt_.max_offer_resends) {
    ++offer_.resends;
    log()->info("no answer to our offer: sending it again ({}/{})", offer_.resends, opt_.max_offer_resends);
    n->send_offer_again();
    arm_answer_timer();
    return;
  }
  host_.close_negotiation("our offer was never answered");
}

void MessengerPolicy::on_connection_failed() {
  if (!host_.partner_present()) return;
  // The page re-offers on failure too; give its offer a head start so that
  // we answer rather than collide.
  auto delay = reoffer_backoff_.next() + std::chrono::milliseconds(g_random_int_range(0, 500));
  if (reoffer_backoff_.attempts() > 1)
    log()->info("connection failed {} times in a row: re-offering in {:.1f} s", reoffer_backoff_.attempts(),
                delay.count() / 1000.0);
  reoffer_timer_->start_once(delay, [this] {
    if (!host_.current_negotiation() && host_.partner_present()) make_offer("re-offering after a failed connection");
  });
}

void MessengerPolicy::on_negotiation_closed() {
  answer_timer_->cancel();
  offer_ = {};
}

void MessengerPolicy::stop() {
  second_peer_timer_->cancel();
  ready_timer_->cancel();
  answer_timer_->cancel();
  reoffer_timer_->cancel();
}

}  // namespace callagent::call
