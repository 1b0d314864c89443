#pragma once
// --expect EXPR: an assertion about the call, e.g.
//
//   video.in.fps>=25   video.in.freezes==0   audio.in.bitrate>=24k
//   setup.first_video<2s   latency.video.p95<150ms   video.in.height.max>=720
//   ice.local_type==relay   ice.relay_protocol==tls   video.in.lost_after_repair_pct<=0.5%
//
// Grammar:  METRIC[.AGGREGATE] OP NUMBER[UNIT]   (spaces allowed around OP)
//           TEXT_METRIC (==|!=) WORD           (ice.*, congestion.limited_by)
//   METRIC     a name from metric_catalog() (metrics.h)
//   AGGREGATE  gauges: min | avg | max | last; counters and freezes: total
//              (a bare name uses the metric's default: avg for rates, min
//              for width/height, after_warmup for counters)
//   OP         >= <= == != > <
//   UNIT       k M G (x1e3, 1e6, 1e9) | bps kbps Mbps (bit rates) | ms s
//              (times) | % | px | fps | dB dBFS; it must fit the metric
//   WORD       one of the text metric's values (ice.local_type: host srflx
//              prflx relay; ...), compared as is
//
// A bad expression is a usage error (exit 64) naming the bad token and
// listing the metric names. Evaluation happens once, at the end of the call,
// over the Summary (after the warm-up); a metric without data fails.

#include "common/result.h"
#include "stats/metrics.h"

#include <optional>
#include <string>
#include <string_view>

namespace callagent::stats {

enum class CompareOp { Ge, Le, Eq, Ne, Gt, Lt };
std::string_view to_string(CompareOp op);

struct Expectation {
  std::string text;    // as given
  std::string metric;  // catalog name
  Aggregate aggregate = Aggregate::Default;  // resolved (never Default after parsing)
  CompareOp op = CompareOp::Ge;
  double threshold = 0;  // in the metric's unit (bit/s, ms, ...)
  Unit unit = Unit::Count;
  std::string word;      // the value a text metric (Unit::Text) is compared with
};

Result<Expectation> parse_expectation(std::string_view text);

struct ExpectationResult {
  Expectation expectation;
  std::optional<double> measured;
  bool passed = false;
  std::string message;  // "video.in.fps (avg) = 29.8 fps, expected >= 25 fps"
  std::optional<std::string> measured_text = std::nullopt;  // text metrics: the word measured
};

ExpectationResult evaluate(const Expectation& e, const Summary& summary);

// "24 kbit/s", "1850 ms", "29.8 fps", "3"
std::string format_value(double v, Unit u);
// The names for error messages, one comma-separated line.
std::string known_metric_names();

}  // namespace callagent::stats
