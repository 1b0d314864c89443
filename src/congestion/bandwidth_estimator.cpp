#include "congestion/bandwidth_estimator.h"

#include <algorithm>

namespace callagent::congestion {

BandwidthEstimator::BandwidthEstimator(BandwidthConfig config)
    : config_(config),
      current_(static_cast<double>(std::clamp(config.start_bps, config.min_bps, config.max_bps))),
      delay_(current_, static_cast<double>(config.min_bps), static_cast<double>(config.max_bps)) {}

double BandwidthEstimator::upper_limit() const {
  double u = static_cast<double>(config_.max_bps);
  if (twcc_seen_) u = std::min(u, delay_.rate_bps());
  if (remb_) u = std::min(u, *remb_);
  return u;
}

void BandwidthEstimator::set_current(int64_t now_us, double bps) {
  (void)now_us;
  current_ = std::max(std::min(bps, upper_limit()), static_cast<double>(config_.min_bps));
}

int64_t BandwidthEstimator::target_bps() const {
  const double t = std::max(std::min(current_, upper_limit()), static_cast<double>(config_.min_bps));
  return static_cast<int64_t>(t);
}

void BandwidthEstimator::set_bounds(int64_t min_bps, int64_t max_bps) {
  config_.min_bps = min_bps;
  config_.max_bps = std::max(min_bps, max_bps);
  delay_.set_bounds(static_cast<double>(config_.min_bps), static_cast<double>(config_.max_bps));
  current_ = std::clamp(current_, static_cast<double>(config_.min_bps), static_cast<double>(config_.max_bps));
}

bool BandwidthEstimator::loss_recent(int64_t now_us) const {
  return last_loss_ && now_us - last_loss_us_ <= kReportValidUs;
}

void BandwidthEstimator::update_min_history(int64_t now_us) {
  while (!min_history_.empty() && now_us - min_history_.front().first > kIncreaseWindowUs)
    min_history_.pop_front();
  // Only the minimum matters: drop newer entries that are not below us.
  while (!min_history_.empty() && current_ <= min_history_.back().second) min_history_.pop_back();
  min_history_.emplace_back(now_us, current_);
}

void BandwidthEstimator::update_loss_based(int64_t now_us) {
  update_min_history(now_us);
  if (!loss_recent(now_us)) {
    set_current(now_us, current_);  // caps only
    return;
  }
  const double loss = *last_loss_;
  if (loss <= kLowLoss) {
    set_current(now_us, min_history_.front().second * kIncreasePerSecond + 1000.0);
  } else if (congested_loss()) {
    const int64_t interval = kDecreaseIntervalUs + static_cast<int64_t>(rtt_ms_ * 1000.0);
    if (!decreased_since_report_ && now_us - last_decrease_us_ >= interval) {
      last_decrease_us_ = now_us;
      cut_seen_ = true;
      reset_transport_loss(now_us);  // what was counted so far was sent before this cut
      decreased_since_report_ = true;
      double next = current_ * (1.0 - 0.5 * loss);
      // Loss behind a full queue: our share of the path is too large, as at
      // an overuse: 0.85 x what arrives, but not below half the target.
      if (last_loss_queued_)
        if (const auto acked = delay_.acked_bps())
          next = std::max(std::min(next, AimdRateControl::kBeta * *acked), 0.5 * current_);
      set_current(now_us, next);
      // Loss on the wire (TWCC) is a full queue: the delay-based side
      // learns the capacity from it, so probes and its increase stop there.
      if (twcc_seen_ && transport_loss_recent(now_us) && probe_state_ != ProbeState::Probing)
        delay_.on_loss_cut(now_us, current_);
      if (probe_state_ == ProbeState::Probing) {
        // The probe overflowed the path, and the delay-based rate still
        // holds the probe's rate: both go to 0.85 x what was acknowledged,
        // but not below half the rate before the probe (during the flood
        // the partner's packets were lost too, so the acknowledged rate
        // can be a fraction of the path; measured on a 2 Mbit/s cap: 0.11
        // Mbit/s and a 12 s climb back without that floor).
        const auto acked = delay_.acked_bps();
        const double back = std::max(acked ? AimdRateControl::kBeta * *acked : pre_probe_bps_, 0.5 * pre_probe_bps_);
        const double result = std::max(std::min(current_, back), static_cast<double>(config_.min_bps));
        delay_.on_loss_cut(now_us, result);
        settle_probe(now_us, result, false);
      }
    } else {
      set_current(now_us, current_);
    }
  } else {
    set_current(now_us, current_);
  }
}

bool BandwidthEstimator::congested_loss() const {
  if (!last_loss_) return false;
  return *last_loss_ > kHighLoss || (*last_loss_ > kLowLoss && last_loss_queued_);
}

void BandwidthEstimator::reset_transport_loss(int64_t now_us) {
  tl_lost_ = tl_total_ = tl_arrived_ = 0;
  tl_delay_sum_us_ = 0;
  tl_since_us_ = now_us;
}

bool BandwidthEstimator::transport_loss_recent(int64_t now_us) const {
  return transport_loss_seen_ && now_us - last_transport_loss_us_ <= kReportValidUs;
}

void BandwidthEstimator::on_loss(int64_t now_us, double fraction_lost, bool queued) {
  last_loss_ = std::clamp(fraction_lost, 0.0, 1.0);
  last_loss_queued_ = queued;
  last_loss_us_ = now_us;
  decreased_since_report_ = false;
}

void BandwidthEstimator::on_receiver_report(int64_t now_us, std::optional<double> fraction_lost,
                                            std::optional<double> rtt_ms) {
  // With TWCC loss at hand the report's fraction (repaired packets counted
  // as received) is not the link's loss: the RTT only.
  if (fraction_lost && !transport_loss_recent(now_us)) on_loss(now_us, *fraction_lost);
  if (rtt_ms && *rtt_ms >= 0) {
    rtt_ms_ = *rtt_ms;
    delay_.set_rtt_ms(*rtt_ms);
  }
  update_loss_based(now_us);
}

void BandwidthEstimator::on_remb(int64_t now_us, int64_t bps) {
  remb_ = static_cast<double>(std::max<int64_t>(bps, 0));
  set_current(now_us, current_);
}

void BandwidthEstimator::on_tick(int64_t now_us) {
  if (probe_state_ == ProbeState::Probing && now_us - probe_start_us_ > kProbeTimeoutUs) {
    settle_probe(now_us, pre_probe_bps_, false);  // no answer: undo
  }
  update_loss_based(now_us);
}

void BandwidthEstimator::on_transport_feedback(int64_t now_us, std::span<const PacketResult> packets) {
  twcc_seen_ = true;
  // Only packets sent after the last loss-based cut judge the next one:
  // the encoder and the queue need a moment to follow a cut, and what was
  // already in flight would otherwise cut again and again (measured at the
  // start of a call on a 2 Mbit/s cap: 2.6 Mbit/s -> 100 kbit/s in 4 s).
  for (const auto& p : packets) {
    if (p.send_us < last_decrease_us_) continue;
    ++tl_total_;
    if (!p.arrival_us) {
      ++tl_lost_;
    } else {
      ++tl_arrived_;
      tl_delay_sum_us_ += *p.arrival_us - p.send_us;
    }
  }
  if (tl_since_us_ < 0) tl_since_us_ = now_us;
  for (const auto& p : packets) {
    if (!p.arrival_us || (probe_state_ == ProbeState::Probing && p.send_us >= probe_start_us_)) continue;
    const auto d = static_cast<double>(*p.arrival_us - p.send_us);
    idle_delay_us_ = idle_delay_us_ ? 0.95 * *idle_delay_us_ + 0.05 * d : d;
  }
  const auto u = delay_.on_feedback(now_us, packets);
  cut_seen_ = cut_seen_ || u.decreased;
  if (tl_total_ >= kTransportLossMinPackets && now_us - tl_since_us_ >= kTransportLossMinIntervalUs) {
    // Queued: the packets that arrived waited kLossQueueUs or more on
    // average (their delay over the path's base delay).
    const auto base = delay_.base_delay_us();
    const bool queued = base && tl_arrived_ > 0 && tl_delay_sum_us_ / tl_arrived_ - *base >= kLossQueueUs;
    on_loss(now_us, static_cast<double>(tl_lost_) / tl_total_, queued);
    transport_loss_seen_ = true;
    last_transport_loss_us_ = now_us;
    reset_transport_loss(now_us);
    update_loss_based(now_us);
  }
  set_current(now_us, current_);
  if (probe_state_ == ProbeState::Probing) probe_feedback(now_us, packets, u.decreased);
  if (probe_state_ == ProbeState::Idle) maybe_start_probe(now_us);
}

void BandwidthEstimator::maybe_start_probe(int64_t now_us) {
  if (!config_.probing) return;
  // Deferred: before the path-faster sign is read, so that it is still
  // there when the deferral ends.
  if (now_us < probes_deferred_until_us_) return;
  const int resets = delay_.aimd().capacity_resets();
  const bool path_faster = resets > seen_capacity_resets_;
  seen_capacity_resets_ = resets;
  double cap = static_cast<double>(config_.max_bps);
  if (remb_) cap = std::min(cap, *remb_);
  if (current_ >= 0.95 * cap) return;
  if (delay_.usage() == BandwidthUsage::Overusing) return;
  if (loss_recent(now_us) && congested_loss()) return;
  const int64_t gap = last_probe_ok_ ? kProbeGapAfterSuccessUs : kProbeGapUs;
  if (probes_started_ > 0 && now_us - last_probe_end_us_ < gap) return;
  if (probes_started_ == 0 && !cut_seen_)
    start_probe(now_us, kProbeFirstFactor * current_, "first");
  else if (probe_further_)
    start_probe(now_us, kProbeFactor * current_, "further");
  else if (path_faster)
    start_probe(now_us, kProbeGentleFactor * current_, "faster");
  else if (probe_app_limited_ && delay_.acked_bps() && *delay_.acked_bps() >= 0.85 * current_)
    start_probe(now_us, (delay_.aimd().capacity_bps() ? kProbeGentleFactor : kProbeFactor) * current_, "fills");
}

void BandwidthEstimator::start_probe(int64_t now_us, double bps, const char* reason) {
  double cap = static_cast<double>(config_.max_bps);
  if (remb_) cap = std::min(cap, *remb_);
  bps = std::min(bps, cap);
  // Never past a capacity the delay-based rate control learned: our probe
  // is seconds of encoder output, not a burst of padding, and on a link
  // at its capacity it fills the queue until packets drop (keyframes lost,
  // a freeze). Beyond it, AIMD's increase finds more, and once the
  // acknowledged rate passes the capacity (the link got faster) it is
  // forgotten and the probes go on.
  bool clamped = false;
  if (const auto c = delay_.aimd().capacity_bps(); c && bps > *c) {
    bps = *c;
    clamped = true;
  }
  if (bps < 1.1 * current_) return;
  probe_clamped_ = clamped;
  pre_probe_bps_ = current_;
  probe_bps_ = bps;
  probe_start_us_ = now_us;
  probe_state_ = ProbeState::Probing;
  probe_further_ = false;
  probe_app_limited_ = false;
  ++probes_started_;
  probe_reason_ = reason;
  sample_sent_bytes_ = sample_recv_bytes_ = 0;
  sample_first_send_ = sample_last_send_ = sample_first_arrival_ = sample_last_arrival_ = -1;
  sample_packets_ = 0;
  probe_start_delay_us_ = idle_delay_us_;
  probe_delays_.fill(0);
  probe_delay_count_ = 0;
  probe_delay_sum_ = 0;
  delay_.set_estimate(now_us, bps);
  current_ = bps;
  min_history_.clear();
  set_current(now_us, current_);
}

void BandwidthEstimator::end_probe(int64_t now_us, bool success) {
  probe_state_ = ProbeState::Idle;
  last_probe_end_us_ = now_us;
  last_probe_ok_ = success;
  // A probe held at the learned capacity found what was known: nothing
  // to look further for (and on a queue that is still draining such
  // "successes" kept the link at its capacity, the queue at 0.5-0.7 s).
  probe_further_ = success && !probe_clamped_ && probe_bps_ < 0.95 * static_cast<double>(config_.max_bps);
  if (success) ++probes_succeeded_;
}

void BandwidthEstimator::probe_feedback(int64_t now_us, std::span<const PacketResult> packets, bool cut) {
  if (cut) {  // the queue grew: the normal cut already applied
    end_probe(now_us, false);
    return;
  }
  bool complete = false;
  bool queued = false;
  for (const auto& p : packets) {
    const int64_t since = p.send_us - probe_start_us_;
    if (since >= 0 && p.arrival_us && probe_start_delay_us_) {
      const int64_t d = *p.arrival_us - p.send_us;
      auto& slot = probe_delays_[probe_delay_count_++ % probe_delays_.size()];
      probe_delay_sum_ += d - slot;
      slot = d;
      const auto n = static_cast<double>(probe_delays_.size());
      if (probe_delay_count_ >= probe_delays_.size() &&
          static_cast<double>(probe_delay_sum_) / n - *probe_start_delay_us_ >= kProbeQueueUs)
        queued = true;
    }
    if (since >= kProbeSampleEndUs) complete = true;
    if (since < kProbeSampleStartUs || since >= kProbeSampleEndUs) continue;
    ++sample_packets_;
    sample_sent_bytes_ += p.size_bytes;
    if (sample_first_send_ < 0) sample_first_send_ = p.send_us;
    sample_last_send_ = std::max(sample_last_send_, p.send_us);
    if (p.arrival_us) {
      sample_recv_bytes_ += p.size_bytes;
      if (sample_first_arrival_ < 0 || *p.arrival_us < sample_first_arrival_) sample_first_arrival_ = *p.arrival_us;
      sample_last_arrival_ = std::max(sample_last_arrival_, *p.arrival_us);
    }
  }
  if (queued) {
    settle_probe(now_us, pre_probe_bps_, false);  // a queue builds: the link had no room for more
    return;
  }
  if (!complete) {
    // A queue shows before the sample is complete: once half of it (250
    // ms) arrived clearly slower than it left, conclude now. On a link at its
    // capacity each further 100 ms of the probe is 100 ms more queue and
    // loss (measured at a call's start on a 2 Mbit/s cap: the full sample
    // kept both directions drowned for ~1.8 s and their first frames lost).
    if (sample_packets_ < kProbeEarlyMinPackets) return;
    const auto r = sample_rates();
    if (!r || r->send_span_us < kProbeEarlySpanUs || r->recv_bps >= 0.8 * r->sent_bps) return;
    settle_probe(now_us, std::max(static_cast<double>(config_.min_bps), AimdRateControl::kBeta * r->recv_bps), false);
    return;
  }
  const auto r = sample_rates();
  if (sample_packets_ < 5 || !r) {
    settle_probe(now_us, pre_probe_bps_, false);
    return;
  }
  if (r->recv_bps < 0.9 * r->sent_bps)
    settle_probe(now_us, AimdRateControl::kBeta * r->recv_bps, false);  // a queue formed
  else if (r->sent_bps >= 0.8 * probe_bps_)
    settle_probe(now_us, probe_bps_, true);
  else {
    probe_app_limited_ = true;  // the encoder sent less than asked
    settle_probe(now_us, std::max(pre_probe_bps_, std::min(r->sent_bps, probe_bps_)), false);
  }
}

std::optional<BandwidthEstimator::SampleRates> BandwidthEstimator::sample_rates() const {
  if (sample_first_arrival_ < 0) return std::nullopt;
  const int64_t send_span = sample_last_send_ - sample_first_send_;
  const int64_t recv_span = sample_last_arrival_ - sample_first_arrival_;
  if (send_span <= 0 || recv_span <= 0) return std::nullopt;
  return SampleRates{static_cast<double>(sample_sent_bytes_) * 8e6 / static_cast<double>(send_span),
                     static_cast<double>(sample_recv_bytes_) * 8e6 / static_cast<double>(recv_span), send_span};
}

void BandwidthEstimator::settle_probe(int64_t now_us, double bps, bool success) {
  delay_.set_estimate(now_us, bps);
  current_ = bps;
  min_history_.clear();
  set_current(now_us, current_);
  end_probe(now_us, success);
}

BandwidthEstimator::Status BandwidthEstimator::status() const {
  Status s;
  s.target_bps = target_bps();
  s.loss_based_bps = static_cast<int64_t>(current_);
  if (twcc_seen_) s.delay_based_bps = static_cast<int64_t>(delay_.rate_bps());
  if (remb_) s.remb_bps = static_cast<int64_t>(*remb_);
  if (delay_.acked_bps()) s.acked_bps = static_cast<int64_t>(*delay_.acked_bps());
  s.usage = delay_.usage();
  s.last_loss = last_loss_.value_or(0);
  s.rtt_ms = rtt_ms_;
  s.probe = probe_state_;
  s.probes_started = probes_started_;
  s.probes_succeeded = probes_succeeded_;
  s.probe_reason = probe_reason_;
  return s;
}

}  // namespace callagent::congestion
