// callagent: set up, run the command line, return its exit code.
#include "cli/cli.h"

int main(int argc, char** argv) { return callagent::cli::run(argc, argv); }
