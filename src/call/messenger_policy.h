#pragma once
// MessengerPolicy: how we negotiate with the messenger's call page (and with
// another callagent, which behaves the same way). The page's own rules are
// fixed: it sends its join once it has camera and peer connection; the
// first in the room offers on every join it receives; it answers any offer;
// it never gives up an offer of its own; it rebuilds its peer connection and
// offers again when the connection fails. docs/protocol.md describes them.
//
// What we do about them:
// - ready-join: when we are first, the partner's arrival shows as the
//   server's join; we offer when its own join (relayed) says it is ready, or
//   after `partner_ready_wait` if that never comes;
// - second-peer fallback: when we are second, the one already there offers
//   on our join; if no offer came within `second_peer_offer_after` we offer
//   ourselves (two pages that joined at the same moment both wait forever);
// - an offer made while alone (that fallback) is kept for a newcomer and
//   sent again, whole, once the newcomer is ready: no new peer connection;
// - resends: a page drops an offer that reaches it before its peer
//   connection exists, so the partner's join while our offer is unanswered
//   sends the same offer again at once, and an unanswered offer is sent
//   again every `answer_timeout`, `max_offer_resends` times, then given up;
// - glare (both offered): the offer with the numerically lower SDP session
//   id wins on both sides, the other side answers. The page never yields, so
//   when ours won and no answer came within `answer_timeout`, we answer the
//   page's offer after all;
// - a repeated offer of the same ICE session (same ufrag: the page offers on
//   each join it receives) gets our answer again; an offer with a new ufrag
//   means the page built a new peer connection: a new negotiation answers it;
// - after a failed connection we offer again after
//   `reoffer_after_failure` plus up to 0.5 s of jitter, which leaves the
//   page's own new offer time to arrive first, so that we answer it rather
//   than collide with it. Each further failure in a row doubles the base
//   delay, up to `reoffer_backoff_max` (Backoff); a connection that comes
//   up, or a new partner, starts again from `reoffer_after_failure`. A
//   kiosk with no connect budget so retries for ever without hammering a
//   network that is down.
//
// It owns its four timers; the Call owns it.

#include "call/negotiation_policy.h"
#include "common/backoff.h"

#include <chrono>
#include <optional>
#include <utility>

namespace callagent::call {

class MessengerPolicy final : public NegotiationPolicy {
 public:
  struct Options {
    std::chrono::milliseconds second_peer_offer_after{2000};
    std::chrono::milliseconds partner_ready_wait{1500};
    std::chrono::milliseconds answer_timeout{4000};
    int max_offer_resends = 3;
    std::chrono::milliseconds reoffer_after_failure{1000};
    std::chrono::milliseconds reoffer_backoff_max{30000};
  };

  MessengerPolicy(Options options, Host& host, Timers& timers);

  void on_signaling_connected() override;
  void on_signaling_lost() override;
  void on_partner_joined() override;
  void on_partner_ready() override;
  void on_partner_left() override;
  void on_offer(const SessionDescription& d, const signaling::Sdp& info) override;
  void on_offer_sent() override;
  void on_answer_received() override;
  void on_connection_failed() override;
  void on_negotiation_closed() override;
  void on_connected() override { reoffer_backoff_.reset(); }
  void stop() override;

 private:
  // Whether the current negotiation is ours and not answered yet.
  bool our_offer_unanswered();
  void make_offer(const char* why);
  void send_offer_again(const char* why);
  void arm_answer_timer();
  void on_answer_timeout();

  Options opt_;
  Host& host_;

  // About our current offer; forgotten with its negotiation.
  struct OurOffer {
    int resends = 0;
    bool kept_for_newcomer = false;
    // The partner's offer that lost glare to ours, in case no answer comes.
    std::optional<std::pair<SessionDescription, signaling::Sdp>> rival;
  };
  OurOffer offer_;

  std::unique_ptr<Timer> second_peer_timer_;
  std::unique_ptr<Timer> ready_timer_;
  std::unique_ptr<Timer> answer_timer_;
  std::unique_ptr<Timer> reoffer_timer_;
  Backoff reoffer_backoff_;  // the base delay of re-offers after failures
};

}  // namespace callagent::call
