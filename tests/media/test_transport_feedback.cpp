// TWCC: the conversion of rtpsession's per-packet feedback events and the
// transport-cc extmap helpers (GStreamer core only, no pipeline).

#include "media/header_extensions.h"
#include "media/transport_feedback.h"
#include "media_test_util.h"
#include "signaling/sdp.h"

#include <string>

using namespace callagent;
using namespace callagent::media;
using callagent::media::test::init_gst;

namespace {
// One packet of an RTPTWCCPackets event, as GStreamer 1.22's rtpsession
// writes it (field names and types read from a real event).
GstStructure* packet(guint seqnum, guint64 local_ts, guint64 remote_ts, guint size, bool lost) {
  return gst_structure_new("RTPTWCCPacket", "seqnum", G_TYPE_UINT, seqnum, "local-ts", G_TYPE_UINT64, local_ts,
                           "remote-ts", G_TYPE_UINT64, remote_ts, "payload-type", G_TYPE_UCHAR, 96, "size",
                           G_TYPE_UINT, size, "lost", G_TYPE_BOOLEAN, lost ? TRUE : FALSE, nullptr);
}

// The event's structure with a GValueArray of packets, like 1.22's.
GstStructure* event_structure(std::initializer_list<GstStructure*> packets) {
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  GValueArray* arr = g_value_array_new(0);
  for (GstStructure* p : packets) {
    GValue v = G_VALUE_INIT;
    g_value_init(&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed(&v, p);
    g_value_array_append(arr, &v);
    g_value_unset(&v);
  }
  GstStructure* s = gst_structure_new_empty("RTPTWCCPackets");
  GValue av = G_VALUE_INIT;
  g_value_init(&av, g_value_array_get_type());
  g_value_take_boxed(&av, arr);
  gst_structure_take_value(s, "packets", &av);
  G_GNUC_END_IGNORE_DEPRECATIONS
  return s;
}
}  // namespace

TEST_CASE("TWCC feedback events become PacketResults", "[media][units][twcc]") {
  init_gst();
  TransportFeedback::RemoteClock clock;
  GstStructure* s = event_structure({
      packet(10, 5'000'000'000, 700'000'000, 1188, false),
      packet(11, 5'000'400'000, GST_CLOCK_TIME_NONE, 1188, true),
      packet(12, GST_CLOCK_TIME_NONE, 702'000'000, 0, false),  // not one rtpsession could match
      packet(13, 5'033'000'000, 733'250'000, 90, false),
  });
  auto c = TransportFeedback::convert(s, clock);
  gst_structure_free(s);
  CHECK(c.reported == 4);
  CHECK(c.lost == 1);
  CHECK(c.unmatched == 1);
  REQUIRE(c.packets.size() == 3);
  CHECK(c.packets[0].send_us == 5'000'000);
  REQUIRE(c.packets[0].arrival_us);
  CHECK(*c.packets[0].arrival_us == 700'000);
  CHECK(c.packets[0].size_bytes == 1200);  // + the fixed RTP header
  CHECK(c.packets[1].send_us == 5'000'400);
  CHECK_FALSE(c.packets[1].arrival_us);
  CHECK(*c.packets[2].arrival_us == 733'250);
  CHECK(c.packets[2].size_bytes == 102);

  // Anything else converts to nothing.
  GstStructure* other = gst_structure_new_empty("RTPTWCCStats");
  auto none = TransportFeedback::convert(other, clock);
  gst_structure_free(other);
  CHECK(none.reported == 0);
  CHECK(none.packets.empty());
}

TEST_CASE("the partner's 24-bit reference time is unwrapped", "[media][units][twcc]") {
  constexpr int64_t W = TransportFeedback::RemoteClock::kWrapNs;
  TransportFeedback::RemoteClock clock;
  const uint64_t before = static_cast<uint64_t>(W) - 50'000'000;  // 50 ms before the wrap
  CHECK(clock.unwrap(before) == W - 50'000'000);
  // The next feedback's reference time wrapped to near 0: time goes on.
  CHECK(clock.unwrap(14'000'000) == W + 14'000'000);
  // A late report from before the wrap stays before it.
  CHECK(clock.unwrap(before + 10'000'000) == W - 40'000'000);
  CHECK(clock.unwrap(30'000'000) == W + 30'000'000);
  // Within one feedback message, deltas may carry past the wrap value.
  CHECK(clock.unwrap(static_cast<uint64_t>(W) + 20'000'000) == W + 20'000'000);
}

TEST_CASE("the transport-cc id comes from the partner's description", "[media][units][twcc]") {
  init_gst();
  const std::string sdp =
      "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n"
      "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
      "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=rtpmap:96 VP8/90000\r\n"
      "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n";
  auto parsed = signaling::parse_sdp(sdp);
  REQUIRE(parsed);
  CHECK(twcc_id(*parsed) == 3);
  auto without = signaling::parse_sdp(
      "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n");
  REQUIRE(without);
  CHECK_FALSE(twcc_id(*without));

  GstCaps* caps = gst_caps_from_string("application/x-rtp,media=video,encoding-name=VP8,payload=96");
  add_twcc_extmap(caps, 3);
  const char* uri = gst_structure_get_string(gst_caps_get_structure(caps, 0), "extmap-3");
  REQUIRE(uri);
  CHECK(std::string(uri) == kTwccUri);
  gboolean fb = FALSE;
  CHECK(gst_structure_get_boolean(gst_caps_get_structure(caps, 0), "rtcp-fb-transport-cc", &fb));
  CHECK(fb);
  gst_caps_unref(caps);
}
