#include "signaling/sdp.h"

#include <catch2/catch.hpp>

using namespace callagent::signaling;

namespace {
// Shaped like a Chromium offer: BUNDLE, RTX with apt, rtcp-fb, TWCC extmap.
const char* kOffer =
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=mid:0\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=sendrecv\r\na=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:0 PCMU/8000\r\na=ssrc:11 cname:x\r\na=ssrc:11 msid:a b\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 120 121 124 125\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=recvonly\r\n"
    "a=extmap:3/sendrecv http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=rtpmap:120 VP8/90000\r\na=rtcp-fb:120 nack\r\na=rtcp-fb:120 nack pli\r\na=rtcp-fb:120 ccm fir\r\n"
    "a=rtpmap:121 rtx/90000\r\na=fmtp:121 apt=120\r\na=rtpmap:124 H264/90000\r\n"
    "a=fmtp:124 packetization-mode=0\r\na=rtpmap:125 H264/90000\r\n"
    "a=fmtp:125 packetization-mode=1;profile-level-id=42e01f\r\na=rtcp-fb:* goog-remb\r\n"
    "a=ssrc-group:FID 21 22\r\na=ssrc:21 cname:x\r\na=ssrc:22 cname:x\r\n"
    "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:2\r\n";
}  // namespace

TEST_CASE("sdp: session facts", "[sdp]") {
  auto s = parse_sdp(kOffer);
  REQUIRE(s);
  CHECK(s->session_id == "4611731400430051336");
  CHECK(s->ice_ufrag == "abcd");
  REQUIRE(s->media.size() == 3);
  CHECK(s->has_kind("audio"));
  CHECK(s->has_kind("video"));
  CHECK(s->mline_for_mid("1") == 1);
  CHECK_FALSE(s->mline_for_mid("9"));
  CHECK(s->media[2].rejected);
  CHECK(s->find_kind("application") == nullptr);
}

TEST_CASE("sdp: codecs, feedback, rtx and extensions per m-line", "[sdp]") {
  auto s = parse_sdp(kOffer);
  REQUIRE(s);
  const SdpMediaSection* a = s->find_kind("audio");
  REQUIRE(a);
  CHECK(a->payload_type("opus") == 111);
  CHECK(a->remote_sends);
  CHECK(a->codec(111)->clock_rate == 48000);
  CHECK(a->codec(111)->channels == 2);
  CHECK(a->codec(111)->fmtp.at("useinbandfec") == "1");
  CHECK(a->codec(111)->feedback.count("transport-cc") == 1);
  CHECK(a->codec(111)->feedback.count("nack") == 0);
  CHECK(a->ssrcs == std::vector<uint32_t>{11});
  const SdpMediaSection* v = s->find_kind("video");
  REQUIRE(v);
  CHECK(v->index == 1);
  CHECK(v->payload_type("VP8") == 120);
  CHECK(v->payload_type("H264") == 125);  // packetization-mode=1 only
  CHECK_FALSE(v->remote_sends);
  CHECK(v->remote_receives);
  CHECK(v->rtx_for(120) == 121);
  CHECK_FALSE(v->rtx_for(125));
  CHECK(v->codec(120)->feedback.count("nack") == 1);
  CHECK(v->codec(120)->feedback.count("nack pli") == 1);
  CHECK(v->codec(120)->feedback.count("ccm fir") == 1);
  CHECK(v->codec(125)->feedback.count("goog-remb") == 1);  // the wildcard
  CHECK(v->extmap_id("http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01") == 3);
  CHECK(v->ssrcs == std::vector<uint32_t>{21, 22});
}

TEST_CASE("sdp: session-level direction and bundle-only", "[sdp]") {
  auto s = parse_sdp(
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=sendonly\r\n"
      "m=audio 9 RTP/AVP 0\r\n"
      "m=video 0 RTP/AVP 96\r\na=bundle-only\r\na=rtpmap:96 VP8/90000\r\n");
  REQUIRE(s);
  CHECK(s->media[0].remote_sends);
  CHECK_FALSE(s->media[0].remote_receives);
  CHECK_FALSE(s->media[1].rejected);
}

TEST_CASE("sdp: what is not an SDP", "[sdp]") {
  CHECK_FALSE(parse_sdp(""));
  CHECK_FALSE(parse_sdp("not sdp"));
  CHECK_FALSE(parse_sdp("v=0\r\n"));
  CHECK_FALSE(parse_sdp("o=- x1 2 IN IP4 0.0.0.0\r\n"));
  CHECK(parse_sdp("o=- 1 2 IN IP4 0.0.0.0\nm=video 9 RTP/AVP 96 garbage\na=rtpmap:xx\na=fmtp:96\n"));
}

TEST_CASE("sdp: what wrote it, from its session lines", "[sdp]") {
  // The first lines of real offers: Chromium 120+, Firefox ESR 153 (its
  // marker says 99.0), webrtcbin 1.22, and ours.
  auto of = [](const char* head) {
    auto s = parse_sdp(std::string(head) + "t=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n");
    REQUIRE(s);
    return implementation_of(*s);
  };
  CHECK(of("v=0\r\no=- 604068011188191467 2 IN IP4 127.0.0.1\r\ns=-\r\n") == "libwebrtc");
  CHECK(of("v=0\r\no=mozilla...THIS_IS_SDPARTA-99.0 3280562485918905682 0 IN IP4 0.0.0.0\r\ns=-\r\n") ==
        "Firefox");
  CHECK(of("v=0\r\no=- 1234 0 IN IP4 0.0.0.0\r\ns=-\r\n") == "GStreamer webrtcbin");
  CHECK(of("v=0\r\no=- 1234 0 IN IP4 0.0.0.0\r\ns=callagent 0.1.0\r\n") == "callagent 0.1.0");
  CHECK(of("v=0\r\no=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\r\ns=SDP Seminar\r\n").empty());
  auto s = parse_sdp("v=0\r\no=mozilla...THIS_IS_SDPARTA-99.0 1 0 IN IP4 0.0.0.0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\n");
  REQUIRE(s);
  CHECK(s->origin_username == "mozilla...THIS_IS_SDPARTA-99.0");
  CHECK(s->origin_address == "0.0.0.0");
  CHECK(s->session_name == "-");
}
