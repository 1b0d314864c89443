#include "cli/commands.h"

#include "cli/chat_command.h"
#include "cli/create_command.h"
#include "cli/ctl_command.h"
#include "cli/devices_command.h"
#include "cli/join_command.h"
#include "cli/serve_command.h"

namespace callagent::cli {

std::vector<std::unique_ptr<Command>> make_commands() {
  std::vector<std::unique_ptr<Command>> v;
  v.push_back(make_join_command());
  v.push_back(make_create_command());
  v.push_back(make_chat_command());
  v.push_back(make_devices_command());
  v.push_back(make_serve_command());
  v.push_back(make_ctl_command());
  return v;
}

}  // namespace callagent::cli
