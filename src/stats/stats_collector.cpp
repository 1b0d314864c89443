#include "stats/stats_collector.h"

#include "common/logging.h"
#include "common/main_context.h"
#include "gst/gst_util.h"
#include "stats/report.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

namespace callagent::stats {

namespace {
auto log() {
  static auto l = logging::get("stats");
  return l;
}

// The entry of one stream: by SSRC when our probes know it (webrtcbin
// 1.22 labels every bundled stream "video"), else the busiest entry of the
// kind (a stray SSRC -- an RTX or probation source -- has few packets).
const RtpRaw* pick(const std::vector<RtpRaw>& v, bool video, uint32_t ssrc) {
  if (ssrc) {
    for (const auto& r : v)
      if (r.ssrc == ssrc) return &r;
    return nullptr;
  }
  const RtpRaw* best = nullptr;
  for (const auto& r : v)
    if (r.video == video && (!best || r.packets > best->packets)) best = &r;
  return best;
}

// get-stats' round-trip-time is rtpsession's arithmetic on any report
// block: 0 when the block echoed no sender report (LSR 0), and absurd
// values (1500 s seen) for a block computed against another clock. Above
// 3 s it is not an RTT (ICE consent fails long before), the bound
// RtcpFeedback applies to its own.
bool plausible_rtt_ms(double ms) { return ms > 0 && ms < 3000.0; }
}  // namespace

Result<std::unique_ptr<StatsCollector>> StatsCollector::create(Options options, Source& source) {
  std::unique_ptr<StatsCollector> c(new StatsCollector(std::move(options), source));
  if (!c->options_.log_path.empty()) {
    c->log_.reset(std::fopen(c->options_.log_path.c_str(), "a"));
    if (!c->log_)
      return Error{ExitCode::CantCreate,
                   "--stats-log: cannot open '" + c->options_.log_path + "': " + std::strerror(errno)};
  }
  return c;
}

StatsCollector::StatsCollector(Options options, Source& source)
    : options_(std::move(options)), source_(source) {
  data_.warmup_s = options_.warmup_s;
}

StatsCollector::~StatsCollector() { timer_.cancel(); }

void StatsCollector::start() {
  if (started_) return;
  started_ = true;
  t0_us_ = g_get_monotonic_time();
  prev_.t_us = t0_us_;
  if (options_.interval.count() > 0)
    timer_.start(options_.interval, [this] {
      poll();
      return true;
    });
}

double StatsCollector::now_ms() const {
  return started_ ? static_cast<double>(g_get_monotonic_time() - t0_us_) / 1000.0 : 0.0;
}

void StatsCollector::mark(const std::string& event) {
  data_.timeline.push_back(TimelineEvent{event, now_ms()});
  log()->debug("timeline: {} at {:.0f} ms", event, data_.timeline.back().t_ms);
}

void StatsCollector::expect_video() {
  if (started_ && !stopped_) freezes_.expect_frames(g_get_monotonic_time() - t0_us_);
}

void StatsCollector::stop() {
  if (stopped_ || !started_) return;
  stopped_ = true;
  timer_.cancel();
  // The last frames since the previous interval still count for freezes
  // and latency.
  ProbeFacts f = source_.take_probe_facts();
  absorb(f, now_ms() / 1000.0);
  // A stream that stopped (or never started) is one freeze up to the end.
  freezes_.finish(g_get_monotonic_time() - t0_us_);
  data_.freezes = freezes_.freezes();
  if (log_) std::fflush(log_.get());
}

void StatsCollector::poll() {
  if (stopped_) return;
  GstElement* webrtc = source_.stats_webrtcbin();
  const int peer = source_.stats_peer_id();
  if (!webrtc) {
    take_snapshot(RawStats{}, 0, 0);
    return;
  }
  // The previous answer is still coming. Only one for this same peer is
  // waited for: webrtcbin 1.22 drops a get-stats promise unanswered when it
  // is closed meanwhile (enqueue_task() on a closed webrtcbin), and waiting
  // for that one stopped all polling for the next partner (a report
  // without candidate_pair after a second peer).
  if (in_flight_ && in_flight_peer_ == peer) return;
  in_flight_ = true;
  in_flight_peer_ = peer;
  const int64_t asked = g_get_monotonic_time();
  GUnique<GstPromise> p(promise_on_context(thread_default_context(), lifetime_, [this, peer, asked](GstPromise* done) {
    GUnique<GstStructure> copy;
    if (gst_promise_wait(done) == GST_PROMISE_RESULT_REPLIED) {
      const GstStructure* s = gst_promise_get_reply(done);
      if (s) copy.reset(gst_structure_copy(s));
    }
    on_reply(std::move(copy), peer, asked);
  }));
  g_signal_emit_by_name(webrtc, "get-stats", nullptr, p.get());
}

void StatsCollector::on_reply(GUnique<GstStructure> reply, int peer, int64_t asked_us) {
  if (peer == in_flight_peer_) in_flight_ = false;
  if (stopped_) return;
  const double poll_ms = static_cast<double>(g_get_monotonic_time() - asked_us) / 1000.0;
  if (peer != source_.stats_peer_id()) return;  // that partner is gone
  if (log()->should_log(spdlog::level::trace) && reply)
    log()->trace("get-stats: {}", stats_to_string(reply.get()));
  take_snapshot(reply ? parse_webrtc_stats(reply.get()) : RawStats{}, peer, poll_ms);
}

void StatsCollector::absorb(ProbeFacts& f, double t_s) {
  for (int64_t t : f.frame_times_us) freezes_.on_frame(t - t0_us_);
  for (double ms : f.latency_ms) data_.latency.emplace_back(t_s, ms);
  const size_t cap = 2'000'000;  // months-long runs: keep the newest
  if (data_.latency.size() > cap) data_.latency.erase(data_.latency.begin(), data_.latency.begin() + cap / 2);
}

void StatsCollector::take_snapshot(RawStats raw, int peer, double poll_ms) {
  if (peer != peer_) {
    // A new partner visit: counters restart, the gap before its first frame is no freeze.
    peer_ = peer;
    prev_ = Previous{};
    prev_.t_us = g_get_monotonic_time() - options_.interval.count() * 1000;
    freezes_.reset_stream();
  }
  ProbeFacts facts = source_.take_probe_facts();
  const int64_t now = g_get_monotonic_time();
  Snapshot s = build_snapshot(std::move(raw), facts, prev_, now, t0_us_);
  s.state = source_.stats_call_state();
  s.peer = peer;
  if (s.pair && s.pair != logged_pair_) {
    log()->info("peer{}: ICE path {}", peer, describe(*s.pair));
    logged_pair_ = s.pair;
  }
  s.poll_ms = poll_ms;
  absorb(facts, s.t);
  s.freezes = freezes_.count();
  s.freeze_ms = freezes_.total_ms();
  data_.freezes = freezes_.freezes();
  if (!facts.latency_ms.empty()) {
    LatencySummary l;
    l.samples = facts.latency_ms.size();
    l.median_ms = percentile(facts.latency_ms, 50);
    l.p95_ms = percentile(facts.latency_ms, 95);
    l.max_ms = *std::max_element(facts.latency_ms.begin(), facts.latency_ms.end());
    l.min_ms = *std::min_element(facts.latency_ms.begin(), facts.latency_ms.end());
    s.latency = l;
  }
  data_.series.push_back(s);
  if (data_.series.size() >= kMaxSeries) thin_series(data_.series);
  if (log_) {
    std::string line = snapshot_to_json(s);
    std::fputs(line.c_str(), log_.get());
    std::fputc('\n', log_.get());
    std::fflush(log_.get());
  }
  last_ = std::move(s);
  if (on_snapshot) on_snapshot(*last_);
}

void StatsCollector::thin_series(std::vector<Snapshot>& series) {
  // Every other interval goes, except the first and the last of each peer
  // connection's run: the counters are cumulative within a peer, so its
  // last interval carries its totals.
  std::vector<Snapshot> kept;
  kept.reserve(series.size() / 2 + 16);
  for (size_t i = 0; i < series.size(); ++i) {
    const bool first = i == 0 || series[i - 1].peer != series[i].peer;
    const bool last = i + 1 == series.size() || series[i + 1].peer != series[i].peer;
    if (first || last || i % 2 == 0) kept.push_back(std::move(series[i]));
  }
  series = std::move(kept);
}

Snapshot StatsCollector::build_snapshot(RawStats raw, const ProbeFacts& f, Previous& prev, int64_t now_us,
                                        int64_t t0_us) {
  Snapshot s;
  s.t = static_cast<double>(now_us - t0_us) / 1e6;
  const double dt = std::max(1e-3, static_cast<double>(now_us - prev.t_us) / 1e6);
  s.interval = dt;
  s.pair = raw.pair;
  s.recovery = f.recovery;
  s.twcc = f.twcc;

  auto fill = [&](StreamStats& st, const RtpRaw* r, const RtpRaw* p, bool in) {
    if (!r) return;
    st.active = true;
    st.codec = r->codec;
    st.bytes = r->bytes;
    st.packets = r->packets;
    st.packets_lost = r->packets_lost;
    st.nack = r->nack;
    st.pli = r->pli;
    st.fir = r->fir;
    if (r->jitter_s) st.jitter_ms = *r->jitter_s * 1000.0;
    if (r->rtt_s && plausible_rtt_ms(*r->rtt_s * 1000.0)) st.rtt_ms = *r->rtt_s * 1000.0;
    if (p && r->bytes >= p->bytes) st.bitrate = static_cast<double>(r->bytes - p->bytes) * 8.0 / dt;
    if (in) {
      const int64_t dl = p ? r->packets_lost - p->packets_lost : r->packets_lost;
      const int64_t dr = p ? static_cast<int64_t>(r->packets) - static_cast<int64_t>(p->packets)
                           : static_cast<int64_t>(r->packets);
      if (dr + std::max<int64_t>(dl, 0) > 0)
        st.loss_pct = 100.0 * static_cast<double>(std::max<int64_t>(dl, 0)) /
                      static_cast<double>(dr + std::max<int64_t>(dl, 0));
      else
        st.loss_pct = 0;
    } else if (r->fraction_lost) {
      st.loss_pct = *r->fraction_lost * 100.0;
    }
  };
  const RawStats* pr = prev.raw ? &*prev.raw : nullptr;
  const uint32_t vi = f.video_in_ssrc, ai = f.audio_in_ssrc, vo = f.video_out_ssrc, ao = f.audio_out_ssrc;
  // The SSRC (or the pick) decided the kind: make the entry say so.
  auto as_kind = [](const RtpRaw* r, bool video, RtpRaw& out) -> const RtpRaw* {
    if (!r) return nullptr;
    out = *r;
    out.video = video;
    if (out.codec.empty() || video != (out.codec != "OPUS")) out.codec = video ? "VP8" : "OPUS";
    return &out;
  };
  RtpRaw cur_vi, cur_ai, cur_vo, cur_ao;
  const RtpRaw* rvi = as_kind(pick(raw.inbound, true, vi), true, cur_vi);
  const RtpRaw* rai = as_kind(pick(raw.inbound, false, ai), false, cur_ai);
  const RtpRaw* rvo = as_kind(pick(raw.outbound, true, vo), true, cur_vo);
  const RtpRaw* rao = as_kind(pick(raw.outbound, false, ao), false, cur_ao);
  fill(s.video_in, rvi, pr ? pick(pr->inbound, true, vi) : nullptr, true);
  fill(s.audio_in, rai, pr ? pick(pr->inbound, false, ai) : nullptr, true);
  fill(s.video_out, rvo, pr ? pick(pr->outbound, true, vo) : nullptr, false);
  fill(s.audio_out, rao, pr ? pick(pr->outbound, false, ao) : nullptr, false);

  auto delta = [](uint64_t now, uint64_t before) { return now >= before ? now - before : now; };
  // Video in: frames from our probes.
  if (s.video_in.active || f.video_frames_decoded > 0) {
    auto& v = s.video_in;
    v.active = true;
    if (v.codec.empty()) v.codec = "VP8";
    v.frames_received = f.video_frames_received;
    v.frames_decoded = f.video_frames_decoded;
    v.frames_dropped = f.video_frames_received > f.video_frames_decoded
                           ? f.video_frames_received - f.video_frames_decoded
                           : 0;
    v.fps = static_cast<double>(delta(f.video_frames_decoded, prev.video_frames_decoded)) / dt;
    v.width = f.video_width;
    v.height = f.video_height;
  }
  if (s.video_out.active) {
    auto& v = s.video_out;
    v.frames_encoded = f.video_frames_encoded;
    v.frames_sent = f.video_frames_sent;
    v.fps = static_cast<double>(delta(f.video_frames_sent, prev.video_frames_sent)) / dt;
    v.width = f.out_width;
    v.height = f.out_height;
  }
  if (s.audio_in.active || f.audio_buffers_decoded > 0) {
    auto& a = s.audio_in;
    a.active = true;
    if (a.codec.empty()) a.codec = "OPUS";
    if (f.audio_samples > 0) {
      const double ms = f.audio_sum_squares / static_cast<double>(f.audio_samples);
      a.level_dbfs = ms > 1e-10 ? 10.0 * std::log10(ms) : -100.0;
    }
    a.concealed_ms = f.audio_concealed_ms;
  }
  // RTT: RtcpFeedback's (f.rtt_ms: a block that echoed our SR, timed on
  // arrival), else the stream's own, else the session's (any report
  // block), else the last one seen -- the latest measurement, as W3C's
  // roundTripTime. get-stats' values that cannot be RTTs are dropped above.
  if (raw.rtt_s && plausible_rtt_ms(*raw.rtt_s * 1000.0)) prev.rtt_ms = *raw.rtt_s * 1000.0;
  for (StreamStats* st : {&s.video_out, &s.audio_out}) {
    if (st->rtt_ms) prev.rtt_ms = st->rtt_ms;
  }
  if (f.rtt_ms) prev.rtt_ms = f.rtt_ms;
  for (StreamStats* st : {&s.video_out, &s.audio_out})
    if (st->active && !st->rtt_ms) st->rtt_ms = prev.rtt_ms;
  if (f.rtt_ms) s.rtt_ms = f.rtt_ms;
  for (const StreamStats* st : {&s.video_out, &s.audio_out})
    if (st->rtt_ms && !s.rtt_ms) s.rtt_ms = st->rtt_ms;
  if (!s.rtt_ms) s.rtt_ms = prev.rtt_ms;
  s.congestion = f.congestion;
  s.partner_implementation = f.partner_implementation;

  prev.raw = std::move(raw);
  prev.video_frames_decoded = f.video_frames_decoded;
  prev.video_frames_sent = f.video_frames_sent;
  prev.t_us = now_us;
  return s;
}

}  // namespace callagent::stats
