#pragma once
// Outputs are checked before the call starts: a recording, snapshot, report,
// JUnit file, stats log or pipeline-graph directory that cannot be created
// fails `join` at once with exit 73 (CantCreate), naming the option, the
// path and what is wrong, before any login or media. Finding out only when
// the first frame is written would mean a call that connects, then loses its
// output, while the partner waits in the room.
//
// What is checked: a file's directory exists, is a directory and is
// writable; an existing file is a regular file we may write. A directory
// (--pipeline-graph) exists and is writable. Nothing is created here.

#include "cli/join_options.h"
#include "common/result.h"

#include <string>

namespace callagent::cli {

// `option` names the flag in the error ("--record").
Status check_output_file(const std::string& option, const std::string& path);
Status check_output_dir(const std::string& option, const std::string& path);

// Every output of a join command line.
Status check_join_outputs(const JoinOptions& o);

}  // namespace callagent::cli
