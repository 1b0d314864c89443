#pragma once
// RtcpFeedback: what our partner's RTCP says about the streams we send,
// read from webrtcbin's internal RTP session and delivered on the main
// context -- the input of the sender's congestion control
// (media/rate_controller.h).
//
//  - receiver-report blocks (in the partner's SR or RR) about any SSRC,
//    with the fraction lost (0..1) and, when the block echoes one of our
//    sender reports (LSR != 0), the round-trip time:
//    RTT = arrival - LSR - DLSR, in NTP 16.16 units. Our SRs carry the
//    wall clock as NTP time (rtpbin's default ntp-time-source), so the
//    arrival is taken from the same clock;
//
// This is THE round-trip time of a peer: the rate controller takes it per
// block, and Retransmission (jitter buffer latency, NACK deadlines) takes
// round_trip_ms() of each compound packet from its own RtcpFeedback on the
// same session -- the same computation on the same packets, so both see
// one number. It replaced rtpsession's `rb-round-trip` (read from the
// session's `source-stats`): that is the same LSR/DLSR arithmetic, but
// only readable by polling the whole stats structure (up to a poll period
// late, and the first RTT decides when repairs start to work on a long
// path), kept per remote source rather than per block, and it gave
// absurd values (1500 s) for blocks computed against another clock.
// Here a block is timed the moment it arrives, and values of kMaxRttMs or
// more are not RTTs and never leave parse().
//  - REMB (payload-specific feedback FMT 15 with FCI "REMB"): the
//    partner's own estimate of what it can receive, in bit/s. GStreamer
//    does not parse it; we do, here.
//  - counts of what else arrived (transport-wide CC feedback, PLI, NACK),
//    so a log line can say which inputs a partner gives us.
//
// How: webrtcbin's child "rtpbin" hands out the internal RTPSession of
// session 0 (max-bundle: one session for all media) through
// `get-internal-session`; its `on-receiving-rtcp` signal gives every
// compound RTCP packet (decrypted) before the session processes it. The
// session only exists once webrtcbin made its transport (during
// negotiation): attach() is retried by the owner until it succeeds.
// The session's report timing (no minimum interval: RFC 3550's, from the
// bit rate, so feedback is not held back) is set by Retransmission on the
// same session; reports may come every ~20 ms.
//
// Threading: attach(), the destructor and the Events run on the main
// context the object was made on; the RTCP handler runs on webrtcbin's
// receive thread, parses into plain values and posts them behind a
// Lifetime guard (one post per compound packet with something for us).
// Owned by RateController; borrows the webrtcbin, which outlives it.

#include "common/gref.h"
#include "common/main_context.h"
#include "common/signal_connection.h"

#include <gst/gst.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace callagent::media {

class RtcpFeedback {
 public:
  struct ReportBlock {
    uint32_t sender_ssrc = 0;  // who reports (the partner's SSRC)
    uint32_t ssrc = 0;         // the stream reported on (one of ours, we hope)
    double fraction_lost = 0;  // 0..1, since the previous report
    int64_t packets_lost = 0;  // cumulative
    uint32_t ext_highest_seq = 0;  // extended highest sequence number received
    uint32_t jitter = 0;       // RTP timestamp units
    std::optional<double> rtt_ms;
  };
  struct Remb {
    uint32_t sender_ssrc = 0;
    int64_t bps = 0;
    std::vector<uint32_t> ssrcs;  // the streams the estimate covers
  };
  struct Events {
    // Main context; now_us: g_get_monotonic_time() at arrival.
    std::function<void(int64_t now_us, const std::vector<ReportBlock>&)> on_reports;
    std::function<void(int64_t now_us, const Remb&)> on_remb;
  };
  struct Counts {
    uint64_t compound = 0;       // compound RTCP packets seen
    uint64_t report_blocks = 0;  // in SR/RR
    uint64_t remb = 0;
    uint64_t transport_cc = 0;   // RTPFB FMT 15
    uint64_t nack = 0, pli = 0, fir = 0;
  };

  RtcpFeedback(int id, GstElement* webrtcbin, Events events);
  ~RtcpFeedback();
  RtcpFeedback(const RtcpFeedback&) = delete;
  RtcpFeedback& operator=(const RtcpFeedback&) = delete;

  // Connects to the session if webrtcbin has made it; true once connected.
  bool attach();
  bool attached() const { return static_cast<bool>(session_); }
  // No more handler calls (before the pipeline goes to NULL).
  void detach();
  Counts counts() const { return counts_; }

  // Parses one compound RTCP packet (exposed for the handler and for a
  // unit test with hand-made packets). `ntp_now` is the arrival time in
  // NTP 16.16 format (the middle 32 bits of the 64-bit NTP time).
  struct Parsed {
    std::vector<ReportBlock> blocks;
    std::vector<Remb> rembs;
    Counts counts;
  };
  static Parsed parse(GstBuffer* rtcp, uint32_t ntp_now);
  // Round trips this long are a block computed against a wrong or wrapped
  // timestamp, not a path (seen: 1500 s).
  static constexpr double kMaxRttMs = 3000.0;
  // The round-trip time the report blocks of one compound packet measure:
  // the largest of those that echo one of our sender reports (audio and
  // video cross the same path; the larger is the safe one for a deadline),
  // nullopt when none does.
  static std::optional<double> round_trip_ms(const std::vector<ReportBlock>& blocks);
  // The middle 32 bits of the NTP time of the wall clock now.
  static uint32_t ntp_now_short();

 private:
  static void on_receiving_rtcp(GObject* session, GstBuffer* buffer, gpointer data);
  void deliver(int64_t now_us, Parsed p);

  const int id_;
  GstElement* webrtcbin_;  // borrowed
  Events events_;
  GMainContext* ctx_;
  Lifetime lifetime_ = make_lifetime();
  GRef<GObject> session_;  // the internal RTPSession
  SignalConnection rtcp_signal_;
  Counts counts_;  // main context
  bool logged_inputs_ = false;
};

}  // namespace callagent::media
