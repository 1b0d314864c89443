#pragma once
// Releasing a peer's TURN allocations before its webrtcbin goes away.
//
// webrtcbin 1.22 never calls nice_agent_close_async(): when a peer that
// used TURN is dropped, libnice disposes its agent with the allocations
// still refreshed ("We still have alive TURN refreshes..."), the TURN
// server keeps them (and the relayed ports) until their lifetime runs out
// (600 s by default), and nothing told it the call ended.
//
// release_turn_allocations() asks the NiceAgent behind webrtcbin's
// `ice-agent` (its "agent" property) to close now: libnice sends a Refresh
// with lifetime 0 for every allocation and reports back once the server
// answered (or its own retransmissions gave up). That must happen while
// the peer's bin still runs -- the agent's answers arrive through it -- so
// PeerConnection::close() starts it next to its other closing work and
// finishes the peer when both are done. The wait is bounded: `done` runs
// after `timeout` at the latest, whatever libnice does.
//
// Threading: called on the main context; `done` runs there (libnice's
// GTask reports to the thread-default context of the caller), possibly
// before this function returns when there was nothing to release.

#include <gst/gst.h>

#include <chrono>
#include <functional>

namespace callagent::media {

inline constexpr std::chrono::milliseconds kIceReleaseTimeout{2000};

// Starts releasing `webrtc`'s allocations now (nothing to do without TURN,
// or when the agent cannot be found: logged at debug). Returns the step to
// hand to the rest of the closing: `done` runs once that step has run and
// the release ended or timed out.
std::function<void()> release_turn_allocations(int peer_id, GstElement* webrtc, std::function<void()> done,
                                               std::chrono::milliseconds timeout = kIceReleaseTimeout);

}  // namespace callagent::media
