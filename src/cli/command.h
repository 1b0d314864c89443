#pragma once
// A subcommand of the `callagent` binary. Each command registers its CLI11
// subcommand and options in add_to(); after parsing, cli.cpp runs the one
// that was selected. run() returns the process exit code (see
// common/exit_code.h); it never throws.

#include "cli/cli11_fwd.h"
#include "common/exit_code.h"

namespace callagent::cli {

class Command {
 public:
  virtual ~Command() = default;
  virtual CLI::App* add_to(CLI::App& parent) = 0;
  virtual ExitCode run() = 0;
};

}  // namespace callagent::cli
