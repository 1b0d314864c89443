#pragma once
// Retransmission: loss repair (NACK + RTX) and RTCP feedback timing of one
// webrtcbin, and its jitter buffers sized from the measured RTT.
//
// webrtcbin 1.22 gets several of these wrong on its own:
//  - `do-nack` is a transceiver property that must be set when the
//    transceiver appears (it decides the rtcp-fb nack lines, the RTX payload
//    and FID group of offers and answers): enable_nack() for every video
//    transceiver, whoever made it (our sink pads, receive-only ones, those
//    an incoming offer created: on-new-transceiver), never for audio;
//  - with BUNDLE all jitter buffers take `do-retransmission` from the last
//    m-line: we set it per jitter buffer (rtpbin's new-jitterbuffer,
//    connected after webrtcbin's own handler) from the kind of THAT stream,
//    by its SSRC in the remote description or, when the description has no
//    SSRCs, by the payload type of its first packet. Audio is never NACKed
//    (a browser would retransmit audio that was never lost and we would
//    count false loss);
//  - rtpsession's `rtcp-min-interval` (5 s by default) also throttles early
//    feedback, so a NACK or PLI could wait seconds: 1 s, like libwebrtc's
//    video reports;
//  - its jitter buffers wait a fixed `latency`: a repair arrives one RTT
//    after the gap was seen, so on a long path nothing is ever repaired in
//    time. Unless the user pinned it, the latency follows the RTT of the
//    partner's receiver reports about our streams (congestion::JitterLatency:
//    2 x RTT + 50 ms, raised at once, lowered slowly, at most 1 s), applied
//    the moment a report arrives. The RTT is the peer's one RTT source,
//    RtcpFeedback (its header says why that one);
//  - a jitter buffer tells rtpsession how long a NACK may wait: its
//    retransmission request carries `deadline` = latency and `avg-rtt`, the
//    round trip of its own earlier repairs (40 ms until one succeeded; then
//    measured from the LAST of its repeated requests, so anything from far
//    too small to the whole latency when NACKs were late), and rtpsession
//    may hold the NACK for up to deadline - delay - avg-rtt (an early RTCP
//    slot or the next regular report). Too small an avg-rtt lets a NACK
//    wait until its repair cannot arrive in time; too large (seen: ~the
//    latency, so 0) sends it to the next regular report when the early slot
//    is taken, up to a second later. Each video request's `avg-rtt` is
//    set to the measured RTT + 50 ms (the latency's jitter margin), so on a
//    200 ms path a NACK waits at most ~RTT and its repair still arrives
//    before the jitter buffer gives up; on a LAN nothing changes (the wait
//    stays ~0, as with the default 40 ms).
// The jitter buffer's own retransmission timing (rtx-delay from the
// jitter, rtx-retry-timeout from the RTT of its earlier repairs,
// rtx-retry-period = latency - timeout) is left automatic: it follows the
// latency we set.
//
// Owned by WebrtcEndpoint; borrows webrtcbin (kept alive by the endpoint).
// Construct, set_remote() and counters() on the main thread; the signal
// handlers and probes run on streaming threads and share only the mutex-
// guarded tables. disconnect() before the bin goes to NULL.

#include "common/gref.h"
#include "common/main_context.h"
#include "common/signal_connection.h"
#include "congestion/jitter_latency.h"
#include "media/media_options.h"
#include "media/rtcp_feedback.h"
#include "signaling/sdp.h"

#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace callagent::media {

class Retransmission {
 public:
  struct Counters {
    // Receiving (our video jitter buffers).
    uint64_t nack_requests = 0;       // retransmission requests we made (each becomes a NACK entry)
    uint64_t rtx_recovered = 0;       // packets a retransmission brought back in time
    uint64_t lost_after_recovery = 0; // packets given up for lost (what the decoder misses)
    // Media packets the network took (before repair): expected - received
    // on the partner's video SSRCs as rtpsession counts them. rtpsession
    // sits before rtprtxreceive, so a retransmission arrives there on the
    // RTX SSRC and does not hide the loss (the jitter buffer's and
    // inbound-rtp's packets-lost are the loss *after* repair).
    uint64_t lost_before_recovery = 0;
    uint64_t rtx_received = 0;        // RTX packets that arrived (rtprtxreceive)
    uint64_t audio_nack_requests = 0; // must stay 0
    bool audio_retransmission = false;  // some audio jitter buffer had do-retransmission
    // Sending (rtprtxsend).
    uint64_t rtx_requests_received = 0;  // NACKed packets the partner asked for
    uint64_t rtx_sent = 0;               // RTX packets sent
    unsigned latency_ms = 0;             // the jitter buffers' current latency
    std::optional<double> rtt_ms;        // the latest, from the partner's receiver reports (RtcpFeedback)
  };

  Retransmission(int peer_id, GstElement* webrtc, const MediaOptions& options);
  ~Retransmission();
  Retransmission(const Retransmission&) = delete;
  Retransmission& operator=(const Retransmission&) = delete;

  // do-nack on a video transceiver; nothing for audio.
  static void enable_nack(GstWebRTCRTPTransceiver* trans, MediaKind kind);

  // The partner's description (before webrtcbin applies it): which SSRC
  // and payload type is which kind, and whether it accepts NACK for video.
  void set_remote(const signaling::Sdp& remote);
  Counters counters() const;
  void disconnect();

 private:
  struct Jitterbuffer {
    GRef<GstElement> element;
    uint32_t ssrc = 0;
    std::optional<MediaKind> kind;  // unknown until its first packet
    bool requests_watched = false;  // watch_requests() probe installed
  };

  static void on_new_transceiver(GstElement*, GstWebRTCRTPTransceiver* trans, gpointer data);
  static void on_new_jitterbuffer(GstElement*, GstElement* jb, guint session, guint ssrc, gpointer data);
  static GstPadProbeReturn on_first_packet(GstPad*, GstPadProbeInfo* info, gpointer data);
  // Under mutex_.
  void configure(GstElement* jb, MediaKind kind);
  std::optional<MediaKind> kind_of_pt(int pt) const;
  void tick();
  // Packets of these partner SSRCs lost on the network, before repair
  // (rtpsession's count: retransmissions arrive on the RTX SSRC).
  uint64_t network_loss(const std::vector<uint32_t>& ssrcs) const;
  // The RTT of each compound RTCP packet from the partner (main context).
  void on_rtt(int64_t now_us, double rtt_ms);
  // Sets `avg-rtt` of the jitter buffer's retransmission requests from the
  // measured RTT (a probe on its sink pad; under mutex_).
  void watch_requests(Jitterbuffer& jb);
  static GstPadProbeReturn on_request(GstPad*, GstPadProbeInfo* info, gpointer data);
  void apply_session_settings();

  const int peer_id_;
  GstElement* webrtc_;  // borrowed
  GRef<GstElement> rtpbin_;
  std::vector<SignalConnection> signals_;
  Timeout timer_;
  congestion::JitterLatency latency_;
  std::unique_ptr<RtcpFeedback> rtcp_;  // the RTT source
  std::optional<double> rtt_ms_;        // main context
  // The RTT in ms for the request probes (0 = none yet); shared with them so
  // a probe firing during teardown never reads a destroyed object.
  std::shared_ptr<std::atomic<unsigned>> request_rtt_ms_ = std::make_shared<std::atomic<unsigned>>(0);

  mutable std::mutex mutex_;
  std::map<uint32_t, MediaKind> ssrc_kind_;
  std::map<int, MediaKind> pt_kind_;
  bool video_nack_ = true;  // until the remote says otherwise
  std::vector<Jitterbuffer> jitterbuffers_;
  bool session_set_ = false;
};

}  // namespace callagent::media
