#pragma once

#include "cli/command.h"

#include <memory>

namespace callagent::cli {

std::unique_ptr<Command> make_serve_command();

}  // namespace callagent::cli
