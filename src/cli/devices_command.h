#pragma once

#include "cli/command.h"

#include <memory>

namespace callagent::cli {

std::unique_ptr<Command> make_devices_command();

}  // namespace callagent::cli
