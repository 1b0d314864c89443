#pragma once
// Where one partner's received media goes: the recording (Recorder, fed
// the received, not re-encoded, streams), the RTMP restream (RtmpOutput,
// fed decoded media), the display (VideoDisplay, --display) and the
// engine's playback mixer (a branch ending in the bin's "audio_out" ghost
// pad, linked to a request pad of AudioPlayback's mixer). A decoded kind
// that goes to neither the display nor the mixer ends in a fakesink
// (sync=false), so that it is still decoded and counted.
//
//   <kind>-received-tee ─ Recorder
//   <kind>-decoded-tee ─┬─ queue ! videoconvert ! videoscale ! display sink | fakesink
//                       │  queue ! audioconvert ! audioresample ! capsfilter ─> "audio_out" ─> mixer
//                       └─ RtmpOutput
//
// The recorder and RTMP output are made when the remote description says
// what the partner sends (prepare()): the muxer's pads must exist before
// data flows. finish() is the one way out: it stops playing the partner at
// once, stops RTMP and finalizes the recording (EOS), then calls back.
//
// Owned by PeerConnection. prepare(), finish() and the rest on the main
// context; attach() and started() on the streaming thread of pad-added.
// One mutex guards everything the two share, and is held only to read or
// publish it: nothing is called under it (the display's X11, the engine's
// mixer, the recorder, the RTMP output, the bus). release() (after the
// peer's bin is in NULL) drops the outputs; the display goes with this object.

#include "common/gref.h"
#include "common/main_context.h"
#include "common/result.h"
#include "media/media_options.h"
#include "media/output_failure.h"
#include "signaling/sdp.h"

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace callagent::media {

class AudioPlayback;
class ReceiveChain;
class Recorder;
class RtmpOutput;
class VideoDisplay;

class PeerOutputs {
 public:
  struct Config {
    int id = 0;                           // the peer's, for the log
    GstBin* bin = nullptr;                // the peer's bin (borrowed)
    const MediaOptions* options = nullptr;
    AudioPlayback* playback = nullptr;    // nullable: no audio playback
    // The next recording file name, asked for only when the partner's
    // media is known; empty: no recording.
    std::function<std::string()> record_path;
    std::string video_encoding = "VP8";  // what the partner sends us (ours)
    // An output failed during the call and was stopped (main context;
    // empty: only logged).
    std::function<void(const OutputFailure&)> on_failure;
  };

  // Opens the display now, on the main thread (see VideoDisplay::create).
  explicit PeerOutputs(Config config);
  ~PeerOutputs();
  PeerOutputs(const PeerOutputs&) = delete;
  PeerOutputs& operator=(const PeerOutputs&) = delete;

  // The remote SDP is known: make the recorder and the RTMP output for what
  // it sends. Returns the recorder's error, if any (the call goes on).
  std::optional<Error> prepare(const signaling::Sdp& remote);
  // The connection is up: a kind that has not come within a few seconds
  // is ended in the recording, so the muxer does not wait for it.
  void on_connected();

  // Streaming thread: links the sinks and the outputs to a new chain.
  bool attach(const ReceiveChain& chain);
  // Streaming thread: the chain is linked to webrtcbin and running.
  void started(const ReceiveChain& chain);

  // An error from inside an output is handled here, never failing the
  // peer: the RTMP output restarts itself; a failed recording (disk full,
  // an I/O error) is logged with its path, unlinked and removed from the
  // bin while the call goes on, and reported through Config::on_failure.
  bool handle_error(GstMessage* msg);
  // Stops playing (the mixer pad is released at once) and RTMP, finalizes
  // the recording; `done` runs on the main context when it is complete (or
  // at once without one).
  void finish(std::function<void()> done);
  // Stops feeding the mixer and releases our pad of it. Idempotent.
  void detach_playback();
  // After the bin is in NULL: drops the recorder and RTMP output.
  void release();

  std::string recording_path() const;
  uint64_t rtmp_restarts() const;
  void log_display_counts() const;

 private:
  bool attach_video_sink(const ReceiveChain& chain);
  bool attach_audio_sink(const ReceiveChain& chain, bool closing);
  // Drops at `in` and gives the mixer its pad back (outside the lock).
  void release_playback(GstPad* in, GstPad* out, GstPad* mixer_pad);
  bool attach_fakesink(GstElement* tee, const char* name);
  // Main context: logs, removes the recorder and reports the failure.
  void fail_recording(std::unique_ptr<Recorder> rec, Error error);
  void check_recording_file();

  Config config_;
  GMainContext* ctx_;
  Timeout missing_media_timer_;
  Timeout file_check_timer_;

  mutable std::mutex mutex_;
  std::unique_ptr<Recorder> recorder_;
  std::string recording_path_;  // kept after a failed recording was removed
  std::unique_ptr<RtmpOutput> rtmp_;
  std::unique_ptr<VideoDisplay> display_;  // outlives the bin's NULL state
  bool closing_ = false;
  // The playback branch: its first pad (where data is dropped on detach),
  // the bin's ghost src pad, and the mixer pad it feeds. Pads of our bin
  // (borrowed) and a reference of ours on the mixer pad.
  GstPad* playback_in_ = nullptr;
  GstPad* playback_out_ = nullptr;
  GRef<GstPad> mixer_pad_;
};

}  // namespace callagent::media
