#pragma once
// KeyframeRequests: asks the partner for a keyframe (RTCP PLI) when the
// video we receive cannot be repaired, as congestion::KeyframeRequester
// decides: at once, re-asked every 250 ms (longer behind a long jitter
// buffer) until a keyframe arrives, never
// more than 3 a second.
//
// What counts as "cannot be repaired": a GstRTPPacketLost event reaching
// the depayloader (the jitter buffer gave up on a packet after its
// retransmission retries), or media arriving for 3 s with nothing
// decodable (the first keyframe was lost). A keyframe out of the
// depayloader ends the wait.
//
// The request is an upstream GstForceKeyUnit event without all-headers
// pushed from the depayloader's sink pad: rtpsession turns it into a PLI
// (with all-headers it would be a FIR, which is for a decoder that joins a
// running stream). rtpvp8depay's own `request-keyframe` is off: it asks
// with all-headers on every gap, which made a FIR storm (hundreds per call
// at 5 % loss) before NACK could repair anything. Even with it off,
// rtpvp8depay 1.22 still pushes such a request (all-headers) for every
// inter-frame it drops while it waits for a keyframe, 30 a second, none
// of them counted or rate limited by us: those are caught on its sink pad
// and become one on_frame_lost() of the requester instead, so every
// keyframe request on the wire is one of ours.
//
// Owned by ReceiveProbes (created on the main thread, where its poll timer
// runs); the pad probes run on the streaming thread and share the requester
// under the mutex. The owner keeps it until the bin is in NULL.

#include "common/gref.h"
#include "common/main_context.h"
#include "congestion/keyframe_requester.h"

#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace callagent::media {

class KeyframeRequests {
 public:
  explicit KeyframeRequests(int peer_id);
  ~KeyframeRequests();
  KeyframeRequests(const KeyframeRequests&) = delete;
  KeyframeRequests& operator=(const KeyframeRequests&) = delete;

  // Streaming thread (pad-added): watch this depayloader.
  void attach(GstElement* depayloader);

  // Main thread (a user's request, the control socket's `keyframe`): the
  // requester waits for a keyframe as after an unrepairable loss, so the
  // PLI goes out within one poll and under the same rate limit. false
  // before any video is received.
  bool request_now();

  // Construction time: the jitter buffer's latency in ms (0 = not known),
  // read with each poll (the requester's retry interval follows it).
  void follow_playout_latency(std::shared_ptr<const std::atomic<unsigned>> latency_ms) {
    std::lock_guard lock(mutex_);
    latency_ms_ = std::move(latency_ms);
  }

  uint64_t requests_sent() const { return sent_.load(); }
  uint64_t frames_lost() const { return lost_.load(); }
  uint64_t depayloader_requests() const { return depay_requests_.load(); }

 private:
  static GstPadProbeReturn on_sink(GstPad*, GstPadProbeInfo*, gpointer);
  static GstPadProbeReturn on_src(GstPad*, GstPadProbeInfo*, gpointer);
  static GstPadProbeReturn on_upstream(GstPad*, GstPadProbeInfo*, gpointer);
  void poll();

  const int peer_id_;
  Timeout timer_;
  std::mutex mutex_;
  congestion::KeyframeRequester requester_;
  GRef<GstPad> depay_sink_;
  std::shared_ptr<const std::atomic<unsigned>> latency_ms_;
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> lost_{0};
  std::atomic<uint64_t> depay_requests_{0};  // the depayloader's own, absorbed
};

}  // namespace callagent::media
