#pragma once
// JoinOps: what `callagent join` tells the machine it runs on: systemd
// (READY=1 once the agent is in the room, STATUS= with the call's state,
// the watchdog, STOPPING=1: common/systemd_notify.h) and, with --metrics,
// Prometheus (cli/metrics_listener.h, the families in stats/prometheus.h).
//
// It looks at the session every 500 ms on the main loop (the call state
// changes a few times per call; polling keeps the session free of a second
// listener) and renders the metrics when scraped. The session may not
// exist yet (join --create makes the room first) or any more: `session`
// returns the current one or nullptr.
//
// Ownership: the join command owns it; it borrows the session through the
// getter. Everything runs on the main context.

#include "call/call_session.h"
#include "cli/metrics_listener.h"
#include "common/main_context.h"
#include "common/systemd_notify.h"

#include <functional>
#include <memory>
#include <string>

namespace callagent::cli {

class JoinOps {
 public:
  using SessionGetter = std::function<const call::CallSession*()>;

  // Starts the metrics listener when `metrics_address` is not empty.
  static Result<std::unique_ptr<JoinOps>> create(const std::string& metrics_address, SessionGetter session);
  ~JoinOps();

  // The run is ending (a signal, the call finished): STOPPING=1.
  void stopping(const std::string& why);

  // The STATUS line for a session's state (public for tests).
  static std::string describe(const call::SessionStatus& s, const stats::Snapshot* last);

 private:
  explicit JoinOps(SessionGetter session) : session_(std::move(session)) {}
  void tick();
  std::string render() const;

  SessionGetter session_;
  SystemdNotifier notifier_;
  std::unique_ptr<MetricsListener> metrics_;
  Timeout tick_;
};

}  // namespace callagent::cli
