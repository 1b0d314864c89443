#pragma once
// The list of subcommands. Each lives in its own <name>_command.cpp.

#include "cli/command.h"

#include <memory>
#include <vector>

namespace callagent::cli {

std::vector<std::unique_ptr<Command>> make_commands();

}  // namespace callagent::cli
