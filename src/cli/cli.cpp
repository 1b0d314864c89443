#include "cli/cli.h"

#include "cli/build_info.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "common/logging.h"

#include <iostream>
#include <memory>
#include <vector>

namespace callagent::cli {

int run(int argc, char** argv) {
  CLI::App app{
      "callagent: a headless WebRTC call agent for the messenger.\n"
      "Joins a room, sends camera/microphone (or test/file sources) as VP8/Opus,\n"
      "and writes the remote media to a display, a file or an RTMP server.",
      "callagent"};
  app.set_version_flag("--version", [] { return version_text(); }, "Print the version, git revision and GStreamer version, then exit");
  app.set_config("--config", "", "Read options from this INI/TOML file (command line wins)");
  app.require_subcommand(1);
  app.footer(exit_code_help(kAllCommands));

  std::vector<std::unique_ptr<Command>> commands = make_commands();
  std::vector<CLI::App*> subs;
  for (auto& c : commands) subs.push_back(c->add_to(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    // CLI11 returns 0 for --help/--version and its own codes otherwise.
    return rc == 0 ? 0 : to_int(ExitCode::Usage);
  }

  logging::capture_glib_logs();
  for (size_t i = 0; i < commands.size(); ++i) {
    if (subs[i]->parsed()) return to_int(commands[i]->run());
  }
  std::cerr << app.help();
  return to_int(ExitCode::Usage);
}

}  // namespace callagent::cli
