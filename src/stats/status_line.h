#pragma once
// The live one-line status of `callagent join`:
//   connected | in 2.41 Mbit/s 30 fps 854x480 loss 0.0% | out 2.50 Mbit/s 30 fps | rtt 1 ms | latency 72 ms
// On a terminal it is redrawn in place on stderr (carriage return, clear
// to end of line), cut to the terminal's width, and log lines printed
// meanwhile go above it (logging::show_status); otherwise it is logged as a
// plain line (logger "stats") at most once per `plain_every`.

#include "stats/snapshot.h"

#include <chrono>
#include <string>

namespace callagent::stats {

std::string format_status(const Snapshot& s);
// `line` shortened to fit one row of a terminal `columns` wide (at most
// columns - 1 characters): whole " | " fields are dropped from the end first.
std::string fit_status(const std::string& line, int columns);

class StatusLine {
 public:
  explicit StatusLine(bool tty, std::chrono::milliseconds plain_every = std::chrono::seconds(5));
  ~StatusLine();  // erases the in-place line: the cursor is left on an empty line
  void update(const Snapshot& s);
  void clear();   // before normal output (tty)

 private:
  bool tty_;
  bool drawn_ = false;
  std::chrono::milliseconds plain_every_;
  std::chrono::steady_clock::time_point last_plain_{};
};

}  // namespace callagent::stats
