#pragma once

#include "cli/command.h"

#include <memory>

namespace callagent::cli {

std::unique_ptr<Command> make_chat_command();

}  // namespace callagent::cli
