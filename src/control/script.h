#pragma once
// A --script file: a timed scenario for `callagent join`, one step a line.
//
//   # comments and blank lines are skipped
//   5s mute audio
//   10s unmute audio
//   15s hangup rejoin
//   25s quit
//
// A step is a time (from the first connection to a partner: "5s", "1.5s",
// "500ms", "2m", or bare seconds) and a command in ctl's words
// (command.h). Times count from the first connection, so a scenario means
// the same however long login and ICE take. Steps run in file order; a
// time earlier than the previous step's runs right after it. The whole
// file is checked before anything connects: a bad line is a usage error
// naming it (file:line). subscribe/unsubscribe make no sense in a script.
//
// Pure (reading the file aside).

#include "common/result.h"
#include "control/command.h"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace callagent::control {

struct ScriptStep {
  std::chrono::milliseconds at{0};
  int line = 0;
  std::string text;  // the line as written (for the log)
  Command command;
};

// `name` goes into error messages ("FILE:LINE: ...").
Result<std::vector<ScriptStep>> parse_script(std::string_view text, std::string_view name);
// Reads and parses FILE (NoInput when unreadable).
Result<std::vector<ScriptStep>> load_script(const std::string& path);

// "5s", "1.5s", "500ms", "2m", "7" (seconds).
Result<std::chrono::milliseconds> parse_step_time(std::string_view text);

}  // namespace callagent::control
