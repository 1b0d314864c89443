#pragma once
// The end of `callagent join`: evaluates the --expect expressions over the
// call's summary, writes --report (JSON, docs/report.md) and --junit, and
// decides the final exit code. Every exit of the command after the command
// line was understood goes through JoinReport::conclude(), so a report is
// written after failures too.
//
// The report's "options" are built from the JoinOptions by report_options():
// no password, token or password file; TURN credentials and RTMP stream
// keys masked (secret_mask.h).

#include "call/call.h"
#include "cli/join_options.h"
#include "media/output_failure.h"
#include "common/exit_code.h"
#include "common/result.h"
#include "stats/expectation.h"
#include "stats/metrics.h"
#include "stats/report.h"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace callagent::cli {

// The options as used, for the report; secrets removed or masked.
std::map<std::string, stats::OptionValue> report_options(const JoinOptions& o);

// Parses every --expect; the first bad one is a usage error.
Result<std::vector<stats::Expectation>> parse_expectations(const std::vector<std::string>& texts);

class JoinReport {
 public:
  // Starts the clock of the report (started_at, duration_s). `options`
  // is borrowed and must outlive the JoinReport.
  explicit JoinReport(const JoinOptions& options);

  void set_expectations(std::vector<stats::Expectation> e) { expectations_ = std::move(e); }
  // What failed in the call itself: the connect budget, outputs.
  void set_failures(const std::optional<call::ConnectFailure>& connect,
                    const std::vector<media::OutputFailure>& outputs);

  // Evaluates the expectations, writes the files asked for and returns the
  // exit code: a failed expectation turns Ok into ExpectationFailed; any
  // other failure keeps its own, more specific, code.
  ExitCode conclude(ExitCode code, const std::string& reason, stats::CallData data,
                    std::vector<std::string> snapshots = {});

 private:
  const JoinOptions& options_;
  std::vector<stats::Expectation> expectations_;
  std::optional<stats::ReportInput::ConnectFailure> connect_failure_;
  std::vector<stats::ReportInput::OutputError> output_errors_;
  std::string started_at_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace callagent::cli
