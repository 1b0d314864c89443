#pragma once
// How other threads (GStreamer streaming threads) and timers meet the one
// GLib main context that drives callagent.
//
// - post(): queue a closure on a main context from any thread. The closure
//   runs only if its guard (a weak_ptr to the target's lifetime token) is
//   still alive, so a callback can never reach a destroyed object. It is
//   always queued, never run inline, even on the owning thread.
// - Timeout: a one-shot or repeating timer owned by an object; destroying
//   the Timeout removes the source.
// - UnixSignalWatch: SIGINT/SIGTERM as main-loop events.

#include <glib.h>

#include <chrono>
#include <functional>
#include <memory>

namespace callagent {

// A lifetime token: objects that receive posted closures hold one and hand
// out weak references to it.
using Lifetime = std::shared_ptr<int>;
inline Lifetime make_lifetime() { return std::make_shared<int>(0); }

void post(GMainContext* ctx, std::weak_ptr<void> guard, std::function<void()> fn);

// The calling thread's default main context, or the global default one when
// the thread has none pushed: where an object created here gets its posts.
GMainContext* thread_default_context();

class Timeout {
 public:
  Timeout() = default;
  ~Timeout() { cancel(); }
  Timeout(const Timeout&) = delete;
  Timeout& operator=(const Timeout&) = delete;

  // Calls fn once after `delay` (repeat=false) or every `delay` until fn
  // returns false or the Timeout is cancelled/destroyed. Re-arming cancels the
  // previous timer. Runs on the thread-default main context.
  void start(std::chrono::milliseconds delay, std::function<bool()> fn);
  void start_once(std::chrono::milliseconds delay, std::function<void()> fn);
  void cancel();
  bool active() const { return state_ && state_->source; }

 private:
  // Shared with the GSource so that fn may cancel, re-arm or even destroy
  // this Timeout while it runs.
  struct State {
    GSource* source = nullptr;
    std::function<bool()> fn;
  };
  static gboolean on_fire(gpointer data);
  std::shared_ptr<State> state_;
};

class UnixSignalWatch {
 public:
  UnixSignalWatch(int signum, std::function<void()> fn);
  ~UnixSignalWatch();
  UnixSignalWatch(const UnixSignalWatch&) = delete;
  UnixSignalWatch& operator=(const UnixSignalWatch&) = delete;

 private:
  guint id_ = 0;
  std::function<void()> fn_;
};

}  // namespace callagent
