#pragma once
// Plain values describing call quality: what one stats interval saw
// (Snapshot), the facts our own pad probes gathered (ProbeFacts), and the
// call-setup timeline. No GStreamer types: these are passed around, logged
// as JSON lines and summarized into the report (docs/report.md).
//
// Conventions: counters are cumulative since the stream started (like the
// W3C stats), rates are over the interval that ends at Snapshot::t; times
// are milliseconds unless the name says otherwise; a std::nullopt is
// "not measured" and is written as JSON null.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace callagent::stats {

// One direction of one kind (e.g. the video we receive).
struct StreamStats {
  bool active = false;  // the stream exists (negotiated and seen in stats)
  std::string codec;    // "VP8", "OPUS", ...
  uint64_t bytes = 0;
  uint64_t packets = 0;
  int64_t packets_lost = 0;        // in: our receiver's count; out: reported by the partner (RTCP RR)
  std::optional<double> loss_pct;  // in: lost/(lost+received) over the interval; out: RR fraction lost
  double bitrate = 0;              // bit/s (RTP payload+header bytes) over the interval
  std::optional<double> jitter_ms; // in: ours; out: reported by the partner
  std::optional<double> rtt_ms;    // out only: from RTCP RR/SR (remote-inbound-rtp)
  uint64_t nack = 0, pli = 0, fir = 0;  // in: sent by us; out: received from the partner
  // Video.
  uint64_t frames_encoded = 0;   // out: our encoder's output (shared by all partners)
  uint64_t frames_sent = 0;      // out: frames handed to this partner's payloader
  uint64_t frames_received = 0;  // in: complete frames out of the depayloader
  uint64_t frames_decoded = 0;   // in: decoder output ("rendered" for freeze detection)
  uint64_t frames_dropped = 0;   // in: received but not decoded
  double fps = 0;                // out: sent; in: decoded; over the interval
  int width = 0, height = 0;
  // Audio in.
  std::optional<double> level_dbfs;  // RMS of the decoded audio over the interval
  double concealed_ms = 0;           // cumulative: audio the decoder had to invent (lost packets)
};

// Loss repair and keyframes, from our jitter buffers, the RTX elements and
// our keyframe requester (cumulative for the current peer).
// lost_before_recovery is what the network took of the partner's video
// (media packets, counted before retransmission: a repaired packet is
// still lost here); lost_after_recovery is what the decoder missed (the
// same as video_in's packets_lost, which webrtcbin takes from the jitter
// buffer).
struct RecoveryStats {
  uint64_t nack_requests = 0;        // packets we asked to be retransmitted (video)
  uint64_t rtx_received = 0;         // RTX packets that arrived
  uint64_t rtx_recovered = 0;        // packets a retransmission brought back in time
  uint64_t lost_after_recovery = 0;  // video packets given up for lost
  uint64_t rtx_requests_received = 0;  // packets the partner asked us to retransmit
  uint64_t rtx_sent = 0;             // RTX packets we sent
  uint64_t audio_nack_requests = 0;  // retransmission requests for audio (always 0)
  uint64_t keyframes_requested = 0;  // PLIs we asked for
  uint64_t keyframes_forced = 0;     // keyframes our encoder made for PLI/FIR (all partners)
  std::optional<unsigned> jitter_buffer_ms;  // the receive jitter buffers' current latency
  uint64_t lost_before_recovery = 0;  // video packets the network took (before repair)
  uint64_t rtx_refused = 0;  // of rtx_requests_received, dropped over our retransmission budget
};

struct CandidatePair {
  std::string local_type, remote_type;  // host | srflx | prflx | relay
  std::string protocol;                 // udp | tcp
  std::string local_address, remote_address;  // "ip:port"
  // Our relay candidate's way to its TURN server: udp | tcp | tls; empty
  // when the local candidate is no relay or webrtcbin does not know it.
  std::string relay_protocol;
  bool operator==(const CandidatePair&) const = default;
};

// Transport-wide congestion control feedback of the current peer
// connection, cumulative (a new peer starts at 0).
struct TwccCounters {
  uint64_t feedback_received = 0;  // TWCC feedback packets from the partner
  uint64_t packets_reported = 0;   // our packets they reported on
  uint64_t packets_lost = 0;       // ... as lost
  uint64_t feedback_sent = 0;      // TWCC feedback packets we sent
};

// The sender's congestion control towards the current partner
// (media/rate_controller.h), as it stood at the end of the interval.
struct CongestionStats {
  int64_t target_bps = 0;  // the bandwidth estimate: audio + video
  int64_t video_bps = 0;   // the video encoder's target-bitrate
  int64_t audio_bps = 0;   // the Opus bitrate
  std::string limited_by;  // what holds the estimate: loss | delay | remb | max (the preset)
  int width = 0, height = 0, fps = 0;  // the video format sent (the ladder's rung)
  int ladder_steps = 0;    // resolution/frame-rate changes so far
  int fec_percentage = -1; // opusenc packet-loss-percentage we set (-1: not yet)
  std::optional<int64_t> remb_bps;  // the partner's REMB, if it sends one
};

struct LatencySummary {
  size_t samples = 0;
  double median_ms = 0, p95_ms = 0, max_ms = 0, min_ms = 0;
};

struct Snapshot {
  double t = 0;         // seconds since the session started (end of the interval)
  double interval = 0;  // seconds this interval covered
  std::string state;    // call state: alone | negotiating | connected | ...
  int peer = 0;         // the peer connection's id (a new one per partner visit)
  // What the partner runs, from its SDP ("Firefox", "libwebrtc",
  // "callagent 0.1.0", "GStreamer webrtcbin"); "" unknown / no partner.
  std::string partner_implementation;
  StreamStats video_in, video_out, audio_in, audio_out;
  std::optional<CandidatePair> pair;
  RecoveryStats recovery;
  std::optional<double> rtt_ms;  // the best RTT known (max of the outbound streams')
  int freezes = 0;               // cumulative over the session
  double freeze_ms = 0;          // cumulative frozen time
  std::optional<LatencySummary> latency;  // glass-to-glass samples of this interval
  double poll_ms = 0;            // how long get-stats took to answer (wall clock)
  TwccCounters twcc;
  std::optional<CongestionStats> congestion;  // null: congestion control off or nothing sent
};

// What our own probes know about the current peer and the local encoders;
// filled by the call layer from media counters.
struct ProbeFacts {
  uint64_t video_frames_encoded = 0;
  uint64_t video_frames_sent = 0;
  uint64_t video_frames_received = 0;
  uint64_t video_frames_decoded = 0;
  uint64_t audio_buffers_decoded = 0;
  int video_width = 0, video_height = 0;        // decoded remote video
  int out_width = 0, out_height = 0;            // what we encode
  std::vector<int64_t> frame_times_us;          // monotonic render times since the last take
  std::vector<double> latency_ms;               // glass-to-glass samples since the last take
  double audio_sum_squares = 0;                 // normalized samples, since the last take
  uint64_t audio_samples = 0;
  double audio_concealed_ms = 0;                // cumulative
  // RTP SSRCs of the current peer's streams (0 = unknown): how get-stats'
  // entries are matched to kinds (webrtcbin 1.22 mislabels them with BUNDLE).
  uint32_t video_in_ssrc = 0, audio_in_ssrc = 0, video_out_ssrc = 0, audio_out_ssrc = 0;
  RecoveryStats recovery;
  TwccCounters twcc;
  // The round-trip time from the partner's latest receiver report that
  // echoed one of our sender reports, timed on arrival (media's
  // RtcpFeedback, the number the rate controller and the repair use).
  // Preferred to get-stats' round-trip-time, which rtpsession computes
  // for any block: 0 for a block without LSR, and absurd values (1500 s)
  // for a block computed against another clock.
  std::optional<double> rtt_ms;
  // The current peer's congestion control (its format also sets
  // out_width/out_height).
  std::optional<CongestionStats> congestion;
  std::string partner_implementation;  // the current peer's (Snapshot)
};

// One call-setup milestone, milliseconds since the session started.
struct TimelineEvent {
  std::string name;
  double t_ms = 0;
};

}  // namespace callagent::stats
