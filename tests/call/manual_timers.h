#pragma once
// ManualTimers: a clock the test moves by hand. Timers fire only inside
// advance(), in the order they fall due (ties: in the order armed), each at
// its own time, so a callback that arms another timer sees it fire within
// the same advance() if it falls due by then.

#include "call/timers.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

namespace callagent::call::test {

class ManualTimers final : public Timers {
 public:
  using ms = std::chrono::milliseconds;

  std::unique_ptr<Timer> make_timer() override { return std::make_unique<ManualTimer>(clock_); }

  void advance(ms d) {
    const ms target = clock_->now + d;
    for (;;) {
      auto it = clock_->next_due();
      if (it == clock_->armed.end() || it->second.due > target) break;
      clock_->now = it->second.due;
      auto fn = std::move(it->second.fn);
      clock_->armed.erase(it);
      fn();
    }
    clock_->now = target;
  }

  ms now() const { return clock_->now; }
  // How many timers are armed.
  std::size_t armed() const { return clock_->armed.size(); }

 private:
  struct Entry {
    ms due;
    std::function<void()> fn;
  };
  struct Clock {
    ms now{0};
    uint64_t next_id = 0;
    std::map<uint64_t, Entry> armed;  // by id, which grows with each arming

    std::map<uint64_t, Entry>::iterator next_due() {
      auto best = armed.end();
      for (auto it = armed.begin(); it != armed.end(); ++it)
        if (best == armed.end() || it->second.due < best->second.due) best = it;
      return best;
    }
  };

  class ManualTimer final : public Timer {
   public:
    explicit ManualTimer(std::shared_ptr<Clock> c) : clock_(std::move(c)) {}
    ~ManualTimer() override { cancel(); }
    void start_once(ms delay, std::function<void()> fn) override {
      cancel();
      id_ = ++clock_->next_id;
      clock_->armed[id_] = Entry{clock_->now + delay, std::move(fn)};
    }
    void cancel() override {
      if (id_) clock_->armed.erase(id_);
      id_ = 0;
    }
    bool active() const override { return id_ && clock_->armed.count(id_); }

   private:
    std::shared_ptr<Clock> clock_;
    uint64_t id_ = 0;
  };

  std::shared_ptr<Clock> clock_ = std::make_shared<Clock>();
};

}  // namespace callagent::call::test
