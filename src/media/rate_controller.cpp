#include "media/rate_controller.h"

#include "common/logging.h"
#include "media/local_source.h"

#include <algorithm>
#include <utility>

namespace callagent::media {

namespace {
auto log() { return logging::get("media"); }

int64_t video_max_bps(const MediaOptions& o) {
  return o.video_source.type == SourceSpec::Type::None ? 0 : int64_t{o.video.effective_bitrate_kbps()} * 1000;
}
int64_t audio_max_bps(const MediaOptions& o) {
  return o.audio_source.type == SourceSpec::Type::None ? 0 : int64_t{o.audio.bitrate_kbps} * 1000;
}

congestion::BandwidthConfig bandwidth_config(const MediaOptions& o) {
  congestion::BandwidthConfig c;
  c.max_bps = std::max(RateController::kMinBps, video_max_bps(o) + audio_max_bps(o));
  c.min_bps = RateController::kMinBps;
  c.start_bps = c.max_bps;  // see the header: no probing without TWCC
  return c;
}

congestion::RateAllocatorConfig allocator_config(const MediaOptions& o) {
  congestion::RateAllocatorConfig c;
  const int64_t audio = std::max<int64_t>(audio_max_bps(o), 6'000);
  c.audio_max_bps = audio;
  c.audio_min_bps = std::min(c.audio_min_bps, audio);
  c.video_max_bps = std::max(c.video_min_bps, video_max_bps(o));
  return c;
}

congestion::VideoLadderConfig ladder_config(const MediaOptions& o) {
  congestion::VideoLadderConfig c;
  c.preset = {o.video.width, o.video.height, o.video.fps};
  return c;
}
}  // namespace

RateController::RateController(Config config)
    : config_(std::move(config)),
      estimator_(bandwidth_config(*config_.options)),
      allocator_(allocator_config(*config_.options)),
      ladder_(ladder_config(*config_.options)) {
  RtcpFeedback::Events ev;
  ev.on_reports = [this](int64_t now, const std::vector<RtcpFeedback::ReportBlock>& b) { on_reports(now, b); };
  ev.on_remb = [this](int64_t now, const RtcpFeedback::Remb& r) { on_remb(now, r); };
  rtcp_ = std::make_unique<RtcpFeedback>(config_.id, config_.webrtcbin, std::move(ev));
  const auto c = bandwidth_config(*config_.options);
  log()->info("peer{}: congestion control on: {}-{} kbit/s, starting at {} kbit/s", config_.id,
              c.min_bps / 1000, c.max_bps / 1000, c.start_bps / 1000);
  timer_.start(kTick, [this] {
    tick();
    return true;
  });
}

RateController::~RateController() { stop(); }

void RateController::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  if (rtcp_) rtcp_->detach();
  // The partner is gone: the others' wishes (or the preset) apply.
  if (config_.video) config_.video->release_rate_wish(config_.id);
  if (config_.audio) config_.audio->release_rate_wish(config_.id);
}

void RateController::on_presets_changed() {
  if (stopped_) return;
  const auto bw = bandwidth_config(*config_.options);
  estimator_.set_bounds(bw.min_bps, bw.max_bps);
  const auto ac = allocator_config(*config_.options);
  allocator_.set_video_max(ac.video_max_bps);
  allocator_.set_audio_max(ac.audio_max_bps);
  ladder_ = congestion::VideoLadder(ladder_config(*config_.options));
  log()->info("peer{}: new presets: congestion control {}-{} kbit/s, video up to {}", config_.id, bw.min_bps / 1000,
              bw.max_bps / 1000, congestion::to_string(ladder_.current()));
  const int64_t now = g_get_monotonic_time();
  estimator_.defer_probes(now + kProbeDeferAfterStepUs);  // a new picture size: see defer_probes()
  video_wish_bps_ = -1;  // state the wish again, with the new ladder's format
  audio_dirty_ = true;
  apply(now);
}

void RateController::tick() {
  if (stopped_) return;
  if (!rtcp_->attached()) rtcp_->attach();
  const int64_t now = g_get_monotonic_time();
  estimator_.on_tick(now);
  apply(now);
}

void RateController::on_reports(int64_t now_us, const std::vector<RtcpFeedback::ReportBlock>& blocks) {
  if (stopped_) return;
  const uint32_t video = config_.video && config_.out_ssrc ? config_.out_ssrc(MediaKind::Video) : 0;
  const uint32_t audio = config_.audio && config_.out_ssrc ? config_.out_ssrc(MediaKind::Audio) : 0;
  // The estimator follows the video stream (the one that matters for the
  // path's capacity); audio alone when we send no video.
  const uint32_t main = video ? video : audio;
  for (const auto& b : blocks) {
    if (b.ssrc == 0) continue;
    if (b.ssrc == main) {
      ++reports_;
      if (b.ssrc != loss_ssrc_) {
        loss_ssrc_ = b.ssrc;
        report_loss_ = {};
      }
      const auto loss = report_loss_.on_report(b.ext_highest_seq, b.packets_lost);
      estimator_.on_receiver_report(now_us, loss, b.rtt_ms);
      log()->debug("peer{}: RR on {}: lost {} (block {:.1f} %), rtt {} ms -> target {} kbit/s", config_.id,
                   b.ssrc == video ? "video" : "audio",
                   loss ? fmt::format("{:.1f} %", *loss * 100) : std::string("-"), b.fraction_lost * 100,
                   b.rtt_ms ? fmt::format("{:.0f}", *b.rtt_ms) : std::string("?"),
                   estimator_.target_bps() / 1000);
    }
    if (b.ssrc == audio) {
      if (auto pct = fec_.on_loss_report(now_us, b.fraction_lost)) {
        fec_wish_ = *pct;
        audio_dirty_ = true;
      }
    }
  }
  apply(now_us);
}

void RateController::on_remb(int64_t now_us, const RtcpFeedback::Remb& r) {
  if (stopped_) return;
  ++rembs_;
  estimator_.on_remb(now_us, r.bps);
  apply(now_us);
}

void RateController::on_transport_feedback(int64_t now_us, std::span<const congestion::PacketResult> packets) {
  if (stopped_ || packets.empty()) return;
  ++twcc_;
  estimator_.on_transport_feedback(now_us, packets);
  apply(now_us);
}

std::optional<congestion::VideoFormat> RateController::check_encoder(int64_t now_us, int64_t video_bps) {
  const uint64_t in = config_.video->buffers_to_encoder(), out = config_.video->buffers_encoded();
  const int64_t dt = now_us - encoder_window_us_;
  if (encoder_window_us_ != 0 && dt < 1'000'000) return std::nullopt;
  const double s = static_cast<double>(dt) / 1e6;
  const double in_fps = static_cast<double>(in - encoder_in_) / s, out_fps = static_cast<double>(out - encoder_out_) / s;
  const bool first = std::exchange(encoder_window_us_, now_us) == 0;
  encoder_in_ = in;
  encoder_out_ = out;
  if (first) return std::nullopt;
  auto step = ladder_.on_encoder(now_us, in_fps, out_fps, video_bps);
  if (step)
    log()->info("peer{}: the encoder made {:.0f} of {:.0f} frames/s at {} kbit/s: a smaller picture",
                config_.id, out_fps, in_fps, video_bps / 1000);
  return step;
}

void RateController::apply(int64_t now_us) {
  const int64_t target = estimator_.target_bps();
  // A probe that started since the last apply (log_probe() keeps the
  // count seen then) reaches the encoder at once: its sample is the
  // encoder's output.
  const bool probe_started = estimator_.probing() && estimator_.status().probes_started != probes_seen_;
  log_probe(target);
  const bool first = last_.applied.video_bps == 0 && last_.applied.audio_bps == 0;
  const auto d = allocator_.update(now_us, target, probe_started);
  std::optional<congestion::VideoFormat> step;
  if (config_.video) {
    step = ladder_.update(now_us, d.video_wanted_bps, !estimator_.probing());
    if (!step) step = check_encoder(now_us, d.applied.video_bps);
    if (step) estimator_.defer_probes(now_us + kProbeDeferAfterStepUs);
  }
  const double factor = ladder_.rate_factor(now_us);
  const auto video_wish = static_cast<int64_t>(static_cast<double>(d.applied.video_bps) * factor);
  if (config_.video && (d.video_changed || step || first || video_wish != video_wish_bps_)) {
    const auto& f = ladder_.current();
    LocalSource::RateWish w;
    w.bitrate_bps = video_wish_bps_ = video_wish;
    w.width = f.width;
    w.height = f.height;
    w.fps = f.fps;
    config_.video->set_rate_wish(config_.id, w);
    if (config_.on_video_rate) config_.on_video_rate(d.applied.video_bps);
    if (step)
      log()->info("peer{}: video {} ({} kbit/s of a {} kbit/s estimate{})", config_.id, congestion::to_string(f),
                  d.applied.video_bps / 1000, target / 1000,
                  factor < 1.0 ? fmt::format("; {} kbit/s for a moment", w.bitrate_bps / 1000) : std::string());
  }
  if (config_.audio && (d.audio_changed || first || audio_dirty_)) {
    LocalSource::RateWish w;
    w.bitrate_bps = d.applied.audio_bps;
    // Until the policy has seen a report, opusenc keeps its configured share.
    w.loss_percentage = fec_wish_;
    config_.audio->set_rate_wish(config_.id, w);
    audio_dirty_ = false;
  }
  if (d.video_changed || d.audio_changed) {
    log()->debug("peer{}: target {} kbit/s: video {} kbit/s, audio {} kbit/s", config_.id, target / 1000,
                 d.applied.video_bps / 1000, d.applied.audio_bps / 1000);
  }
  last_ = d;
}

void RateController::log_probe(int64_t target_bps) {
  const auto st = estimator_.status();
  const bool probing = estimator_.probing();
  if (st.probes_started == probes_seen_ && probing == probing_seen_) return;
  if (probing)
    log()->debug("peer{}: probe ({}) at {} kbit/s", config_.id, st.probe_reason, target_bps / 1000);
  else
    log()->debug("peer{}: probe ended ({} of {} succeeded): {} kbit/s", config_.id, st.probes_succeeded,
                 st.probes_started, target_bps / 1000);
  probes_seen_ = st.probes_started;
  probing_seen_ = probing;
}

RateController::Status RateController::status() const {
  Status s;
  const auto st = estimator_.status();
  s.target_bps = st.target_bps;
  s.video_bps = config_.video ? video_wish_bps_ : 0;
  s.audio_bps = config_.audio ? last_.applied.audio_bps : 0;
  const auto max = bandwidth_config(*config_.options).max_bps;
  if (st.target_bps >= max)
    s.limited_by = "max";
  else if (st.remb_bps && *st.remb_bps <= st.target_bps)
    s.limited_by = "remb";
  else if (st.delay_based_bps && *st.delay_based_bps <= st.loss_based_bps)
    s.limited_by = "delay";
  else
    s.limited_by = "loss";
  if (config_.video) {
    // What the (shared) encoder sends: another partner may have asked for less.
    s.width = config_.video->video_width();
    s.height = config_.video->video_height();
    s.fps = config_.video->video_fps();
  }
  s.ladder_steps = ladder_.steps();
  s.fec_percentage = fec_wish_;
  s.loss = st.last_loss;
  if (reports_ > 0) s.rtt_ms = st.rtt_ms;
  s.remb_bps = st.remb_bps;
  s.reports = reports_;
  s.rembs = rembs_;
  s.transport_feedbacks = twcc_;
  return s;
}

}  // namespace callagent::media
