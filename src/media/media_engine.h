#pragma once
// The media engine: one GstPipeline with the local sources and their
// encoders (which keep running across partners), the audio playback path
// (with options.output.audio_sink; it too keeps running across partners),
// plus one PeerConnection (its own webrtcbin) per partner.
//
//   video source -> convert/scale/rate (preset) -> VP8/VP9/H.264 -> tee ─┬─ peer1
//   audio source -> (webrtcdsp) -> Opus -> tee ──────────────────────────┴─ peer2 ...
//                  ┆ echo cancellation reads the probe                   │
//   audiomixer (live) -> S16LE 48 kHz -> webrtcechoprobe -> audio sink   │
//        └── a request pad per peer <── each peer's decoded audio ───────┘
//
// The playback path (AudioPlayback) is built before the microphone chain:
// webrtcdsp acquires the probe by name when it starts. Without an audio
// sink each peer decodes its audio into a fakesink (counted) instead.
//
// Usage (the call layer; all on one main context, the thread-default one
// when create() is called):
//
//   auto engine = MediaEngine::create(options, &listener);   // checks plugins, PLAYING
//   PeerConnection* pc = engine->add_peer(&peer_listener);     // a partner arrived
//   pc->create_offer();  or  pc->set_remote_description(offer);
//   pc->add_remote_candidate(c);  ...
//   engine->remove_peer(pc, done);   // partner left / failed: recordings finalized
//   engine->stop(done);              // EOS through the outputs, then NULL
//
// Ownership: the engine owns the pipeline, the sources and the peers; a
// PeerConnection* stays valid until remove_peer() or the engine's
// destruction. Listeners are borrowed and must outlive their registration
// (a removed peer calls nothing any more). Retirement is explicit: every
// peer leaves through remove_peer() (stop() calls it for each), which
// first tells the engine's Listener (on_peer_retired) while the peer can
// still be read, and stop() waits for every peer being removed.
//
// Errors: a failing element inside a peer (DTLS, ICE, a sink) fails that
// peer only (PeerConnection::Listener::on_error); an RTMP output restarts
// itself; a recording that fails (disk full) is stopped and reported
// (Listener::on_output_failed) without failing its peer; anything else is fatal for the engine (Listener::on_engine_error)
// with the failing element named and the graph dumped to options.dot_dir.
//
// State: Running -> Stopping -> Stopped (or Failed). The bus watch is
// removed and all handlers disconnected before the pipeline goes to NULL.

#include "common/gref.h"
#include "common/main_context.h"
#include "common/result.h"
#include "media/dtls_warmup.h"
#include "media/media_options.h"
#include "media/output_failure.h"
#include "media/peer_connection.h"
#include "media/self_view.h"

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace callagent::media {

class AudioPlayback;
class DeviceWatch;
class LocalSource;

class MediaEngine {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // The pipeline failed outside any peer; the engine is unusable.
    virtual void on_engine_error(const Error& e) = 0;
    // A local file source ended (no loop): the call should end.
    virtual void on_source_eos(MediaKind kind) {}
    // remove_peer() is about to close `peer`: its counters, recording path
    // and last frame are final (readable now, not after the call).
    virtual void on_peer_retired(const PeerConnection& peer) {}
    // An output of `peer_id` (its recording) failed during the call and
    // was stopped; the peer and the call go on.
    virtual void on_output_failed(int peer_id, const OutputFailure& failure) {}
    // A camera or microphone failed and the stand-in is sent (`lost`), or
    // it works again (LocalSource's recovery).
    virtual void on_device(MediaKind kind, bool lost, const std::string& device, const std::string& why) {}
  };

  enum class State { Running, Stopping, Stopped, Failed };

  struct Counters {
    uint64_t video_frames_encoded = 0;
    uint64_t audio_buffers_encoded = 0;
    uint64_t keyframe_requests = 0;  // force-key-unit events that reached the video encoder
    uint64_t keyframes_forced = 0;   // keyframes forced for them (at most one per 300 ms)
  };

  // Checks the plugins (ExitCode::Config naming the Debian package), builds
  // the sources and sets the pipeline to PLAYING. gst_init() must have run.
  static Result<std::unique_ptr<MediaEngine>> create(const MediaOptions& options,
                                                     Listener* listener);
  // Hard stop if stop() was not used: no EOS, recordings may lack their index.
  ~MediaEngine();
  MediaEngine(const MediaEngine&) = delete;
  MediaEngine& operator=(const MediaEngine&) = delete;

  // A new webrtcbin in the running pipeline for one partner. Returns nullptr
  // (and logs) if it cannot be built. Recording goes to the next file name:
  // FILE.mkv for the first partner, FILE-2.mkv, FILE-3.mkv... after.
  PeerConnection* add_peer(PeerConnection::Listener* listener);
  // Stops sending to the peer, finalizes its recording (EOS), then removes
  // its webrtcbin. The pointer is invalid on return and the listener is
  // never called again; `done` runs on the main context when the recording
  // is complete (bounded by options.stop_timeout).
  void remove_peer(PeerConnection* peer, std::function<void()> done = {});
  const std::vector<std::unique_ptr<PeerConnection>>& peers() const { return peers_; }

  // Removes every peer (finalizing recordings), then sets the pipeline to
  // NULL. `done` runs on the main context (at most stop_timeout later).
  void stop(std::function<void()> done);

  // Switchable at any time (the control socket's mute/unmute).
  void set_muted(MediaKind kind, bool muted);
  // --self-view back on top of the screen (after the slate or a partner's
  // window was mapped over it). Nothing without one.
  void raise_self_view() {
    if (self_view_) self_view_->raise();
  }
  bool muted(MediaKind kind) const;
  // Mid-call (the control socket's `set`): a new video preset (size, frame
  // rate, bitrate) and/or audio bitrate for every partner. The send chain
  // and each partner's congestion control follow at once; the partner
  // decodes across the new size (the encoder sends a keyframe with it).
  // Error (Usage) when that kind is not sent.
  Status set_presets(const std::optional<VideoPreset>& video, std::optional<int> audio_kbps);
  // Mid-call (the control socket's `source`): another camera, microphone,
  // file or test source for every partner (LocalSource::replace_source).
  Status set_source(MediaKind kind, const SourceSpec& spec);
  // Test hook (--test-freeze-at): stop/resume feeding the video encoder.
  void set_video_paused(bool paused);
  const MediaOptions& options() const { return options_; }
  Counters counters() const;
  State state() const { return state_; }
  GstElement* pipeline() const { return pipeline_.get(); }
  // The shared playback path (mixer, echo probe, sink); nullptr without
  // options.output.audio_sink.
  const AudioPlayback* playback() const { return playback_.get(); }
  // Writes the graph now (for debugging); returns the path or "".
  std::string dump_graph(const std::string& name) const;

 private:
  MediaEngine(const MediaOptions& options, Listener* listener);
  Status build();
  static gboolean on_bus_message(GstBus*, GstMessage*, gpointer);
  void handle_bus_message(GstMessage* msg);
  void fail(const std::string& what);
  void set_state(State to);
  void shutdown_pipeline();
  void maybe_stopped();
  std::string next_record_path();

  MediaOptions options_;
  Listener* listener_;
  GMainContext* ctx_;
  // Started before the pipeline is built, joined after it is gone: the
  // first peer connection finds the DTLS certificate made (dtls_warmup.h).
  DtlsWarmup dtls_warmup_;
  Lifetime lifetime_ = make_lifetime();
  State state_ = State::Running;
  GRef<GstElement> pipeline_;
  GUnique<GSource> bus_watch_;  // attached to ctx_ while it exists
  std::unique_ptr<AudioPlayback> playback_;  // before the peers: they link to it
  std::unique_ptr<LocalSource> video_;
  std::unique_ptr<SelfView> self_view_;  // --self-view
  std::unique_ptr<LocalSource> audio_;
  std::unique_ptr<DeviceWatch> device_watch_;  // with a capture device: hot-plug
  std::vector<std::unique_ptr<PeerConnection>> peers_;
  // Peers being removed: waiting for their recordings to finish.
  std::vector<std::unique_ptr<PeerConnection>> closing_;
  int next_peer_id_ = 1;
  int recordings_ = 0;
  bool playing_graph_written_ = false;
  Timeout stop_timer_;
  std::function<void()> stop_done_;  // stop()'s callback, until every peer is gone
};

}  // namespace callagent::media
