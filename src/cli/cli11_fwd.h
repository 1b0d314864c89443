#pragma once
// CLI11's two types that the command line's headers name, declared only.
// CLI11 is header-only and heavy: each unit that includes CLI/CLI.hpp
// compiles its validators and formatters again (~5 s per unit in the
// sanitized debug build). Only the units that register or parse options
// include it (option_group.h, command_line.h); the rest see these.

namespace CLI {
class App;
class Option;
}  // namespace CLI
