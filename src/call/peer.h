#pragma once
// The small interfaces through which a Call talks to the outside: the
// signaling connection (CallSignaling) and one peer connection per partner
// (Peer, made by a PeerFactory). Real implementations adapt the signaling
// client and the media engine; tests use in-process fakes.
//
// All methods and events run on the main context.

#include "common/result.h"
#include "signaling/protocol.h"

#include <memory>
#include <string>

namespace callagent::call {

using signaling::IceCandidate;
using signaling::SessionDescription;

enum class MediaKind { Audio, Video };

enum class PeerState { New, Connecting, Connected, Failed, Closed };
const char* to_string(PeerState s);

class CallSignaling {
 public:
  virtual ~CallSignaling() = default;
  virtual bool send_join() = 0;
  virtual bool send_description(const SessionDescription& d) = 0;
  virtual bool send_candidate(const IceCandidate& c) = 0;
};

// Events of one peer connection, delivered on the main context.
class PeerEvents {
 public:
  virtual ~PeerEvents() = default;
  // Our description was set locally: send it. The peer delivers its local
  // candidates only after this (the page drops candidates that precede
  // their description), so the Call sends them as they come.
  virtual void on_local_description(const SessionDescription& d) = 0;
  virtual void on_local_candidate(const IceCandidate& c) = 0;
  virtual void on_peer_state(PeerState s) = 0;
  // First decoded frame / first audio buffer of a remote track.
  virtual void on_remote_media(MediaKind kind) = 0;
  virtual void on_peer_error(const Error& e) = 0;
  // ICE reached connected (DTLS may still be running): how far a
  // connection that never completes got (the connect budget's phase).
  virtual void on_ice_connected() {}
};

class Peer {
 public:
  virtual ~Peer() = default;  // tears the peer connection down
  virtual void create_offer() = 0;
  // An offer makes the peer create and set an answer (then
  // on_local_description); an answer completes our offer.
  virtual void set_remote_description(const SessionDescription& d) = 0;
  // Applied at once. The Call hands a peer the partner's candidates only
  // once it has given it the partner's description (it queues earlier ones
  // itself), in the order they came.
  virtual void add_remote_candidate(const IceCandidate& c) = 0;
};

class PeerFactory {
 public:
  virtual ~PeerFactory() = default;
  // `visit` counts partners from 1 (recordings of visit 2 go to FILE-2.mkv).
  // Returns an Error when the peer cannot be made (pipeline failure).
  virtual Result<std::unique_ptr<Peer>> create_peer(int visit, PeerEvents& events) = 0;
};

}  // namespace callagent::call
