#pragma once
// RemoteCandidateQueue: the partner's ICE candidates that have no peer
// connection to go to yet. It is the only queue of remote candidates in the
// program: the media endpoint hands every candidate to webrtcbin at once
// (webrtcbin itself holds those added before the remote description).
//
// The Call fills it while it cannot tell which peer connection a candidate
// is for: before the offer that creates the peer, while our offer waits for
// its answer, or for a partner's offer held back by glare. Right after the
// Call hands a peer the partner's description, it takes the candidates of
// that description's ICE session (and those that do not say theirs); the
// others belong to a session that is gone and are dropped.

#include "signaling/protocol.h"

#include <cstddef>
#include <string>
#include <vector>

namespace callagent::call {

// The ICE ufrag a candidate belongs to: its usernameFragment, or the
// "ufrag X" attribute Chromium appends to the candidate line; empty when
// the candidate does not say.
std::string candidate_ufrag(const signaling::IceCandidate& c);

class RemoteCandidateQueue {
 public:
  // Bounded: a partner flooding candidates for nothing cannot grow it.
  static constexpr std::size_t kMaxCandidates = 256;

  void push(const signaling::IceCandidate& c);
  // Empties the queue, returning the candidates of ICE session `ufrag` in
  // arrival order (all of them when `ufrag` is empty).
  std::vector<signaling::IceCandidate> take(const std::string& ufrag);
  void clear() { queued_.clear(); }
  std::size_t size() const { return queued_.size(); }

 private:
  std::vector<signaling::IceCandidate> queued_;
};

}  // namespace callagent::call
