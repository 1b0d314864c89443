#pragma once
// Entry point of the command line: parses argv, sets up logging, runs the
// selected subcommand and returns its exit code.

namespace callagent::cli {

int run(int argc, char** argv);

}  // namespace callagent::cli
