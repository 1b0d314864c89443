#pragma once
// What the partner's media looks like on the way in, measured by pad
// probes on its receive chains: counters (frames out of the depayloader,
// decoded frames and audio buffers, the decoded size, the incoming SSRCs),
// the first decoded frame of each kind, and for the stats, when asked
// (MediaOptions): a log of video render times, the latency of stamped
// frames (media/frame_stamp.h), the energy of the decoded audio, the audio
// the decoder concealed after losses, and the last decoded frame.
//
// Owned by PeerConnection. The probes run on streaming threads; everything
// is atomics or under one mutex, readable from any thread. on_first_media
// is called once per kind on the streaming thread: the owner posts it.
// The owner keeps this object until the peer's bin is in NULL.
//
// Render times: a frame "renders" when a synchronized display would show
// it, at max(decoded, due) where due = base time + the running time of its
// PTS + the playout latency (the jitter buffer's, follow_playout_latency()).
// The jitter buffer pushes packets on as soon as they are in order, so a
// frame that waited for a retransmission leaves the decoder late and the
// ones behind it in a burst; a display, playing out `latency` behind the
// stream, shows them evenly as long as the repair came within the latency.
// Measured at the decoder, a 200 ms path with repaired losses showed 4-6 s
// of "freezes" per 16 s call at a full 30 fps; at the render time they are
// what a viewer sees. Until the latency is known (0) it is the decoder's
// output time.

#include "common/gref.h"
#include "gst/gst_util.h"
#include "media/keyframe_requests.h"
#include "media/media_options.h"

#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace callagent::media {

class ReceiveChain;

class ReceiveProbes {
 public:
  struct Counters {
    uint64_t video_frames = 0;           // decoded
    uint64_t audio_buffers = 0;          // decoded
    int video_width = 0;                 // 0 = none yet
    int video_height = 0;
    uint64_t video_frames_received = 0;  // complete frames out of the depayloader
    uint32_t video_in_ssrc = 0, audio_in_ssrc = 0;
    uint64_t keyframe_requests = 0;   // PLIs we asked for (KeyframeRequests)
    uint64_t video_packets_lost = 0;  // given up by the jitter buffer, after retransmission
  };
  // Drained by take_frame_log(); bounded (the oldest entries are dropped
  // when nobody drains).
  struct FrameLog {
    std::vector<int64_t> video_render_times_us;  // g_get_monotonic_time() timebase (see "Render times")
    std::vector<double> latency_ms;              // now - stamp of each stamped frame
    double audio_sum_squares = 0;                // decoded samples, normalized to [-1, 1]
    uint64_t audio_samples = 0;
    double audio_concealed_ms = 0;               // cumulative (not reset by take)
  };

  ReceiveProbes(int peer_id, const MediaOptions& options, std::function<void(MediaKind)> on_first_media);
  ReceiveProbes(const ReceiveProbes&) = delete;
  ReceiveProbes& operator=(const ReceiveProbes&) = delete;

  // Streaming thread (pad-added).
  void set_ssrc(MediaKind kind, uint32_t ssrc);
  // Main thread: ask the partner for a keyframe now (KeyframeRequests::request_now).
  bool request_keyframe() { return keyframes_->request_now(); }
  void attach(const ReceiveChain& chain);
  // Construction time: the playout latency in ms (0 = not known), read on
  // the streaming thread with each frame.
  void follow_playout_latency(std::shared_ptr<const std::atomic<unsigned>> latency_ms) {
    keyframes_->follow_playout_latency(latency_ms);
    playout_latency_ms_ = std::move(latency_ms);
  }

  Counters counters() const;
  FrameLog take_frame_log();
  GUnique<GstSample> last_video_sample() const;

 private:
  static GstPadProbeReturn on_decoded(GstPad*, GstPadProbeInfo*, gpointer);
  void on_video_caps(GstEvent* ev);
  void log_video_frame(GstPad* pad, GstBuffer* buf);
  void log_audio_buffer(GstPad* pad, GstBuffer* buf);
  int64_t render_time_us(GstPad* pad, GstBuffer* buf, int64_t decoded_us) const;

  const int peer_id_;
  const MediaOptions& options_;  // the engine's, outlives us
  std::function<void(MediaKind)> on_first_media_;

  std::atomic<uint64_t> video_frames_{0};
  std::atomic<uint64_t> audio_buffers_{0};
  // The decoded size, width << 32 | height, in one atomic: read as a pair.
  static uint64_t pack_size(int w, int h) {
    return static_cast<uint64_t>(static_cast<uint32_t>(w)) << 32 | static_cast<uint32_t>(h);
  }
  std::atomic<uint64_t> size_{0};
  std::atomic<bool> first_video_{false};
  std::atomic<bool> first_audio_{false};
  std::atomic<uint64_t> video_frames_received_{0};
  std::atomic<uint32_t> video_in_ssrc_{0};
  std::atomic<uint32_t> audio_in_ssrc_{0};

  std::shared_ptr<const std::atomic<unsigned>> playout_latency_ms_;

  mutable std::mutex mutex_;
  FrameLog frame_log_;
  int64_t last_render_us_ = 0;
  GUnique<GstBuffer> last_video_;  // with its caps
  GUnique<GstCaps> last_video_caps_;
  std::unique_ptr<KeyframeRequests> keyframes_;
};

}  // namespace callagent::media
