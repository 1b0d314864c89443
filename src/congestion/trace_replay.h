#pragma once
// Congestion traces as text, so a recorded call (or a synthetic one) can be
// checked in and replayed through a BandwidthEstimator in a unit test.
//
// One event per line, comma-separated; '#' starts a comment line:
//   T,rr,FRACTION_LOST,RTT_MS        RTT may be empty ("T,rr,0.05,")
//   T,remb,BPS
//   T,twcc,PACKETS                   PACKETS: space-separated
//                                    SEND_MS:ARRIVAL_MS:BYTES, ARRIVAL "x"
//                                    when lost, e.g. "10.0:35.2:1200 11:x:1200"
//   T,tick
// T is the time the sender learnt of it, in ms (fractions allowed) on the
// sender's monotonic clock; events must not go back in time.
//
// Pure: parsing and formatting strings, replay through the estimator.

#include "common/result.h"
#include "congestion/bandwidth_estimator.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace callagent::congestion {

struct TraceEvent {
  enum class Kind { ReceiverReport, TransportFeedback, Remb, Tick };
  Kind kind = Kind::Tick;
  int64_t t_us = 0;
  double fraction_lost = 0;            // rr
  std::optional<double> rtt_ms;        // rr
  int64_t bps = 0;                     // remb
  std::vector<PacketResult> packets;   // twcc
};

// Parses a whole trace; the error names the line (DataErr).
Result<std::vector<TraceEvent>> parse_trace(std::string_view text);
// One line, without the newline; parse_trace reads it back (to 1 us).
std::string format_trace_event(const TraceEvent& e);

// Feeds one event to the estimator.
void apply_trace_event(const TraceEvent& e, BandwidthEstimator& bwe);

struct ReplayPoint {
  int64_t t_us = 0;
  int64_t target_bps = 0;
};
// Feeds every event in order; the target after each.
std::vector<ReplayPoint> replay_trace(std::span<const TraceEvent> events, BandwidthEstimator& bwe);

}  // namespace callagent::congestion
