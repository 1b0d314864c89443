#pragma once
// The encoder of a LocalSource: the elements the codec table makes for its
// codec and preset (media/codec.h), appended to the encode chain, and what
// the rest of the agent asks of an encoder while it runs: keyframes (a new
// peer, PLI/FIR), and counts of encoded buffers and of keyframe requests
// that reached it from downstream. The place where run-time changes of the
// encoder (bitrate, resolution) belong.
//
// Owned by LocalSource; the pipeline owns the elements. Main thread; the
// counting probe runs on the streaming thread and touches only atomics.

#include "common/result.h"
#include "congestion/keyframe_responder.h"
#include "media/codec.h"
#include "media/element_chain.h"
#include "media/pad_probe.h"

#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace callagent::media {

class Encoder {
 public:
  // Appends `codec`'s encode elements, configured for `settings`, to
  // `chain`; an Error names a missing element.
  static Result<std::unique_ptr<Encoder>> append(ElementChain& chain, const CodecInfo& codec,
                                                 const EncoderSettings& settings);
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  const CodecInfo& codec() const { return codec_; }
  GstElement* element() const { return encoder_; }

  // Asks for a keyframe now (video; nothing for audio): our own requests,
  // for a receiver that has none (a connection just up, the camera
  // unmuted). They skip the 300 ms limit that the partners' PLI/FIR go
  // through (and count as that interval's keyframe): measured, a new
  // connection within 300 ms of the encoder's first keyframe waited for the
  // interval, and the partner's first frame came 230 ms after DTLS instead
  // of 100.
  void request_keyframe();

  // Run-time rate changes (congestion control, media/rate_controller.h).
  // The bitrate in bit/s: vp8enc/vp9enc `target-bitrate` and opusenc
  // `bitrate` apply live; x264enc takes kbit/s and the kernel H.264
  // encoder is left alone (its controls are fixed at start). Returns
  // whether the encoder took it.
  bool set_bitrate(int64_t bps);
  // opusenc `packet-loss-percentage` (0-100): how much in-band FEC it
  // plans for. Audio only.
  bool set_packet_loss_percentage(int percent);
  // The bitrate last set (or configured at start), bit/s.
  int64_t bitrate() const { return bitrate_bps_; }

  // GstForceKeyUnit events that reached the encoder from downstream.
  uint64_t keyframe_requests() const { return keyframe_requests_.load(); }
  uint64_t buffers_encoded() const { return buffers_encoded_.load(); }
  // Buffers given to the encoder: with buffers_encoded(), the frames it
  // dropped to hold its rate (congestion::VideoLadder::on_encoder).
  uint64_t buffers_in() const { return buffers_in_.load(); }
  // Keyframes forced for those requests: at most one per 300 ms
  // (congestion::KeyframeResponder); the others coalesce.
  uint64_t keyframes_forced() const { return keyframes_forced_.load(); }

 private:
  Encoder(const CodecInfo& codec, GstElement* encoder, int64_t bitrate_bps);
  static GstPadProbeReturn on_probe(GstPad*, GstPadProbeInfo*, gpointer);

  const CodecInfo& codec_;   // an entry of the constant codec table
  GstElement* encoder_;      // owned by the pipeline
  int64_t bitrate_bps_ = 0;  // main thread
  std::atomic<uint64_t> keyframe_requests_{0};
  std::atomic<uint64_t> buffers_encoded_{0};
  std::atomic<uint64_t> buffers_in_{0};
  std::atomic<uint64_t> keyframes_forced_{0};
  std::mutex responder_mutex_;
  congestion::KeyframeResponder responder_;
  PadProbe probe_;  // last: removed before the counters go
  PadProbe in_probe_;
};

}  // namespace callagent::media
