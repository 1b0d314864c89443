#pragma once
// Timers: how the call layer waits. The Call and its negotiation policy ask
// a Timers for one-shot timers instead of arming GLib sources themselves, so
// that tests drive time by hand (tests/call/manual_timers.h) and the real
// program runs them on the main context (MainLoopTimers).
//
// A Timer belongs to whoever made it; destroying it cancels it. Its callback
// may re-arm, cancel or destroy the Timer (or its owner) while it runs.

#include <chrono>
#include <functional>
#include <memory>

namespace callagent::call {

class Timer {
 public:
  virtual ~Timer() = default;
  // Calls fn once after `delay`. Re-arming cancels the previous arming.
  virtual void start_once(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  virtual void cancel() = 0;
  virtual bool active() const = 0;
};

class Timers {
 public:
  virtual ~Timers() = default;
  virtual std::unique_ptr<Timer> make_timer() = 0;
};

}  // namespace callagent::call
