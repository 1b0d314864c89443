#pragma once
// The live one-line status of `callagent join`:
//   connected | in 2.41 Mbit/s 30 fps 854x480 loss 0.0% | out 2.50 Mbit/s 30 fps | rtt 1 ms | lat 72 ms
// On a terminal it is redrawn in place on stderr (carriage return, clear
// to end of line); otherwise it is logged as a plain line (logger "stats")
// at most once per `plain_every`.

#include "stats/snapshot.h"

#include <chrono>
#include <string>

namespace callagent::stats {

std::string format_status(const Snapshot& s);

class StatusLine {
 public:
  explicit StatusLine(bool tty, std::chrono::milliseconds plain_every = std::chrono::seconds(5));
  ~StatusLine();  // ends the in-place line with a newline
  void update(const Snapshot& s);
  void clear();   // before normal output (tty)

 private:
  bool tty_;
  bool drawn_ = false;
  std::chrono::milliseconds plain_every_;
  std::chrono::steady_clock::time_point last_plain_{};
};

}  // namespace callagent::stats
