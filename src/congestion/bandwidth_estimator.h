#pragma once
// BandwidthEstimator: the sender's target bitrate (audio + video, bit/s)
// from what the receiver tells us: RTCP receiver reports (loss, RTT),
// transport-wide congestion control feedback (per-packet arrival times) when
// negotiated, and REMB (the receiver's own estimate) when the peer sends it.
// Owned by the media adapter of one peer connection; fed on the main
// context; the adapter reads target_bps() after each event and hands it to
// the RateAllocator.
//
// The target combines three limits, like libwebrtc's send-side estimator:
//
//  target = clamp(min(loss_based, delay_based, remb), min, max)
//
// Loss-based (on each receiver report and on every tick):
//  - fraction lost <= 2 %: rise to 1.08 x the lowest target of the last
//    second + 1 kbit/s (so about +8 % per second, from what was really
//    allowed, never from a runaway value);
//  - 2-10 %: hold (random loss on Wi-Fi or a lossy path is no congestion:
//    cutting on it would only starve the call), unless the loss comes with
//    a full queue (below);
//  - > 10 %: x (1 - loss / 2), once per report and at most every
//    300 ms + RTT.
//  Loss behind a full queue (TWCC only): the packets of the loss window
//  that arrived waited >= 50 ms on average above the path's base delay
//  (DelayBasedEstimator). A drop-tail queue that is full no longer grows,
//  so the delay-based side sees no trend, and the loss is the only sign
//  that our share is too large: on a shared 2 Mbit/s cap with a 100 ms
//  queue the target held at 1.4-1.5 Mbit/s with 4-6 % loss while the
//  partner's browser sent 0.6 Mbit/s. Then 2 % already cuts, to
//  min(x (1 - loss / 2), 0.85 x acknowledged) (not below half), and the
//  delay-based side learns the capacity there. Random loss on a path with
//  jitter (100 +- 20 ms kept in order: ~20-35 ms above the base) stays
//  under the 50 ms, so it still only holds.
//  A report older than 6 s (RTCP stopped; 1.2 x the longest normal RTCP
//  interval) no longer justifies an increase: the target holds.
//  Where the loss comes from: once TWCC feedback arrives, from it (as
//  libwebrtc does): the packets it reports lost over the packets it
//  reports on, one "report" per >= 50 packets and >= 500 ms of feedback
//  (shorter windows of 5 % random loss read above 10 % often enough to cut
//  a clean path; the delay-based rate reacts faster anyway).
//  That is the loss on the wire. A receiver report's fraction lost is
//  not: NACKed packets that arrive as retransmissions count as received,
//  so on a congested link that repairs well it says 0 % while a quarter
//  of the packets drop (measured on a 2 Mbit/s cap: RR 0 %, the estimate
//  climbed back to the maximum while capped). Receiver reports then give
//  only the RTT; they drive the loss-based rules again if TWCC feedback
//  stops for 6 s.
// Delay-based (TWCC only): DelayBasedEstimator (trendline detector + AIMD:
//  x0.85 of the acknowledged rate on a growing queue, +8 %/s or additive
//  near the last cut otherwise). Cutting through it takes one feedback
//  interval plus the detector's ~100-300 ms: well within a second.
// REMB: caps the target (the last value received holds until the next).
//
// Probing (TWCC only). We cannot send padding clusters as browsers do, so a
// probe is the encoder's target itself raised for a moment:
//  - when: first feedback (x3 the current target; not once the target was
//    cut: we start at the maximum, and a start that was cut has shown the
//    link's limit; measured on a shared 2 Mbit/s cap, a "first" probe after a
//    loss cut at the start put 2.6 Mbit/s on it for 1.25 s and the page saw
//    no frame for 3.1 s), after a successful probe ("probe further"), when
//    the delay-based rate rose past the link capacity it had learned (the
//    path got faster), and when the encoder fills its target again (>= 85 %
//    acknowledged) after a probe it could not fill (a still picture needs few
//    bits). "further" is x1.5; "faster", and "fills" while AIMD knows a link
//    capacity (it cut since the path last got faster), are x1.25: they test a
//    link that has shown its limit, and on a link both directions share
//    "faster" may only mean that the partner sent less for a moment (measured
//    on a shared 2 Mbit/s cap: a x1.5 "fills" probe from 1.3 Mbit/s lost 3 %
//    of the partner's packets in its 0.6 s; x1.5 "faster" probes to 1.8-2.3
//    Mbit/s lost 44-94 of the page's packets each). Once such a probe
//    succeeds "further" goes on at x1.5: a lifted 0.5 Mbit/s cap is back at
//    the maximum after 8.9 s in the unit trace (6.5 s when "faster" was
//    x1.5); an open path keeps x1.5 for "fills" (after a still picture x1.25
//    took 9.4 s instead of 6.8 s back to the maximum). libwebrtc probes
//    further at x2, with short bursts of padding; ours is a second of encoder
//    output, and every probe that overshoots floods the queue until its early
//    end: on a 2 Mbit/s cap that both directions share (our acknowledged rate
//    passes the capacity learned at the last cut whenever the partner's
//    direction sends less for a moment), x2 probes from 1.4 Mbit/s lost
//    50-100 of the page's packets each (measured; the loss goal of that call
//    is 2 %). At x1.5 the flood is half as deep, and a lifted cap is still
//    found in two or three probes a second apart. Never while overusing or
//    above 10 % loss, nor while the adapter defers them (3 s after a change
//    of the picture size: defer_probes()); 1 s after a success, 5 s after any
//    other outcome; only while the target is below its cap (max, REMB) and
//    never past the link capacity AIMD learned at its last cut (until the
//    acknowledged rate goes beyond it and it is forgotten). A probe held at
//    that capacity is no reason to probe further when it succeeds.
//  - the target and the delay-based rate are set to the probe rate; the
//    packets sent between 250 ms and 1 s into the probe are the sample.
//  - an overuse or > 10 % loss during the probe ends it (back to 0.85 x
//    what arrived, the delay-based rate with it). When the sample is fully
//    acknowledged: it arrived as fast as it left (>= 90 %) and we sent
//    >= 80 % of the probe rate -> success, the probe rate stays; it
//    arrived as fast but the encoder sent less -> keep what was sent (if
//    above the old target); it arrived slower (a queue) -> 0.85 x the
//    arrival rate. A probe without an answer after 3 s is undone.
//  - early end: once the first 250 ms of the sample (>= 20 packets) are
//    acknowledged and arrived slower than 0.8 x they left (a queue, not
//    random loss of a few %), the probe ends
//    there (0.85 x the arrival rate), without waiting for the rest. And
//    as soon as the probe's latest 10 packets waited kProbeQueueUs (30 ms)
//    longer on average than the packets before the probe, it is undone
//    (back to the rate before it): a probe 10-20 % over a shared link's
//    room never arrives 20 % slower than it leaves, it fills the queue
//    slowly; measured on a shared 2 Mbit/s cap, such probes ran their
//    full second, the RTT rose from 11 to 176 ms and the partner's video
//    froze for 1.5 s. The trendline detector (the overuse cut above)
//    takes longer at these rates.
//  Without TWCC there is no probing: the target climbs at 8 %/s.
//  An encoder that sends much less than its target (a still picture) keeps
//  the delay-based rate at 1.5 x what arrives + 10 kbit/s (we cannot claim
//  bandwidth nobody used, and we have no padding to test it); the
//  "fills again" probe above recovers within seconds when motion returns.
// If TWCC feedback stops, the last delay-based rate stays a cap; the
// loss-based rules go on with the receiver reports.
//
// Units: bit/s; times in microseconds from one monotonic clock of the
// caller (the injected clock: every call carries `now_us`); RTT in ms;
// fraction lost 0..1. Pure (no GStreamer, no timers): the adapter calls
// on_tick() every 100-200 ms.

#include "congestion/delay_based_estimator.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>

namespace callagent::congestion {

struct BandwidthConfig {
  int64_t start_bps = 300'000;
  int64_t min_bps = 100'000;   // audio (32k) + the smallest video we would send
  int64_t max_bps = 2'500'000; // the preset's top rate, or --video-bitrate + audio
  bool probing = true;
};

class BandwidthEstimator {
 public:
  explicit BandwidthEstimator(BandwidthConfig config = {});

  // One report block about our stream (the video SSRC's), with the RTT if
  // the block gave one, and the fraction lost (0..1) when it is due: over
  // >= 20 packets (ReportLoss), not every block's own few packets.
  void on_receiver_report(int64_t now_us, std::optional<double> fraction_lost, std::optional<double> rtt_ms);
  // One TWCC feedback message, packets in transport sequence order.
  void on_transport_feedback(int64_t now_us, std::span<const PacketResult> packets);
  void on_remb(int64_t now_us, int64_t bps);
  // Periodic: the loss-based increase and probe timeouts advance here.
  void on_tick(int64_t now_us);
  // No probe starts before until_us: the encoder was just re-created (a
  // new picture size) and what it sends for a few seconds says nothing
  // about whether it fills its target (after a step up it overshoots and
  // would start a "fills" probe on top of its own burst).
  void defer_probes(int64_t until_us) { probes_deferred_until_us_ = std::max(probes_deferred_until_us_, until_us); }
  // New bounds (e.g. --video-bitrate changed); the target is clamped.
  void set_bounds(int64_t min_bps, int64_t max_bps);

  int64_t target_bps() const;

  enum class ProbeState { Idle, Probing };
  struct Status {
    int64_t target_bps = 0;
    int64_t loss_based_bps = 0;
    std::optional<int64_t> delay_based_bps;  // TWCC seen
    std::optional<int64_t> remb_bps;
    std::optional<int64_t> acked_bps;
    BandwidthUsage usage = BandwidthUsage::Normal;
    double last_loss = 0;
    double rtt_ms = 0;
    ProbeState probe = ProbeState::Idle;
    int probes_started = 0, probes_succeeded = 0;
    // Why the last probe started: "first", "further", "faster" (the path
    // got faster), "fills" (the encoder fills its target again).
    const char* probe_reason = "";
  };
  Status status() const;
  bool probing() const { return probe_state_ == ProbeState::Probing; }

  static constexpr double kLowLoss = 0.02, kHighLoss = 0.10;
  static constexpr double kIncreasePerSecond = 1.08;
  static constexpr int64_t kIncreaseWindowUs = 1'000'000;
  static constexpr int64_t kDecreaseIntervalUs = 300'000;
  static constexpr int64_t kReportValidUs = 6'000'000;
  static constexpr int64_t kProbeSampleStartUs = 250'000, kProbeSampleEndUs = 1'000'000;
  static constexpr int64_t kProbeTimeoutUs = 3'000'000;
  static constexpr int64_t kProbeEarlySpanUs = 250'000;
  static constexpr int64_t kProbeQueueUs = 30'000;
  static constexpr int kProbeEarlyMinPackets = 20;
  static constexpr double kProbeFirstFactor = 3, kProbeFactor = 1.5, kProbeGentleFactor = 1.25;
  static constexpr int64_t kProbeGapAfterSuccessUs = 1'000'000, kProbeGapUs = 5'000'000;
  static constexpr int kTransportLossMinPackets = 50;
  static constexpr int64_t kTransportLossMinIntervalUs = 500'000;
  static constexpr int64_t kLossQueueUs = 50'000;

 private:
  double upper_limit() const;
  void set_current(int64_t now_us, double bps);
  void update_loss_based(int64_t now_us);
  void update_min_history(int64_t now_us);
  void maybe_start_probe(int64_t now_us);
  void start_probe(int64_t now_us, double bps, const char* reason);
  void end_probe(int64_t now_us, bool success);
  void probe_feedback(int64_t now_us, std::span<const PacketResult> packets, bool cut);
  // Ends the probe with both estimates at bps.
  void settle_probe(int64_t now_us, double bps, bool success);
  struct SampleRates {
    double sent_bps, recv_bps;
    int64_t send_span_us;
  };
  // The sample's send and arrival rates, once both spans are positive.
  std::optional<SampleRates> sample_rates() const;
  bool loss_recent(int64_t now_us) const;
  // The last loss figure calls for a cut: > 10 %, or > 2 % behind a full queue.
  bool congested_loss() const;
  void on_loss(int64_t now_us, double fraction_lost, bool queued = false);
  // Starts a new window of TWCC loss counting.
  void reset_transport_loss(int64_t now_us);
  bool transport_loss_recent(int64_t now_us) const;

  BandwidthConfig config_;
  double current_;
  std::deque<std::pair<int64_t, double>> min_history_;
  std::optional<double> last_loss_;
  bool last_loss_queued_ = false;  // that loss came with a full queue
  int64_t last_loss_us_ = 0;
  bool decreased_since_report_ = false;
  int64_t last_decrease_us_ = -1'000'000'000;
  double rtt_ms_ = 0;
  // loss from TWCC feedback
  int tl_lost_ = 0, tl_total_ = 0, tl_arrived_ = 0;
  int64_t tl_delay_sum_us_ = 0;  // arrival - send of the arrived ones
  int64_t tl_since_us_ = -1, last_transport_loss_us_ = -1'000'000'000;
  bool transport_loss_seen_ = false;

  DelayBasedEstimator delay_;
  bool twcc_seen_ = false;
  std::optional<double> remb_;

  // probing
  ProbeState probe_state_ = ProbeState::Idle;
  double probe_bps_ = 0, pre_probe_bps_ = 0;
  int64_t probe_start_us_ = 0, last_probe_end_us_ = -1'000'000'000;
  bool last_probe_ok_ = false, probe_further_ = false, probe_app_limited_ = false;
  bool probe_clamped_ = false;  // the probe rate was held at the learned capacity
  bool cut_seen_ = false;       // a loss or overuse cut happened (no "first" probe after it)
  int seen_capacity_resets_ = 0;
  int probes_started_ = 0, probes_succeeded_ = 0;
  const char* probe_reason_ = "";
  int64_t probes_deferred_until_us_ = 0;
  int64_t sample_sent_bytes_ = 0, sample_recv_bytes_ = 0;
  int64_t sample_first_send_ = -1, sample_last_send_ = -1;
  int64_t sample_first_arrival_ = -1, sample_last_arrival_ = -1;
  int sample_packets_ = 0;
  // One-way delay (arrival - send, the two clocks' offset included) of
  // the packets sent outside probes (EWMA), and at the probe's start.
  std::optional<double> idle_delay_us_;
  std::optional<double> probe_start_delay_us_;
  std::array<int64_t, 10> probe_delays_{};  // the probe's latest packets' delays (a ring)
  size_t probe_delay_count_ = 0;
  int64_t probe_delay_sum_ = 0;  // of probe_delays_
};

}  // namespace callagent::congestion
