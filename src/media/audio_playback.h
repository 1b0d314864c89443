#pragma once
// The engine's one audio playback path: every partner's decoded audio is
// mixed and played on one sink that stays open for the process lifetime,
// and passes a webrtcechoprobe on the way, so that the microphone's
// webrtcdsp can cancel what the speakers play (acoustic echo).
//
//   peer1 bin "audio_out" ──┐
//   peer2 bin "audio_out" ──┼─ audiomixer (force-live) -> capsfilter (S16LE, 48 kHz, 2 ch)
//   ... (none at times) ────┘   -> webrtcechoprobe -> audioconvert -> audioresample -> sink
//
// Why one path and not a sink per partner: webrtcdsp finds its probe by
// name when it starts (READY -> PAUSED) and fails without it, so the probe
// must exist before the microphone chain starts and outlive every partner;
// and a kiosk opens its speaker device once instead of at every call.
//
// The mixer is live without any input (force-live): it produces silence on
// the clock while nobody is connected (an aggregator with no live input
// would stop, and with it the sink and the probe the dsp reads from), in
// the capsfilter's format, the one webrtcechoprobe takes and the dsp's
// rate (kEchoProbeRate). Partners' inputs come and go:
// link_input() requests a mixer pad for a peer's output (S16LE 48 kHz
// stereo, input_caps()); release_input() gives it back.
//
// Owned by MediaEngine; its elements belong to the engine's pipeline.
// link_input() may run on a streaming thread (webrtcbin's pad-added);
// release_input() and everything else on the main context.

#include "common/result.h"
#include "media/media_options.h"

#include <gst/gst.h>

#include <memory>
#include <string>

namespace callagent::media {

// The rate of the playback mix where the echo probe sees it. webrtcdsp
// refuses (stream error) a probe whose rate differs from its own, so the
// microphone's dsp runs at this rate whenever echo cancellation is on.
constexpr int kEchoProbeRate = 48000;

class AudioPlayback {
 public:
  // Builds the path inside `pipeline` (not yet playing). The sink comes
  // from options.output.audio_sink ("auto" or a factory name).
  static Result<std::unique_ptr<AudioPlayback>> create(GstBin* pipeline,
                                                       const MediaOptions& options);
  ~AudioPlayback();
  AudioPlayback(const AudioPlayback&) = delete;
  AudioPlayback& operator=(const AudioPlayback&) = delete;

  // What a peer's output pad must carry (its chain ends in a capsfilter
  // with these caps, so the mixer never renegotiates).
  static std::string input_caps();

  // Links `src` (a peer bin's ghost src pad, not yet linked) to a new mixer
  // input. Returns that mixer pad (a new reference, for release_input) or
  // nullptr (logged).
  GstPad* link_input(GstPad* src);
  // Unlinks `src` from `mixer_pad` and releases the mixer pad (which wakes
  // a push blocked in it with FLUSHING); the mixer keeps running. The
  // caller keeps its reference to mixer_pad and drops it after.
  void release_input(GstPad* src, GstPad* mixer_pad);

  // The webrtcechoprobe's name, unique in the process (webrtcdsp looks
  // probes up by name across all pipelines).
  const std::string& probe_name() const { return probe_name_; }
  GstElement* mixer() const { return mixer_; }
  GstElement* probe() const { return probe_; }
  GstElement* sink() const { return sink_; }

 private:
  explicit AudioPlayback(GstBin* pipeline);
  Status build(const MediaOptions& options);

  GstBin* pipeline_;  // borrowed (the engine owns it and outlives us)
  std::string probe_name_;
  GstElement* mixer_ = nullptr;  // elements owned by the pipeline
  GstElement* probe_ = nullptr;
  GstElement* sink_ = nullptr;
};

}  // namespace callagent::media
