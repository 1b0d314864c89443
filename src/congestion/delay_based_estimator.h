#pragma once
// DelayBasedEstimator: the send rate the path's queue allows, from
// transport-wide congestion control feedback (TWCC: for each packet, when
// we sent it and when it arrived, or that it was lost).
//
// Per feedback message:
//  - every received packet goes to the TrendlineDetector (queue growth) and
//    to the acknowledged-rate window (bytes that arrived in the last 500 ms
//    of arrival time, over that span: the rate the receiver really got);
//  - then the detector's verdict goes to AimdRateControl: on Overusing the
//    rate is cut to 0.85 x acknowledged (at most once per RTT), otherwise
//    it rises (x1.08/s, or additively near the known capacity) or holds.
// Lost packets count only for the loss figure of the feedback (the loss
// decisions live in BandwidthEstimator).
//
// It also keeps the path's base delay: the smallest arrival - send of the
// last 30 s (the two clocks' offset included), i.e. a packet that met an
// empty queue. A packet's delay above it is the time it waited in queues;
// BandwidthEstimator uses it to tell loss from a full queue (congestion)
// from random loss.
//
// Units: bit/s, bytes, microseconds. Pure: time is passed in.

#include "congestion/aimd_rate_control.h"
#include "congestion/trendline_detector.h"

#include <cstdint>
#include <deque>
#include <optional>
#include <span>

namespace callagent::congestion {

// One packet of a TWCC feedback message.
struct PacketResult {
  int64_t send_us = 0;                 // our clock, when it left
  std::optional<int64_t> arrival_us;   // the receiver's clock; none: lost
  int size_bytes = 0;                  // RTP packet size (headers included)
};

class DelayBasedEstimator {
 public:
  DelayBasedEstimator(double start_bps, double min_bps, double max_bps);

  struct Update {
    double rate_bps = 0;            // the delay-based limit after this feedback
    BandwidthUsage usage = BandwidthUsage::Normal;
    bool decreased = false;         // an overuse cut happened now
    int received = 0, lost = 0;     // packets in this feedback
  };
  Update on_feedback(int64_t now_us, std::span<const PacketResult> packets);

  void set_rtt_ms(double rtt_ms) { aimd_.set_rtt_ms(rtt_ms); }
  void set_estimate(int64_t now_us, double bps) { aimd_.set_estimate(now_us, bps); }
  void on_loss_cut(int64_t now_us, double bps) { aimd_.on_loss_cut(now_us, bps, acked_bps_); }
  void set_bounds(double min_bps, double max_bps) { aimd_.set_bounds(min_bps, max_bps); }

  double rate_bps() const { return aimd_.rate_bps(); }
  std::optional<double> acked_bps() const { return acked_bps_; }
  BandwidthUsage usage() const { return detector_.state(); }
  const AimdRateControl& aimd() const { return aimd_; }
  const TrendlineDetector& detector() const { return detector_; }
  // The smallest arrival - send of the last kBaseDelayWindowUs; none before
  // the first received packet.
  std::optional<int64_t> base_delay_us() const;

  static constexpr int64_t kAckedWindowUs = 500'000;
  static constexpr int64_t kBaseDelayWindowUs = 30'000'000, kBaseDelayBucketUs = 1'000'000;

 private:
  void add_acked(int64_t arrival_us, int size_bytes);
  void add_delay(int64_t now_us, int64_t delay_us);

  TrendlineDetector detector_;
  AimdRateControl aimd_;
  struct Acked { int64_t arrival_us; int bytes; };
  std::deque<Acked> acked_;
  int64_t acked_bytes_ = 0;
  std::optional<double> acked_bps_;
  std::deque<std::pair<int64_t, int64_t>> base_;  // (bucket start, smallest delay in it)
};

}  // namespace callagent::congestion
