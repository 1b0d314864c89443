#include "cli/cli.h"
#include "cli/command_line.h"

#include "cli/build_info.h"
#include "cli/commands.h"
#include "common/logging.h"

#include <iostream>

namespace callagent::cli {

CommandLine::CommandLine()
    : app("callagent: a headless WebRTC call agent for the messenger.\n"
          "Joins a room, sends camera/microphone (or test/file sources) as VP8/Opus,\n"
          "and writes the remote media to a display, a file or an RTMP server.",
          "callagent") {}

std::unique_ptr<CommandLine> make_command_line() {
  auto cl = std::make_unique<CommandLine>();
  CLI::App& app = cl->app;
  app.set_version_flag("--version", [] { return version_text(); },
                       "Print the version, git revision and GStreamer version, then exit");
  app.set_config("--config", "", "Read options from this INI/TOML file (command line wins)");
  app.require_subcommand(1);
  app.footer(exit_code_help(kAllCommands));
  cl->commands = make_commands();
  for (auto& c : cl->commands) cl->subs.push_back(c->add_to(app));
  return cl;
}

int run(int argc, char** argv) {
  auto cl = make_command_line();
  try {
    cl->app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = cl->app.exit(e);
    // CLI11 returns 0 for --help/--version and its own codes otherwise.
    return rc == 0 ? 0 : to_int(ExitCode::Usage);
  }

  logging::capture_glib_logs();
  for (size_t i = 0; i < cl->commands.size(); ++i) {
    if (cl->subs[i]->parsed()) return to_int(cl->commands[i]->run());
  }
  std::cerr << cl->app.help();
  return to_int(ExitCode::Usage);
}

}  // namespace callagent::cli
