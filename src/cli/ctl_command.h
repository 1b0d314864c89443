#pragma once
// `callagent ctl --control PATH COMMAND [ARGS]`: the control socket's
// client for people and shell scripts (docs/control.md).

#include "cli/command.h"

#include <memory>

namespace callagent::cli {

std::unique_ptr<Command> make_ctl_command();

}  // namespace callagent::cli
