#include "common/systemd_notify.h"

#include "common/logging.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <cstring>

namespace callagent {

namespace {
auto log() {
  static auto l = logging::get("systemd");
  return l;
}

// STATUS is one line of free text: no newline may end the assignment early.
std::string one_line(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  return out;
}
}  // namespace

SystemdNotifier::SystemdNotifier() {
  const char* sock = std::getenv("NOTIFY_SOCKET");
  enabled_ = sock && *sock;
  uint64_t usec = 0;
  // 0: keep WATCHDOG_USEC in the environment (nothing we start needs it
  // removed, and it documents what the process was given).
  const int wd = sd_watchdog_enabled(0, &usec);
  if (wd < 0) log()->warn("WATCHDOG_USEC is not understood ({}): no watchdog pings", std::strerror(-wd));
  if (wd > 0 && enabled_ && usec > 0) {
    // Half the timeout, as sd_watchdog_enabled(3) advises; at least 1 ms.
    auto period = std::chrono::milliseconds(std::max<uint64_t>(1, usec / 2000));
    watchdog_period_ = period;
    log()->info("systemd watchdog: {} ms timeout, pinging every {} ms from the main loop", usec / 1000,
                period.count());
    watchdog_.start(period, [this] {
      send("WATCHDOG=1");
      return true;
    });
  }
  if (enabled_) log()->debug("systemd notification socket {}", sock);
}

SystemdNotifier::~SystemdNotifier() { watchdog_.cancel(); }

void SystemdNotifier::send(const std::string& message) {
  if (!enabled_) return;
  const int r = sd_notify(0, message.c_str());
  if (r < 0) log()->debug("sd_notify({}): {}", message.substr(0, message.find('\n')), std::strerror(-r));
}

void SystemdNotifier::ready(const std::string& s) {
  if (ready_ || stopping_) return status(s);
  ready_ = true;
  last_status_ = one_line(s);
  send("READY=1\nSTATUS=" + last_status_);
}

void SystemdNotifier::status(const std::string& s) {
  std::string line = one_line(s);
  if (line == last_status_) return;
  last_status_ = line;
  send("STATUS=" + line);
}

void SystemdNotifier::stopping(const std::string& s) {
  if (stopping_) return status(s);
  stopping_ = true;
  last_status_ = one_line(s);
  send("STOPPING=1\nSTATUS=" + last_status_);
}

}  // namespace callagent
