// Expectations, the JSON report and the JUnit file of `callagent join`.
#include "cli/join_report.h"

#include "cli/secret_mask.h"
#include "common/logging.h"

#include "callagent_config.h"

#include <fmt/format.h>

namespace callagent::cli {

std::map<std::string, stats::OptionValue> report_options(const JoinOptions& j) {
  std::map<std::string, stats::OptionValue> o;
  auto opt_str = [&](const char* k, const std::string& v) {
    if (!v.empty()) o[k] = v;
  };
  opt_str("room", j.room);
  o["create"] = j.create;
  opt_str("server", j.conn.server);
  opt_str("user", j.conn.user);
  o["credentials"] = credential_source(j.conn);
  o["video_source"] = j.video_source;
  o["audio_source"] = j.audio_source;
  o["video"] = j.video_preset;
  o["fps"] = static_cast<double>(j.fps);
  o["audio"] = j.audio_preset;
  o["video_codec"] = j.codec;
  if (j.video_bitrate) o["video_bitrate"] = static_cast<double>(*j.video_bitrate);
  if (j.audio_bitrate) o["audio_bitrate"] = static_cast<double>(*j.audio_bitrate);
  o["stun"] = j.no_stun ? std::string("none") : j.stun;
  std::vector<std::string> turns;
  for (const auto& t : j.turn) turns.push_back(mask_turn_url(t));
  if (!turns.empty()) o["turn"] = turns;
  if (!j.ice_ips.empty()) o["ice_ip"] = j.ice_ips;
  o["ice_transport_policy"] = j.ice_transport_policy;
  if (j.jitter_ms) o["jitter_buffer_ms"] = static_cast<double>(*j.jitter_ms);
  else o["jitter_buffer_ms"] = std::string("adaptive");
  o["congestion_control"] = j.congestion_control;
  o["display"] = j.display;
  opt_str("record", j.record);
  if (!j.rtmp.empty()) o["rtmp"] = mask_rtmp_url(j.rtmp);
  opt_str("duration", j.duration);
  opt_str("wait_for_partner", j.wait_for_partner);
  o["leave_when_alone"] = j.leave_when_alone;
  o["connect_timeout"] = j.connect_timeout;
  o["output_errors"] = j.output_errors;
  o["stats_interval"] = j.stats_interval;
  opt_str("stats_log", j.stats_log);
  opt_str("report", j.report);
  opt_str("junit", j.junit);
  o["expect"] = j.expect;
  o["warm_up"] = j.warmup;
  o["latency_probe"] = j.latency_probe;
  opt_str("snapshot", j.snapshot);
  opt_str("snapshot_every", j.snapshot_every);
  opt_str("pipeline_graph", j.dot_dir);
  opt_str("test_freeze_at", j.test_freeze);
  opt_str("test_send_delay", j.test_send_delay);
  return o;
}

Result<std::vector<stats::Expectation>> parse_expectations(const std::vector<std::string>& texts) {
  std::vector<stats::Expectation> out;
  for (const auto& text : texts) {
    auto e = stats::parse_expectation(text);
    if (!e) return e.error();
    out.push_back(std::move(*e));
  }
  return out;
}

JoinReport::JoinReport(const JoinOptions& options)
    : options_(options), started_at_(stats::iso8601_now()), started_(std::chrono::steady_clock::now()) {}

void JoinReport::set_failures(const std::optional<call::ConnectFailure>& connect,
                              const std::vector<media::OutputFailure>& outputs) {
  if (connect)
    connect_failure_ = stats::ReportInput::ConnectFailure{call::to_string(connect->phase),
                                                          connect->budget.count() / 1000.0, connect->attempts};
  for (const auto& f : outputs)
    output_errors_.push_back(
        {f.output, f.path, f.error.message, to_int(f.error.code), std::string(exit_code_name(f.error.code))});
}

ExitCode JoinReport::conclude(ExitCode code, const std::string& reason, stats::CallData data,
                              std::vector<std::string> snapshots) {
  auto log = logging::get("cli");
  stats::ReportInput r;
  r.version = CALLAGENT_VERSION;
  r.options = report_options(options_);
  r.started_at = started_at_;
  r.ended_at = stats::iso8601_now();
  r.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  r.latency_probe = options_.latency_probe;
  r.data = std::move(data);
  r.summary = stats::summarize(r.data);
  r.snapshots = std::move(snapshots);
  r.connect_failure = connect_failure_;
  r.output_errors = output_errors_;
  int failed = 0;
  for (const auto& e : expectations_) {
    auto res = stats::evaluate(e, r.summary);
    if (res.passed) {
      log->info("expectation passed: {}: {}", e.text, res.message);
    } else {
      ++failed;
      log->error("expectation FAILED: {}: {}", e.text, res.message);
    }
    r.expectations.push_back(std::move(res));
  }
  std::string why = reason;
  if (failed && code == ExitCode::Ok) {
    code = ExitCode::ExpectationFailed;
    why = fmt::format("{} of {} expectation(s) failed (call ended: {})", failed, expectations_.size(), reason);
    log->error("{}", why);
  }
  r.exit_code = to_int(code);
  r.exit_name = std::string(exit_code_name(code));
  r.exit_reason = why;
  if (!options_.report.empty()) {
    if (auto st = stats::write_text_file(options_.report, stats::report_to_json(r)); !st)
      log->error("--report: {}", st.error().message);
    else
      log->info("report: {}", options_.report);
  }
  if (!options_.junit.empty()) {
    if (auto st = stats::write_text_file(options_.junit, stats::junit_xml(r.expectations, r.duration_s, why)); !st)
      log->error("--junit: {}", st.error().message);
  }
  return code;
}

}  // namespace callagent::cli
