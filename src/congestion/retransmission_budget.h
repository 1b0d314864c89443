#pragma once
// RetransmissionBudget (sender side): which of the partner's NACKed packets
// we retransmit. Every retransmission is sent on top of the encoder's
// target, at once (GStreamer has no pacer), so on a congested link a
// partner that NACKs everything it misses (a browser asks for each packet
// up to ten times) turns our repair into a flood that keeps the queue full:
// measured on a 2 Mbit/s cap at a call's start, 1183 retransmissions in
// one second (~10 Mbit/s) while the estimate was 272 kbit/s. libwebrtc
// bounds them by a rate limiter at the current target, and its pacer
// keeps media and retransmissions together under the pacing rate. We have
// no pacer, so the limit is tighter:
//
//  - a token bucket of half the current video target (kShare; bit/s), at
//    most 500 ms of it banked (kWindowUs), each request costing one average
//    video packet (kPacketBytes; the request does not say the packet's
//    size). With the whole target over 1 s, a full queue on a shared
//    2 Mbit/s cap still met 144 retransmissions in a second (~1.1 Mbit/s)
//    on top of a 0.85 Mbit/s target;
//  - a packet retransmitted less than 0.4 x the RTT ago (at least 20 ms)
//    is not sent again: that request crossed our first copy on the way.
//    libwebrtc waits one RTT, so a partner can ask only once per round
//    trip. Ours asks every half RTT on purpose (Retransmission's header:
//    a jitter buffer of 2 x RTT + 50 ms holds only two requests a full
//    round trip apart, the second nearly too late; at 200 ms RTT and 2 %
//    loss each way one lost packet in ~150 stayed lost, a freeze of
//    ~0.85 s): a second copy half a round trip after the first is the
//    price of a third attempt in time;
//  - what is refused is dropped (the partner asks again later or gives the
//    packet up and asks for a keyframe, which KeyframeResponder paces);
//  - on a long path (RTT >= 100 ms) the first retransmission of a packet
//    goes out twice, the copy kDuplicateDelayUs later (a request repeated
//    later gets one copy), while the bucket is at least half full
//    (not on a congested link, where the requests drain it): a lost
//    retransmission costs the partner another round trip, and a browser
//    asks again only one RTT after its first request, so the frame comes
//    two round trips late, a freeze (measured, 200 ms RTT and 2 % loss
//    each way, Chromium receiving our 2.5 Mbit/s: 0-3 such freezes per
//    20 s, 0.3-1.5 s frozen in all; Chromium's own sender sends 1 Mbit/s
//    there, less than half the packets to lose). The copy costs one packet
//    per lost packet (2 % of the rate at 2 % loss).

// Clean paths never meet it: 5 % loss at 2.5 Mbit/s asks for ~15 packets a
// second, the budget allows ~130.
//
// Times in microseconds, rates in bit/s. Pure; the caller serializes.

#include <cstdint>
#include <unordered_map>

namespace callagent::congestion {

class RetransmissionBudget {
 public:
  static constexpr int kPacketBytes = 1200;
  static constexpr double kShare = 0.5;
  static constexpr int64_t kWindowUs = 500'000;
  static constexpr int64_t kMinResendGapUs = 20'000;
  static constexpr double kResendGapRtt = 0.4;
  static constexpr double kDuplicateMinRttMs = 100;
  static constexpr int64_t kDuplicateDelayUs = 10'000;

  explicit RetransmissionBudget(int64_t rate_bps = 2'500'000) : rate_bps_(rate_bps), tokens_(bucket_size()) {}

  void set_rate(int64_t bps) { rate_bps_ = bps > 0 ? bps : 0; }
  void set_rtt_ms(double rtt_ms) {
    rtt_ms_ = rtt_ms > 0 ? rtt_ms : 0;
    rtt_us_ = static_cast<int64_t>(rtt_ms_ * kResendGapRtt * 1000.0);
  }

  // A request for (ssrc, seqnum): true if it may be retransmitted now.
  bool allow(int64_t now_us, uint32_t ssrc, uint16_t seqnum);
  // Right after allow() said yes: whether to send that retransmission a
  // second time, kDuplicateDelayUs later (see above); spends its tokens.
  bool duplicate(int64_t now_us);
  uint64_t duplicates() const { return duplicates_; }

  uint64_t refused() const { return refused_; }

 private:
  double bytes_per_s() const { return static_cast<double>(rate_bps_) * kShare / 8.0; }
  double bucket_size() const { return bytes_per_s() * (static_cast<double>(kWindowUs) / 1e6); }
  void refill(int64_t now_us);
  void prune(int64_t now_us);
  int64_t min_gap_us() const { return rtt_us_ > kMinResendGapUs ? rtt_us_ : kMinResendGapUs; }

  int64_t rate_bps_;
  double rtt_ms_ = 0;
  int64_t rtt_us_ = 0;  // kResendGapRtt x the RTT: the gap between two copies of a packet
  double tokens_;  // bytes
  int64_t last_us_ = -1;
  int64_t last_prune_us_ = 0;
  std::unordered_map<uint64_t, int64_t> last_sent_;  // (ssrc << 16 | seqnum) -> when
  uint64_t refused_ = 0;
  uint64_t duplicates_ = 0;
  bool last_first_ = false;  // allow()'s last yes was the packet's first retransmission
};

}  // namespace callagent::congestion
