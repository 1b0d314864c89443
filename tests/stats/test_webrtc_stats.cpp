// get-stats replies built by hand in the shape GStreamer 1.22's webrtcbin
// produces (field names and types as dumped from real calls).
#include "stats/stats_collector.h"
#include "stats/webrtc_stats.h"

#include <catch2/catch.hpp>
#include <gst/webrtc/webrtc.h>

using namespace callagent::stats;

namespace {
void init() {
  static bool done = [] {
    gst_init(nullptr, nullptr);
    return true;
  }();
  (void)done;
}

GstStructure* entry(const char* id, GstWebRTCStatsType type) {
  return gst_structure_new("application/x-webrtc-stats", "type", GST_TYPE_WEBRTC_STATS_TYPE, type,
                           "id", G_TYPE_STRING, id, "timestamp", G_TYPE_DOUBLE, 1000.0, nullptr);
}

void add(GstStructure* reply, GstStructure* e) {
  gst_structure_set(reply, gst_structure_get_string(e, "id"), GST_TYPE_STRUCTURE, e, nullptr);
  gst_structure_free(e);
}

GstStructure* reply(uint64_t vbytes_in, int64_t vlost_in, uint64_t vpackets_in, uint64_t vbytes_out) {
  GstStructure* r = gst_structure_new_empty("application/x-webrtc-stats");
  auto* vc = entry("codec-video", GST_WEBRTC_STATS_CODEC);
  gst_structure_set(vc, "payload-type", G_TYPE_UINT, 96u, "clock-rate", G_TYPE_UINT, 90000u, "mime-type",
                    G_TYPE_STRING, "video/VP8", nullptr);
  add(r, vc);
  auto* ac = entry("codec-audio", GST_WEBRTC_STATS_CODEC);
  gst_structure_set(ac, "payload-type", G_TYPE_UINT, 111u, "clock-rate", G_TYPE_UINT, 48000u, nullptr);
  add(r, ac);
  auto* vin = entry("rtp-inbound-video", GST_WEBRTC_STATS_INBOUND_RTP);
  gst_structure_set(vin, "ssrc", G_TYPE_UINT, 1111u, "codec-id", G_TYPE_STRING, "codec-video", "bytes-received",
                    G_TYPE_UINT64, vbytes_in, "packets-received", G_TYPE_UINT64, vpackets_in, "packets-lost",
                    G_TYPE_INT64, vlost_in, "jitter", G_TYPE_DOUBLE, 0.004, "nack-count", G_TYPE_UINT, 3u,
                    "pli-count", G_TYPE_UINT, 2u, "fir-count", G_TYPE_UINT, 0u, nullptr);
  add(r, vin);
  auto* ain = entry("rtp-inbound-audio", GST_WEBRTC_STATS_INBOUND_RTP);
  gst_structure_set(ain, "ssrc", G_TYPE_UINT, 2222u, "codec-id", G_TYPE_STRING, "codec-audio", "bytes-received",
                    G_TYPE_UINT64, G_GUINT64_CONSTANT(4000), "packets-received", G_TYPE_UINT64,
                    G_GUINT64_CONSTANT(50), "packets-lost", G_TYPE_INT64, G_GINT64_CONSTANT(0), nullptr);
  add(r, ain);
  auto* rin = entry("rtp-remote-inbound-video", GST_WEBRTC_STATS_REMOTE_INBOUND_RTP);
  gst_structure_set(rin, "packets-lost", G_TYPE_INT64, G_GINT64_CONSTANT(7), "jitter", G_TYPE_DOUBLE, 0.002,
                    "round-trip-time", G_TYPE_DOUBLE, 0.0125, "fraction-lost", G_TYPE_DOUBLE, 0.01, nullptr);
  add(r, rin);
  auto* vout = entry("rtp-outbound-video", GST_WEBRTC_STATS_OUTBOUND_RTP);
  gst_structure_set(vout, "ssrc", G_TYPE_UINT, 3333u, "codec-id", G_TYPE_STRING, "codec-video", "bytes-sent",
                    G_TYPE_UINT64, vbytes_out, "packets-sent", G_TYPE_UINT64, G_GUINT64_CONSTANT(900),
                    "remote-id", G_TYPE_STRING, "rtp-remote-inbound-video", "pli-count", G_TYPE_UINT, 1u,
                    nullptr);
  add(r, vout);
  auto* pair = entry("pair-1", GST_WEBRTC_STATS_CANDIDATE_PAIR);
  gst_structure_set(pair, "local-candidate-id", G_TYPE_STRING, "cand-l", "remote-candidate-id", G_TYPE_STRING,
                    "cand-r", nullptr);
  add(r, pair);
  auto* l = entry("cand-l", GST_WEBRTC_STATS_LOCAL_CANDIDATE);
  gst_structure_set(l, "address", G_TYPE_STRING, "127.0.0.1", "port", G_TYPE_UINT, 40000u, "candidate-type",
                    G_TYPE_STRING, "host", "protocol", G_TYPE_STRING, "udp", nullptr);
  add(r, l);
  auto* rc = entry("cand-r", GST_WEBRTC_STATS_REMOTE_CANDIDATE);
  gst_structure_set(rc, "address", G_TYPE_STRING, "127.0.0.1", "port", G_TYPE_UINT, 40001u, "candidate-type",
                    G_TYPE_STRING, "host", "protocol", G_TYPE_STRING, "udp", nullptr);
  add(r, rc);
  return r;
}
}  // namespace

TEST_CASE("get-stats: streams, codecs, RTCP and the candidate pair", "[stats][webrtc]") {
  init();
  GstStructure* r = reply(100000, 2, 100, 200000);
  RawStats raw = parse_webrtc_stats(r);
  gst_structure_free(r);
  REQUIRE(raw.inbound.size() == 2);
  REQUIRE(raw.outbound.size() == 1);
  const auto& v = raw.inbound[0];
  CHECK(v.video);
  CHECK(v.codec == "VP8");
  CHECK(v.bytes == 100000);
  CHECK(v.packets_lost == 2);
  CHECK(*v.jitter_s == Approx(0.004));
  CHECK(v.nack == 3);
  CHECK(v.pli == 2);
  const auto& a = raw.inbound[1];
  CHECK_FALSE(a.video);  // from the codec's clock rate
  CHECK(a.codec == "OPUS");
  const auto& o = raw.outbound[0];
  CHECK(o.video);
  CHECK(o.packets_lost == 7);
  CHECK(*o.rtt_s == Approx(0.0125));
  CHECK(*o.fraction_lost == Approx(0.01));
  CHECK(o.pli == 1);
  REQUIRE(raw.pair);
  CHECK(raw.pair->local_type == "host");
  CHECK(raw.pair->protocol == "udp");
  CHECK(raw.pair->local_address == "127.0.0.1:40000");
  CHECK(raw.pair->remote_address == "127.0.0.1:40001");
}

// A relayed pair as 1.22 reports it: the candidate entries' types swapped
// (the local one says remote-candidate), the relay's transport on the
// local candidate, "none" when webrtcbin does not know it.
GstStructure* relay_reply(const char* relay_protocol) {
  GstStructure* r = gst_structure_new_empty("application/x-webrtc-stats");
  auto* pair = entry("ice-candidate-pair_t0", GST_WEBRTC_STATS_CANDIDATE_PAIR);
  gst_structure_set(pair, "local-candidate-id", G_TYPE_STRING, "ice-candidate-local_1_10.77.3.2_49160",
                    "remote-candidate-id", G_TYPE_STRING, "ice-candidate-remote_1_10.77.2.2_50001", nullptr);
  add(r, pair);
  auto* l = entry("ice-candidate-local_1_10.77.3.2_49160", GST_WEBRTC_STATS_REMOTE_CANDIDATE);
  gst_structure_set(l, "address", G_TYPE_STRING, "10.77.3.2", "port", G_TYPE_UINT, 49160u, "candidate-type",
                    G_TYPE_STRING, "relay", "protocol", G_TYPE_STRING, "udp", "relay-protocol", G_TYPE_STRING,
                    relay_protocol, "url", G_TYPE_STRING, "10.77.3.2", nullptr);
  add(r, l);
  auto* rc = entry("ice-candidate-remote_1_10.77.2.2_50001", GST_WEBRTC_STATS_LOCAL_CANDIDATE);
  gst_structure_set(rc, "address", G_TYPE_STRING, "10.77.2.2", "port", G_TYPE_UINT, 50001u, "candidate-type",
                    G_TYPE_STRING, "host", "protocol", G_TYPE_STRING, "udp", nullptr);
  add(r, rc);
  return r;
}

TEST_CASE("get-stats: a relayed pair and its relay's transport", "[stats][webrtc]") {
  init();
  GstStructure* r = relay_reply("tls");
  RawStats raw = parse_webrtc_stats(r);
  gst_structure_free(r);
  REQUIRE(raw.pair);
  CHECK(raw.pair->local_type == "relay");
  CHECK(raw.pair->remote_type == "host");
  CHECK(raw.pair->protocol == "udp");
  CHECK(raw.pair->relay_protocol == "tls");
  CHECK(raw.pair->local_address == "10.77.3.2:49160");
  CHECK(describe(*raw.pair) == "relay/udp (TURN over tls) 10.77.3.2:49160 -> host/udp 10.77.2.2:50001");
  r = relay_reply("none");
  raw = parse_webrtc_stats(r);
  gst_structure_free(r);
  REQUIRE(raw.pair);
  CHECK(raw.pair->relay_protocol.empty());
  CHECK(describe(*raw.pair) == "relay/udp 10.77.3.2:49160 -> host/udp 10.77.2.2:50001");
}

TEST_CASE("get-stats: an empty or foreign reply gives nothing", "[stats][webrtc]") {
  init();
  CHECK(parse_webrtc_stats(nullptr).inbound.empty());
  GstStructure* r = gst_structure_new("application/x-webrtc-stats", "junk", G_TYPE_INT, 3, nullptr);
  auto raw = parse_webrtc_stats(r);
  gst_structure_free(r);
  CHECK(raw.inbound.empty());
  CHECK_FALSE(raw.pair);
}

TEST_CASE("snapshots: rates from deltas, probes fill frames", "[stats][webrtc]") {
  init();
  StatsCollector::Previous prev;
  prev.t_us = 0;
  GstStructure* r1 = reply(100000, 2, 100, 200000);
  GstStructure* r2 = reply(225000, 4, 198, 450000);
  ProbeFacts f1, f2;
  f1.video_frames_decoded = 30;
  f1.video_frames_received = 31;
  f1.video_frames_sent = 30;
  f2.video_frames_decoded = 60;
  f2.video_frames_received = 62;
  f2.video_frames_sent = 60;
  f2.video_width = 854;
  f2.video_height = 480;
  f2.out_width = 1280;
  f2.out_height = 720;
  f2.audio_sum_squares = 0.01 * 48000;
  f2.audio_samples = 48000;
  auto s1 = StatsCollector::build_snapshot(parse_webrtc_stats(r1), f1, prev, 1'000'000, 0);
  auto s2 = StatsCollector::build_snapshot(parse_webrtc_stats(r2), f2, prev, 2'000'000, 0);
  gst_structure_free(r1);
  gst_structure_free(r2);
  CHECK(s1.video_in.bitrate == 0);  // no previous poll
  CHECK(s2.t == Approx(2.0));
  CHECK(s2.interval == Approx(1.0));
  CHECK(s2.video_in.bitrate == Approx(125000 * 8));
  CHECK(s2.video_out.bitrate == Approx(250000 * 8));
  CHECK(*s2.video_in.loss_pct == Approx(100.0 * 2 / 100));
  CHECK(*s2.video_in.jitter_ms == Approx(4));
  CHECK(s2.video_in.fps == Approx(30));
  CHECK(s2.video_in.frames_dropped == 2);
  CHECK(s2.video_in.width == 854);
  CHECK(s2.video_out.fps == Approx(30));
  CHECK(s2.video_out.height == 720);
  CHECK(*s2.video_out.rtt_ms == Approx(12.5));
  CHECK(*s2.rtt_ms == Approx(12.5));
  CHECK(*s2.video_out.loss_pct == Approx(1.0));
  CHECK(*s2.audio_in.level_dbfs == Approx(-20.0));
  CHECK(s2.pair);
}

TEST_CASE("snapshots: RTT from our own RTCP reading wins, get-stats' impossible values are dropped",
          "[stats][webrtc]") {
  init();
  // rtpsession's round-trip-time for a block computed against another
  // clock (seen: 1526 s in a status line) or for one without LSR (0).
  for (double bogus : {1526.299, 0.0}) {
    StatsCollector::Previous prev;
    GstStructure* r = reply(100000, 2, 100, 200000);
    GstStructure* rin = nullptr;
    gst_structure_get(r, "rtp-remote-inbound-video", GST_TYPE_STRUCTURE, &rin, nullptr);
    REQUIRE(rin);
    gst_structure_set(rin, "round-trip-time", G_TYPE_DOUBLE, bogus, nullptr);
    gst_structure_set(r, "rtp-remote-inbound-video", GST_TYPE_STRUCTURE, rin, nullptr);
    gst_structure_free(rin);
    ProbeFacts f;
    auto s = StatsCollector::build_snapshot(parse_webrtc_stats(r), f, prev, 1'000'000, 0);
    CHECK_FALSE(s.video_out.rtt_ms);
    CHECK_FALSE(s.rtt_ms);
    // RtcpFeedback's value (a block that echoed our SR) is the call's RTT.
    f.rtt_ms = 7.0;
    auto s2 = StatsCollector::build_snapshot(parse_webrtc_stats(r), f, prev, 2'000'000, 0);
    gst_structure_free(r);
    REQUIRE(s2.rtt_ms);
    CHECK(*s2.rtt_ms == Approx(7.0));
    REQUIRE(s2.video_out.rtt_ms);
    CHECK(*s2.video_out.rtt_ms == Approx(7.0));
  }
}
