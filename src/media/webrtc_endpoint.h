#pragma once
// One webrtcbin for one partner and the offer/answer steps around it.
//
// What it owns: the webrtcbin (inside the peer's bin) and its set-up (bundle
// policy, latency, STUN/TURN, which ICE transports and local addresses),
// its signal handlers, the negotiation state, our send branches
// (SendBranch, one per sent kind, made while negotiating and fed once the
// connection is up), the remote candidates on their way in
// (RemoteCandidates) and our local candidates, which it holds back until
// our description has been delivered, so that whoever sends them can
// always send the description first. It is the only place that holds them.
//
// Negotiation (set_negotiation() is the one transition function; illegal
// moves are logged and refused):
//
//   Idle ──create_offer()──> CreatingOffer ──set-local ok──> WaitingAnswer
//   WaitingAnswer ──set_remote_description(answer)──> ApplyingAnswer ──ok──> Stable
//   Idle ──set_remote_description(offer)──> ApplyingOffer ──ok──> CreatingAnswer
//   CreatingAnswer ──set-local ok──> Stable
//   any ──error──> Failed;  any ──close()──> Closed
//
// A partner that re-offers (a browser rebuilding its connection) is a new
// negotiation with new ICE/DTLS: the call layer replaces the whole peer.
//
// Threading: the public methods and every Events callback but
// on_remote_pad run on the main context the endpoint was made on.
// webrtcbin's signals and promises fire on its own threads; they copy
// their arguments and post() to that context behind a Lifetime guard
// (one post per event). pad-added calls on_remote_pad on the streaming
// thread, synchronously: the first RTP packet follows it at once.

#include "common/gref.h"
#include "common/main_context.h"
#include "common/result.h"
#include "common/signal_connection.h"
#include "media/header_extensions.h"
#include "media/media_options.h"
#include "media/remote_candidates.h"
#include "media/send_branch.h"
#include "signaling/protocol.h"
#include "signaling/sdp.h"

#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace callagent::media {

class LocalSource;
class Retransmission;

enum class ConnectionState { New, Connecting, Connected, Disconnected, Failed, Closed };
std::string_view to_string(ConnectionState s);

class WebrtcEndpoint {
 public:
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

  struct Config {
    int id = 0;                    // the peer's, for the log
    GstBin* bin = nullptr;         // the peer's bin (borrowed)
    LocalSource* video = nullptr;  // nullable: we send no video
    LocalSource* audio = nullptr;  // nullable
    const MediaOptions* options = nullptr;
  };

  class Events {
   public:
    virtual ~Events() = default;
    // The partner's description, before webrtcbin applies it: what it
    // will send is known now.
    virtual void on_remote_description(const signaling::Sdp& remote) = 0;
    // Our offer or answer, set locally; the local candidates follow it.
    virtual void on_local_description(const signaling::SessionDescription& d) = 0;
    virtual void on_local_candidate(const signaling::IceCandidate& c) = 0;
    virtual void on_connection_state(ConnectionState s) = 0;
    virtual void on_ice_connected() = 0;
    // Negotiation failed (logged already); the endpoint is Failed.
    virtual void on_failed(const Error& e) = 0;
    // A new webrtcbin src pad (streaming thread): link it before returning.
    virtual void on_remote_pad(GstPad* pad) = 0;
  };

  // Adds a configured webrtcbin to config.bin. `events` must outlive the
  // endpoint.
  static Result<std::unique_ptr<WebrtcEndpoint>> create(const Config& config, Events& events);
  ~WebrtcEndpoint();
  WebrtcEndpoint(const WebrtcEndpoint&) = delete;
  WebrtcEndpoint& operator=(const WebrtcEndpoint&) = delete;

  void create_offer();
  // An offer is answered at once (on_local_description delivers the
  // answer); an answer completes our offer.
  void set_remote_description(const signaling::SessionDescription& d);
  // Applied at once, also before the remote description (see
  // RemoteCandidates).
  void add_remote_candidate(const signaling::IceCandidate& c);

  // An element of the peer failed: fail the negotiation (if still open)
  // and the connection.
  void on_element_error(const std::string& what);
  // No more negotiation, sending or candidates; events that follow are
  // only connection states. Idempotent.
  void close();
  // Before the bin goes to NULL: no handler runs any more.
  void disconnect_signals();

  Negotiation negotiation() const { return negotiation_; }
  ConnectionState state() const { return state_; }
  GstElement* webrtcbin() const { return webrtc_.get(); }
  // Of the branch sending `kind`, 0 if none.
  uint32_t out_ssrc(MediaKind kind) const;
  uint64_t video_frames_sent() const;
  const Retransmission& retransmission() const { return *retransmission_; }
  // What our retransmissions may take (bit/s): the congestion controller's
  // video target (Retransmission::set_resend_rate).
  void set_resend_rate(int64_t bps);

 private:
  WebrtcEndpoint(const Config& config, Events& events);
  Status build();
  void set_negotiation(Negotiation to);
  void fail(const std::string& what, ExitCode code = ExitCode::CallFailed);
  bool add_sender(LocalSource* src, int payload_type, std::optional<int> mline);
  void add_recv_transceiver(MediaKind kind, std::optional<int> payload_type = std::nullopt);
  void request_promise(const char* signal, GstWebRTCSessionDescription* desc,
                       std::function<void(GstPromise*)> on_reply);
  void on_description_created(GstPromise* p, const char* type);
  void on_local_set(GstPromise* p, std::string type, std::string sdp);
  void on_remote_set(GstPromise* p, bool offer);
  void answer_offer();
  // The message for a partner that cannot receive our video codec
  // (`what`: "offer" or "answer", the description that says so).
  static std::string codec_mismatch(const signaling::SdpMediaSection& m, const std::string& ours, const char* what);
  void on_local_candidate(int mline, std::string candidate);
  void emit_local_candidate(int mline, std::string candidate);
  void on_connection_state_changed(int state);
  void on_ice_state_changed(int state);

  static void on_pad_added(GstElement*, GstPad*, gpointer);
  static void on_ice_candidate(GstElement*, guint, gchar*, gpointer);
  static void on_connection_state_notify(GObject*, GParamSpec*, gpointer);
  static void on_ice_state_notify(GObject*, GParamSpec*, gpointer);

  Config config_;
  Events& events_;
  GMainContext* ctx_;
  Lifetime lifetime_ = make_lifetime();
  GRef<GstElement> webrtc_;
  std::vector<SignalConnection> signals_;
  std::vector<std::unique_ptr<SendBranch>> senders_;
  std::unique_ptr<RemoteCandidates> remote_candidates_;
  std::unique_ptr<Retransmission> retransmission_;  // NACK/RTX, RTCP timing, jitter buffer latency

  Negotiation negotiation_ = Negotiation::Idle;
  ConnectionState state_ = ConnectionState::New;
  std::optional<signaling::Sdp> remote_;
  // The transport-cc extension id (header_extensions.h): ours when we
  // offer, the offer's when we answer; 0 = not negotiated.
  int twcc_id_ = kTwccOfferId;
  std::vector<std::string> local_mids_;
  bool local_sent_ = false;
  std::vector<std::pair<int, std::string>> pending_local_;  // until local_sent_
};

}  // namespace callagent::media
