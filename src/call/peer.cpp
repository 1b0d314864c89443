#include "call/peer.h"

namespace callagent::call {

const char* to_string(PeerState s) {
  switch (s) {
    case PeerState::New: return "new";
    case PeerState::Connecting: return "connecting";
    case PeerState::Connected: return "connected";
    case PeerState::Failed: return "failed";
    case PeerState::Closed: return "closed";
  }
  return "?";
}

}  // namespace callagent::call
