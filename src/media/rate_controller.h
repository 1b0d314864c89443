#pragma once
// RateController: the sender's congestion control for one partner, wired
// for real. It feeds the pure controllers of src/congestion with what the
// partner reports and applies their decisions to the shared LocalSources:
//
//   RtcpFeedback (RR blocks, REMB) ──┐
//   on_transport_feedback (TWCC) ────┼─> BandwidthEstimator ─> target (audio + video)
//   tick (150 ms) ───────────────────┘          │
//                                               v
//                       RateAllocator ─> opusenc `bitrate`, vp8enc `target-bitrate` (live)
//                              └─> VideoLadder ─> the "video-preset" caps (size, frame rate),
//                                                 and 0.65 x the bitrate for 1 s after a step up
//   the encoder's frames given / made (1 s) ─┘ (a smaller picture when it drops frames)
//   RR blocks of our audio SSRC ─> OpusFecPolicy ─> opusenc `packet-loss-percentage`
//
// Inputs: the report blocks about our video SSRC drive the estimator (our
// audio's when we send no video; their loss taken over >= 20 packets,
// congestion::ReportLoss); the audio SSRC's drive the Opus FEC share.
// REMB caps the target. TWCC feedback comes from outside
// (on_transport_feedback, PeerConnection's TransportFeedback); without it
// only the loss-based rules run (no delay signal, no probing). With it the
// loss the estimator acts on is the feedback's (packets lost on the wire),
// not the reports' fraction lost, which retransmissions hide.
//
// Bounds: min 100 kbit/s; max = the preset's video bitrate (or
// --video-bitrate) + the audio preset's. The estimate starts at the max:
// without TWCC there is no probing, and a loss-based climb from libwebrtc's
// 300 kbit/s to 720p's 2.5 Mbit/s at +8 %/s would take half a minute on
// every clean path; a congested one is cut within seconds instead (x(1 -
// loss/2) per loss report above 10 %; vp8enc drops frames to follow a cut
// at once, see media/encoder.cpp, and the ladder may leave the preset's
// size 1 s into the call). A start at 1 Mbit/s with a probe at the first
// feedback was tried (measurements, section 22): the thin-link start got
// better, but on a 5 % lossy path the loss rule's hold (2-10 %) kept
// 720p at 1 Mbit/s, 13 fps, when the probe did not succeed.
//
// The encoders are shared by every partner: each controller states its
// wish to the LocalSource (set_rate_wish), which applies the smallest
// bitrate and picture and the largest FEC share; stop() (the partner
// leaves) withdraws the wish.
//
// Created by PeerConnection right after its WebrtcEndpoint (before
// negotiation), owned by it, main context only. The tick also attaches
// RtcpFeedback once webrtcbin has made its RTP session.

#include "common/main_context.h"
#include "congestion/bandwidth_estimator.h"
#include "congestion/opus_fec_policy.h"
#include "congestion/rate_allocator.h"
#include "congestion/report_loss.h"
#include "congestion/video_ladder.h"
#include "media/media_options.h"
#include "media/rtcp_feedback.h"

#include <gst/gst.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace callagent::media {

class LocalSource;

class RateController {
 public:
  struct Config {
    int id = 0;                         // the peer's (log, LocalSource wish owner)
    GstElement* webrtcbin = nullptr;    // borrowed
    LocalSource* video = nullptr;       // nullable
    LocalSource* audio = nullptr;       // nullable
    const MediaOptions* options = nullptr;
    // Our SSRC of a sent kind, 0 while unknown (WebrtcEndpoint::out_ssrc).
    std::function<uint32_t(MediaKind)> out_ssrc;
    // The video target each time it changes (the retransmission budget
    // follows it); may be empty.
    std::function<void(int64_t video_bps)> on_video_rate;
  };

  // What the controller decided last (for the stats and the report).
  struct Status {
    int64_t target_bps = 0;       // the estimate, audio + video
    int64_t video_bps = 0;        // applied to the video encoder
    int64_t audio_bps = 0;        // applied to the audio encoder
    std::string limited_by;       // "loss" | "delay" | "remb" | "max"
    int width = 0, height = 0, fps = 0;  // the video format sent
    int ladder_steps = 0;
    int fec_percentage = -1;      // opusenc packet-loss-percentage we asked (-1: none yet)
    double loss = 0;              // last fraction lost on our video (0..1)
    std::optional<double> rtt_ms;
    std::optional<int64_t> remb_bps;
    uint64_t reports = 0, rembs = 0, transport_feedbacks = 0;
  };

  explicit RateController(Config config);
  ~RateController();
  RateController(const RateController&) = delete;
  RateController& operator=(const RateController&) = delete;

  // TWCC feedback (packets in transport sequence order; see
  // congestion::PacketResult). Main context; now_us from
  // g_get_monotonic_time().
  void on_transport_feedback(int64_t now_us, std::span<const congestion::PacketResult> packets);

  // Stops listening and ticking (before the pipeline goes to NULL) and
  // withdraws this partner's wish from the encoders. Idempotent.
  void stop();

  Status status() const;

  // The presets in the options changed mid-call (the control socket's
  // `set`): new bounds for the estimate (the target is clamped, or may now
  // climb and probe up to the new maximum), the allocator's maxima, and a
  // new ladder from the new preset (it leaves the top within its 1 s hold
  // when the estimate is below the new size's minimum, as at a call's
  // start).
  void on_presets_changed();

  static constexpr std::chrono::milliseconds kTick{150};
  static constexpr int64_t kMinBps = 100'000;
  // No probe this long after a ladder step (BandwidthEstimator::defer_probes).
  static constexpr int64_t kProbeDeferAfterStepUs = 3'000'000;

 private:
  void tick();
  void on_reports(int64_t now_us, const std::vector<RtcpFeedback::ReportBlock>& blocks);
  void on_remb(int64_t now_us, const RtcpFeedback::Remb& r);
  void apply(int64_t now_us);
  // The encoder's frames given / made over >= 1 s windows, for the
  // ladder's step down when it cannot hold the picture (VideoLadder::on_encoder).
  std::optional<congestion::VideoFormat> check_encoder(int64_t now_us, int64_t video_bps);
  // Logs a probe's start and end (debug) and keeps what it saw
  // (probes_seen_, probing_seen_).
  void log_probe(int64_t target_bps);

  Config config_;
  congestion::BandwidthEstimator estimator_;
  congestion::RateAllocator allocator_;
  congestion::VideoLadder ladder_;
  congestion::OpusFecPolicy fec_;
  congestion::ReportLoss report_loss_;  // of the stream the estimator follows
  uint32_t loss_ssrc_ = 0;
  std::unique_ptr<RtcpFeedback> rtcp_;
  Timeout timer_;
  congestion::RateAllocator::Decision last_;
  int64_t encoder_window_us_ = 0;
  uint64_t encoder_in_ = 0, encoder_out_ = 0;
  uint64_t reports_ = 0, rembs_ = 0, twcc_ = 0;
  int probes_seen_ = 0;
  bool probing_seen_ = false;
  int64_t video_wish_bps_ = 0;  // the bitrate last wished of the video encoder
  int fec_wish_ = -1;  // -1: the policy has not spoken yet
  bool audio_dirty_ = false;
  bool stopped_ = false;
};

}  // namespace callagent::media
