#include "stats/report.h"

#include "common/gjson.h"

#include <json-glib/json-glib.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace callagent::stats {

namespace {

// Thin helpers over JsonBuilder.
struct B {
  GRef<JsonBuilder> builder = GRef<JsonBuilder>::adopt(json_builder_new());
  JsonBuilder* b = builder.get();  // borrowed from `builder`
  B() = default;
  B(const B&) = delete;
  B& operator=(const B&) = delete;
  B& obj() { json_builder_begin_object(b); return *this; }
  B& end_obj() { json_builder_end_object(b); return *this; }
  B& arr() { json_builder_begin_array(b); return *this; }
  B& end_arr() { json_builder_end_array(b); return *this; }
  B& key(const char* k) { json_builder_set_member_name(b, k); return *this; }
  B& key(const std::string& k) { return key(k.c_str()); }
  B& str(const std::string& v) { json_builder_add_string_value(b, v.c_str()); return *this; }
  B& num(double v) {
    if (!std::isfinite(v)) {
      json_builder_add_null_value(b);
    } else {
      // Round to keep the files readable (µs resolution is plenty).
      json_builder_add_double_value(b, std::round(v * 1000.0) / 1000.0);
    }
    return *this;
  }
  B& integer(int64_t v) { json_builder_add_int_value(b, v); return *this; }
  B& boolean(bool v) { json_builder_add_boolean_value(b, v); return *this; }
  B& null() { json_builder_add_null_value(b); return *this; }
  B& opt(const std::optional<double>& v) { return v ? num(*v) : null(); }
  std::string text(bool pretty) {
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) g = json_generator_new();
    json_generator_set_root(g, root);
    json_generator_set_pretty(g, pretty);
    g_autofree gchar* s = json_generator_to_data(g, nullptr);
    return s;
  }
};

void stream_json(B& b, const StreamStats& s, bool video, bool in) {
  b.obj();
  b.key("active").boolean(s.active);
  b.key("codec").str(s.codec);
  b.key("bytes").integer(static_cast<int64_t>(s.bytes));
  b.key("packets").integer(static_cast<int64_t>(s.packets));
  b.key("packets_lost").integer(s.packets_lost);
  b.key("loss_pct").opt(s.loss_pct);
  b.key("bitrate").num(s.bitrate);
  b.key("jitter_ms").opt(s.jitter_ms);
  if (!in) b.key("rtt_ms").opt(s.rtt_ms);
  b.key("nack").integer(static_cast<int64_t>(s.nack));
  b.key("pli").integer(static_cast<int64_t>(s.pli));
  b.key("fir").integer(static_cast<int64_t>(s.fir));
  if (video) {
    if (in) {
      b.key("frames_received").integer(static_cast<int64_t>(s.frames_received));
      b.key("frames_decoded").integer(static_cast<int64_t>(s.frames_decoded));
      b.key("frames_dropped").integer(static_cast<int64_t>(s.frames_dropped));
    } else {
      b.key("frames_encoded").integer(static_cast<int64_t>(s.frames_encoded));
      b.key("frames_sent").integer(static_cast<int64_t>(s.frames_sent));
    }
    b.key("fps").num(s.fps);
    b.key("width").integer(s.width);
    b.key("height").integer(s.height);
  } else if (in) {
    b.key("level_dbfs").opt(s.level_dbfs);
    b.key("concealed_ms").num(s.concealed_ms);
  }
  b.end_obj();
}

void pair_json(B& b, const std::optional<CandidatePair>& p) {
  if (!p) {
    b.null();
    return;
  }
  b.obj();
  b.key("local_type").str(p->local_type);
  b.key("remote_type").str(p->remote_type);
  b.key("protocol").str(p->protocol);
  b.key("local_address").str(p->local_address);
  b.key("remote_address").str(p->remote_address);
  b.key("relay_protocol");
  if (p->relay_protocol.empty())
    b.null();
  else
    b.str(p->relay_protocol);
  b.end_obj();
}

void latency_json(B& b, const LatencySummary& l) {
  b.obj();
  b.key("samples").integer(static_cast<int64_t>(l.samples));
  b.key("median_ms").num(l.median_ms);
  b.key("p95_ms").num(l.p95_ms);
  b.key("max_ms").num(l.max_ms);
  b.key("min_ms").num(l.min_ms);
  b.end_obj();
}

void recovery_json(B& b, const RecoveryStats& r) {
  auto n = [&](const char* k, uint64_t v) { b.key(k).integer(static_cast<int64_t>(v)); };
  b.key("recovery").obj();
  n("nack_requests", r.nack_requests);
  n("rtx_received", r.rtx_received);
  n("rtx_recovered", r.rtx_recovered);
  n("lost_before_recovery", r.lost_before_recovery);
  n("lost_after_recovery", r.lost_after_recovery);
  n("rtx_requests_received", r.rtx_requests_received);
  n("rtx_sent", r.rtx_sent);
  n("rtx_refused", r.rtx_refused);
  n("audio_nack_requests", r.audio_nack_requests);
  n("keyframes_requested", r.keyframes_requested);
  n("keyframes_forced", r.keyframes_forced);
  if (r.jitter_buffer_ms)
    b.key("jitter_buffer_ms").integer(*r.jitter_buffer_ms);
  else
    b.key("jitter_buffer_ms").null();
  b.end_obj();
}

void congestion_json(B& b, const std::optional<CongestionStats>& c) {
  if (!c) {
    b.null();
    return;
  }
  b.obj();
  b.key("target_bps").integer(c->target_bps);
  b.key("video_bps").integer(c->video_bps);
  b.key("audio_bps").integer(c->audio_bps);
  b.key("limited_by").str(c->limited_by);
  b.key("width").integer(c->width);
  b.key("height").integer(c->height);
  b.key("fps").integer(c->fps);
  b.key("ladder_steps").integer(c->ladder_steps);
  b.key("fec_percentage");
  if (c->fec_percentage >= 0)
    b.integer(c->fec_percentage);
  else
    b.null();
  b.key("remb_bps");
  if (c->remb_bps)
    b.integer(*c->remb_bps);
  else
    b.null();
  b.end_obj();
}

void snapshot_body(B& b, const Snapshot& s) {
  b.key("t").num(s.t);
  b.key("interval").num(s.interval);
  b.key("state").str(s.state);
  b.key("peer").integer(s.peer);
  b.key("partner_implementation");
  if (s.partner_implementation.empty())
    b.null();
  else
    b.str(s.partner_implementation);
  b.key("video").obj();
  b.key("in");
  stream_json(b, s.video_in, true, true);
  b.key("out");
  stream_json(b, s.video_out, true, false);
  b.end_obj();
  b.key("audio").obj();
  b.key("in");
  stream_json(b, s.audio_in, false, true);
  b.key("out");
  stream_json(b, s.audio_out, false, false);
  b.end_obj();
  b.key("candidate_pair");
  pair_json(b, s.pair);
  b.key("rtt_ms").opt(s.rtt_ms);
  recovery_json(b, s.recovery);
  b.key("freezes").obj().key("count").integer(s.freezes).key("total_ms").num(s.freeze_ms).end_obj();
  b.key("latency");
  if (s.latency)
    latency_json(b, *s.latency);
  else
    b.null();
  b.key("poll_ms").num(s.poll_ms);
  b.key("twcc").obj();
  b.key("feedback_received").integer(static_cast<int64_t>(s.twcc.feedback_received));
  b.key("packets_reported").integer(static_cast<int64_t>(s.twcc.packets_reported));
  b.key("packets_lost").integer(static_cast<int64_t>(s.twcc.packets_lost));
  b.key("feedback_sent").integer(static_cast<int64_t>(s.twcc.feedback_sent));
  b.end_obj();
  b.key("congestion");
  congestion_json(b, s.congestion);
}

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&apos;"; break;
      default: o += c;
    }
  }
  return o;
}

}  // namespace

std::string snapshot_to_json(const Snapshot& s) {
  B b;
  b.obj();
  b.key("schema").str(kStatsSchema);
  snapshot_body(b, s);
  b.end_obj();
  return b.text(false);
}

std::string report_to_json(const ReportInput& r) {
  B b;
  b.obj();
  b.key("schema").str(kReportSchema);
  b.key("tool").obj().key("name").str("callagent").key("version").str(r.version).end_obj();
  b.key("started_at").str(r.started_at);
  b.key("ended_at").str(r.ended_at);
  b.key("duration_s").num(r.duration_s);

  b.key("options").obj();
  for (const auto& [k, v] : r.options) {
    b.key(k);
    if (auto* s = std::get_if<std::string>(&v)) b.str(*s);
    else if (auto* d = std::get_if<double>(&v)) b.num(*d);
    else if (auto* f = std::get_if<bool>(&v)) b.boolean(*f);
    else if (auto* l = std::get_if<std::vector<std::string>>(&v)) {
      b.arr();
      for (const auto& x : *l) b.str(x);
      b.end_arr();
    }
  }
  b.end_obj();

  b.key("timeline").arr();
  for (const auto& e : r.data.timeline) b.obj().key("event").str(e.name).key("t_ms").num(e.t_ms).end_obj();
  b.end_arr();
  b.key("setup").obj();
  for (const auto& m : metric_catalog()) {
    if (m.kind != MetricKind::Setup) continue;
    auto it = r.summary.find(m.name);
    b.key(m.name.substr(6) + "_ms").opt(it != r.summary.end() ? it->second.value : std::nullopt);
  }
  b.end_obj();

  b.key("warmup").obj();
  b.key("seconds").num(r.data.warmup_s);
  b.key("ends_at_s").opt(warmup_end(r.data));
  b.end_obj();

  b.key("intervals").arr();
  for (const auto& s : r.data.series) {
    b.obj();
    snapshot_body(b, s);
    b.end_obj();
  }
  b.end_arr();

  b.key("summary").obj();
  std::optional<CandidatePair> pair;
  for (const auto& s : r.data.series)
    if (s.pair) pair = s.pair;
  b.key("candidate_pair");
  pair_json(b, pair);
  b.key("metrics").obj();
  for (const auto& m : metric_catalog()) {
    auto it = r.summary.find(m.name);
    if (it == r.summary.end()) continue;
    const auto& s = it->second;
    b.key(m.name).obj();
    b.key("unit").str(std::string(unit_symbol(m.unit)));
    b.key("n").integer(static_cast<int64_t>(s.n));
    switch (m.kind) {
      case MetricKind::Gauge:
        b.key("min").opt(s.min).key("avg").opt(s.avg).key("max").opt(s.max).key("last").opt(s.last);
        break;
      case MetricKind::Counter:
      case MetricKind::Freeze:
      case MetricKind::Ratio:
        b.key("total").opt(s.total).key("after_warmup").opt(s.after_warmup);
        break;
      case MetricKind::Text:
        b.key("value");
        if (s.text) b.str(*s.text); else b.null();
        break;
      case MetricKind::Latency:
      case MetricKind::Setup:
        b.key("value").opt(s.value);
        break;
    }
    b.end_obj();
  }
  b.end_obj();
  b.end_obj();

  b.key("freezes").obj();
  b.key("count").integer(static_cast<int64_t>(r.data.freezes.size()));
  double total = 0;
  for (const auto& f : r.data.freezes) total += f.duration_ms;
  b.key("total_ms").num(total);
  b.key("events").arr();
  for (const auto& f : r.data.freezes)
    b.obj().key("start_s").num(static_cast<double>(f.start_us) / 1e6).key("duration_ms").num(f.duration_ms).end_obj();
  b.end_arr();
  b.end_obj();

  // The sender's congestion control over the call: the last state and the
  // range of the estimate after the warm-up (docs/report.md).
  b.key("congestion");
  {
    std::optional<CongestionStats> last;
    std::optional<int64_t> lo, hi;
    const auto from = warmup_end(r.data);
    for (const auto& s : r.data.series) {
      if (!s.congestion) continue;
      last = s.congestion;
      if (from && s.t < *from) continue;
      lo = std::min(lo.value_or(s.congestion->target_bps), s.congestion->target_bps);
      hi = std::max(hi.value_or(s.congestion->target_bps), s.congestion->target_bps);
    }
    if (!last) {
      b.null();
    } else {
      b.obj();
      b.key("last");
      congestion_json(b, last);
      b.key("min_target_bps");
      if (lo) b.integer(*lo); else b.null();
      b.key("max_target_bps");
      if (hi) b.integer(*hi); else b.null();
      b.end_obj();
    }
  }

  b.key("latency");
  if (!r.latency_probe) {
    b.null();
  } else {
    auto get = [&](const char* q) -> std::optional<double> {
      auto it = r.summary.find(std::string("latency.video.") + q);
      return it == r.summary.end() ? std::nullopt : it->second.value;
    };
    auto it = r.summary.find("latency.video.median");
    b.obj();
    b.key("method").str("frame-stamp");
    b.key("samples").integer(it != r.summary.end() ? static_cast<int64_t>(it->second.n) : 0);
    b.key("samples_total").integer(static_cast<int64_t>(r.data.latency.size()));
    b.key("median_ms").opt(get("median"));
    b.key("p95_ms").opt(get("p95"));
    b.key("max_ms").opt(get("max"));
    b.key("min_ms").opt(get("min"));
    b.key("avg_ms").opt(get("avg"));
    b.end_obj();
  }

  b.key("expectations").arr();
  for (const auto& e : r.expectations) {
    b.obj();
    b.key("expr").str(e.expectation.text);
    b.key("metric").str(e.expectation.metric);
    b.key("aggregate").str(std::string(aggregate_name(e.expectation.aggregate)));
    b.key("op").str(std::string(to_string(e.expectation.op)));
    const bool word = e.expectation.unit == Unit::Text;
    b.key("threshold");
    if (word) b.str(e.expectation.word); else b.num(e.expectation.threshold);
    b.key("unit").str(std::string(unit_symbol(e.expectation.unit)));
    b.key("measured");
    if (word) {
      if (e.measured_text) b.str(*e.measured_text); else b.null();
    } else {
      b.opt(e.measured);
    }
    b.key("passed").boolean(e.passed);
    b.key("message").str(e.message);
    b.end_obj();
  }
  b.end_arr();

  b.key("snapshots").arr();
  for (const auto& s : r.snapshots) b.str(s);
  b.end_arr();

  b.key("output_errors").arr();
  for (const auto& e : r.output_errors) {
    b.obj();
    b.key("output").str(e.output);
    b.key("path").str(e.path);
    b.key("code").integer(e.code);
    b.key("name").str(e.name);
    b.key("message").str(e.message);
    b.end_obj();
  }
  b.end_arr();

  b.key("exit").obj();
  b.key("code").integer(r.exit_code);
  b.key("name").str(r.exit_name);
  b.key("reason").str(r.exit_reason);
  b.key("connect_failure");
  if (r.connect_failure) {
    b.obj();
    b.key("phase").str(r.connect_failure->phase);
    b.key("timeout_s").num(r.connect_failure->timeout_s);
    b.key("attempts").integer(r.connect_failure->attempts);
    b.end_obj();
  } else {
    b.null();
  }
  b.end_obj();
  b.end_obj();
  return b.text(true) + "\n";
}

std::string junit_xml(const std::vector<ExpectationResult>& results, double duration_s,
                      const std::string& exit_reason) {
  int failures = 0;
  for (const auto& r : results) failures += r.passed ? 0 : 1;
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += fmt::format("<testsuites tests=\"{}\" failures=\"{}\" time=\"{:.3f}\">\n", results.size(), failures,
                   duration_s);
  x += fmt::format("  <testsuite name=\"callagent\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"{:.3f}\">\n",
                   results.size(), failures, duration_s);
  x += fmt::format("    <properties><property name=\"exit_reason\" value=\"{}\"/></properties>\n",
                   xml_escape(exit_reason));
  for (const auto& r : results) {
    x += fmt::format("    <testcase classname=\"callagent.expect\" name=\"{}\" time=\"0\"",
                     xml_escape(r.expectation.text));
    if (r.passed) {
      x += ">\n      <system-out>" + xml_escape(r.message) + "</system-out>\n    </testcase>\n";
    } else {
      x += ">\n      <failure message=\"" + xml_escape(r.message) + "\" type=\"expectation\">" +
           xml_escape(r.message) + "</failure>\n    </testcase>\n";
    }
  }
  x += "  </testsuite>\n</testsuites>\n";
  return x;
}

Status write_text_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  FilePtr f(std::fopen(tmp.c_str(), "w"));
  if (!f) return Error{ExitCode::CantCreate, fmt::format("cannot create '{}': {}", path, std::strerror(errno))};
  const bool ok = std::fwrite(text.data(), 1, text.size(), f.get()) == text.size();
  const bool closed = std::fclose(f.release()) == 0;  // a failed close is a failed write
  if (!ok || !closed) {
    std::remove(tmp.c_str());
    return Error{ExitCode::IoErr, fmt::format("cannot write '{}'", path)};
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return Error{ExitCode::CantCreate, fmt::format("cannot create '{}': {}", path, std::strerror(errno))};
  return Ok{};
}

std::string iso8601_now() {
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree gchar* s = g_date_time_format_iso8601(now);
  return s;
}

}  // namespace callagent::stats
