#pragma once
// Candidate clean-up for what browsers send (the SDP itself is read by
// signaling/sdp.h).

#include <string>
#include <string_view>

namespace callagent::media {

// Reduces a browser candidate line to the RFC 5245 fields libnice parses
// (drops "generation", "ufrag", "network-id", "network-cost", ...). Returns
// "" for an empty or unusable candidate.
std::string sanitize_candidate(std::string_view candidate);

// The connection address of a candidate line ("127.0.0.1"), or "".
std::string candidate_address(std::string_view candidate);

// Whether a candidate line's transport is TCP (RFC 6544).
bool is_tcp_candidate(std::string_view candidate);

}  // namespace callagent::media
