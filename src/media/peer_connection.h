#pragma once
// One WebRTC peer connection: a fresh webrtcbin for one partner, in its own
// bin ("peerN") inside the engine's running pipeline. A facade over the
// parts that each do one job:
//
//   WebrtcEndpoint   webrtcbin, offer/answer, connection state, candidates
//     SendBranch       per sent kind: engine tee -> queue ! payloader -> webrtcbin
//     RemoteCandidates clean-up, dedupe, mDNS lookup of the partner's candidates
//   ReceiveChain     per received kind: depayloader ! tee ! decoder ! tee
//   PeerOutputs      recorder, RTMP, display, playback mixer pad; finish()
//   ReceiveProbes    counters, frame log, latency stamps, audio energy, last frame
//
// Created and owned by MediaEngine (MediaEngine::add_peer / remove_peer);
// the call layer borrows the pointer until it calls remove_peer.
//
// Threading: the public methods and every Listener callback run on the main
// context the engine was created on. Each event reaches the Listener with
// at most one post: webrtcbin's threads post to the main context, and
// there the Listener is called at once; an event found inside one of our
// public methods (a failure of set_remote_description, say) is posted, so
// that a Listener never runs inside a call the caller made into us and may
// remove this peer from any callback. pad-added builds the receive chain
// synchronously on the streaming thread (the first RTP packet follows it
// at once), touching only the peer's bin, PeerOutputs and ReceiveProbes;
// those take their mutex only to read or publish shared state (the decoded
// size is one atomic, read as a pair) and call nobody while holding it.
//
// Candidates: remote ones are applied at once (webrtcbin queues those that
// come before the remote description); local ones are held back until
// on_local_description has been delivered, so the caller can always send
// the description first (WebrtcEndpoint).

#include "common/gref.h"
#include "common/main_context.h"
#include "common/result.h"
#include "gst/gst_util.h"
#include "media/media_options.h"
#include "media/receive_probes.h"
#include "media/transport_feedback.h"
#include "media/webrtc_endpoint.h"
#include "signaling/protocol.h"

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>

namespace callagent::media {

class AudioPlayback;
class LocalSource;
class PeerOutputs;
struct OutputFailure;
class RateController;
class ReceiveChain;

class PeerConnection final : private WebrtcEndpoint::Events {
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
    // Loss repair (Retransmission) and keyframe requests (KeyframeRequests).
    struct Recovery {
      uint64_t nack_requests = 0, rtx_received = 0, rtx_recovered = 0, lost_after_recovery = 0;
      uint64_t rtx_requests_received = 0, rtx_sent = 0, audio_nack_requests = 0;
      uint64_t keyframes_requested = 0;
      unsigned jitter_buffer_ms = 0;
      uint64_t lost_before_recovery = 0;  // media packets the network took
      uint64_t rtx_refused = 0;           // the partner's requests over our budget
    } recovery;
    // Transport-wide congestion feedback (TransportFeedback): received
    // from the partner, the packets it reported on (lost ones among them),
    // and what we sent.
    uint64_t twcc_feedback_received = 0, twcc_packets_reported = 0, twcc_packets_lost = 0;
    uint64_t twcc_feedback_sent = 0;
    std::optional<double> rtt_ms;  // the latest, from the partner's receiver reports (RtcpFeedback)
  };

  // Per-frame facts for the stats (MediaOptions::frame_log /
  // latency_stamp), drained by take_frame_log().
  using FrameLog = ReceiveProbes::FrameLog;
  using Negotiation = WebrtcEndpoint::Negotiation;

  ~PeerConnection() override;
  PeerConnection(const PeerConnection&) = delete;
  PeerConnection& operator=(const PeerConnection&) = delete;

  // Starts an offer; on_local_description delivers it.
  void create_offer();
  // An offer is answered automatically (on_local_description delivers the
  // answer); an answer completes our offer.
  void set_remote_description(const signaling::SessionDescription& d);
  void add_remote_candidate(const signaling::IceCandidate& c);

  int id() const { return id_; }
  // Whether the partner's description says it sends us video.
  bool remote_sends_video() const { return remote_sends_video_; }
  // What the partner runs, from its description (signaling::implementation_of):
  // "Firefox", "libwebrtc", "callagent 0.1.0", ...; "" before it came or when
  // it does not say.
  const std::string& partner_implementation() const { return partner_implementation_; }
  ConnectionState state() const { return endpoint_->state(); }
  Negotiation negotiation() const { return endpoint_->negotiation(); }
  Counters counters() const;
  // The recording of this partner, "" if none.
  std::string recording_path() const;
  // The webrtcbin (borrowed), for stats.
  GstElement* webrtcbin() const { return endpoint_->webrtcbin(); }
  FrameLog take_frame_log() { return probes_->take_frame_log(); }
  // The last decoded remote video frame (MediaOptions::keep_last_frame), a
  // new sample, or null.
  GUnique<GstSample> last_video_sample() const { return probes_->last_video_sample(); }
  // The sender's congestion control of this partner (borrowed), or null
  // when it is off (MediaOptions::congestion_control) or nothing is sent.
  RateController* rate_controller() const { return rate_.get(); }
  // The engine's presets changed mid-call (MediaEngine::set_presets): the
  // controller follows, or without one the retransmission budget.
  void on_presets_changed();
  // Asks the partner for a keyframe now (a PLI through the keyframe
  // requester, rate-limited like its own); false before video is received.
  bool request_keyframe() { return probes_->request_keyframe(); }

 private:
  friend class MediaEngine;
  struct Config {
    int id = 0;
    GstBin* pipeline = nullptr;
    LocalSource* video = nullptr;       // nullable
    LocalSource* audio = nullptr;       // nullable
    AudioPlayback* playback = nullptr;  // nullable: no audio playback
    const MediaOptions* options = nullptr;
    // Allocates the next recording file name when this partner's media is
    // known (so peers that never receive media use up no name); empty: no
    // recording.
    std::function<std::string()> record_path;
    // An output failed and was stopped (PeerOutputs::Config::on_failure).
    std::function<void(const OutputFailure&)> on_output_failure;
  };
  PeerConnection(Config config, Listener* listener);
  Status build();
  // Engine hooks.
  bool owns(GstObject* o) const;            // o is inside this peer's bin
  void on_pipeline_error(GstMessage* msg);  // an error from inside our bin
  // Stops sending and playing, detaches the listener, finalizes the
  // outputs; `done` runs on the main context when they are complete.
  void close(std::function<void()> done);

  // WebrtcEndpoint::Events
  void on_remote_description(const signaling::Sdp& remote) override;
  void on_local_description(const signaling::SessionDescription& d) override;
  void on_local_candidate(const signaling::IceCandidate& c) override;
  void on_connection_state(ConnectionState s) override;
  void on_ice_connected() override;
  void on_failed(const Error& e) override;
  void on_remote_pad(GstPad* pad) override;  // streaming thread

  // Calls the listener now, or posts the call when inside one of our public
  // methods (see the header comment).
  void notify(std::function<void(Listener&)> fn);
  struct InCall;

  Config config_;
  Listener* listener_;  // borrowed; nullptr once closed
  const int id_;
  bool remote_sends_video_ = false;  // main context
  std::string partner_implementation_;  // main context
  GMainContext* ctx_;
  Lifetime lifetime_ = make_lifetime();
  int in_call_ = 0;

  GRef<GstElement> bin_;  // added to the pipeline by build()
  std::unique_ptr<ReceiveProbes> probes_;
  std::unique_ptr<PeerOutputs> outputs_;
  std::unique_ptr<WebrtcEndpoint> endpoint_;
  std::unique_ptr<RateController> rate_;  // after endpoint_: reads its SSRCs
  std::unique_ptr<TransportFeedback> transport_feedback_;  // nullable
  // Written by pad-added (streaming thread) only; kept until the bin is
  // in NULL.
  std::unique_ptr<ReceiveChain> video_chain_;
  std::unique_ptr<ReceiveChain> audio_chain_;
};

}  // namespace callagent::media
