#pragma once
// The command line's option table (cli.cpp builds it, docgen reads it).

#include "cli/command.h"

#include <CLI/CLI.hpp>

#include <memory>
#include <vector>

namespace callagent::cli {

// The whole command line as run() parses it: the top-level app with every
// subcommand and option registered. The man pages and shell completions
// are rendered from this same table at build time (src/cli/docgen), so
// they cannot miss an option that --help shows.
struct CommandLine {
  CLI::App app;
  std::vector<std::unique_ptr<Command>> commands;
  std::vector<CLI::App*> subs;  // commands[i]'s subcommand
  CommandLine();
};
std::unique_ptr<CommandLine> make_command_line();

}  // namespace callagent::cli
