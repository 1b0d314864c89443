#pragma once
// What PeerConnection needs to know about a remote SDP (offer or answer):
// per m-line its kind, mid, direction and the payload types of the codecs
// we handle; and candidate clean-up for what browsers send.

#include "media/media_options.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace callagent::media {

struct SdpMedia {
  int index = 0;
  std::string kind;  // "video", "audio", "application"
  std::string mid;
  bool rejected = false;  // port 0
  bool remote_sends = true;     // sendrecv or sendonly (from the remote's view)
  bool remote_receives = true;  // sendrecv or recvonly
  std::map<std::string, int> payload_types;  // upper-case encoding name -> first PT
};

struct SdpInfo {
  std::vector<SdpMedia> media;
  const SdpMedia* find_kind(std::string_view kind) const;
  std::optional<int> mline_for_mid(std::string_view mid) const;
};

std::optional<SdpInfo> parse_sdp_info(const std::string& sdp_text);

// Reduces a browser candidate line to the RFC 5245 fields libnice parses
// (drops "generation", "ufrag", "network-id", "network-cost", ...). Returns
// "" for an empty or unusable candidate.
std::string sanitize_candidate(std::string_view candidate);

// The connection address of a candidate line ("127.0.0.1"), or "".
std::string candidate_address(std::string_view candidate);

}  // namespace callagent::media
