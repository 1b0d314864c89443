#pragma once
// MainLoopTimers: the real Timers, GLib timeouts (Timeout) on the
// thread-default main context of the thread that arms them.

#include "call/timers.h"

namespace callagent::call {

class MainLoopTimers final : public Timers {
 public:
  std::unique_ptr<Timer> make_timer() override;
};

}  // namespace callagent::call
