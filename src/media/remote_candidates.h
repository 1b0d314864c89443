#pragma once
// The partner's ICE candidates on their way into one webrtcbin: cleaned up
// (browser lines reduced to the fields libnice parses), deduplicated
// (Chromium sends each candidate once per sdpMid with BUNDLE), end-of-
// candidates dropped, the m-line found (from sdpMLineIndex, else from the
// sdpMid in the remote SDP), and "<uuid>.local" host names resolved through
// the system resolver (mDNS).
//
// UDP first: the partner's TCP candidates reach webrtcbin kTcpHoldMs after
// its first candidate, UDP ones at once. libnice (regular nomination, as
// webrtcbin uses it) nominates as soon as it holds ONE valid host-host
// pair, TCP or UDP, whichever answered first. On a lossy link a lost UDP
// check (retried 200 ms later) let a TCP pair win about one call in ten
// (measured: 5 % loss, agent <-> agent), and the call then ran over TCP:
// every loss a TCP retransmission, head-of-line blocking, no NACK. Held
// back a second, the UDP pairs have had their retries; where UDP is
// blocked the call comes up over TCP a second later.
//
// Otherwise no queue: every candidate is handed to webrtcbin at once, also
// before the remote description is set. webrtcbin 1.22 keeps candidates that come
// before both descriptions are in place in its own pending list
// (_add_ice_candidate_task -> pending_remote_ice_candidates) and applies
// them when the second description is set. Candidates that arrive before
// there is a peer at all wait in the Call.
//
// Owned by WebrtcEndpoint. Main context only (the resolver's replies come
// there too); close() drops lookups still in flight.

#include "common/gref.h"
#include "common/main_context.h"
#include "signaling/protocol.h"
#include "signaling/sdp.h"

#include <gst/gst.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace callagent::media {

class RemoteCandidates {
 public:
  RemoteCandidates(int peer_id, GstElement* webrtc);
  RemoteCandidates(const RemoteCandidates&) = delete;
  RemoteCandidates& operator=(const RemoteCandidates&) = delete;

  // `remote`: the partner's SDP once known (to map an sdpMid), else null.
  void add(const signaling::IceCandidate& c, const signaling::Sdp* remote);
  // No more candidates reach webrtcbin (pending mDNS lookups are dropped).
  void close();

 private:
  void resolve_mdns(std::string line, std::string name, int mline);
  void apply(int mline, const std::string& line);
  void release_tcp();

 public:
  static constexpr int kTcpHoldMs = 1000;

 private:
  const int peer_id_;
  GRef<GstElement> webrtc_;
  std::set<std::string> seen_;
  bool closed_ = false;
  bool tcp_released_ = false;
  std::vector<std::pair<int, std::string>> held_tcp_;  // (m-line, line)
  Timeout tcp_timer_;
  Lifetime lifetime_ = make_lifetime();
};

}  // namespace callagent::media
