#include "call/main_loop_timers.h"

#include "common/main_context.h"

namespace callagent::call {

namespace {
class MainLoopTimer final : public Timer {
 public:
  void start_once(std::chrono::milliseconds delay, std::function<void()> fn) override {
    timeout_.start_once(delay, std::move(fn));
  }
  void cancel() override { timeout_.cancel(); }
  bool active() const override { return timeout_.active(); }

 private:
  Timeout timeout_;
};
}  // namespace

std::unique_ptr<Timer> MainLoopTimers::make_timer() { return std::make_unique<MainLoopTimer>(); }

}  // namespace callagent::call
