#pragma once
// Capped exponential backoff with jitter, for anything that reconnects: the
// signaling client to its server, the RTMP output to its server.
//
// Attempt n (0-based) waits min * 2^n, capped at max, then scaled by a random
// factor in [1 - jitter, 1 + jitter) so that many agents dropped by the same
// server restart do not all come back in the same instant. The random source
// is injectable so tests are deterministic.

#include <chrono>
#include <functional>

namespace callagent {

class Backoff {
 public:
  // Uniform in [0, 1).
  using Random = std::function<double()>;

  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max, double jitter = 0.2,
          Random random = {});

  // The delay before the next attempt; counts the attempt.
  std::chrono::milliseconds next();
  // After a connection proved stable: the next delay is `min` again.
  void reset() { attempts_ = 0; }
  unsigned attempts() const { return attempts_; }

  // The pure formula: `u` is the random draw in [0, 1).
  static std::chrono::milliseconds delay_for(unsigned attempt, std::chrono::milliseconds min,
                                             std::chrono::milliseconds max, double jitter, double u);

 private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  double jitter_;
  Random random_;
  unsigned attempts_ = 0;
};

}  // namespace callagent
