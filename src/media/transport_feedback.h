#pragma once
// Transport-wide congestion control feedback (TWCC) of one peer connection,
// both directions:
//
// - From the partner: rtpsession parses each TWCC feedback packet the
//   partner sends about our packets and sends it upstream, towards our
//   payloaders, as one custom event "RTPTWCCPackets" (per packet: our send
//   time, its arrival time on the partner's clock or lost, size). The only
//   place webrtcbin 1.22 lets us see that event is an element it asks for
//   with `request-aux-sender` and puts in front of the session: we give it
//   an identity whose src pad probe takes the event (and drops it there,
//   so it does not travel on into the shared encoder's tee). Each event
//   becomes a list of congestion::PacketResult, delivered on the main
//   context the object was attached on.
// - To the partner: rtpsession writes feedback about the packets we receive
//   once the negotiated caps carry the extension (header_extensions.h). By
//   default it does so at every marker bit (every video frame, ~30/s);
//   `twcc-feedback-interval` makes it every 100 ms, libwebrtc's interval.
//   We set it on the session when rtpbin makes the session's RTCP pad, and
//   count the feedback packets leaving through that pad.
//
// Converting an event (convert(), pure apart from GStreamer core types):
// - send_us: rtpsession's `local-ts`, the system clock (CLOCK_MONOTONIC,
//   the clock of g_get_monotonic_time()) at the moment the packet was sent,
//   in ns.
// - arrival_us: `remote-ts`, on the partner's clock: its 24-bit reference
//   time (64 ms units) plus deltas. The reference time wraps after 2^24 x
//   64 ms (12.4 days), and GStreamer 1.22 does not unwrap it (1.26 does):
//   RemoteClock does. A short call is unlikely to meet a wrap (the partner's
//   clock can start anywhere in those 12.4 days), a room terminal in a
//   week-long call will.
// - size_bytes: rtpsession's `size` (the packet without its 12-byte fixed
//   RTP header) + 12.
// - Packets rtpsession could not match to one it sent (no `local-ts`) are
//   counted but not delivered: there is no send time to compare.
// GStreamer 1.22.0 (fixed in 1.22.2) also reports bogus results when a
// packet with the same transport-wide sequence number arrives twice at the
// partner: this only happens when the network duplicates packets, since
// rtpsession numbers every packet it sends, retransmissions included.
//
// Ownership: PeerConnection owns it; attach() before negotiation (the aux
// sender is asked for when the transport is made). The probes and signal
// handlers share a small state with it (counters are atomics, readable from
// any thread); the callback runs only while this object lives.

#include "common/main_context.h"
#include "congestion/delay_based_estimator.h"

#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace callagent::media {

class TransportFeedback {
 public:
  using Callback = std::function<void(int64_t now_us, std::vector<congestion::PacketResult> packets)>;

  // Installs the aux sender and the feedback-interval hook on `webrtcbin`
  // (before negotiation); `cb` (may be empty: counting and the debug log
  // only) runs on the caller's main context with the monotonic time the
  // feedback arrived. nullptr (logged) if webrtcbin has no rtpbin.
  static std::unique_ptr<TransportFeedback> attach(int peer_id, GstElement* webrtcbin, Callback cb);
  ~TransportFeedback();
  TransportFeedback(const TransportFeedback&) = delete;
  TransportFeedback& operator=(const TransportFeedback&) = delete;

  // Feedback packets received from the partner (one event each).
  uint64_t feedback_messages() const;
  // Our packets those reported on, and how many of them as lost.
  uint64_t packets_reported() const;
  uint64_t packets_lost() const;
  // TWCC feedback packets we sent to the partner.
  uint64_t feedback_sent() const;

  // The partner's clock, unwrapped (see the header comment); ns.
  class RemoteClock {
   public:
    static constexpr int64_t kWrapNs = (int64_t{1} << 24) * 64'000'000;
    int64_t unwrap(uint64_t remote_ns);

   private:
    std::optional<int64_t> newest_;
    int64_t offset_ = 0;
  };
  struct Converted {
    std::vector<congestion::PacketResult> packets;  // in the event's order
    uint64_t reported = 0, lost = 0, unmatched = 0;
  };
  // One "RTPTWCCPackets" structure; anything else gives an empty result.
  static Converted convert(const GstStructure* s, RemoteClock& clock);

 private:
  friend struct TransportFeedbackHooks;
  struct Shared;
  struct Handler;
  TransportFeedback(int peer_id, Callback cb);
  void deliver(int64_t now_us, std::vector<congestion::PacketResult> packets);

  const int peer_id_;
  Callback cb_;
  std::shared_ptr<Shared> shared_;
  std::vector<Handler> handlers_;
  Lifetime lifetime_ = make_lifetime();
  // The per-second debug summary (main context).
  int64_t window_start_us_ = 0;
  uint64_t window_messages_ = 0, window_packets_ = 0, window_lost_ = 0;
  int64_t window_max_age_us_ = 0;
};

}  // namespace callagent::media
