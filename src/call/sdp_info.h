#pragma once
// The few facts the call layer needs from an SDP text, without GStreamer:
// the origin's session id (glare tie-break), the ICE ufrag (tells a
// duplicate offer of the same session from a new peer connection's offer),
// and which media kinds it carries.

#include <optional>
#include <string>
#include <string_view>

namespace callagent::call {

struct SdpInfo {
  std::string session_id;  // from o=, decimal digits as sent
  std::string ice_ufrag;   // first a=ice-ufrag
  bool has_audio = false;
  bool has_video = false;
};

std::optional<SdpInfo> parse_sdp_info(std::string_view sdp);

// Numeric comparison of two decimal session ids of any length: <0, 0, >0.
int compare_session_ids(std::string_view a, std::string_view b);

}  // namespace callagent::call
