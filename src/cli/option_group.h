#pragma once
// OptionGroup: registers options with CLI11 under one --help group. For the
// units that define a command's options (the only ones that include CLI11,
// see cli11_fwd.h).

#include <CLI/CLI.hpp>

#include <string>
#include <utility>

namespace callagent::cli {

// Adds options to one --help group with less repetition: `shown` prints
// the default value in --help.
class OptionGroup {
 public:
  OptionGroup(CLI::App& app, std::string name) : app_(app), name_(std::move(name)) {}
  enum Default { Hidden, Shown };
  template <typename T>
  CLI::Option* option(const std::string& names, T& value, const std::string& help, Default d = Hidden) {
    CLI::Option* o = app_.add_option(names, value, help);
    if (d == Shown) o->capture_default_str();
    return o->group(name_);
  }
  template <typename T>
  CLI::Option* flag(const std::string& names, T& value, const std::string& help) {
    return app_.add_flag(names, value, help)->group(name_);
  }

 private:
  CLI::App& app_;
  std::string name_;
};

}  // namespace callagent::cli
