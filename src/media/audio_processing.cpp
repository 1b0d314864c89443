#include "media/audio_processing.h"

#include "common/logging.h"
#include "gst/gst_util.h"
#include "media/audio_playback.h"

#include <fmt/format.h>

namespace callagent::media {

namespace {
auto log() { return logging::get("media"); }
}  // namespace

Result<std::unique_ptr<AudioProcessing>> AudioProcessing::append(ElementChain& chain,
                                                                 const MediaOptions& options,
                                                                 const std::string& echo_probe) {
  const SourceSpec& spec = options.audio_source;
  const auto& a = options.audio;
  const bool processing = spec.is_capture_device() && options.audio_processing;
  const bool echo_cancel = processing && options.echo_cancel && !echo_probe.empty();
  if (!spec.is_capture_device())
    log()->info("echo cancellation off: the audio source ({}) is not a microphone",
                to_string(spec));
  else if (!options.audio_processing)
    log()->info("echo cancellation off: audio processing is off (--no-audio-processing)");
  else if (!options.echo_cancel)
    log()->info("echo cancellation off: --no-echo-cancel");
  else if (!echo_cancel)
    log()->info("echo cancellation off: no audio playback (--display/--audio-sink not set)");
  else
    log()->info("echo cancellation on: against the playback seen by {}", echo_probe);
  if (!processing) return std::unique_ptr<AudioProcessing>();

  // webrtcdsp takes S16LE at 8/16/32/48 kHz; with echo cancellation at the
  // probe's rate (it fails the stream on a mismatch), else 32 kHz stays
  // 32 kHz (the "low" preset) to save a resampling.
  const int dsp_rate = echo_cancel || a.rate != 32000 ? kEchoProbeRate : 32000;
  chain.add("audioconvert");
  chain.add("audioresample");
  if (GstElement* cf = chain.add("capsfilter"))
    set_caps(cf, fmt::format("audio/x-raw,format=S16LE,rate={},channels={}", dsp_rate,
                             a.channels));
  GstElement* dsp = chain.add("webrtcdsp", "audio-dsp");
  if (dsp) {
    g_object_set(dsp, "echo-cancel", echo_cancel ? TRUE : FALSE, "noise-suppression", TRUE,
                 "gain-control", TRUE, "high-pass-filter", TRUE, nullptr);
    if (echo_cancel) {
      // Must be set before PAUSED: the dsp acquires the probe when it
      // starts (the engine built the playback path first).
      //
      // delay-agnostic: the dsp estimates the speaker -> microphone delay
      // from the signals instead of aligning the probe's and the
      // microphone's timestamps with the pipeline's latency figures. On a
      // kiosk the speaker and the microphone are often different devices
      // (HDMI screen + USB microphone) whose real delays (a TV adds 50-150
      // ms) and clock drift no latency query knows. Measured with the
      // playback looped back into the microphone in-process
      // (tests/media/test_echo.cpp, "[aec]"): delay-agnostic took 13-40 dB
      // of echo off after 3 s, often all of it; the timestamp-aligned mode
      // took nothing off.
      // extended-filter: a longer echo tail and a filter that copes with a
      // delay that moves (rooms, drift); the configuration the
      // delay-agnostic mode was made for (it is also the default).
      g_object_set(dsp, "probe", echo_probe.c_str(), "delay-agnostic", TRUE, "extended-filter",
                   TRUE, nullptr);
    }
  }
  chain.add("audioconvert");
  chain.add("audioresample");
  if (!chain.ok()) return Error{ExitCode::Config, "cannot build the audio chain"};
  return std::unique_ptr<AudioProcessing>(new AudioProcessing(dsp, echo_cancel));
}

}  // namespace callagent::media
