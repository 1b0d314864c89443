// Timeout, post() and thread_default_context() on a private GMainContext
// (pushed as the thread default, as every test and component does).
#include "common/main_context.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

using namespace callagent;
using namespace std::chrono_literals;

namespace {

// A private context, the thread default while the fixture lives.
struct PrivateContext {
  GMainContext* ctx = g_main_context_new();
  PrivateContext() { g_main_context_push_thread_default(ctx); }
  ~PrivateContext() {
    g_main_context_pop_thread_default(ctx);
    g_main_context_unref(ctx);
  }
  // Iterates until `done` or `limit` has passed; returns done().
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 2000ms) {
    const gint64 end = g_get_monotonic_time() + limit.count() * 1000;
    while (!done() && g_get_monotonic_time() < end) {
      if (!g_main_context_iteration(ctx, FALSE)) g_usleep(1000);
    }
    return done();
  }
  // Iterates for `d`, whatever happens.
  void run_for(std::chrono::milliseconds d) {
    run_until([] { return false; }, d);
  }
};

}  // namespace

TEST_CASE("Timeout: one-shot fires once on the thread-default context", "[common][timeout]") {
  PrivateContext c;
  Timeout t;
  int fired = 0;
  t.start_once(10ms, [&] { ++fired; });
  CHECK(t.active());
  CHECK(fired == 0);  // never inline
  REQUIRE(c.run_until([&] { return fired == 1; }));
  c.run_for(60ms);
  CHECK(fired == 1);
  CHECK_FALSE(t.active());
}

TEST_CASE("Timeout: the default context does not run it", "[common][timeout]") {
  PrivateContext c;
  Timeout t;
  int fired = 0;
  t.start_once(1ms, [&] { ++fired; });
  g_usleep(5000);
  while (g_main_context_iteration(g_main_context_default(), FALSE)) {
  }
  CHECK(fired == 0);
  REQUIRE(c.run_until([&] { return fired == 1; }));
}

TEST_CASE("Timeout: repeats until fn returns false", "[common][timeout]") {
  PrivateContext c;
  Timeout t;
  int fired = 0;
  t.start(5ms, [&] { return ++fired < 3; });
  REQUIRE(c.run_until([&] { return fired == 3; }));
  c.run_for(50ms);
  CHECK(fired == 3);
  CHECK_FALSE(t.active());
}

TEST_CASE("Timeout: cancel and destruction remove the source", "[common][timeout]") {
  PrivateContext c;
  int fired = 0;
  Timeout t;
  t.start_once(5ms, [&] { ++fired; });
  t.cancel();
  CHECK_FALSE(t.active());
  {
    Timeout gone;
    gone.start(5ms, [&] { return ++fired > 0; });
  }
  c.run_for(60ms);
  CHECK(fired == 0);
  t.cancel();  // twice is fine
}

TEST_CASE("Timeout: re-arming replaces the previous timer", "[common][timeout]") {
  PrivateContext c;
  Timeout t;
  int first = 0, second = 0;
  t.start_once(5ms, [&] { ++first; });
  t.start_once(10ms, [&] { ++second; });
  REQUIRE(c.run_until([&] { return second == 1; }));
  c.run_for(40ms);
  CHECK(first == 0);
  CHECK(second == 1);
}

TEST_CASE("Timeout: fn may re-arm or cancel its own Timeout", "[common][timeout]") {
  PrivateContext c;
  SECTION("re-arm from inside a one-shot") {
    Timeout t;
    int first = 0, second = 0;
    t.start_once(5ms, [&] {
      ++first;
      t.start_once(5ms, [&] { ++second; });
    });
    REQUIRE(c.run_until([&] { return second == 1; }));
    c.run_for(40ms);
    CHECK(first == 1);
    CHECK(second == 1);
    CHECK_FALSE(t.active());
  }
  SECTION("re-arm from inside a repeating timer that asks to continue") {
    Timeout t;
    int first = 0, second = 0;
    t.start(5ms, [&] {
      ++first;
      t.start(5ms, [&] { return ++second < 2; });
      return true;  // ignored: the old timer was replaced
    });
    REQUIRE(c.run_until([&] { return second == 2; }));
    c.run_for(40ms);
    CHECK(first == 1);
    CHECK(second == 2);
  }
  SECTION("cancel from inside") {
    Timeout t;
    int fired = 0;
    t.start(5ms, [&] {
      ++fired;
      t.cancel();
      return true;
    });
    REQUIRE(c.run_until([&] { return fired == 1; }));
    c.run_for(40ms);
    CHECK(fired == 1);
    CHECK_FALSE(t.active());
  }
  SECTION("destroy from inside") {
    auto t = std::make_unique<Timeout>();
    int fired = 0;
    t->start(5ms, [&] {
      ++fired;
      t.reset();
      return true;
    });
    REQUIRE(c.run_until([&] { return fired == 1; }));
    c.run_for(40ms);
    CHECK(fired == 1);
  }
}

TEST_CASE("post: runs later, only while the guard lives", "[common][post]") {
  PrivateContext c;
  SECTION("live guard") {
    Lifetime life = make_lifetime();
    int ran = 0;
    post(c.ctx, life, [&] { ++ran; });
    CHECK(ran == 0);  // queued, not run inline on the owning thread
    REQUIRE(c.run_until([&] { return ran == 1; }));
    c.run_for(20ms);
    CHECK(ran == 1);
  }
  SECTION("dead guard: not run, and the closure is freed") {
    Lifetime life = make_lifetime();
    auto payload = std::make_shared<int>(0);
    int ran = 0;
    post(c.ctx, life, [&ran, payload] { ++ran; });
    CHECK(payload.use_count() == 2);
    life.reset();
    REQUIRE(c.run_until([&] { return payload.use_count() == 1; }));
    CHECK(ran == 0);
  }
  SECTION("from another thread") {
    Lifetime life = make_lifetime();
    std::atomic<int> ran{0};
    std::thread::id where;
    std::thread poster([&] { post(c.ctx, life, [&] { where = std::this_thread::get_id(); ++ran; }); });
    poster.join();
    REQUIRE(c.run_until([&] { return ran == 1; }));
    CHECK(where == std::this_thread::get_id());
  }
}

TEST_CASE("thread_default_context: the pushed context, else the global default", "[common][post]") {
  CHECK(thread_default_context() == g_main_context_default());
  {
    PrivateContext c;
    CHECK(thread_default_context() == c.ctx);
    GMainContext* seen = nullptr;
    std::thread other([&] { seen = thread_default_context(); });
    other.join();
    CHECK(seen == g_main_context_default());  // pushing is per thread
  }
  CHECK(thread_default_context() == g_main_context_default());
}
