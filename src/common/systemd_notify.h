#pragma once
// SystemdNotifier: callagent's side of a systemd `Type=notify` service
// (sd_notify(3)): READY=1 once the service does its job (join: in the room;
// serve: listening), STATUS= with what it is doing, WATCHDOG=1 while the
// main loop runs, STOPPING=1 when it shuts down.
//
// The watchdog is a Timeout on the thread-default main context, firing at
// half of WATCHDOG_USEC: it is the main loop itself that proves it is alive,
// so a loop that hangs (a deadlock, a callback that never returns) stops the
// pings and systemd restarts the process. A thread of its own would keep
// pinging through such a hang, which is exactly what a watchdog must not do.
//
// Without NOTIFY_SOCKET (not started by systemd) every call does nothing.
// Messages go out at once (a datagram, never blocking); STATUS is sent only
// when it changes. Everything runs on the main context of the owner.

#include "common/main_context.h"

#include <chrono>
#include <optional>
#include <string>

namespace callagent {

class SystemdNotifier {
 public:
  // Reads NOTIFY_SOCKET and WATCHDOG_USEC/WATCHDOG_PID (sd_watchdog_enabled)
  // and, when the watchdog is on, starts pinging.
  SystemdNotifier();
  ~SystemdNotifier();
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  // NOTIFY_SOCKET is set: a service manager listens.
  bool enabled() const { return enabled_; }
  // The watchdog ping period (half of WATCHDOG_USEC), when systemd asked for one.
  std::optional<std::chrono::milliseconds> watchdog_period() const { return watchdog_period_; }

  // READY=1 with a STATUS; later calls only update the status.
  void ready(const std::string& status);
  bool is_ready() const { return ready_; }
  // STATUS=..., when different from the last one sent.
  void status(const std::string& status);
  // STOPPING=1 with a STATUS; the watchdog keeps pinging while the
  // shutdown runs on the main loop (it is bounded by its owners).
  void stopping(const std::string& status);

 private:
  void send(const std::string& message);

  bool enabled_ = false;
  bool ready_ = false;
  bool stopping_ = false;
  std::string last_status_;
  std::optional<std::chrono::milliseconds> watchdog_period_;
  Timeout watchdog_;
};

}  // namespace callagent
