#pragma once
// The metrics of `callagent serve --metrics` in the Prometheus text format
// (docs/metrics.md has the table of families): the server's own counters
// (ServerCounters) and what it holds right now (rooms, connections).
// Builds text only; the listener that serves it is cli/metrics_listener.

#include <string>

namespace callagent::server {

class Server;

std::string server_metrics_text(const Server& server);

}  // namespace callagent::server
