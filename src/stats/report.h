#pragma once
// The call report (--report FILE.json), the per-interval JSON lines
// (--stats-log) and the JUnit file (--junit). The schema is documented in
// docs/report.md; bump kReportSchema / kStatsSchema on incompatible changes.

#include "common/result.h"
#include "stats/expectation.h"
#include "stats/metrics.h"
#include "stats/snapshot.h"

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace callagent::stats {

inline constexpr const char* kReportSchema = "callagent-report/1";
inline constexpr const char* kStatsSchema = "callagent-stats/1";

using OptionValue = std::variant<std::string, double, bool, std::vector<std::string>>;

struct ReportInput {
  std::string version;                        // callagent's
  std::map<std::string, OptionValue> options;  // as used, secrets removed by the caller
  std::string started_at, ended_at;           // ISO 8601 UTC
  double duration_s = 0;
  bool latency_probe = false;
  CallData data;
  Summary summary;
  std::vector<ExpectationResult> expectations;
  int exit_code = 0;
  std::string exit_name;  // "ok", "expectation-failed", ...
  std::string exit_reason;
  std::vector<std::string> snapshots;  // PNG files written
  // Failures of the call's own (docs/report.md: exit.connect_failure,
  // output_errors).
  struct ConnectFailure {
    std::string phase;  // "signaling", "ice-gathering", "ice-checks", "dtls"
    double timeout_s = 0;
    int attempts = 0;
  };
  std::optional<ConnectFailure> connect_failure;
  struct OutputError {
    std::string output, path, message;
    int code = 0;
    std::string name;
  };
  std::vector<OutputError> output_errors;
};

// One compact JSON object (no newline).
std::string snapshot_to_json(const Snapshot& s);
// The report, pretty-printed.
std::string report_to_json(const ReportInput& r);
// JUnit XML: one testsuite "callagent", one testcase per expectation.
std::string junit_xml(const std::vector<ExpectationResult>& results, double duration_s,
                      const std::string& exit_reason);

// Writes a file atomically (FILE.tmp, then rename). CantCreate/IoErr.
Status write_text_file(const std::string& path, const std::string& text);

// "2024-05-01T12:00:00.123Z"
std::string iso8601_now();

}  // namespace callagent::stats
