#pragma once
// The audio processing of a microphone: webrtcdsp (noise suppression, gain
// control, high-pass filter) and, when the engine plays audio back, echo
// cancellation against what AudioPlayback's webrtcechoprobe sees:
//
//   audioconvert -> audioresample -> capsfilter(S16LE at the dsp's rate)
//     -> webrtcdsp "audio-dsp" -> audioconvert -> audioresample
//
// appended to a LocalSource's encode chain after the preset capsfilter.
// Sources that do not capture a room (test tone, file) get none; the log
// says why echo cancellation is on or off.
//
// Owned by LocalSource; the pipeline owns the elements. Main thread.

#include "common/result.h"
#include "media/element_chain.h"
#include "media/media_options.h"

#include <gst/gst.h>

#include <memory>
#include <string>

namespace callagent::media {

class AudioProcessing {
 public:
  // Appends the processing for `options`' audio source to `chain`, or
  // nothing (a null pointer) when it gets none. `echo_probe`: the name of
  // the engine's webrtcechoprobe, "" when nothing is played back. An Error
  // when an element is missing.
  static Result<std::unique_ptr<AudioProcessing>> append(ElementChain& chain,
                                                         const MediaOptions& options,
                                                         const std::string& echo_probe);
  AudioProcessing(const AudioProcessing&) = delete;
  AudioProcessing& operator=(const AudioProcessing&) = delete;

  GstElement* dsp() const { return dsp_; }
  bool echo_cancel() const { return echo_cancel_; }

 private:
  AudioProcessing(GstElement* dsp, bool echo_cancel) : dsp_(dsp), echo_cancel_(echo_cancel) {}

  GstElement* dsp_;  // owned by the pipeline
  bool echo_cancel_;
};

}  // namespace callagent::media
