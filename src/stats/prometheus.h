#pragma once
// The metrics of `callagent join --metrics` in the Prometheus text format
// (docs/metrics.md has the table of families). Everything comes from what
// the stats layer already has, so the endpoint, the report and --expect
// cannot disagree: gauges from the latest Snapshot, counters from
// summarize() over the call's series (the sum of every partner visit's last
// value: they never go back when a partner leaves and another comes), and
// a few facts about the session the caller hands in.
// Pure: builds text, no I/O.

#include "stats/metrics.h"
#include "stats/snapshot.h"

#include <cstdint>
#include <string>
#include <vector>

namespace callagent::stats {

// What the session knows that no Snapshot holds.
struct CallFacts {
  std::string state = "idle";      // Call state: idle | alone | negotiating | connected | finished
  bool partner_present = false;    // someone else is in the room
  bool signaling_connected = false;
  uint64_t signaling_reconnects = 0;
  uint64_t partner_connections = 0;  // peer connections that reached "connected"
  uint64_t recording_files = 0;      // recordings this run has written (or is writing)
  uint64_t recording_bytes = 0;      // their size on disk now
};

// The call states, in the order the state family lists them.
const std::vector<std::string>& call_states();

// The exposition: `last` is the latest interval (nullptr before the first).
std::string call_metrics_text(const CallFacts& facts, const Snapshot* last, const CallData& data);

}  // namespace callagent::stats
