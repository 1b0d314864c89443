#pragma once
// One kind of our media sent to one partner: a leaky queue and a payloader
// inside the peer's bin, fed through the bin's "<kind>_in" ghost pad from
// the engine's encoder tee (LocalSource), into a webrtcbin sink pad:
//
//   LocalSource tee ── (linked once the connection is up) ──> <kind>_in
//       -> queue (leaky) -> payloader (pt, ssrc) -> webrtcbin sink_N
//
// What it decides: the SSRC (the same in the payloader and the
// transceiver's codec preferences, which is what webrtcbin announces in the
// SDP), the codec preferences and NACK on the transceiver, and the
// keyframe gate (delta frames are dropped until the first keyframe, so the
// receiver's first frame decodes).
//
// Owned by WebrtcEndpoint (one per sent kind). Made and connected on the
// main context; the pad probes run on streaming threads and touch only
// atomics. The tee pad is released by disconnect() (or the destructor),
// which must run before the peer's bin goes to NULL.

#include "common/gref.h"
#include "media/media_options.h"

#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

namespace callagent::media {

class LocalSource;

class SendBranch {
 public:
  // Builds the branch in `bin` and links it to a webrtcbin sink pad: the
  // one of m-line `mline` (answering an offer), or a new one. nullptr
  // (logged) on failure. `peer_id` is for the log. `twcc_id` > 0: the
  // payloader writes the transport-wide sequence number with that id, and
  // the codec preferences announce it (header_extensions.h).
  static std::unique_ptr<SendBranch> create(int peer_id, GstBin* bin, GstElement* webrtc,
                                            LocalSource* source, int payload_type,
                                            std::optional<int> mline, int twcc_id);
  ~SendBranch();
  SendBranch(const SendBranch&) = delete;
  SendBranch& operator=(const SendBranch&) = delete;

  // Starts feeding from the source's tee (the connection is up).
  void connect();
  // Stops feeding and gives the tee pad back.
  void disconnect();

  MediaKind kind() const;
  // The SSRC on the payloader's output caps, 0 before it negotiated.
  uint32_t ssrc() const;
  // Encoded frames handed to the payloader (video only).
  uint64_t frames_sent() const { return frames_sent_.load(std::memory_order_relaxed); }

 private:
  SendBranch(int peer_id, LocalSource* source) : peer_id_(peer_id), source_(source) {}

  const int peer_id_;
  LocalSource* source_;         // borrowed: the engine's, outlives the peer
  GRef<GstPad> tee_pad_;        // our request pad on the source's tee, while connected
  GRef<GstPad> ghost_;          // the bin's "<kind>_in" pad
  GRef<GstElement> payloader_;  // in the peer's bin
  std::atomic<uint64_t> frames_sent_{0};
};

}  // namespace callagent::media
