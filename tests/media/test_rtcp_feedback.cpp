// RtcpFeedback::parse on hand-made compound RTCP packets: report blocks
// (fraction lost, RTT from LSR/DLSR, modulo 2^32) and REMB, which
// GStreamer does not parse. Core GStreamer and its RTP library only.
#include "media/rtcp_feedback.h"
#include "media/retransmission.h"

#include <catch2/catch.hpp>
#include <gst/rtp/rtp.h>

#include <cstring>

using callagent::media::RtcpFeedback;

namespace {
struct GstInit {
  GstInit() { gst_init(nullptr, nullptr); }
};
const GstInit gst_once;

GstBuffer* new_rtcp() { return gst_rtcp_buffer_new(1400); }
}  // namespace

TEST_CASE("rtcp feedback: report blocks with loss and RTT", "[rtcp][unit]") {
  GstBuffer* buf = new_rtcp();
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  REQUIRE(gst_rtcp_buffer_map(buf, GST_MAP_READWRITE, &rtcp));
  GstRTCPPacket p;
  REQUIRE(gst_rtcp_buffer_add_packet(&rtcp, GST_RTCP_TYPE_RR, &p));
  gst_rtcp_packet_rr_set_ssrc(&p, 0x1111);
  // 64/256 = 25 % lost; LSR 0x00010000 (1 s), DLSR 0x00008000 (0.5 s).
  REQUIRE(gst_rtcp_packet_add_rb(&p, 0xabcd, 64, 100, 5000, 30, 0x00010000, 0x00008000));
  // Wraps around 2^32: LSR just below it, arrival just after.
  REQUIRE(gst_rtcp_packet_add_rb(&p, 0xbeef, 0, 0, 10, 0, 0xffff8000, 0x00004000));
  // No LSR: no sender report seen yet, no RTT.
  REQUIRE(gst_rtcp_packet_add_rb(&p, 0xcafe, 255, 7, 10, 0, 0, 0));
  gst_rtcp_buffer_unmap(&rtcp);

  // Arrival at 1.75 s (NTP 16.16): RTT = 1.75 - 1 - 0.5 = 250 ms.
  auto parsed = RtcpFeedback::parse(buf, 0x0001c000);
  REQUIRE(parsed.blocks.size() == 3);
  CHECK(parsed.blocks[0].sender_ssrc == 0x1111);
  CHECK(parsed.blocks[0].ssrc == 0xabcd);
  CHECK(parsed.blocks[0].fraction_lost == Approx(0.25));
  CHECK(parsed.blocks[0].packets_lost == 100);
  REQUIRE(parsed.blocks[0].rtt_ms);
  CHECK(*parsed.blocks[0].rtt_ms == Approx(250.0));
  auto wrapped = RtcpFeedback::parse(buf, 0x00004000);  // 0.25 s after the wrap
  REQUIRE(wrapped.blocks[1].rtt_ms);
  CHECK(*wrapped.blocks[1].rtt_ms == Approx(500.0));  // 0.25 - (-0.5) - 0.25
  CHECK_FALSE(parsed.blocks[2].rtt_ms);
  CHECK(parsed.blocks[2].fraction_lost == Approx(255.0 / 256.0));
  CHECK(parsed.counts.report_blocks == 3);
  CHECK(parsed.rembs.empty());
  gst_buffer_unref(buf);
}

TEST_CASE("rtcp feedback: the round trip of a compound packet, absurd values dropped", "[rtcp][unit]") {
  GstBuffer* buf = new_rtcp();
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  REQUIRE(gst_rtcp_buffer_map(buf, GST_MAP_READWRITE, &rtcp));
  GstRTCPPacket p;
  REQUIRE(gst_rtcp_buffer_add_packet(&rtcp, GST_RTCP_TYPE_RR, &p));
  gst_rtcp_packet_rr_set_ssrc(&p, 0x1111);
  // Video and audio blocks: 250 ms and 200 ms.
  REQUIRE(gst_rtcp_packet_add_rb(&p, 0xabcd, 0, 0, 10, 0, 0x00010000, 0x00008000));
  REQUIRE(gst_rtcp_packet_add_rb(&p, 0xabce, 0, 0, 10, 0, 0x00010000, 0x00008ccd));
  // Echoes a sender report of an hour ago: no RTT.
  REQUIRE(gst_rtcp_packet_add_rb(&p, 0xabcf, 0, 0, 10, 0, 0x00010000 - (3600u << 16), 0));
  gst_rtcp_buffer_unmap(&rtcp);

  auto parsed = RtcpFeedback::parse(buf, 0x0001c000);
  REQUIRE(parsed.blocks.size() == 3);
  CHECK_FALSE(parsed.blocks[2].rtt_ms);
  auto rtt = RtcpFeedback::round_trip_ms(parsed.blocks);
  REQUIRE(rtt);
  CHECK(*rtt == Approx(250.0));
  parsed.blocks.erase(parsed.blocks.begin(), parsed.blocks.begin() + 2);
  CHECK_FALSE(RtcpFeedback::round_trip_ms(parsed.blocks));
  gst_buffer_unref(buf);
}

TEST_CASE("rtcp feedback: REMB, PLI, NACK and TWCC counted", "[rtcp][unit]") {
  GstBuffer* buf = new_rtcp();
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  REQUIRE(gst_rtcp_buffer_map(buf, GST_MAP_READWRITE, &rtcp));
  GstRTCPPacket p;
  REQUIRE(gst_rtcp_buffer_add_packet(&rtcp, GST_RTCP_TYPE_PSFB, &p));
  gst_rtcp_packet_fb_set_type(&p, GST_RTCP_PSFB_TYPE_AFB);
  gst_rtcp_packet_fb_set_sender_ssrc(&p, 0x2222);
  gst_rtcp_packet_fb_set_media_ssrc(&p, 0);
  // "REMB", 2 SSRCs, exponent 3, mantissa 150000: 1.2 Mbit/s.
  REQUIRE(gst_rtcp_packet_fb_set_fci_length(&p, 4));
  guint8* fci = gst_rtcp_packet_fb_get_fci(&p);
  const uint32_t mantissa = 150000, exp = 3;
  const guint8 remb[16] = {'R', 'E', 'M', 'B', 2,
                           static_cast<guint8>((exp << 2) | (mantissa >> 16)),
                           static_cast<guint8>((mantissa >> 8) & 0xff), static_cast<guint8>(mantissa & 0xff),
                           0, 0, 0xab, 0xcd, 0, 0, 0xbe, 0xef};
  memcpy(fci, remb, sizeof remb);
  REQUIRE(gst_rtcp_buffer_add_packet(&rtcp, GST_RTCP_TYPE_PSFB, &p));
  gst_rtcp_packet_fb_set_type(&p, GST_RTCP_PSFB_TYPE_PLI);
  REQUIRE(gst_rtcp_buffer_add_packet(&rtcp, GST_RTCP_TYPE_RTPFB, &p));
  gst_rtcp_packet_fb_set_type(&p, GST_RTCP_RTPFB_TYPE_NACK);
  REQUIRE(gst_rtcp_packet_fb_set_fci_length(&p, 1));
  REQUIRE(gst_rtcp_buffer_add_packet(&rtcp, GST_RTCP_TYPE_RTPFB, &p));
  gst_rtcp_packet_fb_set_type(&p, static_cast<GstRTCPFBType>(15));  // transport-wide CC
  REQUIRE(gst_rtcp_packet_fb_set_fci_length(&p, 2));
  gst_rtcp_buffer_unmap(&rtcp);

  auto parsed = RtcpFeedback::parse(buf, 0);
  REQUIRE(parsed.rembs.size() == 1);
  CHECK(parsed.rembs[0].sender_ssrc == 0x2222);
  CHECK(parsed.rembs[0].bps == 1'200'000);
  CHECK(parsed.rembs[0].ssrcs == std::vector<uint32_t>{0xabcd, 0xbeef});
  CHECK(parsed.counts.remb == 1);
  CHECK(parsed.counts.pli == 1);
  CHECK(parsed.counts.nack == 1);
  CHECK(parsed.counts.transport_cc == 1);
  CHECK(parsed.blocks.empty());
  gst_buffer_unref(buf);
}

TEST_CASE("retransmission: a NACK may always wait 30 ms for an RTCP packet", "[rtcp][unit]") {
  using callagent::media::Retransmission;
  // A LAN: the RTT leaves plenty (60 - 5 - 1 = 54 ms of wait).
  CHECK(Retransmission::nack_avg_rtt_ms(1, 60, 5) == 1);
  // A long path: the RTT itself, the repair still fits (550 - 20 - 200).
  CHECK(Retransmission::nack_avg_rtt_ms(200, 550, 20) == 200);
  // An RTT that would leave less than 30 ms: shortened to leave 30.
  CHECK(Retransmission::nack_avg_rtt_ms(50, 60, 5) == 25);
  // A late retry: nothing left to wait for beyond 30 ms, avg-rtt 0.
  CHECK(Retransmission::nack_avg_rtt_ms(20, 60, 40) == 0);
  CHECK(Retransmission::nack_avg_rtt_ms(20, 60, 90) == 0);
  // Before any RTT is known.
  CHECK(Retransmission::nack_avg_rtt_ms(0, 60, 5) == 0);
}

TEST_CASE("retransmission: a request is repeated every half RTT, at least 30 ms apart", "[rtcp][unit]") {
  using callagent::media::Retransmission;
  CHECK(Retransmission::retry_timeout_ms(1) == 30);     // a LAN: the floor
  CHECK(Retransmission::retry_timeout_ms(59) == 30);
  CHECK(Retransmission::retry_timeout_ms(100) == 50);
  // 200 ms: requests at 0, 110, 220 ms after the gap; the third's answer
  // (~440 ms) is still inside a 2 x RTT + 50 ms latency (450 ms).
  CHECK(Retransmission::retry_timeout_ms(220) == 110);
}
