#pragma once
// NegotiationPolicy: who offers, when, and what to do with an offer that
// does not fit, for one kind of signaling. The Call keeps what every
// signaling has (the connection to the server, partners coming and going,
// visits, how long the call lasts, finishing) and asks its policy for the
// rest; MessengerPolicy is the messenger page's, another signaling (WHIP,
// WHEP) gets its own policy rather than its own Call.
//
// A policy acts only through its Host (the Call) and waits only on timers
// made by the Timers it is given, so it is unit-tested with in-process
// fakes and a hand-driven clock. Everything runs on the main context; a
// Host call may come back into the policy (on_negotiation_closed()).

#include "call/negotiation.h"
#include "call/timers.h"
#include "signaling/protocol.h"
#include "signaling/sdp.h"

#include <functional>
#include <memory>

namespace callagent::call {

class NegotiationPolicy {
 public:
  // What a policy may do; implemented by the Call.
  class Host {
   public:
    virtual ~Host() = default;
    // The current partner visit's negotiation, or nullptr.
    virtual Negotiation* current_negotiation() = 0;
    virtual bool partner_present() const = 0;
    // Starts a new partner visit in which we offer (none may be under way).
    virtual void offer(const char* why) = 0;
    // Answers `offer` in a new partner visit, closing the current one (for
    // `why`); the partner's queued candidates are kept for the new one.
    virtual void answer(const SessionDescription& offer, const signaling::Sdp& info, const char* why) = 0;
    // Closes the current negotiation and forgets the queued candidates.
    virtual void close_negotiation(const char* why) = 0;
    // Both sides offered at once.
    virtual void note_glare() = 0;
  };

  virtual ~NegotiationPolicy() = default;

  // The Call's news, after the Call has acted on it itself.
  virtual void on_signaling_connected() = 0;  // we (re)joined the room
  virtual void on_signaling_lost() = 0;
  virtual void on_partner_joined() = 0;  // the server announced a newcomer
  virtual void on_partner_ready() = 0;   // the partner said it is ready to negotiate
  virtual void on_partner_left() = 0;    // (the Call closes the negotiation next)
  virtual void on_offer(const SessionDescription& d, const signaling::Sdp& info) = 0;
  virtual void on_offer_sent() = 0;       // our offer went out (the first time)
  virtual void on_answer_received() = 0;  // (the Call applies it next)
  virtual void on_connection_failed() = 0;  // (the negotiation is already closed)
  virtual void on_negotiation_closed() = 0;
  virtual void on_connected() {}  // the current negotiation's connection is up
  // The call is over: no more timers, no more actions.
  virtual void stop() = 0;
};

using MakeNegotiationPolicy =
    std::function<std::unique_ptr<NegotiationPolicy>(NegotiationPolicy::Host& host, Timers& timers)>;

}  // namespace callagent::call
