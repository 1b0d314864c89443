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
//  - rtpsession schedules RTCP by RFC 4585: after an early packet (a NACK,
//    a PLI, TWCC feedback) the next early one may go only one regular
//    interval later, and the regular interval is at least
//    `rtcp-min-interval` (5 s by default) x U(0.5, 1.5). TWCC feedback asks
//    for an early packet every 100 ms, so NACKs found the early slot taken,
//    waited for the next regular report and were dropped as expired before
//    they left (measured, 5 % loss each way, latency 60 ms, a 1 s minimum:
//    62 of ~180 NACKs per agent never sent). `rtcp-min-interval` is 0: the
//    interval is RFC 3550's, from the RTCP share (5 %) of the session's
//    bit rate, ~17 ms at 2.5 Mbit/s; a NACK leaves within that. libwebrtc
//    has no such rule and sends a NACK at once. Set once per session:
//    setting it makes rtpsession run an extra RTCP pass. The rates start at
//    zero, and rtpsession's RTCP share of its 64 kbit/s minimum made the
//    first reports 1-2 s apart: NACKs and the first RTT (which sizes the
//    jitter buffer) came seconds late, and a call on a 200 ms path froze
//    for its first 3-5 s. For the first kStartupBudgetS the session's
//    `bandwidth` is that of a 2 Mbit/s call (reports every ~20-40 ms), then
//    0: measured from the streams again. These settings (and the RTT
//    source) are made as soon as webrtcbin has made the session, polled
//    every 20 ms until then, not on the first 1 s tick (which left the
//    first half second of media with 5 s RTCP and expired NACKs);
//  - rtpsession's `probation` (2) holds a new SSRC's first packet until a
//    second one in sequence arrives; on the partner's RTX SSRC that held
//    the call's first retransmission until the next loss was repaired
//    (200 ms at 5 % loss), and the first keyframe was given up: 0, every
//    SSRC valid at once (SRTP authenticates every packet);
//  - its jitter buffers wait a fixed `latency`: a repair arrives one RTT
//    after the gap was seen, so on a long path nothing is ever repaired in
//    time. Unless the user pinned it, the latency follows the RTT of the
//    partner's receiver reports about our streams (congestion::JitterLatency:
//    2 x RTT + 50 ms, at least 120 ms while packets are being lost so that
//    a repair can be asked for three times, more when gaps are noticed late
//    (JitterLatency says why), raised at once, lowered slowly,
//    at most 1 s), applied the moment a report arrives. The RTT is the
//    peer's one RTT source, RtcpFeedback (its header says why that one).
//    It is set on each jitter buffer, not through webrtcbin's `latency`:
//    changed during a call, that one can deadlock rtpbin against a
//    get-stats and a new stream's first packet (apply_latency());
//  - a jitter buffer tells rtpsession how long a NACK may wait: its
//    retransmission request carries `deadline` = latency and `avg-rtt`, the
//    round trip of its own earlier repairs (40 ms until one succeeded; then
//    measured from the LAST of its repeated requests, so anything from far
//    too small to the whole latency when NACKs were late), and rtpsession
//    holds the NACK for up to deadline - delay - avg-rtt, then drops it as
//    expired. Each video request's `avg-rtt` is set to the measured RTT, but
//    never so high that the NACK could not wait 30 ms for the next RTCP
//    packet (nack_avg_rtt_ms()): a larger value (seen: ~the latency, so 0)
//    dropped NACKs that had to wait even a few milliseconds;
//  - rtprtxsend resends whatever the partner NACKs, at once and on top of
//    the encoder's rate: on a congested link that flood keeps the queue
//    full. A probe on each rtprtxsend's src pad (found as webrtcbin adds
//    it: deep-element-added) lets a request through only within
//    congestion::RetransmissionBudget (half the video target, one copy
//    per 0.4 RTT; libwebrtc's retransmission rate limiter allows the whole
//    target, but its pacer also holds them back); the rest are dropped
//    before rtprtxsend sees them. The rate is the
//    congestion controller's video target (set_resend_rate), the preset's
//    video bitrate with --congestion-control off;
//  - `rtx-next-seqnum` (ask for the packet expected next when it is late)
//    requested the first packet of almost every video frame: off, requests
//    are made for gaps only, as libwebrtc does.
//  - the jitter buffer repeats a request after `rtx-retry-timeout`; left
//    automatic it is 40 ms until a repair answered EVERY request made for
//    its packet, then that repair's round trip + 2 x jitter. Which of the
//    two a call got was chance (measured, 200 ms RTT: one agent asked ~6
//    times per lost packet, its partner ~1.4 times), and the second is
//    the worse one: with a latency of 2 x RTT + 50 ms the second request,
//    a round trip + 2 x jitter after the first, comes back nearly at the
//    deadline (its answer was too late or lost for one lost packet in
//    ~150 at 2 % loss each way: a PLI and a freeze of ~0.85 s). Once the
//    RTT is known the timeout is set: half of it, at least 30 ms
//    (retry_timeout_ms()), so that three requests fit in the latency; the
//    second crosses our first copy on the way and costs one extra copy
//    per lost packet on a long path (RetransmissionBudget lets it
//    through). A browser sender resends once per round trip and turns
//    the half-RTT request down; its next one is then the timeout later.
// rtx-delay (the first request's wait, from the jitter) and
// rtx-retry-period (latency - timeout) stay automatic: they follow the
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
#include "congestion/retransmission_budget.h"
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
    uint64_t rtx_refused = 0;            // requests the budget dropped
    unsigned latency_ms = 0;             // the video jitter buffers' latency, read from them (before any: ours)
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
  // The rate our retransmissions may take, bit/s (see the header).
  void set_resend_rate(int64_t bps);
  Counters counters() const;
  // The jitter buffers' latency in ms, kept current for readers on other
  // threads (ReceiveProbes' render times).
  std::shared_ptr<const std::atomic<unsigned>> playout_latency() const { return playout_latency_ms_; }
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
  void apply_latency(int latency_ms);  // main context
  // rtx-retry-timeout of one video jitter buffer from the RTT, if known
  // (under mutex_).
  void apply_retry_timeout(GstElement* jb) const;
  // Sets `avg-rtt` of the jitter buffer's retransmission requests from the
  // measured RTT, and hands the first request of each lost packet to
  // on_first_request() (a probe on its sink pad; under mutex_).
  void watch_requests(Jitterbuffer& jb);
  static GstPadProbeReturn on_request(GstPad*, GstPadProbeInfo* info, gpointer data);
  // A lost packet's first request, made `noticed_ms` after the packet was
  // due (main context): the latency makes room for its repair at once.
  void on_first_request(int64_t now_us, int noticed_ms);
  // The partner's requests, at an rtprtxsend's src pad (the RTCP thread).
  static void on_element_added(GstBin*, GstBin*, GstElement* element, gpointer data);
  static GstPadProbeReturn on_resend_request(GstPad*, GstPadProbeInfo* info, gpointer data);
  // A second copy of a retransmission (RetransmissionBudget::duplicate).
  static void send_copy_later(GstPad* pad, GstEvent* request);
  static constexpr const char* kDuplicateField = "callagent-copy";
 public:
  // The budget the partner's requests pass (shared with the pad probes).
  struct ResendGate {
    // Runs f(budget) under the lock.
    template <class F>
    auto with(F&& f) {
      std::lock_guard lock(mu);
      return f(budget);
    }
    std::mutex mu;
    congestion::RetransmissionBudget budget;
  };
  // The `avg-rtt` for a retransmission request (see the header): the RTT,
  // but never so much that the NACK could not wait kNackWaitMs for an RTCP
  // packet. Pure, for the tests.
  static constexpr unsigned kNackWaitMs = 30;
  static unsigned nack_avg_rtt_ms(unsigned rtt_ms, unsigned deadline_ms, unsigned delay_ms);
  // A video jitter buffer's `rtx-retry-timeout` for this RTT (see the
  // header): half of it, at least kMinRetryTimeoutMs. Pure, for the tests.
  static constexpr int kMinRetryTimeoutMs = 30;
  static int retry_timeout_ms(double rtt_ms);
  // The RTCP budget at the start of a call (see the header).
  static constexpr int kStartupBandwidthBps = 2'000'000;
  static constexpr int kStartupBudgetS = 5;
  // FEC storage beyond the jitter buffer's latency (webrtcbin's own extra).
  static constexpr int kStorageExtraMs = 50;

 private:
  void apply_session_settings();

  const int peer_id_;
  GstElement* webrtc_;  // borrowed
  GRef<GstElement> rtpbin_;
  std::vector<SignalConnection> signals_;
  Timeout timer_;
  Timeout setup_poll_;  // until the session is set up (see the constructor)
  static constexpr std::chrono::milliseconds kSetupPoll{20};
  static constexpr int kSetupPolls = 1500;  // 30 s
  congestion::JitterLatency latency_;
  std::unique_ptr<RtcpFeedback> rtcp_;  // the RTT source
  std::optional<double> rtt_ms_;        // main context
  // The RTT in ms for the request probes (0 = none yet); shared with them so
  // a probe firing during teardown never reads a destroyed object.
  std::shared_ptr<std::atomic<unsigned>> request_rtt_ms_ = std::make_shared<std::atomic<unsigned>>(0);
  int retry_timeout_ms_ = 0;  // the value the video jitter buffers have (0: automatic); under mutex_
  std::shared_ptr<std::atomic<unsigned>> playout_latency_ms_;
  std::shared_ptr<ResendGate> resend_gate_ = std::make_shared<ResendGate>();
  uint64_t refused_logged_ = 0;  // main context (tick)

  mutable std::mutex mutex_;
  std::map<uint32_t, MediaKind> ssrc_kind_;
  std::map<int, MediaKind> pt_kind_;
  bool video_nack_ = true;  // until the remote says otherwise
  std::vector<Jitterbuffer> jitterbuffers_;
  unsigned sessions_set_ = 0;  // bit N: session N has our RTCP settings (main context)
  std::vector<GRef<GObject>> sessions_;  // the internal rtpsessions we set
  Timeout startup_budget_;
  bool startup_budget_done_ = false;
  GMainContext* context_;  // where the probes post on_first_request()
  Lifetime lifetime_ = make_lifetime();
};

}  // namespace callagent::media
