#pragma once
// The time source of the server's expiring state (sessions, rate limits).
// Injected so unit tests can move time without sleeping. Monotonic, so a
// wall-clock jump neither expires every session nor revives old ones.

#include <chrono>
#include <functional>

namespace callagent::server {

using SteadyTime = std::chrono::steady_clock::time_point;
using Clock = std::function<SteadyTime()>;

inline Clock system_clock() {
  return [] { return std::chrono::steady_clock::now(); };
}

}  // namespace callagent::server
