#pragma once
// ReportLoss: the loss a receiver's reports describe, over enough packets
// to mean something. A report block's "fraction lost" covers the packets
// since the receiver's previous report. With frequent RTCP (we run
// rtpsession's RFC 3550 interval, ~17 ms at 2.5 Mbit/s, and a browser
// reports every ~50-100 ms) that is a handful of packets: one lost of four
// reads 25 %, the next report 0 %, and a rule that acts on the last value
// (cut above 10 %, climb under 2 %) flips between cutting and climbing.
// Measured on a 2 Mbit/s cap at a call's start: 21.9 %, then five 0 %
// reports within 35 ms, then 45 %, 0 %, 0 %...
//
// So, like libwebrtc (SendSideBandwidthEstimation: at least 20 expected
// packets per loss update), the cumulative counters of the block are
// differenced: packets expected = growth of the extended highest sequence
// number, lost = growth of the cumulative lost count; a fraction comes out
// once >= kMinPackets were expected since the last one. The same block
// repeated (rtpsession sends one compound packet per local source, each
// with the same blocks) adds nothing. A counter that goes back (a new
// stream, a reset) starts the count again.
//
// Pure: one instance per reported stream, fed in arrival order.

#include <cstdint>
#include <optional>

namespace callagent::congestion {

class ReportLoss {
 public:
  static constexpr int64_t kMinPackets = 20;

  // One report block's cumulative counters; the fraction lost (0..1)
  // since the previous fraction when enough packets were expected.
  std::optional<double> on_report(uint32_t ext_highest_seq, int64_t cumulative_lost);

 private:
  bool started_ = false;
  uint32_t base_seq_ = 0;
  int64_t base_lost_ = 0;
};

}  // namespace callagent::congestion
