#include "congestion/trace_replay.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace callagent::congestion {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::optional<double> number(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  // Bounded so every conversion below stays in range (1e12 ms: 30 years).
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v) || std::fabs(v) > 1e12) return std::nullopt;
  return v;
}

int64_t ms_to_us(double ms) { return static_cast<int64_t>(std::llround(ms * 1000.0)); }

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

std::string ms(int64_t us) { return fmt::format("{:.3f}", static_cast<double>(us) / 1000.0); }

}  // namespace

Result<std::vector<TraceEvent>> parse_trace(std::string_view text) {
  std::vector<TraceEvent> out;
  int line_no = 0;
  int64_t last_t = INT64_MIN;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    auto bad = [&](std::string_view why) {
      return Error{ExitCode::DataErr, fmt::format("trace line {}: {}: '{}'", line_no, why, line)};
    };
    const auto f = split(line, ',');
    if (f.size() < 2) return bad("expected TIME,KIND,...");
    const auto t = number(f[0]);
    if (!t) return bad("bad time");
    TraceEvent e;
    e.t_us = ms_to_us(*t);
    if (e.t_us < last_t) return bad("time goes back");
    last_t = e.t_us;
    const std::string_view kind = trim(f[1]);
    if (kind == "rr") {
      if (f.size() < 3 || f.size() > 4) return bad("rr needs FRACTION_LOST[,RTT_MS]");
      const auto loss = number(f[2]);
      if (!loss || *loss < 0 || *loss > 1) return bad("fraction lost must be 0..1");
      e.kind = TraceEvent::Kind::ReceiverReport;
      e.fraction_lost = *loss;
      if (f.size() == 4 && !trim(f[3]).empty()) {
        const auto rtt = number(f[3]);
        if (!rtt || *rtt < 0) return bad("bad RTT");
        e.rtt_ms = *rtt;
      }
    } else if (kind == "remb") {
      const auto bps = f.size() == 3 ? number(f[2]) : std::nullopt;
      if (!bps || *bps < 0) return bad("remb needs BPS");
      e.kind = TraceEvent::Kind::Remb;
      e.bps = static_cast<int64_t>(*bps);
    } else if (kind == "twcc") {
      if (f.size() != 3) return bad("twcc needs one PACKETS field");
      e.kind = TraceEvent::Kind::TransportFeedback;
      for (std::string_view p : split(trim(f[2]), ' ')) {
        if (p.empty()) continue;
        const auto parts = split(p, ':');
        if (parts.size() != 3) return bad("packet must be SEND_MS:ARRIVAL_MS:BYTES");
        const auto send = number(parts[0]);
        const auto size = number(parts[2]);
        if (!send || !size || *size < 0 || *size > 65535) return bad("bad packet");
        PacketResult r;
        r.send_us = ms_to_us(*send);
        r.size_bytes = static_cast<int>(*size);
        if (trim(parts[1]) != "x") {
          const auto arr = number(parts[1]);
          if (!arr) return bad("bad arrival time");
          r.arrival_us = ms_to_us(*arr);
        }
        e.packets.push_back(r);
      }
    } else if (kind == "tick") {
      if (f.size() != 2) return bad("tick takes no fields");
      e.kind = TraceEvent::Kind::Tick;
    } else {
      return bad("unknown kind (rr, remb, twcc, tick)");
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::string format_trace_event(const TraceEvent& e) {
  switch (e.kind) {
    case TraceEvent::Kind::ReceiverReport:
      return fmt::format("{},rr,{},{}", ms(e.t_us), e.fraction_lost, e.rtt_ms ? fmt::format("{:.3f}", *e.rtt_ms) : "");
    case TraceEvent::Kind::Remb: return fmt::format("{},remb,{}", ms(e.t_us), e.bps);
    case TraceEvent::Kind::Tick: return fmt::format("{},tick", ms(e.t_us));
    case TraceEvent::Kind::TransportFeedback: {
      std::string s = fmt::format("{},twcc,", ms(e.t_us));
      bool first = true;
      for (const auto& p : e.packets) {
        if (!first) s += ' ';
        first = false;
        s += fmt::format("{}:{}:{}", ms(p.send_us), p.arrival_us ? ms(*p.arrival_us) : "x", p.size_bytes);
      }
      return s;
    }
  }
  return {};
}

void apply_trace_event(const TraceEvent& e, BandwidthEstimator& bwe) {
  switch (e.kind) {
    case TraceEvent::Kind::ReceiverReport: bwe.on_receiver_report(e.t_us, e.fraction_lost, e.rtt_ms); break;
    case TraceEvent::Kind::Remb: bwe.on_remb(e.t_us, e.bps); break;
    case TraceEvent::Kind::Tick: bwe.on_tick(e.t_us); break;
    case TraceEvent::Kind::TransportFeedback: bwe.on_transport_feedback(e.t_us, e.packets); break;
  }
}

std::vector<ReplayPoint> replay_trace(std::span<const TraceEvent> events, BandwidthEstimator& bwe) {
  std::vector<ReplayPoint> out;
  out.reserve(events.size());
  for (const auto& e : events) {
    apply_trace_event(e, bwe);
    out.push_back(ReplayPoint{e.t_us, bwe.target_bps()});
  }
  return out;
}

}  // namespace callagent::congestion
