#pragma once
// StatsCollector: polls the current peer's webrtcbin (`get-stats`) every
// interval, merges the reply with what our pad probes counted (ProbeFacts)
// into one Snapshot per interval, detects freezes, gathers latency samples
// and the call-setup timeline, and appends each Snapshot to a JSON-lines
// file if asked. At the end, data() is what the report is made of.
//
// Threading: everything on the main context of the owner. The get-stats
// promise resolves on a streaming thread: the reply is copied there and
// posted back (behind a Lifetime guard), so a reply that arrives after the
// collector or the peer is gone is dropped. At most one poll is in flight:
// a poll still unanswered when the timer fires again is not duplicated.
//
// Ownership: the owner (CallSession) owns the collector and lends a Source
// that outlives it.

#include "common/gref.h"
#include "gst/gst_util.h"
#include "common/main_context.h"
#include "common/result.h"
#include "stats/freeze_detector.h"
#include "stats/metrics.h"
#include "stats/snapshot.h"
#include "stats/webrtc_stats.h"

#include <gst/gst.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace callagent::stats {

class StatsCollector {
 public:
  class Source {
   public:
    virtual ~Source() = default;
    // The current peer's webrtcbin (borrowed; nullptr when there is none)
    // and its id (changes with each partner visit).
    virtual GstElement* stats_webrtcbin() = 0;
    virtual int stats_peer_id() = 0;
    // Counters of the current peer and the encoders; drains the per-frame
    // lists (frame times, latency samples, audio energy).
    virtual ProbeFacts take_probe_facts() = 0;
    virtual std::string stats_call_state() = 0;
  };

  struct Options {
    std::chrono::milliseconds interval{1000};  // 0: no polling (timeline and probes only)
    std::string log_path;                      // --stats-log: JSON lines, appended
    double warmup_s = 2.0;
  };

  // Opens the log file (CantCreate when it cannot).
  static Result<std::unique_ptr<StatsCollector>> create(Options options, Source& source);
  ~StatsCollector();
  StatsCollector(const StatsCollector&) = delete;
  StatsCollector& operator=(const StatsCollector&) = delete;

  // Starts the clock (t = 0) and the poll timer.
  void start();
  // Stops polling; drains the probes once more (freezes, latency). Idempotent.
  void stop();

  // A timeline milestone, at the current time. Every occurrence is kept;
  // the setup metrics use the first.
  void mark(const std::string& event);
  // The partner's video is due from now on (its connection is up): a
  // stream that never starts is then one freeze up to the end.
  void expect_video();
  // Milliseconds since start().
  double now_ms() const;

  const CallData& data() const { return data_; }
  const std::optional<Snapshot>& last() const { return last_; }
  // Called with each new Snapshot (the live status line).
  std::function<void(const Snapshot&)> on_snapshot;

  // Builds a Snapshot from a parsed reply and probe facts; `prev` holds
  // what the next poll needs of this one (updated; the reply is moved into
  // it). Public for tests.
  struct Previous {
    std::optional<RawStats> raw;
    // The probes' frame counters at the previous poll (0 before the first:
    // the first rate is over everything counted so far).
    uint64_t video_frames_decoded = 0;
    uint64_t video_frames_sent = 0;
    int64_t t_us = 0;
    std::optional<double> rtt_ms;  // the last RTT seen (RTCP comes every few seconds)
  };
  // The in-memory series (for the report and --expect) stays below this
  // many intervals however long the agent runs (a kiosk: months): when it
  // is reached, thin_series() halves it, keeping the first and last
  // interval of every peer connection, so counters stay exact and gauges
  // become samples: the intervals since the last thinning in full, older
  // ones sparser the older they are. --stats-log keeps every interval.
  static constexpr size_t kMaxSeries = 4096;
  static void thin_series(std::vector<Snapshot>& series);
  static Snapshot build_snapshot(RawStats raw, const ProbeFacts& facts, Previous& prev, int64_t now_us,
                                 int64_t t0_us);

 private:
  StatsCollector(Options options, Source& source);
  void poll();
  void on_reply(GUnique<GstStructure> reply, int peer, int64_t asked_us);
  void take_snapshot(RawStats raw, int peer, double poll_ms);
  void absorb(ProbeFacts& facts, double t_s);

  Options options_;
  Source& source_;
  Lifetime lifetime_ = make_lifetime();
  Timeout timer_;
  FilePtr log_;  // --stats-log, or null
  int64_t t0_us_ = 0;
  bool started_ = false, stopped_ = false;
  bool in_flight_ = false;
  int in_flight_peer_ = 0;
  int peer_ = 0;
  std::optional<CandidatePair> logged_pair_;  // the last ICE path logged
  Previous prev_;
  FreezeDetector freezes_;
  CallData data_;
  std::optional<Snapshot> last_;
};

}  // namespace callagent::stats
