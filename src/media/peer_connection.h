#pragma once
// One WebRTC peer connection: a fresh webrtcbin for one partner, in its own
// bin inside the engine's running pipeline, fed from the engine's encoder
// tees (queue ! payloader per kind) and feeding per-partner receive chains
// (no decodebin, MEASURED.md):
//
//   video: rtpvp8depay ! tee ─ queue ! vp8dec ! tee ─ display sink | fakesink
//                          │                     └─ RTMP output (optional)
//                          └─ Recorder (optional, no re-encoding)
//   audio: rtpopusdepay ! tee ─ queue ! opusdec ! tee ─ playback branch | fakesink
//                           └─ Recorder            └─ RTMP output
//
// The playback branch (queue ! audioconvert ! audioresample ! capsfilter,
// out through the bin's "audio_out" ghost pad) feeds a request pad of the
// engine's shared mixer (AudioPlayback) when the engine plays audio; the
// pad is released when the peer closes, the mixer keeps running.
//
// Created and owned by MediaEngine (MediaEngine::add_peer / remove_peer);
// the call layer borrows the pointer until it calls remove_peer.
//
// Threading: the public methods and every Listener callback run on the main
// context the engine was created on. webrtcbin's signals, promises and pad
// callbacks fire on streaming threads; they copy their arguments and post()
// to the main context behind a Lifetime guard, except pad-added, which
// builds the receive chain synchronously (the first RTP packet follows it
// at once) touching only the peer's bin and atomics.
//
// Negotiation (one transition function, illegal moves are logged):
//
//   Idle ──create_offer()──> CreatingOffer ──set-local ok──> WaitingAnswer
//   WaitingAnswer ──set_remote_description(answer)──> ApplyingAnswer ──ok──> Stable
//   Idle ──set_remote_description(offer)──> ApplyingOffer ──ok──> CreatingAnswer
//   CreatingAnswer ──set-local ok──> Stable
//   any ──error──> Failed;  any ──close──> Closed
//
// A partner that re-offers (a browser rebuilding its connection) is a new
// negotiation with new ICE/DTLS: the call layer removes this peer and adds a
// new one.
//
// Remote candidates that arrive before the remote description are queued and
// applied after it. Browser candidates are reduced to the fields libnice
// parses; duplicates (Chromium sends each for sdpMid "0" and "1") and
// end-of-candidates are dropped. Local candidates are held back until
// on_local_description has been delivered, so the caller can always send the
// description first.

#include "common/main_context.h"
#include "common/result.h"
#include "common/signal_connection.h"
#include "gst/gst_util.h"
#include "media/media_options.h"
#include "media/sdp_info.h"
#include "media/video_display.h"
#include "signaling/protocol.h"
#include "signaling/sdp.h"

#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace callagent::media {

class AudioPlayback;
class LocalSource;
class Recorder;
class RtmpOutput;

enum class ConnectionState { New, Connecting, Connected, Disconnected, Failed, Closed };
std::string_view to_string(ConnectionState s);

class PeerConnection {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // Our offer or answer, after set-local-description succeeded: send it,
    // then the candidates that follow.
    virtual void on_local_description(const signaling::SessionDescription& d) = 0;
    virtual void on_local_candidate(const signaling::IceCandidate& c) = 0;
    // From webrtcbin's connection-state (ICE + DTLS). Failed is final for
    // this PeerConnection: remove it and negotiate a new one.
    virtual void on_connection_state(ConnectionState s) = 0;
    // The first decoded video frame / first decoded audio buffer.
    virtual void on_remote_media(MediaKind kind) {}
    // ICE reached connected (or completed); DTLS may still be running.
    virtual void on_ice_connected() {}
    // Negotiation or pipeline failure of this peer (the engine keeps running).
    virtual void on_error(const Error& e) = 0;
  };

  // What has been received (readable at any time, from any thread).
  struct Counters {
    uint64_t video_frames = 0;   // decoded
    uint64_t audio_buffers = 0;  // decoded
    int video_width = 0;         // of the decoded remote video, 0 = none yet
    int video_height = 0;
    uint64_t rtmp_restarts = 0;
    uint64_t video_frames_received = 0;  // complete frames out of the depayloader
    uint64_t video_frames_sent = 0;      // encoded frames handed to our payloader
    // RTP SSRCs (0 = unknown). With BUNDLE, webrtcbin 1.22's get-stats
    // labels every stream "video" with one codec id; the SSRC is what
    // tells the streams apart.
    uint32_t video_in_ssrc = 0, audio_in_ssrc = 0, video_out_ssrc = 0, audio_out_ssrc = 0;
  };

  // Per-frame facts for the stats (MediaOptions::frame_log /
  // latency_stamp), drained by take_frame_log(). Bounded: when nobody
  // drains, the oldest entries are dropped.
  struct FrameLog {
    std::vector<int64_t> video_decode_times_us;  // g_get_monotonic_time() at decoder output
    std::vector<double> latency_ms;              // now - stamp of each stamped frame
    double audio_sum_squares = 0;                // decoded samples, normalized to [-1, 1]
    uint64_t audio_samples = 0;
    double audio_concealed_ms = 0;               // cumulative (not reset by take)
  };

  enum class Negotiation {
    Idle,
    CreatingOffer,
    WaitingAnswer,
    ApplyingAnswer,
    ApplyingOffer,
    CreatingAnswer,
    Stable,
    Failed,
    Closed
  };

  ~PeerConnection();
  PeerConnection(const PeerConnection&) = delete;
  PeerConnection& operator=(const PeerConnection&) = delete;

  // Starts an offer; on_local_description delivers it.
  void create_offer();
  // An offer is answered automatically (on_local_description delivers the
  // answer); an answer completes our offer.
  void set_remote_description(const signaling::SessionDescription& d);
  void add_remote_candidate(const signaling::IceCandidate& c);

  int id() const { return id_; }
  ConnectionState state() const { return state_; }
  Negotiation negotiation() const { return negotiation_; }
  Counters counters() const;
  // The recording of this partner, "" if none.
  std::string recording_path() const;
  // The webrtcbin (borrowed), for stats.
  GstElement* webrtcbin() const { return webrtc_; }
  FrameLog take_frame_log();
  // The last decoded remote video frame (MediaOptions::keep_last_frame), a
  // new sample, or null.
  GUnique<GstSample> last_video_sample() const;

 private:
  friend class MediaEngine;
  struct Config {
    int id = 0;
    GstBin* pipeline = nullptr;
    LocalSource* video = nullptr;  // nullable
    LocalSource* audio = nullptr;  // nullable
    AudioPlayback* playback = nullptr;  // nullable: no audio playback
    const MediaOptions* options = nullptr;
    // Allocates the next recording file name when this partner's media is
    // known (so peers that never receive media use up no name); empty: no
    // recording.
    std::function<std::string()> record_path;
  };
  PeerConnection(Config config, Listener* listener);
  Status build();
  // Engine hooks.
  bool owns(GstObject* o) const;           // o is inside this peer's bin
  void on_pipeline_error(GstMessage* msg);  // an error from inside our bin
  void close(std::function<void()> done);   // EOS outputs, detach listener
  void detach_listener() { listener_ = nullptr; }

  void set_negotiation(Negotiation to);
  void fail(const std::string& what);
  bool link_sender(LocalSource* src, int payload_type, std::optional<int> mline);
  void add_recv_transceiver(MediaKind kind);
  void on_offer_created(GstPromise* p);
  void on_answer_created(GstPromise* p);
  void set_local(GstWebRTCSessionDescription* desc, const char* what);
  void on_local_set(GstPromise* p, std::string type, std::string sdp);
  void on_remote_set(GstPromise* p, bool offer);
  void apply_candidate(const signaling::IceCandidate& c);
  void resolve_mdns_candidate(std::string line, std::string name, int mline);
  void emit_local_candidate(int mline, std::string candidate);
  void on_connection_state_changed(int state);
  void on_connected();
  void connect_senders();
  void prepare_outputs(const signaling::Sdp& remote);
  void handle_remote_pad(GstPad* pad);  // streaming thread
  bool build_video_receive(GstPad* pad, const std::string& encoding);
  bool build_audio_receive(GstPad* pad);
  // Stops feeding the engine's mixer and releases our pad of it (close()
  // and the destructor; main thread).
  void detach_playback();
  void request_promise(const char* signal, GstWebRTCSessionDescription* desc,
                       std::function<void(GstPromise*)> on_reply);

  static void on_pad_added(GstElement*, GstPad*, gpointer);
  static void on_ice_candidate(GstElement*, guint, gchar*, gpointer);
  static void on_connection_state_notify(GObject*, GParamSpec*, gpointer);
  static void on_ice_state_notify(GObject*, GParamSpec*, gpointer);
  static GstPadProbeReturn on_decoded(GstPad*, GstPadProbeInfo*, gpointer);
  void log_video_frame(GstPad* pad, GstBuffer* buf);  // streaming thread
  void log_audio_buffer(GstPad* pad, GstBuffer* buf);  // streaming thread

  Config config_;
  Listener* listener_;  // borrowed; nullptr once removed
  const int id_;
  GMainContext* ctx_;
  Lifetime lifetime_ = make_lifetime();

  GstElement* bin_ = nullptr;     // ours until added to the pipeline, then the pipeline's
  GstElement* webrtc_ = nullptr;  // inside bin_
  std::vector<SignalConnection> signals_;
  struct SendBranch {
    LocalSource* source = nullptr;
    GstPad* tee_pad = nullptr;    // request pad on the engine's tee (we own a ref);
                                  // linked once the connection is up
    GstPad* ghost = nullptr;      // our bin's ghost sink pad (borrowed)
    GstElement* payloader = nullptr;  // borrowed (in bin_)
  };
  std::vector<SendBranch> senders_;

  Negotiation negotiation_ = Negotiation::Idle;
  ConnectionState state_ = ConnectionState::New;
  std::optional<signaling::Sdp> remote_info_;
  std::vector<std::string> local_mids_;
  bool remote_applied_ = false;
  bool local_sent_ = false;
  std::vector<signaling::IceCandidate> pending_remote_;
  std::vector<std::pair<int, std::string>> pending_local_;
  std::set<std::string> seen_remote_;
  Timeout missing_media_timer_;

  // Touched by pad-added (streaming thread) and the main thread.
  mutable std::mutex mutex_;
  std::unique_ptr<Recorder> recorder_;
  std::unique_ptr<RtmpOutput> rtmp_;
  std::unique_ptr<VideoDisplay> display_;  // --display: outlives bin_'s NULL state (destructor)
  GstElement* video_raw_tee_ = nullptr;
  GstElement* audio_raw_tee_ = nullptr;
  bool closing_ = false;
  // The playback branch: its first pad (where data is dropped on detach),
  // our bin's ghost src pad, and the mixer pad it feeds (a ref).
  GstPad* playback_in_ = nullptr;
  GstPad* playback_out_ = nullptr;
  GstPad* playback_pad_ = nullptr;

  std::atomic<uint64_t> video_frames_{0};
  std::atomic<uint64_t> audio_buffers_{0};
  std::atomic<int> width_{0};
  std::atomic<int> height_{0};
  std::atomic<bool> first_video_{false};
  std::atomic<bool> first_audio_{false};
  std::atomic<uint64_t> video_frames_received_{0};
  std::atomic<uint64_t> video_frames_sent_{0};
  std::atomic<uint32_t> video_in_ssrc_{0};
  std::atomic<uint32_t> audio_in_ssrc_{0};

  // Stats facts, written on streaming threads.
  mutable std::mutex log_mutex_;
  FrameLog frame_log_;
  GUnique<GstBuffer> last_video_;  // with its caps
  GUnique<GstCaps> last_video_caps_;
};

}  // namespace callagent::media
