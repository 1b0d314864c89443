#pragma once
// Reading webrtcbin's `get-stats` reply (GStreamer 1.22) into plain values.
//
// The reply is a GstStructure whose fields are GstStructures keyed by stats
// id, each with a "type" (GstWebRTCStatsType). What 1.22 fills in (dumped
// from real calls, see tests/stats):
//   codec               payload-type, clock-rate, ssrc, mime-type? ("video/VP8")
//   inbound-rtp         ssrc, codec-id, packets-received, bytes-received,
//                       packets-lost, jitter (s), fir-/pli-/nack-count (sent)
//   outbound-rtp        ssrc, codec-id, packets-sent, bytes-sent,
//                       fir-/pli-/nack-count (received), remote-id
//   remote-inbound-rtp  packets-lost, jitter (s), fraction-lost,
//                       round-trip-time (s) -- once an RTCP RR arrived
// Quirks of 1.22 with BUNDLE (what a real call shows): every RTP stream is
// labelled kind "video" with the same codec-id, the receiver's packets-lost
// is only inside the nested "gst-rtpsource-stats", stray SSRCs (RTX,
// probation) appear with a handful of packets, remote-inbound entries hang
// off the RTX SSRC, and local/remote candidate types are swapped. Hence
// kinds are matched by SSRC (from our pads) in StatsCollector.
//   transport, candidate-pair, local-candidate, remote-candidate
//                       address, port, candidate-type, protocol; the local
//                       candidate of a relay pair also relay-protocol
//                       (udp/tcp/tls: only for the `turn-server` property's
//                       server, "none" for add-turn-server ones) and url
// The candidate entries' "type" is swapped in 1.22 (a strcmp() inverted):
// follow the pair's local-/remote-candidate-id, never the type.
// No frame counts, frame rates or sizes: those come from our pad probes.
// Field names are looked up defensively (absent = not measured).

#include <gst/gst.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stats/snapshot.h"

namespace callagent::stats {

struct RtpRaw {
  bool video = false;
  uint32_t ssrc = 0;
  std::string codec;  // "VP8", "OPUS" (from the codec stats' mime type or clock rate)
  uint64_t bytes = 0;
  uint64_t packets = 0;
  int64_t packets_lost = 0;
  std::optional<double> jitter_s;
  std::optional<double> rtt_s;          // outbound: remote-inbound's round-trip-time
  std::optional<double> fraction_lost;  // outbound: remote-inbound's fraction-lost (0..1)
  uint64_t nack = 0, pli = 0, fir = 0;
};

struct RawStats {
  std::vector<RtpRaw> inbound, outbound;
  // Any remote-inbound round-trip time: with BUNDLE, 1.22 links the RTCP
  // report blocks to whichever local SSRC they name (often the RTX one),
  // not to each outbound stream; the path, and so the RTT, is shared.
  std::optional<double> rtt_s;
  std::optional<CandidatePair> pair;
};

RawStats parse_webrtc_stats(const GstStructure* reply);

// The path for the log: "relay/udp (TURN over tls) 10.77.3.2:49152 ->
// host/udp 10.77.2.2:50000".
std::string describe(const CandidatePair& p);

// The whole reply as text (for -vv trace logs and tests).
std::string stats_to_string(const GstStructure* reply);

}  // namespace callagent::stats
