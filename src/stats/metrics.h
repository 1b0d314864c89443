#pragma once
// The metrics a call is judged by: their names (video.in.fps,
// latency.video.p95, setup.first_video, ...), units, and how a series of
// Snapshots and the timeline reduce to one summary per metric.
//
// Kinds of metric:
//   gauge    a per-interval value (bitrate, fps, loss, jitter, rtt, size):
//            min / avg / max / last over the intervals after the warm-up
//   counter  cumulative (packets, losses, NACK/PLI/FIR, frames, concealed
//            audio): `total` at the end and `after_warmup` (end minus the
//            value when the warm-up ended)
//   freeze   video.in.freezes / freeze_time: freezes that began after the
//            warm-up (`after_warmup`) and all of them (`total`)
//   latency  glass-to-glass percentiles over the samples after the warm-up
//   setup    a timeline milestone, ms since the session started
//   ratio    a share of two counters over the same span, in % (e.g. the
//            video packets lost after repair, of those received):
//            `after_warmup` and `total` like a counter
//   text     a word the call ended with (ice.local_type: the selected
//            candidate pair's, congestion.limited_by: the last interval's);
//            compared with == and != only
//
// The warm-up ends `warmup` after the peer connection first connected
// (ICE+DTLS); a call that never connected has no data after it.

#include "stats/freeze_detector.h"
#include "stats/snapshot.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace callagent::stats {

enum class Unit { BitRate, Millis, Count, Pixels, Fps, Percent, Decibel, Text };
enum class MetricKind { Gauge, Counter, Freeze, Latency, Setup, Ratio, Text };
enum class Aggregate { Default, Min, Avg, Max, Last, Total, AfterWarmup, Value };

struct MetricInfo {
  std::string name;
  MetricKind kind;
  Unit unit;
  Aggregate default_aggregate;  // what a bare name means in --expect
  std::string help;
  // Text metrics: the values it can take (an expectation naming another is
  // a usage error); empty = any word.
  std::vector<std::string> values = {};
};

const std::vector<MetricInfo>& metric_catalog();
const MetricInfo* find_metric(std::string_view name);
std::string_view unit_symbol(Unit u);        // "bit/s", "ms", "", "px", "fps", "%", "dBFS" ("" for text)
std::string_view aggregate_name(Aggregate a);  // "min", ..., "after_warmup", "value"
std::optional<Aggregate> parse_aggregate(std::string_view s);

// Everything a call produced, as the reducers need it.
struct CallData {
  std::vector<Snapshot> series;
  std::vector<TimelineEvent> timeline;
  std::vector<Freeze> freezes;  // start_us relative to the session start
  std::vector<std::pair<double, double>> latency;  // (t seconds, ms)
  double warmup_s = 2.0;
};

// When the warm-up ended (seconds since start), if the call connected.
std::optional<double> warmup_end(const CallData& d);

struct MetricSummary {
  size_t n = 0;  // intervals / samples that went in
  std::optional<double> min, avg, max, last;  // gauges, latency (p50/p95 come as their own metrics)
  std::optional<double> total, after_warmup;  // counters, freezes
  std::optional<double> value;                // setup, latency
  std::optional<std::string> text;            // text metrics
  // The value an aggregate selects (nullopt: no data, or it does not apply).
  std::optional<double> get(Aggregate a) const;
};

using Summary = std::map<std::string, MetricSummary>;
Summary summarize(const CallData& d);

// Percentile (0..100) by linear interpolation; values need not be sorted.
double percentile(std::vector<double> values, double p);

}  // namespace callagent::stats
