#pragma once
// The one SDP reader of the project: what the call layer and the media layer
// need to know about an offer or answer, read from its text without
// GStreamer (so the call layer and the fuzzer can use it).
//
// The call layer reads the origin's session id (glare tie-break), the ICE
// ufrag (a repeated offer of the same session vs. a new peer connection) and
// which media kinds are offered. The media layer reads, per m-line, its
// kind, mid, direction, the payload type of each codec, their RTCP feedback,
// RTX pairings and header extensions (NACK/RTX, TWCC negotiation).
//
// Lenient like browsers are: unknown lines are skipped; a text without an
// origin line (o=) or without any m-line is not an SDP.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace callagent::signaling {

struct SdpCodec {
  int payload_type = 0;
  std::string encoding;  // upper case: "VP8", "OPUS", "RTX", "RED", "ULPFEC", "H264"
  int clock_rate = 0;
  int channels = 0;                            // 0 = not given
  std::map<std::string, std::string> fmtp;     // "apt" -> "96", "packetization-mode" -> "1"
  std::set<std::string> feedback;              // "nack", "nack pli", "ccm fir", "transport-cc", "goog-remb"
};

struct SdpMediaSection {
  int index = 0;
  std::string kind;  // "video", "audio", "application"
  std::string mid;
  bool rejected = false;        // port 0 and not bundle-only
  bool remote_sends = true;     // sendrecv or sendonly, from the writer's view
  bool remote_receives = true;  // sendrecv or recvonly
  std::vector<SdpCodec> codecs;                 // in m-line order
  std::map<int, std::string> extmaps;           // id -> URI
  std::vector<uint32_t> ssrcs;                  // a=ssrc ids, in order, unique

  // The first payload type of an encoding we can use (H.264 only with
  // packetization-mode=1), or nullopt.
  std::optional<int> payload_type(std::string_view encoding) const;
  const SdpCodec* codec(int payload_type) const;
  // The RTX payload type paired (apt=) with `payload_type`, or nullopt.
  std::optional<int> rtx_for(int payload_type) const;
  // The id of a header extension by URI, or nullopt.
  std::optional<int> extmap_id(std::string_view uri) const;
};

struct Sdp {
  std::string session_id;  // from o=, decimal digits as sent
  std::string origin_username;  // o=<username>: "-", "mozilla...THIS_IS_SDPARTA-99.0"
  std::string origin_address;   // o=... <unicast-address>: "127.0.0.1", "0.0.0.0"
  std::string session_name;     // s=: "-", "callagent 0.1.0"
  std::string ice_ufrag;   // first a=ice-ufrag (session or media level)
  std::vector<SdpMediaSection> media;

  bool has_kind(std::string_view kind) const;
  // The first non-rejected m-line of a kind, or nullptr.
  const SdpMediaSection* find_kind(std::string_view kind) const;
  std::optional<int> mline_for_mid(std::string_view mid) const;
};

std::optional<Sdp> parse_sdp(std::string_view text);

// What wrote a description, as far as its session lines tell, or "" when
// they do not:
//   "callagent 0.1.0"      s= names it (ours: WebrtcEndpoint sets it);
//   "Firefox"              o=mozilla...THIS_IS_SDPARTA-<v> (the version is
//                          frozen at 99.0 in current releases: not reported);
//   "libwebrtc"            o=- <id> <n> IN IP4 127.0.0.1: Chromium, Chrome,
//                          Edge, Safari and native libwebrtc apps alike;
//   "GStreamer webrtcbin"  o=- <id> <n> IN IP4 0.0.0.0 (another GStreamer
//                          application).
std::string implementation_of(const Sdp& sdp);

// Numeric comparison of two decimal session ids of any length: <0, 0, >0.
int compare_session_ids(std::string_view a, std::string_view b);

}  // namespace callagent::signaling
