#include "stats/metrics.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <tuple>
#include <vector>

namespace callagent::stats {

namespace {

using Extract = std::function<std::optional<double>(const Snapshot&)>;
using TextExtract = std::function<std::optional<std::string>(const Snapshot&)>;

struct Entry {
  MetricInfo info;
  Extract extract;  // gauges and counters
  TextExtract text = nullptr;  // text metrics
  // Ratio metrics: 100 x numerator / (denominator + numerator), both
  // counters of the catalog (the numerator counts what the denominator
  // misses, e.g. packets lost after repair and packets received).
  std::string numerator = {}, denominator = {};
};

const StreamStats& stream(const Snapshot& s, bool video, bool in) {
  return video ? (in ? s.video_in : s.video_out) : (in ? s.audio_in : s.audio_out);
}

std::vector<Entry> build_catalog() {
  std::vector<Entry> c;
  auto gauge = [&](std::string name, Unit u, std::string help, Extract e,
                   Aggregate def = Aggregate::Avg) {
    c.push_back({{std::move(name), MetricKind::Gauge, u, def, std::move(help)}, std::move(e)});
  };
  auto counter = [&](std::string name, Unit u, std::string help, Extract e) {
    c.push_back({{std::move(name), MetricKind::Counter, u, Aggregate::AfterWarmup, std::move(help)},
                 std::move(e)});
  };
  for (bool video : {true, false}) {
    for (bool in : {true, false}) {
      const std::string p = std::string(video ? "video" : "audio") + (in ? ".in." : ".out.");
      auto active = [video, in](const Snapshot& s) { return stream(s, video, in).active; };
      gauge(p + "bitrate", Unit::BitRate, "RTP bit rate over an interval",
            [=](const Snapshot& s) -> std::optional<double> {
              if (!active(s)) return std::nullopt;
              return stream(s, video, in).bitrate;
            });
      gauge(p + "loss", Unit::Percent,
            in ? "packets lost per interval, % of expected" : "fraction lost reported by the partner, %",
            [=](const Snapshot& s) -> std::optional<double> {
              if (!active(s)) return std::nullopt;
              return stream(s, video, in).loss_pct;
            });
      gauge(p + "jitter", Unit::Millis,
            in ? "interarrival jitter (ours)" : "interarrival jitter reported by the partner",
            [=](const Snapshot& s) -> std::optional<double> {
              if (!active(s)) return std::nullopt;
              return stream(s, video, in).jitter_ms;
            });
      if (!in)
        gauge(p + "rtt", Unit::Millis, "round-trip time from RTCP",
              [=](const Snapshot& s) -> std::optional<double> {
                if (!active(s)) return std::nullopt;
                return stream(s, video, in).rtt_ms;
              });
      counter(p + "packets", Unit::Count, "RTP packets", [=](const Snapshot& s) -> std::optional<double> {
        if (!active(s)) return std::nullopt;
        return static_cast<double>(stream(s, video, in).packets);
      });
      counter(p + "packets_lost", Unit::Count,
              in ? "packets lost (our receiver)" : "packets lost (reported by the partner)",
              [=](const Snapshot& s) -> std::optional<double> {
                if (!active(s)) return std::nullopt;
                return static_cast<double>(stream(s, video, in).packets_lost);
              });
      for (const char* f : {"nack", "pli", "fir"}) {
        std::string field = f;
        counter(p + field, Unit::Count, in ? field + " requests we sent" : field + " requests we received",
                [=](const Snapshot& s) -> std::optional<double> {
                  if (!active(s)) return std::nullopt;
                  const auto& st = stream(s, video, in);
                  return static_cast<double>(field == "nack" ? st.nack : field == "pli" ? st.pli : st.fir);
                });
      }
      if (video) {
        gauge(p + "fps", Unit::Fps, in ? "frames decoded per second" : "frames sent per second",
              [=](const Snapshot& s) -> std::optional<double> {
                if (!active(s)) return std::nullopt;
                return stream(s, video, in).fps;
              });
        gauge(p + "width", Unit::Pixels, "frame width", [=](const Snapshot& s) -> std::optional<double> {
          const auto& st = stream(s, video, in);
          if (!st.active || st.width <= 0) return std::nullopt;
          return st.width;
        }, Aggregate::Min);
        gauge(p + "height", Unit::Pixels, "frame height", [=](const Snapshot& s) -> std::optional<double> {
          const auto& st = stream(s, video, in);
          if (!st.active || st.height <= 0) return std::nullopt;
          return st.height;
        }, Aggregate::Min);
        if (in) {
          counter(p + "frames_received", Unit::Count, "frames out of the depayloader",
                  [=](const Snapshot& s) -> std::optional<double> {
                    if (!active(s)) return std::nullopt;
                    return static_cast<double>(s.video_in.frames_received);
                  });
          counter(p + "frames_decoded", Unit::Count, "frames decoded",
                  [=](const Snapshot& s) -> std::optional<double> {
                    if (!active(s)) return std::nullopt;
                    return static_cast<double>(s.video_in.frames_decoded);
                  });
          counter(p + "frames_dropped", Unit::Count, "frames received but not decoded",
                  [=](const Snapshot& s) -> std::optional<double> {
                    if (!active(s)) return std::nullopt;
                    return static_cast<double>(s.video_in.frames_dropped);
                  });
        } else {
          counter(p + "frames_encoded", Unit::Count, "frames our encoder produced",
                  [=](const Snapshot& s) -> std::optional<double> {
                    if (!active(s)) return std::nullopt;
                    return static_cast<double>(s.video_out.frames_encoded);
                  });
          counter(p + "frames_sent", Unit::Count, "frames sent to this partner",
                  [=](const Snapshot& s) -> std::optional<double> {
                    if (!active(s)) return std::nullopt;
                    return static_cast<double>(s.video_out.frames_sent);
                  });
        }
      } else if (in) {
        gauge(p + "level", Unit::Decibel, "RMS level of the decoded audio",
              [=](const Snapshot& s) -> std::optional<double> {
                if (!active(s)) return std::nullopt;
                return s.audio_in.level_dbfs;
              });
        counter(p + "concealed", Unit::Millis, "audio concealed by the decoder (lost packets)",
                [=](const Snapshot& s) -> std::optional<double> {
                  if (!active(s)) return std::nullopt;
                  return s.audio_in.concealed_ms;
                });
      }
    }
  }
  gauge("rtt", Unit::Millis, "round-trip time (best of the outbound streams)",
        [](const Snapshot& s) { return s.rtt_ms; });
  // Loss repair and keyframes (RecoveryStats).
  using R = RecoveryStats;
  const std::vector<std::tuple<const char*, const char*, uint64_t R::*>> recovery = {
      {"recovery.nack_requests", "video packets we asked to be retransmitted", &R::nack_requests},
      {"recovery.rtx_received", "RTX packets received", &R::rtx_received},
      {"recovery.rtx_recovered", "video packets a retransmission brought back in time", &R::rtx_recovered},
      {"recovery.lost_before_recovery", "video packets lost on the network (before retransmission)",
       &R::lost_before_recovery},
      {"recovery.lost_after_recovery", "video packets lost after retransmission", &R::lost_after_recovery},
      {"recovery.rtx_requests_received", "packets the partner asked us to retransmit", &R::rtx_requests_received},
      {"recovery.rtx_sent", "RTX packets sent", &R::rtx_sent},
      {"recovery.rtx_refused", "retransmission requests dropped over our budget", &R::rtx_refused},
      {"recovery.audio_nack_requests", "retransmission requests for audio (0)", &R::audio_nack_requests},
      {"recovery.keyframes_requested", "keyframes (PLI) we asked for", &R::keyframes_requested},
      {"recovery.keyframes_forced", "keyframes our encoder made for PLI/FIR", &R::keyframes_forced},
  };
  for (const auto& [name, help, field] : recovery)
    counter(name, Unit::Count, help,
            [f = field](const Snapshot& s) -> std::optional<double> { return static_cast<double>(s.recovery.*f); });
  gauge("recovery.jitter_buffer", Unit::Millis, "receive jitter buffer latency (follows the RTT)",
        [](const Snapshot& s) -> std::optional<double> {
          if (!s.recovery.jitter_buffer_ms) return std::nullopt;
          return static_cast<double>(*s.recovery.jitter_buffer_ms);
        }, Aggregate::Max);
  // The same repair and adaptation numbers under the names of the stream
  // they belong to (what --expect users look for next to video.in.fps).
  const std::vector<std::tuple<const char*, const char*, uint64_t R::*>> repair = {
      {"video.in.nack_sent", "video packets we asked to be retransmitted (NACK)", &R::nack_requests},
      {"video.in.rtx_received", "RTX packets received", &R::rtx_received},
      {"video.in.repaired", "video packets a retransmission brought back in time", &R::rtx_recovered},
      {"video.in.lost_after_repair", "video packets lost after retransmission (what the decoder missed)",
       &R::lost_after_recovery},
      {"video.in.keyframes_requested", "keyframes (PLI) we asked for", &R::keyframes_requested},
      {"video.out.nack_received", "video packets the partner asked us to retransmit", &R::rtx_requests_received},
      {"video.out.rtx_sent", "RTX packets sent", &R::rtx_sent},
      {"video.out.rtx_refused", "retransmission requests dropped over our budget (sent at most the video target a second)",
       &R::rtx_refused},
      {"video.out.keyframes_forced", "keyframes our encoder made for PLI/FIR", &R::keyframes_forced},
      {"audio.in.nack_sent", "retransmission requests for audio (always 0)", &R::audio_nack_requests},
  };
  for (const auto& [name, help, field] : repair)
    counter(name, Unit::Count, help,
            [f = field](const Snapshot& s) -> std::optional<double> { return static_cast<double>(s.recovery.*f); });
  c.push_back({{"video.in.lost_after_repair_pct", MetricKind::Ratio, Unit::Percent, Aggregate::AfterWarmup,
                "video packets lost after retransmission, % of those received"},
               nullptr, nullptr, "video.in.lost_after_repair", "video.in.packets"});
  gauge("video.in.jitter_buffer", Unit::Millis, "receive jitter buffer latency (follows the RTT)",
        [](const Snapshot& s) -> std::optional<double> {
          if (!s.recovery.jitter_buffer_ms) return std::nullopt;
          return static_cast<double>(*s.recovery.jitter_buffer_ms);
        }, Aggregate::Max);
  // Transport-wide congestion control feedback (TwccCounters).
  using T = TwccCounters;
  const std::vector<std::tuple<const char*, const char*, uint64_t T::*>> twcc = {
      {"twcc.feedback_received", "TWCC feedback packets from the partner", &T::feedback_received},
      {"twcc.packets_reported", "our packets the partner's TWCC feedback reported on", &T::packets_reported},
      {"twcc.packets_lost", "... of those, reported lost", &T::packets_lost},
      {"twcc.feedback_sent", "TWCC feedback packets we sent", &T::feedback_sent},
  };
  for (const auto& [name, help, field] : twcc)
    counter(name, Unit::Count, help,
            [f = field](const Snapshot& s) -> std::optional<double> { return static_cast<double>(s.twcc.*f); });
  // The sender's congestion control (CongestionStats): what it asked of
  // the encoders, not what left (that is *.out.bitrate).
  using C = CongestionStats;
  const std::vector<std::tuple<const char*, const char*, int64_t C::*>> targets = {
      {"congestion.target_bitrate", "the bandwidth estimate for audio + video", &C::target_bps},
      {"video.out.target_bitrate", "the VP8 encoder's target bit rate (congestion control)", &C::video_bps},
      {"audio.out.target_bitrate", "the Opus bit rate (congestion control)", &C::audio_bps},
  };
  for (const auto& [name, help, field] : targets)
    gauge(name, Unit::BitRate, help, [f = field](const Snapshot& s) -> std::optional<double> {
      if (!s.congestion) return std::nullopt;
      return static_cast<double>((*s.congestion).*f);
    });
  gauge("congestion.remb", Unit::BitRate, "the partner's REMB estimate (none from agents)",
        [](const Snapshot& s) -> std::optional<double> {
          if (!s.congestion || !s.congestion->remb_bps) return std::nullopt;
          return static_cast<double>(*s.congestion->remb_bps);
        });
  gauge("audio.out.fec_percentage", Unit::Percent, "opusenc packet-loss-percentage (in-band FEC) we set",
        [](const Snapshot& s) -> std::optional<double> {
          if (!s.congestion || s.congestion->fec_percentage < 0) return std::nullopt;
          return static_cast<double>(s.congestion->fec_percentage);
        });
  counter("congestion.ladder_steps", Unit::Count, "resolution/frame-rate changes of the sent video",
          [](const Snapshot& s) -> std::optional<double> {
            if (!s.congestion) return std::nullopt;
            return static_cast<double>(s.congestion->ladder_steps);
          });
  auto text = [&](std::string name, std::string help, std::vector<std::string> values, TextExtract e) {
    c.push_back({{std::move(name), MetricKind::Text, Unit::Text, Aggregate::Value, std::move(help), std::move(values)},
                 nullptr, std::move(e)});
  };
  auto pair_field = [](std::string CandidatePair::*f) -> TextExtract {
    return [f](const Snapshot& s) -> std::optional<std::string> {
      if (!s.pair || ((*s.pair).*f).empty()) return std::nullopt;
      return (*s.pair).*f;
    };
  };
  const std::vector<std::string> types = {"host", "srflx", "prflx", "relay"};
  text("ice.local_type", "our candidate of the selected pair", types, pair_field(&CandidatePair::local_type));
  text("ice.remote_type", "the partner's candidate of the selected pair", types,
       pair_field(&CandidatePair::remote_type));
  text("ice.protocol", "the selected pair's transport (a relayed leg is udp)", {"udp", "tcp"},
       pair_field(&CandidatePair::protocol));
  text("ice.relay_protocol", "how our relay candidate reaches its TURN server", {"udp", "tcp", "tls"},
       pair_field(&CandidatePair::relay_protocol));
  text("partner.implementation", "what the partner runs, from its SDP (Firefox, libwebrtc, callagent ...)", {},
       [](const Snapshot& s) -> std::optional<std::string> {
         if (s.partner_implementation.empty()) return std::nullopt;
         return s.partner_implementation;
       });
  text("congestion.limited_by", "what held the estimate at the end (loss, delay, remb, max)", {},
       [](const Snapshot& s) -> std::optional<std::string> {
         if (!s.congestion || s.congestion->limited_by.empty()) return std::nullopt;
         return s.congestion->limited_by;
       });
  c.push_back({{"video.in.freezes", MetricKind::Freeze, Unit::Count, Aggregate::AfterWarmup,
                "freezes of the received video (W3C rule)"}, nullptr});
  c.push_back({{"video.in.freeze_time", MetricKind::Freeze, Unit::Millis, Aggregate::AfterWarmup,
                "total frozen time of the received video"}, nullptr});
  for (const char* q : {"median", "p95", "max", "min", "avg"})
    c.push_back({{std::string("latency.video.") + q, MetricKind::Latency, Unit::Millis, Aggregate::Value,
                  "glass-to-glass video delay (--latency-probe)"}, nullptr});
  for (const char* e : {"login", "ws_open", "partner_join", "offer", "answer", "ice_connected",
                        "dtls_connected", "first_audio", "first_video"})
    c.push_back({{std::string("setup.") + e, MetricKind::Setup, Unit::Millis, Aggregate::Value,
                  "call setup milestone, time since start"}, nullptr});
  return c;
}

const std::vector<Entry>& entries() {
  static const std::vector<Entry> e = build_catalog();
  return e;
}

const Entry* find_entry(std::string_view name) {
  for (const auto& e : entries())
    if (e.info.name == name) return &e;
  return nullptr;
}

}  // namespace

const std::vector<MetricInfo>& metric_catalog() {
  static const std::vector<MetricInfo> c = [] {
    std::vector<MetricInfo> v;
    for (const auto& e : entries()) v.push_back(e.info);
    return v;
  }();
  return c;
}

const MetricInfo* find_metric(std::string_view name) {
  const Entry* e = find_entry(name);
  return e ? &e->info : nullptr;
}

std::string_view unit_symbol(Unit u) {
  switch (u) {
    case Unit::BitRate: return "bit/s";
    case Unit::Millis: return "ms";
    case Unit::Count: return "";
    case Unit::Pixels: return "px";
    case Unit::Fps: return "fps";
    case Unit::Percent: return "%";
    case Unit::Decibel: return "dBFS";
    case Unit::Text: return "";
  }
  return "";
}

std::string_view aggregate_name(Aggregate a) {
  switch (a) {
    case Aggregate::Default: return "default";
    case Aggregate::Min: return "min";
    case Aggregate::Avg: return "avg";
    case Aggregate::Max: return "max";
    case Aggregate::Last: return "last";
    case Aggregate::Total: return "total";
    case Aggregate::AfterWarmup: return "after_warmup";
    case Aggregate::Value: return "value";
  }
  return "?";
}

std::optional<Aggregate> parse_aggregate(std::string_view s) {
  for (Aggregate a : {Aggregate::Min, Aggregate::Avg, Aggregate::Max, Aggregate::Last, Aggregate::Total})
    if (s == aggregate_name(a)) return a;
  return std::nullopt;
}

std::optional<double> MetricSummary::get(Aggregate a) const {
  switch (a) {
    case Aggregate::Min: return min;
    case Aggregate::Avg: return avg;
    case Aggregate::Max: return max;
    case Aggregate::Last: return last;
    case Aggregate::Total: return total;
    case Aggregate::AfterWarmup: return after_warmup;
    case Aggregate::Value: return value;
    case Aggregate::Default: return std::nullopt;
  }
  return std::nullopt;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return v[lo] + (v[hi] - v[lo]) * frac;
}

std::optional<double> warmup_end(const CallData& d) {
  for (const auto& e : d.timeline)
    if (e.name == "dtls_connected") return e.t_ms / 1000.0 + d.warmup_s;
  return std::nullopt;
}

Summary summarize(const CallData& d) {
  Summary out;
  const auto wu = warmup_end(d);
  for (const auto& e : entries()) {
    MetricSummary m;
    const auto& name = e.info.name;
    switch (e.info.kind) {
      case MetricKind::Gauge: {
        if (!wu) break;
        double sum = 0;
        for (const auto& s : d.series) {
          // An interval counts when it began after the warm-up.
          if (s.t - s.interval < *wu - 1e-6) continue;
          auto v = e.extract(s);
          if (!v || !std::isfinite(*v)) continue;
          ++m.n;
          sum += *v;
          m.min = m.min ? std::min(*m.min, *v) : *v;
          m.max = m.max ? std::max(*m.max, *v) : *v;
          m.last = *v;
        }
        if (m.n) m.avg = sum / static_cast<double>(m.n);
        break;
      }
      case MetricKind::Counter: {
        // Counters restart with each peer connection (a partner visit):
        // the run's total is the sum of every visit's last value, and the
        // part after the warm-up subtracts the value the warm-up ended at.
        double total = 0, after = 0;
        double seg_last = 0, seg_at_warmup = 0;
        bool in_seg = false, seg_warm = false;  // a segment is open / spans the warm-up end
        int seg_peer = -1;
        auto close_segment = [&] {
          if (!in_seg) return;
          total += seg_last;
          after += (seg_warm && seg_at_warmup <= seg_last) ? seg_last - seg_at_warmup : seg_last;
        };
        for (const auto& s : d.series) {
          auto v = e.extract(s);
          if (!v) continue;
          ++m.n;
          if (!in_seg || s.peer != seg_peer || *v < seg_last) {
            close_segment();
            in_seg = true;
            seg_warm = false;
            seg_peer = s.peer;
          }
          seg_last = *v;
          if (wu && s.t <= *wu + 1e-6) {
            seg_at_warmup = *v;
            seg_warm = true;
          }
        }
        close_segment();
        if (m.n) {
          m.total = total;
          if (wu) m.after_warmup = after;
        }
        break;
      }
      case MetricKind::Freeze: {
        const bool time = name == "video.in.freeze_time";
        double all = 0, after = 0;
        for (const auto& f : d.freezes) {
          all += time ? f.duration_ms : 1.0;
          // After the warm-up counts every freeze still going on then (a
          // stream that died at the start is one long freeze), with only its
          // part after the warm-up for the frozen time.
          const double start_s = static_cast<double>(f.start_us) / 1e6;
          const double end_s = start_s + f.duration_ms / 1000.0;
          if (wu && end_s > *wu) after += time ? std::min(f.duration_ms, (end_s - *wu) * 1000.0) : 1.0;
        }
        m.n = d.freezes.size();
        // Without freezes, the value only means something once video flowed;
        // a stream that never started is reported as the freeze it is.
        bool video = !d.freezes.empty();
        for (const auto& ev : d.timeline) video |= ev.name == "first_video";
        if (video) {
          m.total = all;
          if (wu) m.after_warmup = after;
        }
        break;
      }
      case MetricKind::Latency: {
        if (!wu) break;
        std::vector<double> v;
        for (const auto& [t, ms] : d.latency)
          if (t >= *wu) v.push_back(ms);
        m.n = v.size();
        if (v.empty()) break;
        const std::string q = name.substr(name.rfind('.') + 1);
        double sum = 0;
        for (double x : v) sum += x;
        if (q == "median") m.value = percentile(v, 50);
        if (q == "p95") m.value = percentile(v, 95);
        if (q == "max") m.value = *std::max_element(v.begin(), v.end());
        if (q == "min") m.value = *std::min_element(v.begin(), v.end());
        if (q == "avg") m.value = sum / static_cast<double>(v.size());
        break;
      }
      case MetricKind::Text: {
        // The last word known: the path the call ended on (like the
        // report's summary.candidate_pair), warm-up or not.
        for (const auto& s : d.series)
          if (auto v = e.text(s)) {
            ++m.n;
            m.text = std::move(*v);
          }
        break;
      }
      case MetricKind::Ratio:
        break;  // below, once its counters are summarized
      case MetricKind::Setup: {
        const std::string ev = name.substr(6);
        for (const auto& t : d.timeline)
          if (t.name == ev) {
            m.value = t.t_ms;
            m.n = 1;
            break;
          }
        break;
      }
    }
    out[name] = m;
  }
  for (const auto& e : entries()) {
    if (e.info.kind != MetricKind::Ratio) continue;
    const auto& num = out[e.numerator];
    const auto& den = out[e.denominator];
    auto& m = out[e.info.name];
    m.n = std::min(num.n, den.n);
    auto share = [](std::optional<double> part, std::optional<double> rest) -> std::optional<double> {
      if (!part || !rest || *part + *rest <= 0) return std::nullopt;
      return 100.0 * *part / (*part + *rest);
    };
    m.total = share(num.total, den.total);
    m.after_warmup = share(num.after_warmup, den.after_warmup);
  }
  return out;
}

}  // namespace callagent::stats
